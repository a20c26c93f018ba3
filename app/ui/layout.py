"""The Gradio web UI: stored chats with cited sources, the document view, compare, documents, gaps.

Layout only: the actions live in ``app.ui.chat`` (the chat) and ``app.ui.handlers`` (the
rest), all escaping in ``app.ui.render`` and ``app.ui.views``. Serving is loopback by default,
never shared, optional login from settings (required beyond loopback, see
``app.ui.exposure``), and the queue bounds how many answers run at once. Named API endpoints
(ask, stream, follow_up, upload, delete, documents, status, gaps) make the same actions
scriptable with gradio_client.
"""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402

from app import Assistant  # noqa: E402
from app.ui.assets import SCROLL_JS  # noqa: E402
from app.ui.chat import ChatHandlers  # noqa: E402
from app.ui.exposure import writes_refused  # noqa: E402
from app.ui.files import ALLOWED_SUFFIXES  # noqa: E402
from app.ui.handlers import Handlers  # noqa: E402
from app.ui.render import sources_html, status_markdown  # noqa: E402
from app.ui.session import browser_secret  # noqa: E402
from app.ui.views import no_document  # noqa: E402
from app.ui.welcome import Welcome, topic_choices  # noqa: E402

log = logging.getLogger("opsqa.ui")
TOP_K_MAX = 10
__all__ = ["build_ui"]


def build_ui(bot: Assistant) -> gr.Blocks:
    """Build the UI over ``bot`` (launch it with ``launch_options(bot)``).

    Args:
        bot: an opened ``Assistant``; the UI only calls its public methods.

    Returns:
        The ``gr.Blocks`` app, queued with ``settings.concurrency_limit``.
    """
    h = Handlers(bot, writes_off=writes_refused(bot.settings))
    welcome = Welcome(bot)
    ch = ChatHandlers(bot, welcome)
    text, examples = welcome.get()  # asked once at start-up, not on the first page load
    records = bot.documents()
    with gr.Blocks(title="opsqa", analytics_enabled=False) as demo:
        c = SimpleNamespace(session=gr.State(None), browser=gr.BrowserState(
            {}, storage_key="opsqa", secret=browser_secret(bot.settings.index_dir)))
        _sidebar(c)
        gr.Markdown("# opsqa\nGrounded, cited answers from your documents. When the documents "
                    "do not cover a question, it says so.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="oq-tab-chat"), gr.Row(equal_height=False):
                _chat_tab(c, bot, text, examples)
            with gr.Tab("Compare", id="compare", elem_id="oq-tab-compare"):
                _compare_tab(c, topic_choices(records))
            with gr.Tab("Documents", id="documents", elem_id="oq-tab-documents"):
                _documents_tab(c, bot)
            with gr.Tab("Gaps", id="gaps", elem_id="oq-tab-gaps") as c.gaps_tab:
                _gaps_tab(c)
        _hidden_inputs(c)
        _wire(h, ch, c, demo)
    demo.queue(default_concurrency_limit=bot.settings.concurrency_limit)
    return demo


def _sidebar(c: SimpleNamespace) -> None:
    with gr.Sidebar(label="Chats", open=True, elem_id="oq-sidebar"):
        c.new = gr.Button("New chat", variant="primary", elem_id="oq-new")
        c.chats = gr.Radio([], label="Your chats", elem_id="oq-chats")
        c.title = gr.Textbox(label="Title of this chat", elem_id="oq-title", max_lines=1)
        with gr.Row():
            c.rename = gr.Button("Rename", size="sm", elem_id="oq-rename")
            c.delete_chat = gr.Button("Delete chat", size="sm", variant="stop",
                                      elem_id="oq-delete-chat")


def _chat_tab(c: SimpleNamespace, bot: Assistant, text: str, examples: list[str]) -> None:
    with gr.Column(scale=3, min_width=320):
        c.chatbot = gr.Chatbot(
            label="Conversation", show_label=False, height=520, elem_id="oq-chat", sanitize_html=True,
            feedback_options=("Like", "Dislike"), placeholder=text,
            examples=[{"text": q} for q in examples] or None, buttons=["copy"])
        with gr.Row(elem_id="oq-comment", visible=False) as c.comment_row:
            c.comment = gr.Textbox(placeholder="Anything to add to your rating? (optional)",
                                   show_label=False, scale=5, elem_id="oq-comment-text")
            c.comment_send = gr.Button("Send", scale=1, elem_id="oq-comment-send")
        with gr.Row():
            c.question = gr.Textbox(placeholder="Ask about your documents…", show_label=False,
                                    scale=5, elem_id="oq-question", max_lines=4)
            c.send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="oq-send")
            c.stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, visible=False,
                               elem_id="oq-stop")
            c.clear = gr.Button("Clear", scale=1, min_width=70, elem_id="oq-clear")
        _settings(c, bot)
    with gr.Column(scale=2, min_width=300), gr.Tabs() as c.side:
        with gr.Tab("Sources", id="sources"):
            c.sources = gr.HTML(sources_html(None), elem_id="oq-sources")
        with gr.Tab("Document", id="doc"):
            c.doc = gr.HTML(no_document(), elem_id="oq-doc")


