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
# "and then ...") does not open an answer.
CONTINUES = re.compile(r"^\W*(?:or|and|but|also|then|otherwise|alternatively|if|when|once|"
                       r"after|for\s+example|e\.g\.|in\s+that\s+case)\b[^.!?]*:\s*$"
                       r"|^\W*(?:or|and|but|also|then)\b", re.I)
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
