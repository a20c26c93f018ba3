"""The web UI through its named API endpoints: a real Gradio server on loopback, gradio_client.

Internal: the server is built in-process (``build_ui``) so tests can read the index it writes;
``safe_name``, ``store_upload`` and the renderers take tables of hostile names and texts that
no upload or answer could isolate."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

UPLOAD_MAX_MB = 0.2
PRACTICE = """---
title: QuuxOps
---
# QuuxOps

QuuxOps is the practice of rotating zebra-striped frobnicator caches every Tuesday.
QuuxOps teams use the Blorbtool scheduler to rotate the frobnicator caches.
The goal of QuuxOps is to keep frobnicator latency below one heartbeat.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
    """A real UI server over a private copy of the corpus index; yields (client, bot)."""
    from app import Assistant
    from app.ui.layout import build_ui
    from app.ui.serving import launch_options

    d = tmp_path_factory.mktemp("ui-api") / "idx"
    shutil.copytree(corpus_index, d)
    bot = Assistant.open(index_dir=d, upload_max_mb=UPLOAD_MAX_MB, port=_free_port())
    demo = build_ui(bot)
    opts = launch_options(bot)
    assert opts["server_name"] == "127.0.0.1" and opts["share"] is False
    demo.launch(**opts, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{bot.settings.port}/", verbose=False)
        yield client, bot
    finally:
        demo.close()


def _cited(d: dict) -> set[int]:
    import re

    return {int(n) for n in re.findall(r"\[(\d+)\]", d["text"])}


def test_ask_returns_cited_answer_with_sources(server):
    client, _ = server
    d = client.predict("What is GitOps?", "", api_name="/ask")
    assert not d["refused"] and "GitOps" in d["text"]
    assert 1 in _cited(d)
    assert d["sources"] and all(k in d["sources"][0] for k in ("file", "title", "section"))
    assert d["used"], "the answer should name the sentences it quoted"


def test_stream_yields_growing_text(server):
    client, _ = server
    job = client.submit("What is DevSecOps?", "", api_name="/stream")
    parts = list(job)
    final = job.outputs()[-1]
    assert len(parts) >= 2 and final.startswith(parts[0])
    assert "[1]" in final


def test_follow_up_uses_session_history(server):
    _, bot = server
    client = Client(f"http://127.0.0.1:{bot.settings.port}/", verbose=False)  # own session
    first = client.predict("What is GitOps?", "", api_name="/follow_up")
    assert not first["refused"]
    second = client.predict("Which tools does it use?", "", api_name="/follow_up")
    assert not second["refused"]
    assert "Argo CD" in second["text"]


def test_out_of_scope_is_a_refusal_not_an_error(server):
    client, _ = server
    d = client.predict("What is the recipe for a good sourdough bread?", "", api_name="/ask")
    assert d["refused"]


def test_upload_then_ask_then_delete(server, tmp_path):
    client, bot = server
    f = tmp_path / "quuxops.md"
    f.write_text(PRACTICE, encoding="utf-8")
    r = client.predict(handle_file(str(f)), "", api_name="/upload")
    stored = Path(r["file"])
    assert stored.parent == Path(bot.settings.index_dir).resolve() / "uploads"
    assert r["chunks"] >= 1
    docs = client.predict(api_name="/documents")
    assert any(x["file"] == str(stored) for x in docs)
    d = client.predict("What is QuuxOps?", "", api_name="/ask")
    assert not d["refused"]
    cited_paths = {d["sources"][n - 1]["file"] for n in _cited(d)}
    assert str(stored) in cited_paths
    gone = client.predict(str(stored), api_name="/delete")
    assert gone["chunks_removed"] >= 1 and not stored.exists()
    docs = client.predict(api_name="/documents")
    assert all(x["file"] != str(stored) for x in docs)
    d = client.predict("What is QuuxOps?", "", api_name="/ask")
    assert all(s["file"] != str(stored) for s in d["sources"])


def test_oversize_upload_is_refused(server, tmp_path):
    client, bot = server
    big = tmp_path / "big.md"
    big.write_text("# Big\n\n" + "DevOps pipelines deploy often. " * 20_000, encoding="utf-8")
    assert big.stat().st_size > UPLOAD_MAX_MB * 1_000_000
    before = {r.path for r in bot.documents()}
    with pytest.raises(Exception) as err:  # noqa: B017 - the server's own 413 or our refusal
        client.predict(handle_file(str(big)), "", api_name="/upload")
    assert "Traceback" not in str(err.value)
    assert {r.path for r in bot.documents()} == before
    assert not (Path(bot.settings.index_dir) / "uploads" / "big.md").exists()


def test_oversize_checked_before_reading(tmp_path):
    """The UI's own check (behind gradio's max_file_size) refuses by size, not content."""
    from app import UploadError
    from app.ui.files import store_upload

    big = tmp_path / "big.md"
    with open(big, "wb") as fh:  # sparse: huge on paper, nothing to read
        fh.truncate(50_000_000)
    with pytest.raises(UploadError, match="limited to"):
        store_upload(big, "big.md", tmp_path / "idx", max_mb=1)
    assert not (tmp_path / "idx" / "uploads" / "big.md").exists()


def test_traversal_name_is_sanitized(server, tmp_path):
    client, bot = server
    f = tmp_path / "note.md"
    f.write_text(PRACTICE.replace("QuuxOps", "ZorbOps"), encoding="utf-8")
    r = client.predict(handle_file(str(f)), "../../etc/passwd.md", api_name="/upload")
    stored = Path(r["file"])
    uploads = Path(bot.settings.index_dir).resolve() / "uploads"
    assert stored.parent == uploads and stored.name == "passwd.md"
    client.predict(str(stored), api_name="/delete")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        ("<script>x</script>.md", "script.md"),
        ("...hidden.md", "hidden.md"),
        ("ok name (1).html", "ok_name_1.html"),
    ],
)
def test_safe_name(name, expected):
    from app.ui.files import safe_name

    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["run.sh", "x.md.exe", "passwd", ""])