def _settings(c: SimpleNamespace, bot: Assistant) -> None:
    """The answer modes that can run here (a choice only when there is one) and top-k."""
    modes = bot.modes() or ["extractive"]
    default = bot.mode if bot.mode in modes else modes[0]
    with gr.Accordion("Settings", open=False, elem_id="oq-settings"):
        if len(modes) > 1:
            c.mode = gr.Radio(modes, value=default, label="Answer mode", elem_id="oq-mode")
        else:
            c.mode = gr.State(default)
            gr.Markdown(f"Answer mode: **{default}**, the only one that can run here (a local "
                        "or hosted model adds a choice: see the README's settings).",
                        elem_id="oq-mode-note")
        k = min(bot.settings.top_k, TOP_K_MAX)
        c.top_k = gr.Slider(1, TOP_K_MAX, value=k, step=1, elem_id="oq-topk",
                            label="Passages to show with each answer (top-k)")


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


def _documents_tab(c: SimpleNamespace, bot: Assistant) -> None:
    c.status = gr.Markdown(status_markdown(bot.status()))
    c.docs = gr.HTML(elem_id="oq-docs")
    with gr.Row():
        with gr.Column():
            c.files = gr.File(elem_id="oq-files",
                label=f"Upload ({', '.join(ALLOWED_SUFFIXES)}; up to "
                f"{bot.settings.upload_max_mb:g} MB each)",
                file_count="multiple",
                file_types=list(ALLOWED_SUFFIXES),
            )
            c.add = gr.Button("Add to index", variant="primary", elem_id="oq-add")
        with gr.Column():
            c.victim = gr.Dropdown([], label="Uploaded document to delete (the built-in ones "
                                   "stay)", value=None, elem_id="oq-victim")
            c.delete = gr.Button("Delete from index", variant="stop", elem_id="oq-delete")
            c.refresh = gr.Button("Refresh", elem_id="oq-refresh")
    c.result = gr.Markdown(elem_id="oq-result")


def _gaps_tab(c: SimpleNamespace) -> None:
    gr.Markdown("What the documents do not cover: the questions that were refused or whose "
                "answers were disliked, grouped when they ask the same thing, with the nearest "
                "topics the documents do cover. `opsqa gaps` prints the same.")
    c.gaps_refresh = gr.Button("Refresh", size="sm", elem_id="oq-gaps-refresh")
    c.gaps = gr.HTML(elem_id="oq-gaps")


def _hidden_inputs(c: SimpleNamespace) -> None:
    """The page script's way in (in the page, unseen) and the API-only endpoints' inputs."""
    c.open_req = gr.Textbox(elem_id="oq-open-req", visible="hidden")
    c.open_btn = gr.Button(elem_id="oq-open-btn", visible="hidden")
    with gr.Column(visible=False):
        _api_inputs(c)


