"""A chat with history: follow-up questions inherit the previous turn's topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.types import Answer

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.questions import Plan


class Conversation:
    """Keeps the turns of one chat; ``ask`` resolves "it"/"they" from earlier turns."""

    def __init__(self, bot: Assistant):
        self.bot = bot
        self.turns: list[Answer] = []
        self._plan: Plan | None = None

    def ask(self, question: str, *, mode: str | None = None) -> Answer:
        answer, plan = self.bot._answer(question, self._plan, mode)
        if plan.terms and not answer.refused:
            self._plan = plan
        self.turns.append(answer)
        return answer

    def clear(self) -> None:
        self.turns.clear()
        self._plan = None
