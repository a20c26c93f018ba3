"""A chat with history: follow-up questions inherit the previous turn's topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.types import Answer

if TYPE_CHECKING:
    from app.answer.plan import Plan
    from app.answer.streaming import Stream
    from app.assistant import Assistant


class Conversation:
    """Keeps the turns of one chat; ``ask`` resolves "it"/"they" from earlier turns."""

    def __init__(self, bot: Assistant):
        self.bot = bot
        self.turns: list[Answer] = []
        self._plan: Plan | None = None

    def ask(self, question: str, *, mode: str | None = None, top_k: int | None = None) -> Answer:
        answer, plan = self.bot.answer_with_plan(question, self._plan, mode, top_k)
        self._follow(answer, plan)
        self.turns.append(answer)
        return answer

    def stream(self, question: str, *, mode: str | None = None,
               top_k: int | None = None) -> Stream:
        """Like ``ask``, but the answer comes as a ``Stream``: its sources now, its text in
        pieces as they are read; the finished answer then joins ``turns``.
        """
        from app.answer.streaming import start_stream

        stream = start_stream(self.bot, question, self._plan, mode, top_k)
        self._follow(stream.base, stream.plan)
        stream.done.append(self.turns.append)
        return stream

    def resume(self, questions: list[str], answers: list[Answer] | None = None) -> None:
        """Take up a chat from its earlier questions: their topics are planned again (nothing
        is retrieved or answered), so the next follow-up resolves against them; given their
        ``answers``, it also reads first the documents they quoted, as in the chat itself."""
        from app.answer.grammar import clean_question
        from app.answer.questions import plan_question
        from app.sources import quoted_files

        self.clear()
        retriever = self.bot.retriever
        retriever.sync()
        for i, question in enumerate(questions):
            q = clean_question(question)[: self.bot.settings.max_question_chars]
            plan = plan_question(q, retriever.terms, self._plan) if q else None
            if plan is not None and plan.terms:
                if answers is not None and i < len(answers):
                    plan.cited = quoted_files(answers[i])
                self._plan = plan

    def _follow(self, answer: Answer, plan: Plan) -> None:
        if plan.terms and not answer.refused:
            self._plan = plan

    def clear(self) -> None:
        self.turns.clear()
        self._plan = None
