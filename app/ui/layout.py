"""The Gradio web UI: chat with cited sources, a compare view, and the documents tab.

Layout only: the actions live in ``app.ui.handlers`` and all escaping in ``app.ui.render``.
Serving is loopback by default, never shared, optional basic auth from settings (required
beyond loopback, see ``app.ui.exposure``), and the queue bounds how many answers run at once.
Named API endpoints (ask, stream, follow_up, upload, delete, documents, status) make the
same actions scriptable with gradio_client.
"""

from __future__ import annotations

import contextlib
import logging
import os
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402

from app import Assistant, ConfigError  # noqa: E402
from app.ui.exposure import check_exposure, writes_refused  # noqa: E402
from app.ui.files import ALLOWED_SUFFIXES  # noqa: E402
from app.ui.handlers import Handlers, example_questions, topic_choices  # noqa: E402
from app.ui.render import CSS, documents_html, sources_html, status_markdown  # noqa: E402

log = logging.getLogger("opsqa.ui")

def build_ui(bot: Assistant) -> gr.Blocks:
    """Build the UI over ``bot`` (launch it with ``launch_options(bot)``).

    Args:
        bot: an opened ``Assistant``; the UI only calls its public methods.

    Returns:
        The ``gr.Blocks`` app, queued with ``settings.concurrency_limit``.
    """
    h = Handlers(bot, writes_off=writes_refused(bot.settings))
    records = bot.documents()
    names = topic_choices(records)
    with gr.Blocks(title="opsqa", analytics_enabled=False) as demo:
        c = SimpleNamespace(conv=gr.State(None))  # one Conversation per browser session
        gr.Markdown(
            "# opsqa\nGrounded, cited answers from your documents. When the documents do "
            "not cover a question, it says so."
        )
        with gr.Tab("Chat"), gr.Row():
            _chat_tab(c, bot, names)
        with gr.Tab("Compare"):
            _compare_tab(c, names)
        with gr.Tab("Documents"):
            _documents_tab(c, bot, records)
        with gr.Column(visible=False):  # inputs and outputs of the API-only endpoints
            _api_inputs(c)
        _wire(h, c, demo)
    demo.queue(default_concurrency_limit=bot.settings.concurrency_limit)
    return demo


def _chat_tab(c: SimpleNamespace, bot: Assistant, names: list[str]) -> None:
    modes = bot.modes() or ["extractive"]
    default_mode = bot.mode if bot.mode in modes else modes[0]
    with gr.Column(scale=3):
        c.chatbot = gr.Chatbot(
            label="Conversation",
            height=480,
            elem_id="oq-chat",
            sanitize_html=True,
            feedback_options=None,
        )
        with gr.Row():
            c.question = gr.Textbox(
                placeholder="Ask about your documents…",
                show_label=False,
                scale=5,
                elem_id="oq-question",
                max_lines=4,
            )
            c.send = gr.Button("Ask", variant="primary", scale=1, elem_id="oq-send")
        with gr.Row():
            c.mode = gr.Radio(
                modes,
                value=default_mode,
                label="Answer mode",
                interactive=len(modes) > 1,
                scale=3,
            )
            c.clear = gr.Button("Clear conversation", scale=1, elem_id="oq-clear")
        examples = example_questions(names)
        if examples:
            gr.Examples(examples, inputs=[c.question], label="Example questions")
    with gr.Column(scale=2):
        gr.Markdown("### Sources")
        c.sources = gr.HTML(sources_html(None), elem_id="oq-sources")


def _compare_tab(c: SimpleNamespace, names: list[str]) -> None:
    gr.Markdown(
        "Pick two topics from the indexed documents to see them side "
        "by side; every cell is answered from the documents and cited."
    )
    with gr.Row():
        c.left = gr.Dropdown(names, value=names[0] if names else None, label="First")
        c.right = gr.Dropdown(names, value=names[1] if len(names) > 1 else None, label="Second")
        c.go = gr.Button("Compare", variant="primary")
    c.table = gr.HTML(elem_id="oq-compare")


def _documents_tab(c: SimpleNamespace, bot: Assistant, records: list[Any]) -> None:
    c.status = gr.Markdown(status_markdown(bot.status()))
    c.docs = gr.HTML(documents_html(records), elem_id="oq-docs")
    with gr.Row():
        with gr.Column():
            c.files = gr.File(
                label=f"Upload ({', '.join(ALLOWED_SUFFIXES)}; up to "
                f"{bot.settings.upload_max_mb:g} MB each)",
                file_count="multiple",
                file_types=list(ALLOWED_SUFFIXES),
            )
            c.add = gr.Button("Add to index", variant="primary")
        with gr.Column():
            c.victim = gr.Dropdown([r.path for r in records], label="Document to delete", value=None)
            c.delete = gr.Button("Delete from index", variant="stop")
            c.refresh = gr.Button("Refresh")
    c.result = gr.Markdown()


