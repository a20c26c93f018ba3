"""The extractive answerer: quote the passage units that answer best, each with its citation.

It cannot invent: every sentence, list item and code block of an answer stands verbatim in
the passage it cites. Choosing them is ranking: each unit of the retrieved passages is scored
by its words (weighted by their rarity in the corpus), its meaning (embedding cosine), its
passage's heading and its passage's retrieval rank. Units are then grouped as they must be
read: a lead-in with its list or code block, a list under the sentence that introduces it.
The best group leads; more groups follow by score while they add something new (near-repeats
are dropped) and the answer stays short. The question's kind only tilts the ranking: a
definition favours the sentence that says what its subject is, a list question a whole list,
a how-to a command or steps. A comparison answers each side and what links them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from app.passages import Unit, runs_on, split_units
from app.questions import Plan, head
from app.retrieval import Hit, Retriever
from app.terms import TermIndex, content_words, words

Idf = Callable[[str], float]

LIMITS = {"definition": 110, "general": 130, "howto": 150, "list": 220, "comparison": 200}
MAX_ITEMS = 25
REPEAT = 85  # rapidfuzz token-set similarity (0-100) from which two sentences say one thing
KEEP_RATIO = 0.6  # a further group must score this share of the best one
LIST_KEEP = 0.8  # ... and a further list this share
HEADING_SHARE = 0.7  # a question word found only in a unit's heading path counts this much
OTHER_TERM = 0.15  # a passage under another term's heading answers about that term
FAQ_SHARE, FAQ_BONUS = 0.6, 0.25  # a heading holding this share of the question: its section
COPULA = re.compile(r"^(?:\s*(?:\([^)]*\)|,[^,]{1,60},))?\s*(?:is|are|was|means|refers\s+to|"
                    r"stands\s+for|describes|represents|defines)\b", re.I)
_MARK = re.compile(r"[*_`\"'“”‘’]")
PURPOSE = re.compile(r"^(?:To|In order to)\s+\w+", re.I)
ANNOUNCES = re.compile(r":\s*$|\b(?:two|three|four|five|six|seven|eight|nine|ten|several|"
                       r"following|these|\d+)\b", re.I)
CONTRAST = re.compile(r"\b(?:but|whereas|while|unlike|differ\w*|difference|instead|rather than|"
                      r"however|not|whereas|vs\.?|versus|than)\b", re.I)


@dataclass
class Group:
    """Units quoted together, in passage order: ``score`` ranks them for this question's
    kind, ``base`` is their relevance before the kind's tilt."""

    units: list[Unit]
    score: float
    base: float = -1.0
    stems: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.base < 0:
            self.base = self.score


class Composer:
    """Renders chosen units as Markdown, keeping the cited sources in order of first citation."""

    def __init__(self, limit: int):
        self.limit = limit
        self.sources: list[Hit] = []
        self.lines: list[str] = []
        self.used: list[tuple[int, str]] = []
        self.words = 0
        self.defined = False  # a passage says what the question's subject is
        self._last: tuple[str, int, str] | None = None  # (hit id, block, kind) of the last line

    def cite(self, hit: Hit) -> int:
        for i, h in enumerate(self.sources):
            if h.id == hit.id:
                return i + 1
        self.sources.append(hit)
        return len(self.sources)

    def has(self, u: Unit) -> bool:
        return any(text == u.text for _, text in self.used)

    def add(self, u: Unit) -> None:
        n = self.cite(u.hit)
        where = (u.hit.id, u.block, u.kind)
        if u.kind == "code":
            cited = self._last is not None and self._last[:2] == (u.hit.id, u.block - 1)
            self._gap()
            self.lines += u.text.split("\n")
            if not cited:  # no lead-in sentence carries its citation
                self.lines.append(f"[{n}]")
        elif u.kind == "item":
            if self._last is None or self._last[2] != "item":
                self._gap()
            self.lines.append(f"{'  ' * u.depth}{u.marker} {_quoted(u.text)} [{n}]")
        elif self._last == where and self.lines:
            self.lines[-1] += f" {_quoted(u.text)} [{n}]"
        else:
            self._gap()
            self.lines.append(f"{_quoted(u.text)} [{n}]")
        self._last = where
        self.used.append((n - 1, u.text))
        self.words += u.words

    def end_group(self) -> None:
        """What follows starts a paragraph (or list) of its own."""
        self._last = None

    def _gap(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).strip()