def test_unsafe_types_refused(name):
    from app import UploadError
    from app.ui.files import safe_name

    with pytest.raises(UploadError):
        safe_name(name)


def test_wrong_type_upload_refused(server, tmp_path):
    from app import DOCUMENT_TYPES

    client, _ = server
    f = tmp_path / "run.md"
    f.write_text("# x\n\nDevOps.", encoding="utf-8")
    with pytest.raises(Exception, match="can be uploaded") as err:
        client.predict(handle_file(str(f)), "run.sh", api_name="/upload")
    # the upload takes what ingest reads: one list of types
    assert f"only {', '.join(DOCUMENT_TYPES)} files can be uploaded" in str(err.value)


@pytest.mark.parametrize("name", ["notes.yaml", "archive.tar.gz", "Makefile"])
def test_other_types_are_refused_with_the_ingest_words(server, tmp_path, name):
    from app import NOT_A_DOCUMENT

    client, bot = server
    f = tmp_path / "x.md"
    f.write_text("# x\n\nDevOps.", encoding="utf-8")
    before = {r.path for r in bot.documents()}
    with pytest.raises(Exception, match=NOT_A_DOCUMENT):
        client.predict(handle_file(str(f)), name, api_name="/upload")
    assert NOT_A_DOCUMENT == "not a document format opsqa reads"
    assert {r.path for r in bot.documents()} == before


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_readable_message(server, question):
    client, _ = server
    with pytest.raises(Exception) as err:  # noqa: B017 - gradio_client's AppError
        client.predict(question, "", api_name="/ask")
    msg = str(err.value)
    assert "empty" in msg and "Traceback" not in msg


def test_chat_endpoint_escapes_html(server):
    client, _ = server
    history, sources, *_ = client.predict("What is GitOps? <img src=x onerror=alert(1)>", api_name="/chat")
    user = history[0]["content"]
    text = user if isinstance(user, str) else str(user)
    assert "<img" not in text and "&lt;img" in text
    assert "<mark>" in sources or "oq-src" in sources


@pytest.mark.parametrize("question", ["What is \ud800 GitOps?", "\udcff\udcfe", "\ud83d\ude80 GitOps"])
def test_lone_surrogates_in_the_chat(server, question):
    """A browser's string may hold lone surrogates: the chat answers or says what is wrong,
    never the server's internal error, and what it sends back encodes."""
    import json

    import httpx

    client, bot = server  # gradio_client cannot send them: its JSON is UTF-8, a browser's escapes
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/chat"]
    defaults = [p["parameter_default"] for p in params["parameters"][1:]]
    url = f"http://127.0.0.1:{bot.settings.port}/gradio_api/call/chat"
    body = json.dumps({"data": [question, *defaults]})  # "\\ud800", as a browser sends it
    r = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=60)
    r.raise_for_status()
    events = httpx.get(f"{url}/{r.json()['event_id']}", timeout=120).text
    kind, data = [ln.split(": ", 1)[1] for ln in events.strip().splitlines()[-2:]]
    assert kind == "complete", events
    shown = json.loads(data)[0]
    history = shown if isinstance(shown, list) else shown.get("value") or []  # or: no change
    shown = " ".join(str(m["content"]) for m in history)
    assert "Something went wrong on the server" not in shown, history


