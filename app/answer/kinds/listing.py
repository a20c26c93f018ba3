"""A list question ("which tools ...?", "what are the limitations of X?"): one list answers it.

The list may be a Markdown list under a lead-in, a table's rows, or a section's subsections (a
reference page's "Parameters" and one subsection per parameter): the sections under the best
hits and the sections beside them named with the question's own words are read for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.answer.choose import Budget, choose
from app.answer.grammar import Grammar, listed
from app.answer.groups import Group, announced, sublists
from app.answer.kinds.base import Candidates, Kind, around, term_passages
from app.answer.sections import children, named_sections, pages
from app.retrieval.terms import words

if TYPE_CHECKING:
    from app.answer.gather import Found
    from app.retrieval.hybrid import Hit, Retriever


class Listing(Kind):
    """The best list leads, with its lead-in; a second one only from the same document."""

    name = "list"
    budget = Budget(150, lead=150, sentences=1, followers=1, lists=1)
    about_terms = True
    takes_blocks = True

    def detect(self, g: Grammar) -> bool:
        return g.listy

    def extra(self, r: Retriever, found: Found) -> dict[str, list[Hit]]:
        """Also the passages of the terms it names, and the sections under and beside its
        best two hits (each file read once)."""
        hits = found.hits[:2]
        extra = {**around(r, found), **term_passages(r, found, found.plan.terms[:2])}
        page_of = pages(r.store, [h.file for h in hits], r.lexical)
        for h in hits:
            extra[f"children {h.id}"] = children(h, page_of[h.file])
        extra["named"] = named_sections(hits, found.plan.query, page_of, r.lexical.query_stems)
        return extra

    def bonus(self, g: Group, c: Candidates) -> float:
        """A whole list, or a lead-in quoted with what it leads into."""
        if g.shape == "list":
            return 0.12
        return 0.08 if g.shape == "sentence" and len(g.units) > 1 else 0.0

    def groups(self, c: Candidates) -> list[Group]:
        """Every group, and a section's subsections as one; a list whose lead-in (or heading)
        announces what the question lists ("which time series ...?": "... in the following
        time series:") ranks up."""
        out = super().groups(c)
        asked = words(listed(c.plan.text))
        for g in out:
            if asked and g.shape == "list" and asked[-1] in words(announced(g)):
                g.score += ANNOUNCED
        return out + sublists(c.kids, c.units, c.score, c.plan.query)

    def choose(self, c: Candidates) -> list[Group]:
        """A list leads when one is nearly as relevant as the best group (``LEAD_SHARE``)."""
        groups = self.groups(c)
        best = max((g.base for g in groups), default=0.0)
        lists = [g for g in groups if _items(g) > 2 and g.base >= LEAD_SHARE * best]
        return choose(groups, self.budget, grow=lambda g: self.grow(g, c, groups),
                      lead_from=lists or None, cut=True)


LEAD_SHARE = 0.75  # a list leads a list answer when it is this relevant beside the best group
ANNOUNCED = 0.08  # a list announced as what the question lists


def _items(g: Group) -> int:
    return sum(u.kind == "item" for u in g.units)