def _quoted(text: str) -> str:
    """Quoted prose with its own "[0]" escaped, so only the answer's citations read as such."""
    return re.sub(r"\[(\d+)\]", r"\\[\1]", text)


class Scorer:
    """Scores units against one question: rare words, heading, meaning and passage rank.

    Meaning is the passage's embedding similarity to the question (every chunk is embedded
    with its heading path at ingest). Embedding each unit at question time was measured too:
    embedding the best 4 or 8 units cost 30-70 ms per question on two cores and answered no
    better on any corpus, so units inherit their passage's similarity.
    """

    def __init__(self, plan: Plan, hits: list[Hit], idf: Idf, terms: TermIndex | None = None):
        self.plan = plan
        self.terms = terms
        self.rank = {h.id: i for i, h in enumerate(hits)}
        self.q = content_words(plan.query)
        # A follow-up's own words count fully; those taken from the earlier turn, half.
        own_words = set(content_words(plan.text))
        self.weights = {w: idf(w) * (1.0 if w in own_words or not plan.inherited else 0.5)
                        for w in self.q}
        self.total = sum(self.weights.values()) or 1.0

    def lexical(self, text: str, context: set[str] | frozenset[str] = frozenset()) -> float:
        """Share of the question's word weight that ``text`` holds; a word only in its
        ``context`` (the heading path it stands under) counts HEADING_SHARE."""
        got = set(words(text))
        return sum(v * (1.0 if w in got else HEADING_SHARE if w in context else 0.0)
                   for w, v in self.weights.items()) / self.total

    def elsewhere(self, heading: str) -> bool:
        """Whether a heading path names the documents' terms, but none the question names
        (a "Scheduler > Limitations" passage for a question on the queue's limitations)."""
        if self.terms is None or not self.plan.terms:
            return False
        named = self.terms.find(heading)
        return bool(named) and not any(t in self.plan.terms for t in named)

    def prior(self, hit: Hit) -> float:
        return 1.0 / (1.0 + 0.25 * self.rank.get(hit.id, len(self.rank)))

    def score_all(self, units: list[Unit]) -> dict[tuple[str, int], float]:
        """Each unit's relevance, 0..1-ish, read under its heading; key (hit id, -1) holds a
        passage's score by its heading path alone."""
        heads = {u.hit.id: context(u.hit) for u in units}
        head_words = {hid: set(words(h)) for hid, h in heads.items()}
        # A section whose own heading asks this question (a FAQ entry, "How do I X?") is
        # the answer: its units rank up with how much of the question the heading holds.
        faq = {u.hit.id: self.lexical(u.hit.section.split(" > ")[-1]) if len(self.weights) > 1
               else 0.0 for u in units}
        aside = {hid: self.elsewhere(h) for hid, h in heads.items()}
        # A comparison's own section ("Postgres vs. MySQL") names both sides.
        sides = [set(content_words(x)) for x in self.plan.sides[:2]]
        versus = {hid: len(sides) == 2 and all(x and x <= hw for x in sides)
                  for hid, hw in head_words.items()}
        out = {}
        for u in units:
            lex = 0.7 * self.lexical(u.text, head_words[u.hit.id]) + 0.3 * self.prior(u.hit)
            lex -= OTHER_TERM * aside[u.hit.id]
            lex += FAQ_BONUS * versus[u.hit.id]
            if faq[u.hit.id] >= FAQ_SHARE:
                lex += FAQ_BONUS * faq[u.hit.id]
            asks = u.kind == "sentence" and u.text.rstrip("\"'”’)").endswith("?")
            out[_key(u)] = 0.45 * u.hit.dense + 0.55 * lex - (0.15 if asks else 0.0)
        for hid, hw in head_words.items():  # a passage read by its heading path alone
            hit = next(u.hit for u in units if u.hit.id == hid)
            lex = sum(v for w, v in self.weights.items() if w in hw) / self.total
            out[(hid, -1)] = 0.45 * hit.dense + 0.55 * (0.7 * lex + 0.3 * self.prior(hit))
        return out


