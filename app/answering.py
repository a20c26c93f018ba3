"""One answer, step by step: read the question, plan and retrieve, decide refusal, compose, check.

``Assistant.check_question`` is ``checked_question``. ``Assistant.answer_with_plan`` (and
through it ``ask``, ``stream`` and ``Conversation``) runs ``answer_turn``: the question
checked, planned and its passages gathered (``app.answer.gather``),
refused when the evidence is too weak, the extractive answer composed
(``app.answer.extractive``) and refused if it cannot be what was asked (both by
``app.answer.grounding.decide``), then the chosen mode's check (``app.answer.modes``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.answer.extractive import Composer, compose
from app.answer.gather import Found, gather, more_passages
from app.answer.grammar import clean_question
from app.answer.grounding import decide, refusal_text
from app.answer.plan import Plan
from app.errors import QuestionError
from app.sources import quoted_files, to_source
from app.types import Answer

if TYPE_CHECKING:
    from app.assistant import Assistant


def checked_question(question: object, limit: int) -> str:
    """``Assistant.check_question``: ``question`` cleaned, at most ``limit`` characters.

    Raises:
        QuestionError: not text, empty, or over the limit.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    from app.terminal import without_surrogates

    # Undecodable bytes (a terminal's \xff, a lone surrogate in JSON) are not words.
    q = clean_question(without_surrogates(question))
    if not q:
        raise QuestionError("the question is empty: type a question about the documents")
    if len(q) > limit:
        raise QuestionError(
            f"the question is {len(q):,} characters long; the limit is {limit:,} "
            "(max_question_chars). Ask a shorter question.")
    return q


def answer_turn(bot: Assistant, question: str, previous: Plan | None, mode: str | None,
                top_k: int | None) -> tuple[Answer, Plan]:
    """``Assistant.answer_with_plan``: the answer to ``question`` and its plan."""
    t0 = time.perf_counter()
    answerer = bot.answer_mode(mode)
    q = bot.check_question(question)
    r, k = bot.retriever, top_k or bot.settings.top_k
    found = gather(r, q, previous, max(k, 8), bot._fix)
    timings = {"retrieve_ms": _ms(t0)}
    threshold = bot.settings.refusal_threshold
    if decide(found.plan, found.evidence, r.lexical, threshold):
        return _refusal(bot, q, answerer.name, found, timings, t0, previous, k), found.plan
    extra = more_passages(r, found)
    timings["retrieve_ms"] = _ms(t0)
    comp = compose(found.plan, found.hits, extra, r.lexical.idf, r.terms)
    if decide(found.plan, found.evidence, r.lexical, threshold, comp.defined):
        return _refusal(bot, q, answerer.name, found, timings, t0, previous, k), found.plan
    base = _cited(q, comp, found, timings, k)
    found.plan.cited = quoted_files(base)
    answer = answerer.answer(base)
    answer.timings_ms["total_ms"] = _ms(t0)
    return answer, found.plan


def _cited(q: str, comp: Composer, found: Found, timings: dict[str, float], k: int) -> Answer:
    """The extractive answer: the composed text, its cited passages first."""
    cited = list(comp.sources)
    rest = [h for h in found.hits if all(h.id != c.id for c in cited)]
    sources = tuple(to_source(h) for h in (cited + rest)[: max(len(cited), k)])
    return Answer(text=comp.text(), sources=sources, refused=False, mode="extractive",
                  question=q, used=tuple(comp.used), evidence=found.evidence.score,
                  timings_ms=timings)


def _refusal(bot: Assistant, q: str, mode: str, found: Found, timings: dict[str, float],
             t0: float, previous: Plan | None, k: int) -> Answer:
    """The refusal, naming the topics nearest to this question alone: in a chat the
    search carried the earlier topic, which says nothing of what this question needs."""
    ev, hits = found.evidence, found.hits
    if previous is not None:
        hits = gather(bot.retriever, q, None, len(hits), bot._fix).hits
    text = refusal_text(ev, hits, bot.retriever.terms.labels())
    sources = tuple(to_source(h) for h in hits[:k])
    timings["total_ms"] = _ms(t0)
    return Answer(text=text, sources=sources, refused=True, mode=mode, question=q,
                  evidence=ev.score, note=ev.reason, timings_ms=timings)


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
