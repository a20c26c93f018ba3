"""A fact ("who ...?", "how many ...?", "what is the default ...?"): the sentence holding it."""

from __future__ import annotations

import re

from app.answer.grammar import Grammar
from app.answer.groups import Budget, Group
from app.answer.kinds.base import Candidates, Kind

ASKS = re.compile(
    r"^\W*(?:who|whom)\b|\bwhen\s+(?:was|were|did)\b|\bin\s+what\s+year\b|"
    # "how many ...?", "... and how often?", terse "memory how much": not "to check how many"
    r"(?:^\W*|[,;]\s*|\b(?:and|so|but)\s+)how\s+(?:many|much|long|often|old|big|large|frequently)\b|"
    r"\bhow\s+(?:many|much|long|often)\W*$|"
    r"\b(?:what|which)\s+(?:year|date|version|port|percentage|number)\b|"
    r"\b(?:what|which)(?:'s|\s+is|\s+are)?\s+the\s+(?:default|minimum|maximum|max|min|limit)\b|"
    r"\bby\s+default\b.*\?\s*$", re.I)
_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")  # "Patrick Debois"
_DEFAULT = re.compile(r"\bdefaults?\b|\bby\s+default\b", re.I)
FITS = 0.1  # what a unit gains for holding the kind of fact asked


class Fact(Kind):
    """The sentence holding the kind of fact asked (a number, a name, a default) leads."""

    name = "fact"
    budget = Budget(110, lead=45, sentences=1, followers=2)
    about_terms = True

    def detect(self, g: Grammar) -> bool:
        return bool(ASKS.search(g.text))

    def bonus(self, g: Group, c: Candidates) -> float:
        """A unit holding the kind of fact the question asks for."""
        q = c.plan.text
        text = " ".join(u.text for u in g.units if u.kind != "code")
        if re.match(r"^\W*(?:who|whom)\b", q, re.I):
            return FITS if _NAME.search(text) else 0.0
        if _DEFAULT.search(q):
            return FITS if _DEFAULT.search(text) else 0.0
        return FITS if _NUMBER.search(text) else 0.0