def _api_inputs(c: SimpleNamespace) -> None:
    c.api_question = gr.Textbox()
    c.api_mode = gr.Textbox()
    c.api_file = gr.File()
    c.api_filename = gr.Textbox()
    c.api_out = gr.JSON()
    c.api_follow = gr.Button()
    c.api_upload = gr.Button()


def _wire(h: Handlers, c: SimpleNamespace, demo: gr.Blocks) -> None:
    """Connect the components to the handlers; the named ones are the scriptable API."""
    chat_in = [c.question, c.chatbot, c.conv, c.mode]
    chat_out = [c.chatbot, c.sources, c.conv, c.question]
    c.question.submit(h.chat, chat_in, chat_out, api_name="chat_submit", api_visibility="private")
    c.send.click(h.chat, chat_in, chat_out, api_name="chat")
    c.clear.click(h.clear, [c.conv], [c.chatbot, c.sources, c.conv, c.question], api_name="clear")
    c.go.click(h.compare, [c.left, c.right, c.mode], [c.table], api_name="compare")
    refresh_out = [c.status, c.docs, c.victim, c.left, c.right]
    c.add.click(h.upload, [c.files], [c.result, *refresh_out], api_name="ui_upload",
                api_visibility="private")
    c.delete.click(h.delete, [c.victim], [c.result, *refresh_out], api_name="ui_delete",
                   api_visibility="private")
    c.refresh.click(h.refresh, None, refresh_out, api_name="refresh", api_visibility="private")
    demo.load(h.refresh, None, refresh_out, api_name="on_load", api_visibility="private")
    c.api_follow.click(h.follow_up, [c.api_question, c.api_mode, c.conv], [c.api_out, c.conv],
                       api_name="follow_up")
    c.api_upload.click(h.upload_api, [c.api_file, c.api_filename], [c.api_out], api_name="upload")
    gr.api(h.ask, api_name="ask")
    gr.api(h.stream, api_name="stream")
    gr.api(h.delete_api, api_name="delete")
    gr.api(h.documents, api_name="documents")
    gr.api(h.status, api_name="status")


def launch_options(bot: Assistant) -> dict[str, object]:
    """Keyword arguments for ``Blocks.launch``: loopback host, auth, limits, no sharing.

    Raises:
        ConfigError: ``auth`` is set but not ``user:password``.
    """
    s = bot.settings
    opts: dict[str, object] = {
        "server_name": s.host,
        "server_port": s.port,
        "share": False,
        "show_error": False,
        "max_file_size": int(s.upload_max_mb * 1_000_000),
        "css": CSS,
        "footer_links": ["api"],
    }
    auth = s.auth.get_secret_value()
    if auth:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            raise ConfigError("auth must look like user:password (OPSQA_AUTH)")
        opts["auth"] = (user, password)
    return opts


def serve(bot: Assistant, insecure_no_auth: bool = False) -> None:
    """Serve the UI until interrupted (blocking).

    Raises:
        ConfigError: exposed beyond loopback without auth (see ``app.ui.exposure``), or the
            server cannot listen on its host and port or reach itself there.
    """
    check_exposure(bot.settings, insecure_no_auth)
    demo = build_ui(bot)
    opts = launch_options(bot)
    where = f"{opts['server_name']}:{opts['server_port']}"
    try:
        # quiet: gradio's own start-up lines suggest share=True, which opsqa never does.
        demo.launch(**opts, quiet=True, prevent_thread_lock=True)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - gradio raises OSError, ValueError, httpx errors
        with contextlib.suppress(Exception):
            demo.close()
        raise ConfigError(f"cannot serve the UI on {where}: {_launch_problem(exc)}") from None
    print(f"opsqa UI on {demo.local_url} (Ctrl+C stops it)", flush=True)
    demo.block_thread()


def _launch_problem(exc: Exception) -> str:
    """One line for a failed launch (gradio's own messages suggest share=True or env vars)."""
    import httpx

    text = str(exc)
    if isinstance(exc, OSError) and "empty port" in text:
        return "the port is in use or not allowed; choose another with --port"
    if isinstance(exc, httpx.HTTPError) or "localhost is not accessible" in text:
        reason = (text.strip().splitlines() or [type(exc).__name__])[0]
        return (f"it cannot reach itself over loopback ({reason}); is the loopback "
                "interface up, and no proxy (HTTP_PROXY) in the way?")
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]