def _api_inputs(c: SimpleNamespace) -> None:
    c.api_question = gr.Textbox()
    c.api_mode = gr.Textbox()
    c.api_file = gr.File()
    c.api_filename = gr.Textbox()
    c.api_out = gr.JSON()
    c.api_follow = gr.Button()
    c.api_upload = gr.Button()


def _wire(h: Handlers, ch: ChatHandlers, c: SimpleNamespace, demo: gr.Blocks) -> None:
    """Connect the components to the handlers; the named ones are the scriptable API."""
    out = [c.chatbot, c.sources, c.session, c.question, c.chats, c.browser, c.title, c.send,
           c.stop]
    opened = [*out, c.doc]
    ask_in = [c.question, c.chatbot, c.session, c.mode, c.top_k, c.browser]
    more_in = [c.session, c.mode, c.top_k, c.browser]
    running = [
        c.question.submit(ch.ask, ask_in, out, api_name="chat_submit", api_visibility="private"),
        c.send.click(ch.ask, ask_in, out, api_name="chat"),
        c.chatbot.retry(ch.retry, more_in, out, api_visibility="private"),
        c.chatbot.example_select(ch.example, more_in, out, api_visibility="private"),
    ]
    c.stop.click(ch.stop, [c.session, c.browser], out, cancels=running, queue=False,
                 api_visibility="private")
    c.chatbot.like(ch.like, [c.session], [c.comment_row, c.comment], api_visibility="private")
    c.comment_send.click(ch.comment, [c.comment, c.session], [c.comment_row, c.comment],
                         api_visibility="private")
    c.chatbot.select(ch.select, [c.session], [c.sources], api_visibility="private")
    fresh = [c.session, c.browser]
    c.clear.click(ch.new_chat, fresh, opened, api_name="clear")
    c.chatbot.clear(ch.new_chat, fresh, opened, api_visibility="private")
    c.new.click(ch.new_chat, fresh, opened, api_visibility="private")
    c.chats.input(ch.open_chat, [c.chats, *fresh], opened, api_visibility="private")
    c.rename.click(ch.rename, [c.title, *fresh], [c.chats], api_visibility="private")
    c.delete_chat.click(ch.delete_chat, fresh, opened, api_visibility="private")
    c.open_btn.click(ch.open_source, [c.open_req, c.session], [c.doc, c.sources, c.side],
                     api_visibility="private").then(None, js=SCROLL_JS)
    demo.load(ch.load, [c.browser, c.session], opened, api_visibility="private")
    _wire_documents(h, c, demo)


def _wire_documents(h: Handlers, c: SimpleNamespace, demo: gr.Blocks) -> None:
    c.go.click(h.compare, [c.left, c.right, c.mode], [c.table], api_name="compare")
    refresh_out = [c.status, c.docs, c.victim, c.left, c.right]
    c.add.click(h.upload, [c.files], [c.result, *refresh_out], api_name="ui_upload",
                api_visibility="private")
    c.delete.click(h.delete, [c.victim], [c.result, *refresh_out], api_name="ui_delete",
                   api_visibility="private")
    c.refresh.click(h.refresh, None, refresh_out, api_name="refresh", api_visibility="private")
    demo.load(h.refresh, None, refresh_out, api_name="on_load", api_visibility="private")
    c.gaps_tab.select(h.gaps_view, None, [c.gaps], api_visibility="private")
    c.gaps_refresh.click(h.gaps_view, None, [c.gaps], api_visibility="private")
    c.api_follow.click(h.follow_up, [c.api_question, c.api_mode, c.session],
                       [c.api_out, c.session], api_name="follow_up")
    c.api_upload.click(h.upload_api, [c.api_file, c.api_filename], [c.api_out], api_name="upload")
    gr.api(h.ask, api_name="ask")
    gr.api(h.stream, api_name="stream")
    gr.api(h.delete_api, api_name="delete")
    gr.api(h.documents, api_name="documents")
    gr.api(h.status, api_name="status")
    gr.api(h.gaps, api_name="gaps")
