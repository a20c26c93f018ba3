"""A second question asked in the same one ("how do I enable X, and what URL shows it?").

The first question is answered by its kind; then the group that best answers the second one,
read with the first one's topic when it says "it" and taken from a document the answer already
quotes (two parts of one question are about one topic), comes right after the lead, unless the
answer already holds it. Followers of the first answer give way to it when the budget is
short. Ranking the first answer by the first question's words alone was measured too: one
answer gained its fact and one lost its own, on five question sets.
"""

from __future__ import annotations

from app.answer.choose import Budget
from app.answer.grammar import FOLLOW_UP
from app.answer.groups import Group, groups_of, repeats
from app.answer.kinds.base import Candidates
from app.answer.plan import Plan
from app.answer.scoring import unit_key


def answer_second(chosen: list[Group], c: Candidates, budget: Budget) -> list[Group]:
    """``chosen`` (the first question's groups) with the best answer to ``c.plan.second``."""
    plan = c.plan
    if not plan.second or not chosen:
        return chosen
    # Its "it" is the first question's topic; else its own words alone rank its answer.
    refers = FOLLOW_UP.search(plan.second) and (plan.topic or plan.text)
    ask = Plan(plan.second, plan.kind, rewritten=f"{plan.second} ({refers})" if refers else "")
    said = [u for g in chosen for u in g.units]
    files = {u.hit.file for u in said}  # one question's two parts are about one topic
    best = max((g for g in groups_of(c.units, c.rescore(ask), takes_blocks=True)
                if g.units[0].hit.file in files), key=lambda g: g.score, default=None)
    if best is None:
        return chosen
    taken = {unit_key(u) for u in said}
    if {unit_key(u) for u in best.units} & taken or \
            all(any(repeats(u, x) for x in said) for u in best.units):
        return chosen  # the answer to the first question answers the second one too
    lead, rest = chosen[:1], chosen[1:]
    need = _words([best])
    while rest and _words(lead + rest) + need > budget.words:
        rest.pop()
    if _words(lead) + need > budget.words:
        return chosen
    return [*lead, best, *rest]


def _words(groups: list[Group]) -> int:
    return sum(u.words for g in groups for u in g.units)
