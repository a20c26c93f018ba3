"""Grouping units as they must be read (a lead-in with its list or code) and choosing groups.

The best group leads; more follow by score while they add something new (near-repeats are
dropped, by rapidfuzz's token-set ratio) and the answer stays within its word limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from app.answer.passages import Unit, runs_on, split_units
from app.answer.scoring import unit_key
from app.retrieval.hybrid import Hit
from app.retrieval.terms import content_words

MAX_ITEMS = 25
REPEAT = 85  # rapidfuzz token-set similarity (0-100) from which two sentences say one thing
KEEP_RATIO = 0.6  # a further group must score this share of the best one
LIST_KEEP = 0.8  # ... and a further list this share
PURPOSE = re.compile(r"^(?:To|In order to)\s+\w+", re.I)
ANNOUNCES = re.compile(r":\s*$|\b(?:two|three|four|five|six|seven|eight|nine|ten|several|"
                       r"following|these|\d+)\b", re.I)


@dataclass
class Group:
    """Units quoted together, in passage order: ``score`` ranks them for this question's
    kind, ``base`` is their relevance before the kind's tilt. ``shape`` says what they are:
    "sentence" (alone, or with the block it leads into), "code" (with its lead-in), "item",
    "list" (with its lead-in) or "sublist" (a section's subsections)."""

    units: list[Unit]
    score: float
    base: float = -1.0
    stems: set[str] = field(default_factory=set)
    shape: str = "sentence"
    steps: bool = False  # a numbered list
    purpose: bool = False  # code led in by "To <do X>, ..."

    def __post_init__(self) -> None:
        if self.base < 0:
            self.base = self.score


def groups_of(units: list[Unit], score: dict[tuple[str, int], float], takes_blocks: bool
              ) -> list[Group]:
    """Every way a unit can be quoted (alone, with its lead-in or list), scored by relevance
    (``score`` and ``base`` alike: the question's kind adds its tilt). With ``takes_blocks``
    a lead-in sentence is quoted with the list or code it leads into, not only when it
    cannot stand alone."""
    by_block: dict[tuple[str, int], list[Unit]] = {}
    for u in units:
        by_block.setdefault((u.hit.id, u.block), []).append(u)
    out: list[Group] = []
    for u in units:
        s = score[unit_key(u)]
        nxt = by_block.get((u.hit.id, u.block + 1), [])
        if u.kind == "sentence":
            if u.text.endswith(":") and not (u.lead and nxt):
                continue  # "... the following:" with nothing after it here says nothing
            members = [u]
            if u.lead and (runs_on(u) or takes_blocks):
                members += nxt[:MAX_ITEMS] if nxt and nxt[0].kind == "item" else nxt[:1]
            out.append(Group(members, s, s))
        elif u.kind == "code":
            prev = by_block.get((u.hit.id, u.block - 1), [])
            lead = [prev[-1]] if prev and prev[-1].lead else []
            base = max([s] + [score[unit_key(x)] for x in lead])
            out.append(Group(lead + [u], base, base, shape="code",
                             purpose=bool(lead and PURPOSE.match(lead[0].text))))
        elif u.kind == "item":
            out.append(Group([u], s, s, shape="item"))
    for (hid, block), items in by_block.items():
        if items[0].kind != "item" or len(items) < 2:
            continue
        prev = by_block.get((hid, block - 1), [])
        lead = [prev[-1]] if prev and prev[-1].lead else []
        item_s = sorted((score[unit_key(x)] for x in items), reverse=True)
        # A list is named by its lead-in or heading; its items are instances of what it lists.
        named = max([score[unit_key(x)] for x in lead] + [score[(hid, -1)]])
        base = max(named + 0.25 * float(np.mean(item_s[:3])), item_s[0]) - 0.1
        out.append(Group(lead + items[:MAX_ITEMS], base, base, shape="list",
                         steps=items[0].marker != "-"))
    for g in out:
        g.stems = set(content_words(" ".join(x.text for x in g.units)))
    return out


def sublists(kids: dict[str, list[Hit]], units: list[Unit],
             score: dict[tuple[str, int], float], query: str) -> list[Group]:
    """A passage whose section goes on in subsections (a reference page: "Parameters", then
    one subsection per parameter) answers a list question with their headings: its best
    sentence leads, each subsection is an item citing its own first passage, and a short list
    also quotes each subsection's first sentence."""
    out = []
    for parent_id, children in kids.items():
        parent = [u for u in units if u.hit.id.split("+")[0] == parent_id
                  or parent_id in u.hit.id.split("+")]
        if len(children) < 2 or not parent:
            continue
        lead = max((u for u in parent if u.kind == "sentence"), key=lambda u: score[unit_key(u)],
                   default=None)
        hit = parent[0].hit
        named_by = content_words(hit.section.split(" > ")[-1] if hit.section else hit.title)
        # Only a section that is what the question lists ("Parameters", "Metric types"), or
        # whose lead-in announces a list ("... four core metric types.", "... the following:")
        if not ((0 < len(named_by) <= 3 and set(named_by) & set(content_words(query)))
                or (lead is not None and ANNOUNCES.search(lead.text))):
            continue
        items = []
        for i, child in enumerate(children[:MAX_ITEMS]):
            name = child.section.split(" > ")[-1]
            first = next((u for u in split_units(child) if u.kind == "sentence"), None)
            text = f"{name}: {first.text}" if first is not None and len(children) <= 6 else name
            items.append(Unit(text, "item", child, -2 - i, -2))
        named = max(([score[unit_key(lead)]] if lead else []) + [score[(hit.id, -1)]])
        members = ([lead] if lead else []) + items
        g = Group(members, named + 0.12, named, shape="sublist")
        g.stems = set(content_words(" ".join(u.text for u in members)))
        out.append(g)
    return out


def repeats(u: Unit, other: Unit) -> bool:
    """Whether ``u`` says what ``other`` says: code only when identical, prose when its words
    nearly all recur (rapidfuzz's token-set ratio, which ignores order and repetition)."""
    if u.kind == "code" or other.kind == "code":
        return " ".join(u.text.split()) == " ".join(other.text.split())
    return bool(fuzz.token_set_ratio(u.text, other.text, score_cutoff=REPEAT))


def choose(groups: list[Group], limit: int, keep: float = KEEP_RATIO,
           grow: Callable[[Group], Group] | None = None, subject: set[str] | None = None
           ) -> list[Group]:
    """The best group (``grow`` may lengthen it), then others by score while they say
    something new, fit ``limit`` and (given its stems) name the ``subject``."""
    ranked = sorted(groups, key=lambda g: -g.score)
    if ranked and grow is not None:
        ranked[0] = grow(ranked[0])
    chosen: list[Group] = []
    taken: set[tuple[str, int]] = set()
    used = 0
    for g in ranked:
        # Further groups must be about as relevant as the first (with or without the kind's
        # tilt), a further list more so, and a definition's must name its subject themselves,
        # not only by heading.
        is_list = sum(u.kind == "item" for u in g.units) > 2
        bar = max(keep, LIST_KEEP) if is_list else keep
        if chosen and g.base < chosen[0].base * bar and g.score < chosen[0].score * bar:
            continue
        # One list answers a list question; a second one only from the same document (another
        # document's list is that document's answer: "the scheduler's tools" to "which tools ...?").
        if chosen and is_list and any(sum(u.kind == "item" for u in c.units) > 2 and
                                      c.units[-1].hit.file != g.units[-1].hit.file
                                      for c in chosen):
            continue
        if chosen and subject and not subject <= g.stems:
            continue
        keys = {unit_key(u) for u in g.units}
        if keys & taken:
            continue
        # Never the same fact twice: a group whose every unit repeats one already chosen
        # (pages restate each other) adds nothing.
        if chosen and all(any(repeats(u, c) for cg in chosen for c in cg.units) for u in g.units):
            continue
        n = sum(u.words for u in g.units)
        if chosen and used + n > limit:
            continue
        chosen.append(g)
        taken |= keys
        used += n
    return chosen


def extend(best: Group, units: list[Unit], limit: int, room: int, sentences: int) -> Group:
    """The best group with up to ``sentences`` that follow it in its paragraph (a definition
    goes on to say what its subject does), while the group stays within ``room`` words."""
    last = best.units[-1]
    if last.kind != "sentence":
        return best
    more = [u for u in units if u.hit is last.hit and u.block == last.block and u.pos > last.pos]
    n = sum(u.words for u in best.units)
    room = min(limit, room)
    for u in more[:sentences]:
        if n + u.words > room:
            break
        best.units.append(u)
        n += u.words
        if runs_on(u):
            break
    return best
