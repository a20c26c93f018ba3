"""The first screen: what is loaded, and example questions the loaded documents answer.

Examples are built from the documents' own short titles with questions one asks of any topic,
and each is asked before it is offered: only those answered (not refused, with a citation)
are kept. They are worked out once per index generation (at start-up, then after an upload
or delete), under a lock, so many browsers opening the page at once ask them once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from app import Assistant, OpsqaError
from app.ui.views import welcome_markdown

EXAMPLES = 4
TRIES = 10


def topic_choices(records: list[Any]) -> list[str]:
    """Topics from the indexed titles: short names, not essay titles."""
    titles = sorted({r.title.strip() for r in records if r.title and r.title.strip()})
    short = [t for t in titles if len(t.split()) <= 2 and ":" not in t]
    return short or titles


def candidates(names: list[str]) -> list[str]:
    """Questions about the documents' own topics, the likeliest to be answered first."""
    out = [f"What is {n}?" for n in names[:1]]
    if len(names) > 1:
        out.append(f"How does {names[0]} differ from {names[1]}?")
    out += [f"What is {n} used for?" for n in names[2:3]]
    out += [f"What are the limitations of {n}?" for n in names[3:4]]
    out += [f"What is {n}?" for n in names[1:]]
    return list(dict.fromkeys(out))


def answered(bot: Assistant, question: str) -> bool:
    try:
        a = bot.ask(question)
    except OpsqaError:
        return False
    return not a.refused and bool(re.search(r"\[\d+\]", a.text))


class Welcome:
    """The first screen of one ``Assistant``'s index, kept per index generation."""

    def __init__(self, bot: Assistant, limit: int = EXAMPLES, tries: int = TRIES):
        self.bot, self.limit, self.tries = bot, limit, tries
        self._lock = threading.Lock()
        self._generation: object = None
        self._value: tuple[str, list[str]] = ("", [])

    def get(self) -> tuple[str, list[str]]:
        """(first screen Markdown, verified example questions) for the index as it is now."""
        status = self.bot.status()
        with self._lock:
            if status.get("generation") != self._generation:
                self._value = self._build(status)
                self._generation = status.get("generation")
            return self._value

    def _build(self, status: dict[str, Any]) -> tuple[str, list[str]]:
        names = topic_choices(self.bot.documents())
        examples: list[str] = []
        for q in candidates(names)[: self.tries]:
            if len(examples) >= self.limit:
                break
            if answered(self.bot, q):
                examples.append(q)
        text = welcome_markdown(int(status.get("documents", 0)), int(status.get("chunks", 0)),
                                names, len(examples))
        return text, examples
