"""Grouping units as they must be read: a lead-in with its list or code, an item with its list,
a section's subsections as one list. Choosing among the groups is ``app/answer/choose.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from app.answer.passages import Unit, runs_on, split_units
from app.answer.scoring import unit_key
from app.retrieval.hybrid import Hit
from app.retrieval.terms import content_words

MAX_ITEMS = 25
_NUMBERS = r"two|three|four|five|six|seven|eight|nine|ten|several"
# A list written as prose: a sentence that counts what follows ("There are two patterns for
# ..."), then sentences that take them in turn ("The first is ... The second is ...").
COUNTS = re.compile(rf"\b(?:{_NUMBERS}|[2-9])\s+(?:[\w-]+\s+)?[\w-]+s\b", re.I)
FIRST = re.compile(r"^\W*(?:the\s+)?(?:first|one)\b", re.I)
IN_TURN = re.compile(r"^\W*(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|next|last|"
                     r"final|other)\b|^\W*(?:one|another|finally)\b", re.I)
REPEAT = 85  # rapidfuzz token-set similarity (0-100) from which two sentences say one thing
PURPOSE = re.compile(r"^(?:To|In order to)\s+\w+", re.I)
_COUNTING = rf"(?:{_NUMBERS}|following|these|\d+)"
ANNOUNCES = re.compile(rf":\s*$|\b{_COUNTING}\b", re.I)  # a lead-in that announces a list
_ANNOUNCED = re.compile(rf"\b{_COUNTING}\s+(?P<x>[^:.;]*)", re.I)  # ... and what it holds


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


# A sentence about the document rather than its subject ("This guide explains ...", "These are
# the commonly used terms ...", "In this quickstart, you'll ..."): not quoted on its own.
ABOUT_TEXT = re.compile(
    r"^\W*(?:(?:this|the\s+present)\s+(?:document|page|guide|section|article|tutorial|glossary|"
    r"chapter|topic|quickstart|overview|reference|repository|file)\b|"
    r"(?:these|here)\s+are\s+the\b|(?:below|here)\s+(?:are|is)\b|"
    r"in\s+this\s+(?:document|page|guide|section|article|"
    r"tutorial|quickstart|chapter|topic)\b|learn\s+(?:how|about)\b|(?:description|sidebar"
    r"(?:\s+label)?|title|summary)\s*:|see\b|refer\s+to\b|to\s+learn\s+more\b|"
    r"for\s+(?:more\s+)?(?:information|details)\b)", re.I)


def echoes(u: Unit) -> bool:
    """Whether a short sentence only repeats its heading or its document's title ("Sync
    Options", "Getting started with X."): it states nothing."""
    own = content_words(u.text)
    if not own or len(own) > 8 or u.text.rstrip().endswith(":"):
        return False
    named = set(content_words(f"{u.hit.title} {u.hit.section.replace(' > ', ' ')}"))
    return set(own) <= named


def _in_turn(u: Unit, units: list[Unit]) -> list[Unit]:
    """The sentences after ``u`` (which counts them) that take what it counts in turn: the
    first ("The first is ...", "One ..."), then each further one ("The second ...", "Another
    ...") with the rest of its paragraph."""
    after = sorted((x for x in units if x.hit is u.hit and x.pos > u.pos), key=lambda x: x.pos)
    taken: list[Unit] = []
    for x in after[:6]:
        turn = IN_TURN.match(x.text) if taken else FIRST.match(x.text)
        if x.kind != "sentence" or not (turn or taken and x.block == taken[-1].block):
            break
        taken.append(x)
    return taken


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
            if echoes(u):
                continue
            if ABOUT_TEXT.match(u.text):
                continue  # what a page is about: its list, if any, is quoted on its own
            members = [u]
            turns = _in_turn(u, units) if COUNTS.search(u.text) else []
            if turns:  # a list in prose is quoted whole, in its order
                s = max([s] + [score[unit_key(x)] for x in turns])
                out.append(Group([u, *turns], s, s))
                continue
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
        lead = [prev[-1]] if prev and prev[-1].lead and not ABOUT_TEXT.match(prev[-1].text) \
            else []
        item_s = sorted((score[unit_key(x)] for x in items), reverse=True)
        # A list is named by its lead-in or heading; its items are instances of what it lists.
        named = max([score[unit_key(x)] for x in lead] + [score[(hid, -1)]])
        base = max(named + 0.25 * float(np.mean(item_s[:3])), item_s[0]) - 0.1
        out.append(Group(lead + items[:MAX_ITEMS], base, base, shape="list",
                         steps=items[0].marker != "-"))
    for g in out:
        g.stems = set(content_words(" ".join(x.text for x in g.units)))
    return out


def announced(g: Group) -> str:
    """What a list says it holds: the words its lead-in announces ("... in the following time
    series:"), else the end of a lead-in that closes with a colon; a list with no lead-in is
    named by the heading it stands under. "" for a lead-in that announces nothing."""
    u = g.units[0]
    if u.kind != "sentence":
        return u.hit.section.split(" > ")[-1] if u.hit.section else u.hit.title
    m = _ANNOUNCED.search(u.text)
    if m:
        return m.group("x")
    text = u.text.rstrip()
    return " ".join(text.rstrip(" :").split()[-4:]) if text.endswith(":") else ""


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
        heading = hit.section.split(" > ")[-1]
        named_by = content_words(heading)
        # Only a section that is what the question lists ("Parameters", "Metric types": a
        # plural, where one thing's sections are its parts, "Plugin generator > Summary"; a
        # page's title does not count, its sections are its contents), or whose lead-in
        # announces a list ("... four core metric types.", "... the following:")
        if not ((0 < len(named_by) <= 3 and set(named_by) & set(content_words(query))
                 and re.search(r"[^s\W]s\W*$", heading))
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
