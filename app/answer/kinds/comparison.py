"""A comparison ("X vs Y", "how does X differ from Y?"): what sets the two apart, then each side."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from app.answer.choose import Budget, choose, extend, opens
from app.answer.grammar import Grammar
from app.answer.groups import Group
from app.answer.kinds.base import Candidates, Kind, around
from app.answer.kinds.definition import Definition
from app.answer.kinds.general import General
from app.answer.plan import Plan
from app.answer.scoring import unit_key
from app.retrieval.terms import content_words

if TYPE_CHECKING:
    from app.answer.gather import Found
    from app.retrieval.hybrid import Hit, Retriever

CONTRAST = re.compile(r"\b(?:but|whereas|while|unlike|differ\w*|difference|instead|rather than|"
                      r"however|not|whereas|vs\.?|versus|than)\b", re.I)
_GENERAL, _DEFINITION = General(), Definition()


def _words(g: Group) -> int:
    return sum(u.words for u in g.units)


def _sets_apart(g: Group) -> float:
    """How well a group naming both sides contrasts them: a sentence saying how they differ
    ("X ..., whereas Y ...") over a list or code that happens to name both."""
    contrast = any(CONTRAST.search(u.text) for u in g.units if u.kind == "sentence")
    block = any(u.kind in ("item", "code") for u in g.units)
    return g.score + (0.1 if contrast else 0.0) - (0.15 if block else 0.0)


class Comparison(Kind):
    """What links both sides (with the sentences that go on from it), then what each side is,
    then what else answers the question while there is room."""

    name = "comparison"
    budget = Budget(115, lead=60, sentences=2, followers=3)
    about_terms = True

    def detect(self, g: Grammar) -> bool:
        return len(g.sides) >= 2

    def extra(self, r: Retriever, found: Found) -> dict[str, list[Hit]]:
        """Also what each side is, searched on its own."""
        extra = around(r, found)
        for side in found.plan.sides[:2]:
            extra[side] = r.search(f"What is {side}?", k=6, subject=side)
        return extra

    def choose(self, c: Candidates) -> list[Group]:
        plan = c.plan
        sides = [set(content_words(s)) for s in plan.sides[:2]]
        groups = _GENERAL.groups(Candidates(Plan(plan.text, _GENERAL), c.units, c.score,
                                            c.kids, c.rescore))
        chosen: list[Group] = []
        part = self.budget.words // 2  # what links the two, or one side, takes at most this
        # (one that only goes on from what came before it, "However, ...", cannot lead)
        linking = [g for g in groups if all(side and side <= g.stems for side in sides)
                   and _words(g) <= part and opens(g)]
        if linking:  # a sentence that sets the two apart says most; a list or code less
            best = max(linking, key=_sets_apart)
            chosen.append(extend(best, c.units, self.budget))
        for i, (side, stems) in enumerate(zip(plan.sides[:2], sides, strict=False)):
            other = sides[1 - i] if len(sides) > 1 else set()
            side_plan = Plan(f"What is {side}?", _DEFINITION, subject=side)
            taken = {unit_key(u) for g in chosen for u in g.units}
            side_c = Candidates(side_plan, c.units, c.rescore(side_plan), c.kids, c.rescore)
            room = min(part, self.budget.words - sum(_words(g) for g in chosen))
            options = [g for g in _DEFINITION.groups(side_c)
                       if stems <= g.stems and not {unit_key(u) for u in g.units} & taken
                       and _words(g) <= room]
            if options:  # what the side is on its own: a sentence naming both links, not defines
                chosen.append(max(options, key=lambda g: g.score - (0.2 if other <= g.stems
                                                                     else 0)))
        # Then what else answers the question, as any question is answered, while there is room.
        taken = {unit_key(u) for g in chosen for u in g.units}
        used = sum(_words(g) for g in chosen)
        rest = [g for g in groups if not {unit_key(u) for u in g.units} & taken]
        room = self.budget.words - used
        if room > 0:
            more = replace(self.budget, words=room, followers=2 if chosen else 3)
            chosen += choose(rest, more)
        return chosen
