"""Choosing groups for an answer within its budget.

The best group leads; more follow by score while they add something new (near-repeats are
dropped, by rapidfuzz's token-set ratio) and the answer stays within its word limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.answer.groups import ABOUT_TEXT, Group, echoes, repeats
from app.answer.passages import Unit, runs_on
from app.answer.scoring import unit_key

KEEP_RATIO = 0.6  # a further group must score this share of the best one
LIST_KEEP = 0.8  # ... and a further list this share


@dataclass(frozen=True)
class Budget:
    """How much an answer of one kind may say.

    Attributes:
        words: the most the whole answer says, as a reader counts words (``Unit.words``).
        lead: the most the leading group says once it goes on in its paragraph ...
        sentences: ... by at most this many sentences.
        followers: groups after the lead, at most.
        keep: a further group from the lead's passage scores at least this share of it ...
        elsewhere: ... and one from another passage this share.
        lists: lists of three items or more one answer holds, at most.
    """

    words: int
    lead: int = 55
    sentences: int = 1
    followers: int = 3
    keep: float = KEEP_RATIO
    elsewhere: float = 0.75
    lists: int = 2  # lists of three items or more in one answer, at most


def fit(g: Group, words: int, cut: bool = True) -> Group | None:
    """``g`` within ``words``: with ``cut``, a list loses its last items (two at least stay);
    what cannot be cut (a sentence, a code block, a list read for one of its items) and is
    too long is None."""
    if sum(u.words for u in g.units) <= words:
        return g
    if not cut:
        return None
    keep: list[Unit] = []
    used = 0
    for u in g.units:
        if used + u.words > words:
            break
        keep.append(u)
        used += u.words
    if sum(u.kind == "item" for u in keep) < 2:
        return None
    return Group(keep, g.score, g.base, g.stems, g.shape, g.steps, g.purpose)


# A sentence that only goes on from what came before it ("or:", "If changes are found:",
# "and then ...", "However, ...") does not open an answer.
CONTINUES = re.compile(r"^\W*(?:or|and|but|also|then|otherwise|alternatively|if|when|once|"
                       r"after|for\s+example|e\.g\.|in\s+that\s+case)\b[^.!?]*:\s*$"
                       r"|^\W*(?:or|and|but|also|then|however|moreover|furthermore|additionally|"
                       r"likewise|similarly|therefore|thus|hence|instead)\b", re.I)
OPENING = 0.1  # how much a group that cannot open an answer loses as a lead


def opens(g: Group) -> bool:
    """Whether ``g`` can open an answer: not a fragment continuing what came before it."""
    first = g.units[0]
    text = first.text.lstrip(" \"'(“‘")
    return first.kind != "sentence" or not (CONTINUES.match(text) or text[:1].islower())


def choose(groups: list[Group], budget: Budget, grow: Callable[[Group], Group] | None = None,
           subject: set[str] | None = None, lead_from: list[Group] | None = None,
           cut: bool = False) -> list[Group]:
    """The best group that fits (``grow`` may lengthen it), then at most ``budget.followers``
    others by score while they say something new, fit and (given its stems) name the
    ``subject``: a further group from the lead's passage must score ``budget.keep`` of the
    lead, one from elsewhere ``budget.elsewhere``. The lead is the best of ``lead_from``
    (default: every group) that can open an answer (``opens``), or nearly so; with ``cut``
    a list too long for the budget leads with its first items (a list question). A further
    item is quoted with its list where the list fits and may follow (``_with_list``)."""
    ranked = sorted(groups, key=lambda g: -g.score)
    leads = sorted(lead_from if lead_from is not None else groups,
                   key=lambda g: -(g.score - (0.0 if opens(g) else OPENING)))
    lead = next((f for g in leads if (f := fit(g, budget.words, cut)) is not None), None)
    if lead is None:
        return []
    if grow is not None:
        lead = grow(lead)
    chosen: list[Group] = [lead]
    taken: set[tuple[str, int]] = {unit_key(u) for u in lead.units}
    used = sum(u.words for u in lead.units)
    for g in ranked:
        if len(chosen) > budget.followers:
            break
        # An item is read with its list where that may follow, else alone.
        f = next((x for x in (_with_list(g, groups, budget.words - used), g)
                  if _follows(x, chosen, budget, subject, taken)), None)
        if f is None:
            continue
        n = sum(u.words for u in f.units)
        if used + n > budget.words:
            continue
        chosen.append(f)
        taken |= {unit_key(u) for u in f.units}
        used += n
    return chosen


def _with_list(g: Group, groups: list[Group], room: int) -> Group:
    """An item read with its list (one item out of its list lacks what it belongs to),
    ranked by the item's relevance; alone when the list does not fit."""
    if g.shape != "item":
        return g
    item = g.units[0]
    for whole in groups:
        if whole.shape == "list" and item in whole.units:
            f = fit(whole, room)
            if f is not None and item in f.units:
                return Group(f.units, g.score, g.base, whole.stems, "list", whole.steps)
    return g


def _follows(g: Group, chosen: list[Group], budget: Budget, subject: set[str] | None,
             taken: set[tuple[str, int]]) -> bool:
    """Whether ``g`` may follow the groups ``chosen`` so far."""
    lead = chosen[0]
    # About as relevant as the lead (with or without the kind's tilt), more so from another
    # passage, a further list more so; a definition's must name its subject themselves.
    is_list = sum(u.kind == "item" for u in g.units) > 2
    bar = budget.keep if g.units[0].hit.id == lead.units[0].hit.id else budget.elsewhere
    bar = max(bar, LIST_KEEP) if is_list else bar
    if g.base < lead.base * bar and g.score < lead.score * bar:
        return False
    # One list answers a list question; a second one only from the same document (another
    # document's list is that document's answer: "the scheduler's tools" to "which tools ...?").
    lists = [c for c in chosen if sum(u.kind == "item" for u in c.units) > 2]
    if is_list and (len(lists) >= budget.lists
                    or any(c.units[-1].hit.file != g.units[-1].hit.file for c in lists)):
        return False
    if subject and not subject <= g.stems:
        return False
    if {unit_key(u) for u in g.units} & taken:
        return False
    # Never the same fact twice: a group whose every unit repeats one already chosen (pages
    # restate each other) adds nothing.
    return not all(any(repeats(u, c) for cg in chosen for c in cg.units) for u in g.units)


def extend(best: Group, units: list[Unit], budget: Budget) -> Group:
    """The best group with up to ``budget.sentences`` that follow it in its paragraph (a
    definition goes on to say what its subject does), while it stays within ``budget.lead``."""
    last = best.units[-1]
    if last.kind != "sentence":
        return best
    more = [u for u in units if u.hit is last.hit and u.block == last.block and u.pos > last.pos]
    n = sum(u.words for u in best.units)
    room = min(budget.words, budget.lead)
    for u in more[:budget.sentences]:
        if n + u.words > room or runs_on(u):  # a lead-in goes with its block or not at all
            break
        if ABOUT_TEXT.match(u.text) or echoes(u):  # "For more information, see ...": no claim
            break
        best.units.append(u)
        n += u.words
    return best