def test_follow_up_stores_the_chat_under_its_session(server):
    _, bot = server
    client = Client(f"http://127.0.0.1:{bot.settings.port}/", verbose=False)  # own session
    client.predict("What is MLOps?", "", api_name="/follow_up")
    client.predict("What are its limitations?", "", api_name="/follow_up")
    owners = [o for (o,) in bot.chats._db().execute("SELECT DISTINCT owner FROM chats")]
    mine = [o for o in owners if bot.chats.turns(o, bot.chats.chats(o)[0].id)[0].question
            == "What is MLOps?"]
    assert len(mine) == 1 and mine[0].startswith("session:")
    turns = bot.chats.turns(mine[0], bot.chats.chats(mine[0])[0].id)
    assert [t.question for t in turns] == ["What is MLOps?", "What are its limitations?"]
    assert not turns[1].answer.refused and turns[1].answer.sources


def test_built_in_documents_cannot_be_deleted(server):
    client, bot = server
    built_in = next(r.path for r in bot.documents() if r.title == "GitOps")
    with pytest.raises(Exception, match="cannot be deleted here"):
        client.predict(built_in, api_name="/delete")
    assert any(r.path == built_in for r in bot.documents())


def test_documents_table_names_no_server_path(server):
    from app.ui.files import display_names
    from app.ui.render import documents_html

    _, bot = server
    records = bot.documents()
    s = bot.settings
    html = documents_html(records, display_names(records, s.corpus_dir, s.index_dir))
    assert "built-in: gitops.md" in html
    assert all(r.path not in html for r in records)


def test_status_and_documents(server):
    client, _ = server
    st = client.predict(api_name="/status")
    assert st["store"] == "embedded" and st["chunks"] > 0
    docs = client.predict(api_name="/documents")
    assert any(x["title"] == "GitOps" for x in docs)


def test_concurrent_asks(server):
    from concurrent.futures import ThreadPoolExecutor

    client, _ = server
    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as ex:
        out = list(
            ex.map(
                lambda q: client.predict(q, "", api_name="/ask"),
                ["What is DevOps?", "What is MLOps?", "What is AIOps?", "What is LLMOps?"],
            )
        )
    assert all(not d["refused"] for d in out)
    assert time.perf_counter() - t0 < 60


def test_render_escapes_passages_and_highlights_inside_escaping():
    from app import Answer, Source
    from app.ui.render import answer_markdown, sources_html

    passage = 'Teams paste <script>x()</script> here. <b onclick="y()">Bold</b> claim & more.'
    src = Source(path="/d/<evil>.md", title="<i>T</i>", section="S<1>", text=passage, score=0.5)
    a = Answer(
        text="Claim <img src=x onerror=z()> [1]",
        sources=(src,),
        used=((0, '<b onclick="y()">Bold</b> claim & more.'),),
    )
    html = sources_html(a)
    assert "<script>" not in html and "<b " not in html and "<i>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<mark>&lt;b onclick=&quot;y()&quot;&gt;Bold&lt;/b&gt; claim &amp; more.</mark>" in html
    assert "<img" not in answer_markdown(a)
    refused = Answer(text="The documents do not cover this. Nearest topics: GitOps.", refused=True,
                     note="evidence 0.12 below the refusal threshold")
    assert "Not covered by the documents" in answer_markdown(refused)
    assert "oq-refusal" in sources_html(refused)
    assert "threshold" not in sources_html(refused) + answer_markdown(refused, 0)


def test_chat_markdown_leaves_no_document_link_live():
    """Markdown links, images and the forms GitHub Markdown links by itself are escaped in
    prose (the browser test checks how the bubble renders); code is left as code."""
    from app.ui.render import chat_markdown

    text = ("See [Click here](http://evil.example/x), ![i](http://evil.example/i.png), "
            "https://evil.example/a and www.evil.example or WWW.evil.example, ops@evil.example [1]"
            "\n`curl http://code.example`\n```\nwget https://fenced.example\n```")
    out = chat_markdown(text)
    prose, _, code = out.partition("\n")
    for live in ("://", "www.", "WWW.", "@", "<"):
        assert live not in prose, (live, prose)
    assert not re.search(r"(?<!\\)[\[\]]", prose), prose  # every bracket escaped
    assert "\\[Click here\\]" in prose and "\\[1\\]" in prose
    assert "`curl http://code.example`" in code and "wget https://fenced.example" in code


def test_citations_link_to_their_sources_after_escaping():
    from app import Answer, Source
    from app.ui.render import answer_markdown

    src = Source(path="/srv/x.md", title="<b>T</b>", section="<b>T</b> > S", text="p", score=0.5)
    a = Answer(text="A <i>claim</i> [1], not [2], and `code [1]`\n```\nx [1]\n```", sources=(src,),
               used=((0, "p"),))
    md = answer_markdown(a, 3)
    assert md.count('href="#oq-3-1"') == 2  # the [1] in the text and the source under it
    assert "&lt;i&gt;claim&lt;/i&gt;" in md and "<i>" not in md and "\\[2\\]" in md  # no source 2
    assert "x [1]" in md  # a code block is left alone
    assert "&lt;b&gt;T&lt;/b&gt; › S" in md and "/srv/x.md" not in md
