"""A streamed answer: its sources up front, its text in pieces, its final ``Answer`` at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from app.answer.modes import AnswerMode, pieces
from app.types import Answer

if TYPE_CHECKING:
    from app.answer.plan import Plan

__all__ = ["Stream", "pieces", "start_stream"]


@dataclass
class Stream:
    """Iterate for the answer text in pieces (joined, they are the answer's text).

    Attributes:
        base: the extractive answer the stream starts from: its sources, refusal and evidence
            are final before the first piece.
        plan: the question's plan (a conversation's follow-ups build on it).
        mode: the mode answering.
        done: callbacks given the final ``Answer`` once every piece has been read.
    """

    base: Answer
    plan: Plan
    pieces: Iterator[str]
    final: Callable[[], Answer]
    mode: str = "extractive"
    done: list[Callable[[Answer], Any]] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:
        yield from self.pieces
        answer = self.final()
        for fn in self.done:
            fn(answer)

    def answer(self) -> Answer:
        """The final answer (with the LLM's checked text and note once the pieces are read)."""
        return self.final()


class Answers(Protocol):
    """What streaming needs of an ``Assistant``."""

    def answer_mode(self, mode: str | None = None) -> AnswerMode: ...

    def answer_with_plan(self, question: str, previous: Plan | None = None,
                         mode: str | None = None, top_k: int | None = None
                         ) -> tuple[Answer, Plan]: ...


def start_stream(bot: Answers, question: str, previous: Plan | None, mode: str | None,
                 top_k: int | None = None) -> Stream:
    """Retrieve and decide refusal now; generate (in LLM modes) as the pieces are read.

    Raises:
        QuestionError, ConfigError, IndexStoreError: as ``Assistant.ask``.
    """
    answerer = bot.answer_mode(mode)
    base, plan = bot.answer_with_plan(question, previous, "extractive", top_k)
    if base.refused:
        refused = replace(base, mode=answerer.name)
        return Stream(base, plan, pieces(base.text), lambda: refused, answerer.name)
    text, final = answerer.stream(base)
    return Stream(base, plan, text, final, answerer.name)
