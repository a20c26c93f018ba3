"""Disliked answers as eval question stubs, so a bad answer becomes a regression case.

The stubs follow the schema of ``eval/*.yaml`` (``eval/runner.py``'s ``load_dataset``): an
id, the question, its kind, the earlier questions of its chat as ``history``, and empty
``reference``, ``key_facts`` and ``sources`` for a maintainer to fill from the documents.
What was answered, in which mode, from which passages, and the user's comment stand above
each stub as YAML comments: context for the maintainer, never expected text.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.chats import Feedback

HEADER = """\
# opsqa feedback export: the disliked answers as eval question stubs (schema: eval/golden.yaml).
# Before a stub joins a question set, fill in its key_facts (and need_facts), reference and
# sources from the documents, or make it kind: out-of-scope when the documents rightly do not
# answer it. The comments above each stub say what was answered; they are not expected text.
"""


def _comment(label: str, text: str, width: int = 400) -> list[str]:
    flat = " ".join(str(text).split())
    flat = flat if len(flat) <= width else flat[: width - 3] + "..."
    return [f"# {label}: {flat}"] if flat else []


def _stub(f: Feedback, kind: str) -> dict[str, Any]:
    stub: dict[str, Any] = {"id": f"feedback-{f.turn_id}", "question": f.question,
                            "kind": "follow-up" if f.history else kind}
    if f.history:
        stub["history"] = list(f.history)
    stub.update(reference="", key_facts=[], need_facts=0, sources=[], tags=["feedback"])
    return stub


def _context(f: Feedback) -> list[str]:
    a = f.answer
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(f.updated))
    what = "refused" if a.refused else "answered"
    lines = [f"# disliked {when}: {what} in mode {a.mode}"]
    lines += _comment("comment", f.comment)
    lines += _comment("answer", a.text)
    cited = sorted({i for i, _ in a.used}) or list(range(min(3, len(a.sources))))
    names = [a.sources[i].section or a.sources[i].title for i in cited if i < len(a.sources)]
    lines += _comment("from", "; ".join(names))
    return lines


def export_feedback(bot: Assistant) -> tuple[str, int]:
    """The disliked answers of the stored chats as one YAML question set.

    Returns:
        The YAML text and how many stubs it holds.

    Raises:
        ChatStoreError: the chat store cannot be read.
    """
    disliked = bot.chats.feedback(disliked_only=True)
    parts = [HEADER, "questions:" + (" []" if not disliked else "")]
    for f in disliked:
        parts += _context(f)
        dumped = yaml.safe_dump([_stub(f, bot.question_kind(f.question))], sort_keys=False,
                                allow_unicode=True, width=100)
        parts.append(dumped.rstrip("\n"))
    return "\n".join(parts) + "\n", len(disliked)


__all__ = ["export_feedback"]
