"""A question of no particular kind ("why ...", "does X ...", bare keywords): relevance decides."""

from __future__ import annotations

from app.answer.choose import Budget
from app.answer.groups import Group
from app.answer.kinds.base import Candidates, Kind


class General(Kind):
    """The best passage unit leads, then what else is about as relevant and new."""

    name = "general"
    budget = Budget(110, lead=55, sentences=1)

    def bonus(self, g: Group, c: Candidates) -> float:
        """A whole list a little: terse keywords ("x limitations") take a list over one of
        its items."""
        return 0.05 if g.shape == "list" else 0.0