def context(hit: Hit) -> str:
    """The heading path a passage stands under, with its document title when the path does
    not start with it."""
    top = hit.section.split(" > ")[0] if hit.section else ""
    if hit.title and content_words(top) != content_words(hit.title):
        return f"{hit.title} > {hit.section}" if hit.section else hit.title
    return hit.section


def _key(u: Unit) -> tuple[str, int]:
    return (u.hit.id, u.pos)


def subject_match(text: str, subject: str) -> bool:
    """Whether ``text`` begins with the subject's words (stems, in order; an article allowed)."""
    want = content_words(subject)
    got = [w for w in words(text)[: len(want) + 3] if w not in ("the", "a", "an")]
    return bool(want) and got[: len(want)] == want


def defining(u: Unit, subject: str, units: list[Unit]) -> int:
    """2: the sentence says what the subject is ("X is ...", "X: ...", "an X is a ... Y" for
    the subject "X Y"); 1: it opens a section or document named by the subject; 0: neither.
    A narrowed subject ("exporter in the monitoring world") is matched by its head too."""
    if u.kind == "code" or not subject:
        return 0
    text = _MARK.sub("", u.text)
    names = _names(subject)
    aliases = [a for a in str(u.hit.meta.get("aliases", "")).split(",") if a.strip()]
    if u.hit.title and any(content_words(a) == content_words(subject) for a in aliases):
        names.append(u.hit.title)  # asked by an alias: the document's own name defines it
    for name in names:
        if subject_match(text, name):
            rest = re.sub(rf"^(?:(?:the|an?)\s+)?{_loose(name)}", "", text, flags=re.I)
            if COPULA.match(rest) or re.match(r"^\s*(?:[:–—-]|\()", rest):
                missing = set(content_words(subject)) - set(content_words(name))
                if missing <= set(words(rest)) or name != _names(subject)[-1]:
                    return 2
            if name == subject and not text.rstrip().endswith("?"):
                return 1  # "X combines ...": what X does
    wanted = [content_words(n) for n in _names(subject)]
    for name in (u.hit.section.split(" > ")[-1] if u.hit.section else "", u.hit.title):
        if name and content_words(name) in wanted:
            first = next((x for x in units if x.hit is u.hit and x.kind != "code"), None)
            if first is not None and first.pos == u.pos:
                return 1
    return 0


def _define_bonus(u: Unit, plan: Plan, units: list[Unit]) -> float:
    """How much a unit says what the subject is; more in the subject's own document."""
    d = defining(u, plan.subject, units)
    return 0.25 * d + own(u.hit, plan) if d else 0.0


def own(hit: Hit, plan: Plan) -> float:
    """A small lead for the subject's own document (titled, or aliased, by it) over passing
    mentions."""
    if not plan.subject:
        return 0.0
    names = [content_words(n) for n in _names(plan.subject)]
    titles = [hit.title, *str(hit.meta.get("aliases", "")).split(",")]
    return 0.2 if any(content_words(t) in names for t in titles if t.strip()) else 0.0


def _names(subject: str) -> list[str]:
    """Ways a definition names its subject: as asked, its head, and its first word when the
    rest is the kind of thing it is ("counter metric": "A counter is a ... metric")."""
    out = [subject, head(subject)]
    first = re.findall(r"[\w.-]+", head(subject))
    if len(first) > 1:
        out.append(first[0])
    return list(dict.fromkeys(out))


def _loose(subject: str) -> str:
    """A pattern for the subject as written, tolerant of case, marks and spacing."""
    parts = [re.escape(p) for p in re.findall(r"\w+", subject)]
    return r"[\s\W]*".join(parts) + r"\w*"


