"""Retrieval for one question: its plan, the main search and its evidence, and the passages beyond it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.answer.grounding import Evidence, weigh_evidence
from app.answer.questions import Plan, head, plan_question
from app.errors import IndexStoreError
from app.retrieval.hybrid import Hit, Retriever
from app.retrieval.terms import content_words


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
    hits = r.search(plan.query, k=k, qvec=qvec, subject=plan.subject)
    return Found(plan, qvec, hits, weigh_evidence(plan, hits, r.lexical, r.encoder.count_pieces))


def more_passages(r: Retriever, found: Found) -> dict[str, list[Hit]]:
    """Passages beyond the main search: the chunks around the best hits, the defining
    documents of the terms a question names, the bare subject of a definition, and each
    side of a comparison."""
    plan, hits, qvec = found.plan, found.hits, found.qvec
    extra: dict[str, list[Hit]] = {"neighbours": r.neighbours(hits[:3], qvec)}
    if plan.kind == "comparison":
        for side in plan.sides[:2]:
            extra[side] = r.search(f"What is {side}?", k=6, subject=side)
    else:
        terms = plan.terms[:2]
        if plan.kind == "definition":  # the documents that define the subject itself
            named = [content_words(n) for n in (plan.subject, head(plan.subject))]
            terms = [t for t in plan.terms if t.strength == 2 and list(t.key) in named]
        if terms and plan.kind in ("definition", "list"):
            files = sorted({f for t in terms for f in t.files})
            extra["terms"] = r.search(plan.query, k=6, files=files, qvec=qvec)
        if plan.subject:  # the bare name finds a glossary entry a whole question may not
            extra["subject"] = r.search(plan.subject, k=4)
        if plan.kind == "list":  # a list may be the subsections under the best heading
            pages = r.pages([h.file for h in hits[:2]])  # each file read once
            for h in hits[:2]:
                extra[f"children {h.id}"] = r.children(h, pages[h.file])
            extra["named"] = r.named_sections(hits[:2], plan.query, pages)
    return extra
