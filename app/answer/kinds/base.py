"""What every question kind does: its passages, its tilt, its choice, its budget, its refusal.

A kind owns the passages it reads beyond the main search (``extra``), how it tilts the
ranking of what can be quoted (``bonus``), how it chooses what to quote (``choose``) within its
word budget, and whether the documents answer it whatever the evidence (``exempt``). The
kinds in ``app/answer/kinds/__init__.py`` are tried in order; the first whose ``detect``
recognises a question's grammar answers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.answer.choose import Budget, choose, extend, fit
from app.answer.grammar import Grammar, head
from app.answer.groups import Group, groups_of
from app.answer.passages import Unit
from app.retrieval.terms import STOPWORDS

if TYPE_CHECKING:
    from app.answer.gather import Found
    from app.answer.grounding import Evidence
    from app.answer.plan import Plan
    from app.retrieval.hybrid import Hit, Retriever
    from app.retrieval.lexical import LexicalIndex
    from app.retrieval.term_index import Term

Scores = dict[tuple[str, int], float]


@dataclass
class Candidates:
    """What one answer can quote: the units of its passages and their scores.

    Attributes:
        plan: the question's plan.
        units: the sentences, list items and code blocks of every passage read.
        score: each unit's relevance (``Scorer.score_all``).
        kids: for a passage id, the first passages of its subsections (list questions).
        rescore: the units' relevance to another plan (a comparison's "What is <side>?").
    """

    plan: Plan
    units: list[Unit]
    score: Scores
    kids: dict[str, list[Hit]]
    rescore: Callable[[Plan], Scores]


def around(r: Retriever, found: Found) -> dict[str, list[Hit]]:
    """The chunks around the best hits under their headings (a list or table that chunking
    cut off from its lead-in)."""
    return {"neighbours": r.neighbours(found.hits[:3], found.qvec)}


def term_passages(r: Retriever, found: Found, terms: list[Term]) -> dict[str, list[Hit]]:
    """The question's best passages within the documents of the terms it names."""
    if not terms:
        return {}
    files = sorted({f for t in terms for f in t.files})
    return {"terms": r.search(found.plan.query, k=6, files=files, qvec=found.qvec)}


class Kind:
    """What every kind shares: the best passage unit leads, then what else is about as
    relevant and new, within the budget."""

    name = "general"
    budget = Budget(110)  # how much an answer may say: within the 120 words a reader accepts
    about_terms = False  # a turn is about the documents' terms it names (for a later "it")
    defines = False  # it asks what its subject is
    takes_blocks = False  # a lead-in is quoted with the list or code block it leads into

    def detect(self, g: Grammar) -> bool:
        """Whether a question of this grammar is of this kind."""
        return True

    def subject(self, g: Grammar) -> str:
        """What the question is about, as this kind reads it."""
        return g.subject

    def topic_words(self, q: str) -> list[str]:
        """The words of ``q`` (stop words dropped) that a later "it" refers to."""
        return [w for w in re.findall(r"[\w.+/-]+", q) if w.lower() not in STOPWORDS]

    # -- retrieval ------------------------------------------------------------------------
    def extra(self, r: Retriever, found: Found) -> dict[str, list[Hit]]:
        """Passages beyond the main search: the chunks around the best hits."""
        return around(r, found)

    # -- composing ------------------------------------------------------------------------
    def bonus(self, g: Group, c: Candidates) -> float:
        """This kind's tilt to a group's relevance (none: relevance alone)."""
        return 0.0

    def groups(self, c: Candidates) -> list[Group]:
        """Every way the units can be quoted, scored for this kind."""
        out = groups_of(c.units, c.score, self.takes_blocks)
        for g in out:
            g.score = g.base + self.bonus(g, c)
        return out

    def choose(self, c: Candidates) -> list[Group]:
        """The groups to quote, best first."""
        groups = self.groups(c)
        return choose(groups, self.budget, grow=lambda g: self.grow(g, c, groups))

    def grow(self, best: Group, c: Candidates, groups: list[Group]) -> Group:
        """The best group, going on in its paragraph as far as this kind reads on; an item
        read with the rest of its list (one item out of its list lacks what it belongs to)."""
        if best.shape == "item":
            whole = [g for g in groups if g.shape == "list" and best.units[0] in g.units]
            fits = [f for g in whole if (f := fit(g, self.budget.words)) is not None
                    and best.units[0] in f.units]
            if fits:
                return fits[0]
        return extend(best, c.units, self.budget)

    def defined(self, c: Candidates) -> bool:
        """Whether a passage says what the question's subject is (definitions only)."""
        return False

    # -- refusing -------------------------------------------------------------------------
    def exempt(self, plan: Plan, lexical: LexicalIndex) -> bool:
        """Whether the documents answer this question however weak its evidence."""
        return False

    def unanswerable(self, plan: Plan, defined: bool, lexical: LexicalIndex) -> bool:
        """Whether the composed answer cannot be what was asked (refused after composing)."""
        return False

    def unanswered(self, plan: Plan, evidence: Evidence) -> None:
        """Record on ``evidence`` what the documents lack, for the refusal to say."""
        evidence.undefined = head(plan.subject)