def groups_of(units: list[Unit], score: dict[tuple[str, int], float], plan: Plan) -> list[Group]:
    """Every way a unit can be quoted (alone, with its lead-in or list), scored."""
    by_block: dict[tuple[str, int], list[Unit]] = {}
    for u in units:
        by_block.setdefault((u.hit.id, u.block), []).append(u)
    define = plan.kind == "definition"
    out: list[Group] = []
    for u in units:
        s = score[_key(u)]
        nxt = by_block.get((u.hit.id, u.block + 1), [])
        if u.kind == "sentence":
            if u.text.endswith(":") and not (u.lead and nxt):
                continue  # "... the following:" with nothing after it here says nothing
            members = [u]
            if u.lead and (runs_on(u) or plan.kind in ("howto", "list")):
                members += nxt[:MAX_ITEMS] if nxt and nxt[0].kind == "item" else nxt[:1]
            bonus = _define_bonus(u, plan, units) if define else 0.0
            if len(members) > 1 and plan.kind in ("howto", "list"):
                bonus += 0.08
            out.append(Group(members, s + bonus, s))
        elif u.kind == "code":
            prev = by_block.get((u.hit.id, u.block - 1), [])
            lead = [prev[-1]] if prev and prev[-1].lead else []
            base = max([s] + [score[_key(x)] for x in lead])
            # An instruction ("To enable X, run:" and its command) answers a how-to.
            how = 0.15 + (0.1 if lead and PURPOSE.match(lead[0].text) else 0.0)
            out.append(Group(lead + [u], base + (how if plan.kind == "howto" else 0.0), base))
        elif u.kind == "item":
            bonus = _define_bonus(u, plan, units) if define else 0.0
            out.append(Group([u], s + bonus, s))
    for (hid, block), items in by_block.items():
        if items[0].kind != "item" or len(items) < 2:
            continue
        prev = by_block.get((hid, block - 1), [])
        lead = [prev[-1]] if prev and prev[-1].lead else []
        item_s = sorted((score[_key(x)] for x in items), reverse=True)
        # A list is named by its lead-in or heading; its items are instances of what it lists.
        named = max([score[_key(x)] for x in lead] + [score[(hid, -1)]])
        base = max(named + 0.25 * float(np.mean(item_s[:3])), item_s[0]) - 0.1
        # A list answers a list question; a how-to wants steps (a numbered list), not facts;
        # terse keywords ("x limitations") take a whole list over one of its items.
        steps = items[0].marker != "-"
        bonus = 0.12 if plan.kind == "list" or (plan.kind == "howto" and steps) else \
            0.05 if plan.kind == "general" else 0.0
        out.append(Group(lead + items[:MAX_ITEMS], base + bonus, base))
    for g in out:
        g.stems = set(content_words(" ".join(x.text for x in g.units)))
    return out


def sublists(kids: dict[str, list[Hit]], units: list[Unit],
             score: dict[tuple[str, int], float], plan: Plan) -> list[Group]:
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
        lead = max((u for u in parent if u.kind == "sentence"), key=lambda u: score[_key(u)],
                   default=None)
        hit = parent[0].hit
        named_by = content_words(hit.section.split(" > ")[-1] if hit.section else hit.title)
        # Only a section that is what the question lists ("Parameters", "Metric types"), or
        # whose lead-in announces a list ("... four core metric types.", "... the following:")
        if not ((0 < len(named_by) <= 3 and set(named_by) & set(content_words(plan.query)))
                or (lead is not None and ANNOUNCES.search(lead.text))):
            continue
        items = []
        for i, child in enumerate(children[:MAX_ITEMS]):
            name = child.section.split(" > ")[-1]
            first = next((u for u in split_units(child) if u.kind == "sentence"), None)
            text = f"{name}: {first.text}" if first is not None and len(children) <= 6 else name
            items.append(Unit(text, "item", child, -2 - i, -2))
        named = max(([score[_key(lead)]] if lead else []) + [score[(hit.id, -1)]])
        members = ([lead] if lead else []) + items
        g = Group(members, named + 0.12, named)
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
        keys = {_key(u) for u in g.units}
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


