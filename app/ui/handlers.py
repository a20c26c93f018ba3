"""Web UI event handlers: each calls the public API and formats the result; errors become text.

Expected problems (``OpsqaError``) reach the user as their message; anything else is logged
here with its traceback and the user sees one plain sentence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from app import Answer, Assistant, OpsqaError
from app.conversation import Conversation
from app.term import without_surrogates
from app.ui.files import (
    ALLOWED_SUFFIXES,
    NOT_A_DOCUMENT,
    UnreadableType,
    is_upload,
    store_upload,
)
from app.ui.render import (
    answer_json,
    answer_markdown,
    chat_markdown,
    compare_html,
    documents_html,
    sources_html,
    status_markdown,
)

log = logging.getLogger("opsqa.ui")
INTERNAL = "Something went wrong on the server (the details are in its log). Please try again."
FACETS = (  # what one asks of any topic, whatever the documents are about
    ("Definition", "What is {x}?"),
    ("Purpose", "What is {x} used for?"),
    ("How it works", "How does {x} work?"),
    ("Limits", "What are the limitations of {x}?"),
)


def _message(exc: Exception) -> str:
    if isinstance(exc, OpsqaError):
        return str(exc)
    log.exception("unexpected error in a UI handler")
    return INTERNAL


def _pieces(text: str, words: int = 4) -> Iterator[str]:
    """Growing prefixes of ``text``, a few words at a time (what the chat bubble shows)."""
    parts = re.split(r"(?<=\s)", text)
    for i in range(words, len(parts) + words, words):
        yield "".join(parts[:i])


class Handlers:
    """The UI's actions over one ``Assistant``; ``writes_off``: why uploads and deletes are
    refused ("" when they are allowed)."""

    def __init__(self, bot: Assistant, writes_off: str = ""):
        self.bot = bot
        self.writes_off = writes_off

    def _may_write(self) -> None:
        if self.writes_off:
            raise OpsqaError(self.writes_off)

    def _mode(self, mode: str | None) -> str | None:
        return mode or None

    # -- chat --------------------------------------------------------------------------------
    def chat(
        self,
        message: str,
        history: list[dict[str, Any]] | None,
        conv: Conversation | None,
        mode: str | None,
    ):
        """Stream one answer into the chat; the conversation keeps follow-ups on topic."""
        history = list(history or [])
        conv = conv or self.bot.conversation()
        message = without_surrogates(message or "")  # the echo must survive JSON too
        if not (message or "").strip():
            gr.Warning("Type a question about the documents first.")
            yield history, gr.update(), conv, ""
            return
        history.append({"role": "user", "content": chat_markdown(message)})
        try:
            answer = conv.ask(message, mode=self._mode(mode))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            text = _message(exc)
            gr.Warning(text)
            history.append({"role": "assistant", "content": f"**Problem:** {chat_markdown(text)}"})
            yield history, gr.update(), conv, ""
            return
        history.append({"role": "assistant", "content": ""})
        for part in _pieces(answer_markdown(answer)):
            history[-1] = {"role": "assistant", "content": part}
            yield history, gr.update(), conv, ""
        yield history, sources_html(answer), conv, ""

    def clear(self, conv: Conversation | None):
        if conv is not None:
            conv.clear()
        return [], sources_html(None), conv, ""

    # -- API-only endpoints -------------------------------------------------------------------
    def ask(self, question: str, mode: str = "") -> dict[str, Any]:
        """Answer one question (no history): the answer text with its sources as JSON."""
        return answer_json(self._run(lambda: self.bot.ask(question, mode=self._mode(mode))))

    def stream(self, question: str, mode: str = "") -> Iterator[str]:
        """Stream the answer text; each message is the text so far."""
        text = ""
        try:
            for piece in self.bot.stream(question, mode=self._mode(mode)):
                text += piece
                yield text
        except Exception as exc:  # noqa: BLE001
            raise gr.Error(_message(exc)) from None

    def follow_up(self, question: str, mode: str, conv: Conversation | None):
        """Ask within this session's conversation (the same history as the chat tab)."""
        conv = conv or self.bot.conversation()
        answer = self._run(lambda: conv.ask(question, mode=self._mode(mode)))
        return answer_json(answer), conv

    def documents(self) -> list[dict[str, Any]]:
        """What is indexed."""
        return [
            {
                "title": r.title,
                "file": r.path,  # not "path": gradio would treat the dict as a file
                "chunks": r.chunks,
                "ingested_at": r.ingested_at,
                "size": r.size,
            }
            for r in self.bot.documents()
        ]

    def status(self) -> dict[str, Any]:
        return {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in self.bot.status().items()}

    def upload_api(self, file: str | None, name: str = "") -> dict[str, Any]:
        """Store and ingest one uploaded file; ``name`` overrides the file's own name."""
        if not file:
            raise gr.Error("Choose a file to upload.")
        return self._run(lambda: self._ingest_one(file, name or Path(file).name))

    def delete_api(self, path: str) -> dict[str, Any]:
        """Remove one document from the index (and its stored copy, if it was uploaded)."""
        return {"file": path, "chunks_removed": self._run(lambda: self._remove(path))}

    def _run(self, fn):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            raise gr.Error(_message(exc)) from None

    # -- documents ---------------------------------------------------------------------------
    def _ingest_one(self, tmp: str, name: str, progress: Any = None) -> dict[str, Any]:
        self._may_write()
        s = self.bot.settings
        dest = store_upload(tmp, name, s.index_dir, s.upload_max_mb)

        def tick(done: int, total: int, what: str) -> None:
            if progress is not None:
                progress((done, max(total, 1)), desc=f"ingesting {what}")

        report = self.bot.ingest([dest], progress=tick)
        skipped = dict(report.skipped)
        if str(dest) in skipped or report.missing:
            dest.unlink(missing_ok=True)
            why = skipped.get(str(dest)) or "; ".join(w for _, w in report.missing)
            raise OpsqaError(f"{dest.name} was not indexed: {why}")
        return {
            "file": str(dest),
            "name": dest.name,
            "chunks": report.chunks,
            "added": bool(report.added),
            "updated": bool(report.updated),
            "unchanged": bool(report.unchanged),
            "warnings": [w for _, w in report.warnings],
        }

    def _remove(self, path: str) -> int:
        self._may_write()
        known = {r.path for r in self.bot.documents()}
        if path not in known:
            raise OpsqaError(f"{path!r} is not in the index; refresh the list and pick again")
        n = self.bot.remove(path)
        if is_upload(path, self.bot.settings.index_dir):
            Path(path).unlink(missing_ok=True)
        return n

    def upload(self, files: list[str] | str | None, progress=gr.Progress()):  # noqa: B008
        """UI upload: store and ingest each file with visible progress; report per file."""
        files = [files] if isinstance(files, str) else list(files or [])
        if not files:
            gr.Warning("Choose one or more files first.")
            return (gr.update(),) + self.refresh()
        lines = []
        unread: dict[str, list[str]] = {}  # file type -> names of files of a type not read
        for i, f in enumerate(files):
            name = Path(f).name
            progress((i, len(files)), desc=f"storing {name}")
            try:
                r = self._ingest_one(f, name, progress)
                verb = "updated" if r["updated"] else "unchanged" if r["unchanged"] else "added"
                lines.append(f"**Indexed** {chat_markdown(r['name'])}: {verb}, {r['chunks']} chunks")
                lines += [f"- warning: {chat_markdown(w)}" for w in r["warnings"]]
            except UnreadableType:
                unread.setdefault(Path(name).suffix.lower() or "no file type", []).append(name)
            except Exception as exc:  # noqa: BLE001
                text = _message(exc)
                gr.Warning(text)
                lines.append(f"**Not done:** {chat_markdown(text)}")
        if unread:
            groups = [f"{len(n)} × {t} ({', '.join(n)})" for t, n in sorted(unread.items())]
            text = (f"Not read: {'; '.join(groups)}: {NOT_A_DOCUMENT}; opsqa reads "
                    f"{', '.join(ALLOWED_SUFFIXES)}")
            gr.Warning(text)
            lines.append(f"**Not read:** {chat_markdown(text[len('Not read: '):])}")
        return ("\n\n".join(lines),) + self.refresh()

    def delete(self, path: str | None):
        if not path:
            gr.Warning("Pick a document to delete.")
            return (gr.update(),) + self.refresh()
        try:
            n = self._remove(path)
            msg = f"**Removed** {chat_markdown(Path(path).name)} ({n} chunks)"
        except Exception as exc:  # noqa: BLE001
            msg = f"**Not done:** {chat_markdown(_message(exc))}"
            gr.Warning(_message(exc))
        return (msg,) + self.refresh()

    def refresh(self):
        """Status line, documents table, delete choices, and the compare choices."""
        try:
            records = self.bot.documents()
            status = status_markdown(self.bot.status())
        except Exception as exc:  # noqa: BLE001
            return (
                f"**Not done:** {chat_markdown(_message(exc))}",
                gr.update(),
                gr.update(),
                gr.update(),
                gr.update(),
            )
        paths = [r.path for r in records]
        names = topic_choices(records)
        return (
            status,
            documents_html(records),
            gr.update(choices=paths, value=None),
            gr.update(choices=names),
            gr.update(choices=names),
        )

    # -- compare -----------------------------------------------------------------------------
    def compare(self, left: str | None, right: str | None, mode: str | None):
        if not left or not right:
            gr.Warning("Pick two topics to compare.")
            return gr.update()
        rows: list[tuple[str, Answer | str, Answer | str]] = []
        for facet, q in FACETS:
            cells: list[Answer | str] = []
            for x in (left, right):
                try:
                    cells.append(self.bot.ask(q.format(x=x), mode=self._mode(mode)))
                except Exception as exc:  # noqa: BLE001
                    cells.append(_message(exc))
            rows.append((facet, cells[0], cells[1]))
        return compare_html(left, right, rows)


def topic_choices(records: list[Any]) -> list[str]:
    """Compare choices from the indexed titles: short names, not essay titles."""
    titles = sorted({r.title.strip() for r in records if r.title and r.title.strip()})
    short = [t for t in titles if len(t.split()) <= 2 and ":" not in t]
    return short or titles


def example_questions(names: list[str]) -> list[str]:
    """Example questions about the indexed documents' own topics (their short titles)."""
    if not names:
        return []
    out = [f"What is {names[0]}?", "What is it used for?"]
    if len(names) > 1:
        out.append(f"How does {names[0]} differ from {names[1]}?")
    out += [f"What are the limitations of {n}?" for n in names[2:4]]
    return out
