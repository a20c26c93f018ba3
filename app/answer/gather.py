"""Retrieval for one question: its plan, the main search and its evidence, and the passages beyond it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.answer.grounding import Evidence, weigh_evidence
from app.answer.plan import Plan
from app.answer.questions import plan_question
from app.errors import IndexStoreError
from app.retrieval.hybrid import Hit, Retriever

EARLIER = 3  # a follow-up reads this many passages of the earlier answer's documents first


@dataclass
class Found:
    """What one question found: its plan, its query vector, the hits and their evidence."""

    plan: Plan
    qvec: Any
    hits: list[Hit]
    evidence: Evidence


def gather(r: Retriever, question: str, previous: Plan | None, k: int,
           fix: Callable[[str], str]) -> Found:
    """Plan ``question`` (a follow-up of ``previous``), search the top ``k`` and weigh them.

    Args:
        fix: the question with misspelt words as the documents spell them.

    Raises:
        IndexStoreError: the index is empty.
    """
    r.sync()
    if r.size == 0:
        raise IndexStoreError("the index is empty: run `opsqa ingest PATH...` first")
    # Misspelt words are read as the documents spell them, for search and for the plan.
    plan = plan_question(fix(question), r.terms, previous)
    qvec = r.embed_query(plan.query)
    hits = r.search(plan.query, k=k, qvec=qvec, subject=plan.seeks)
    if plan.after:  # "that install": what the earlier answer quoted is read first
        first = r.search(plan.query, k=EARLIER, files=list(plan.after), qvec=qvec)
        hits = first + [h for h in hits if all(h.id != f.id for f in first)]
    return Found(plan, qvec, hits, weigh_evidence(plan, hits, r.lexical, r.encoder.count_pieces))


def more_passages(r: Retriever, found: Found) -> dict[str, list[Hit]]:
    """Passages beyond the main search, as the question's kind reads them (the chunks around
    the best hits, the defining documents of its terms, each side of a comparison ...)."""
    return found.plan.kind.extra(r, found)