def extend(best: Group, units: list[Unit], limit: int, plan: Plan) -> Group:
    """The best group with the sentences that follow it in its paragraph (a definition goes
    on to say what its subject does), while they fit."""
    last = best.units[-1]
    if last.kind != "sentence":
        return best
    more = [u for u in units if u.hit is last.hit and u.block == last.block and u.pos > last.pos]
    n = sum(u.words for u in best.units)
    room = min(limit, 70 if plan.kind in ("definition", "comparison") else 55)
    for u in more[: 2 if plan.kind in ("definition", "comparison") else 1]:
        if n + u.words > room:
            break
        best.units.append(u)
        n += u.words
        if runs_on(u):
            break
    return best


def compose(plan: Plan, hits: list[Hit], extra: dict[str, list[Hit]], idf: Idf,
            terms: TermIndex | None = None) -> Composer:
    """Choose and order the units that answer ``plan`` from the retrieved passages."""
    comp = Composer(LIMITS.get(plan.kind, 130))
    kids = {k.split(" ", 1)[1]: v for k, v in extra.items() if k.startswith("children ") and v}
    extra = {k: v for k, v in extra.items() if not k.startswith("children ")}
    pool = Retriever.join_adjacent(_merge(hits, *extra.values()))
    units = [u for h in pool for u in split_units(h)]
    if not units:
        return comp
    scorer = Scorer(plan, pool, idf, terms)
    score = scorer.score_all(units)
    if plan.kind == "definition":
        comp.defined = any(defining(u, plan.subject, units) for u in units)
    if plan.kind == "comparison" and len(plan.sides) >= 2:
        chosen = _compare(plan, units, score, comp.limit,
                          lambda p: Scorer(p, pool, idf).score_all(units))
    else:
        groups = groups_of(units, score, plan) + sublists(kids, units, score, plan)
        subject = set(content_words(head(plan.subject))) if plan.kind == "definition" else None
        chosen = choose(groups, comp.limit, grow=lambda g: extend(g, units, comp.limit, plan),
                        subject=subject)
    # The best group leads; each group reads in its own order (passage order). A lead-in
    # whose list or code is already quoted is not repeated on its own ("Here:").
    for g in chosen:
        new = [u for u in g.units if not comp.has(u)]
        if all(runs_on(u) for u in new):
            continue
        comp.end_group()
        for u in new:
            comp.add(u)
    return comp


def _compare(plan: Plan, units: list[Unit], score: dict[tuple[str, int], float],
             limit: int, rescore: Callable[[Plan], dict[tuple[str, int], float]]
             ) -> list[Group]:
    """A comparison: what links both sides (with the sentences that go on from it), then
    what each side is (its units scored as answers to "What is <side>?")."""
    sides = [set(content_words(s)) for s in plan.sides[:2]]
    groups = groups_of(units, score, Plan(text=plan.text, kind="general"))
    chosen: list[Group] = []
    linking = [g for g in groups if all(side and side <= g.stems for side in sides)]
    if linking:  # a sentence that sets the two apart says most
        best = max(linking, key=lambda g: g.score + (0.1 if any(
            CONTRAST.search(u.text) for u in g.units) else 0.0))
        chosen.append(extend(best, units, limit, plan))
    for i, (side, stems) in enumerate(zip(plan.sides[:2], sides, strict=False)):
        other = sides[1 - i] if len(sides) > 1 else set()
        side_plan = Plan(text=f"What is {side}?", kind="definition", subject=side)
        taken = {_key(u) for g in chosen for u in g.units}
        options = [g for g in groups_of(units, rescore(side_plan), side_plan)
                   if stems <= g.stems and not {_key(u) for u in g.units} & taken]
        if options:  # what the side is on its own: a sentence naming both links, not defines
            chosen.append(max(options, key=lambda g: g.score - (0.2 if other <= g.stems else 0)))
    # Then what else answers the question, as any question is answered, while there is room.
    taken = {_key(u) for g in chosen for u in g.units}
    used = sum(u.words for g in chosen for u in g.units)
    rest = [g for g in groups if not {_key(u) for u in g.units} & taken]
    chosen += choose(rest, max(0, limit - used), keep=KEEP_RATIO)[: 3 if chosen else 4] \
        if used < limit else []
    return chosen


def _merge(*lists: list[Hit]) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for hs in lists:
        for h in hs:
            seen.setdefault(h.id, h)
    return list(seen.values())
