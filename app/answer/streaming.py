"""A streamed answer: its sources up front, its text in pieces, its final ``Answer`` at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.types import Answer

if TYPE_CHECKING:
    from app.answer.questions import Plan


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


def start_stream(bot: Any, question: str, previous: Plan | None, mode: str | None) -> Stream:
    """Retrieve and decide refusal now; generate (in LLM modes) as the pieces are read.

    Raises:
        QuestionError, ConfigError, IndexStoreError: as ``Assistant.ask``.
    """
    mode = bot._mode(mode)
    if mode == "extractive":
        answer, plan = bot._answer(question, previous, mode)
        return Stream(answer, plan, pieces(answer.text), lambda: answer)
    base, plan = bot._answer(question, previous, "extractive")
    if base.refused:
        refused = replace(base, mode=mode)
        return Stream(base, plan, pieces(base.text), lambda: refused, mode)
    from app.answer.llm import Generation, llm_stream

    run = Generation(bot, mode, base)
    return Stream(base, plan, llm_stream(bot, mode, plan, base, run), run.answer, mode)


def pieces(text: str) -> Iterator[str]:
    """Split text into word-sized pieces (whitespace kept) for streaming."""
    buf = ""
    for ch in text:
        buf += ch
        if ch in " \n":
            yield buf
            buf = ""
    if buf:
        yield buf
