"""Web UI event handlers: each calls the public API and formats the result; errors become text.

Expected problems (``OpsqaError``) reach the user as their message; anything else is logged
here with its traceback and the user sees one plain sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from app import Answer, Assistant, OpsqaError
from app.ui.files import (
    ALLOWED_SUFFIXES,
    NOT_A_DOCUMENT,
    UnreadableType,
    display_names,
    is_upload,
    store_upload,
)
from app.ui.render import (
    answer_json,
    chat_markdown,
    compare_html,
    documents_html,
    esc,
    status_markdown,
)
from app.ui.session import ChatSession, owner_of
from app.ui.views import gaps_html
from app.ui.welcome import topic_choices

log = logging.getLogger("opsqa.ui")
INTERNAL = "Something went wrong on the server (the details are in its log). Please try again."
FACETS = (  # what one asks of any topic, whatever the documents are about
    ("Definition", "What is {x}?"),
    ("Purpose", "What is {x} used for?"),
    ("How it works", "How does {x} work?"),
    ("Limits", "What are the limitations of {x}?"),
)


def problem_text(exc: Exception) -> str:
    """What the user reads of a failure: an ``OpsqaError``'s message, else one plain sentence
    (the traceback goes to the server's log)."""
    if isinstance(exc, OpsqaError):
        return str(exc)
    log.exception("unexpected error in a UI handler")
    return INTERNAL


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
            raise gr.Error(problem_text(exc)) from None

    def follow_up(self, question: str, mode: str, session: ChatSession | None,
                  request: gr.Request):
        """Ask within this session's chat (stored like the chat tab's, under the login or
        this API session); follow-ups resolve against its earlier questions."""
        if session is None:
            session = ChatSession(self.bot, owner_of(request, None))
        answer = self._run(lambda: session.conversation().ask(question, mode=self._mode(mode)))
        warning = session.store(question, answer)
        if warning:
            log.warning("%s", warning)
        return answer_json(answer), session

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
            raise gr.Error(problem_text(exc)) from None

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
        """Delete one uploaded document; the built-in and CLI-ingested ones are not the UI's."""
        self._may_write()
        known = {r.path for r in self.bot.documents()}
        if path not in known:
            raise OpsqaError(f"{Path(path).name!r} is not in the index; refresh the list and "
                             "pick again")
        if not is_upload(path, self.bot.settings.index_dir):
            raise OpsqaError(f"{Path(path).name} was not uploaded here, so it cannot be deleted "
                             "here: only documents uploaded through this page can be")
        n = self.bot.remove(path)
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
                text = problem_text(exc)
                gr.Warning(text)
                lines.append(f"**Not done:** {chat_markdown(text)}")
        if unread:
            groups = [f"{len(n)} × {t} ({', '.join(n)})" for t, n in sorted(unread.items())]
            text = (f"Not read: {'; '.join(groups)}: {NOT_A_DOCUMENT}; opsqa reads "
                    f"{', '.join(ALLOWED_SUFFIXES)}")
            gr.Warning(text)
            lines.append(f"**Not read:** {chat_markdown(text[len('Not read: '):])}")
        return ("\n\n".join(lines),) + self.refresh()

    def delete(self, name: str | None):
        """UI delete: ``name`` is an upload as the list shows it (never a server path)."""
        if not name:
            gr.Warning("Pick a document to delete.")
            return (gr.update(),) + self.refresh()
        s = self.bot.settings
        path = next((p for p, shown in display_names(self.bot.documents(), s.corpus_dir,
                                                     s.index_dir).items() if shown == name), "")
        try:
            n = self._remove(path or name)
            msg = f"**Removed** {chat_markdown(name)} ({n} chunks)"
        except Exception as exc:  # noqa: BLE001
            msg = f"**Not done:** {chat_markdown(problem_text(exc))}"
            gr.Warning(problem_text(exc))
        return (msg,) + self.refresh()

    def refresh(self):
        """Status line, documents table, delete choices (uploads only), compare choices."""
        try:
            records = self.bot.documents()
            status = status_markdown(self.bot.status())
        except Exception as exc:  # noqa: BLE001
            return (f"**Not done:** {chat_markdown(problem_text(exc))}",) + (gr.update(),) * 4
        s = self.bot.settings
        names = display_names(records, s.corpus_dir, s.index_dir)
        uploads = [names[r.path] for r in records if is_upload(r.path, s.index_dir)]
        topics = topic_choices(records)
        return (
            status,
            documents_html(records, names),
            gr.update(choices=uploads, value=None),
            gr.update(choices=topics),
            gr.update(choices=topics),
        )

    # -- gaps ------------------------------------------------------------------------------
    def gaps(self) -> list[dict[str, Any]]:
        """The refused and disliked questions of the stored chats, grouped by meaning."""
        from app.gaps import find_gaps

        return [g.to_dict() for g in self._run(lambda: find_gaps(self.bot))]

    def gaps_view(self) -> str:
        from app.gaps import find_gaps

        try:
            return gaps_html(find_gaps(self.bot))
        except Exception as exc:  # noqa: BLE001
            return f'<div class="oq-empty">{esc(problem_text(exc))}</div>'

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
                    cells.append(problem_text(exc))
            rows.append((facet, cells[0], cells[1]))
        return compare_html(left, right, rows)

