"""A question's plan: its kind, what it is about, and what a follow-up takes from the chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.answer.kinds.base import Kind
    from app.retrieval.term_index import Term


@dataclass
class Plan:
    """What a question asks for."""

    text: str
    kind: Kind  # how it is answered (``app/answer/kinds``)
    subject: str = ""  # what a definition asks about, as written ("the query log")
    sides: tuple[str, ...] = ()  # what a comparison compares
    terms: list[Term] = field(default_factory=list)  # the documents' own terms it names
    topic: str = ""  # what this turn is about, for the next one to refer back to
    rewritten: str = ""  # a follow-up with the earlier topic added
    second: str = ""  # a second question asked in the same one ("..., and can I change it?")
    cited: tuple[str, ...] = ()  # the files its answer quoted, for a follow-up to read first
    after: tuple[str, ...] = ()  # a follow-up's: the files the earlier answer quoted

    @property
    def seeks(self) -> str | tuple[str, ...]:
        """What the passages that define it should be found for: its subject, or each side."""
        return self.sides[:2] if self.sides else self.subject

    @property
    def query(self) -> str:
        return self.rewritten or self.text

    @property
    def inherited(self) -> str:
        """The words a follow-up took from the earlier turn (empty for a fresh question)."""
        return self.rewritten[len(self.text):] if self.rewritten.startswith(self.text) else ""
