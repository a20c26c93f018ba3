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

from app.answer.groups import KEEP_RATIO, Group, choose, extend, groups_of, sublists
from app.answer.passages import Unit, runs_on, split_units
from app.answer.questions import Plan, head
from app.answer.scoring import Idf, Scorer, defining, unit_key
from app.retrieval.hybrid import Hit, Retriever
from app.retrieval.terms import TermIndex, content_words

__all__ = ["LIMITS", "Composer", "compose"]

LIMITS = {"definition": 110, "general": 130, "howto": 150, "list": 220, "comparison": 200}
CONTRAST = re.compile(r"\b(?:but|whereas|while|unlike|differ\w*|difference|instead|rather than|"
                      r"however|not|whereas|vs\.?|versus|than)\b", re.I)


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
        taken = {unit_key(u) for g in chosen for u in g.units}
        options = [g for g in groups_of(units, rescore(side_plan), side_plan)
                   if stems <= g.stems and not {unit_key(u) for u in g.units} & taken]
        if options:  # what the side is on its own: a sentence naming both links, not defines
            chosen.append(max(options, key=lambda g: g.score - (0.2 if other <= g.stems else 0)))
    # Then what else answers the question, as any question is answered, while there is room.
    taken = {unit_key(u) for g in chosen for u in g.units}
    used = sum(u.words for g in chosen for u in g.units)
    rest = [g for g in groups if not {unit_key(u) for u in g.units} & taken]
    chosen += choose(rest, max(0, limit - used), keep=KEEP_RATIO)[: 3 if chosen else 4] \
        if used < limit else []
    return chosen


def _merge(*lists: list[Hit]) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for hs in lists:
        for h in hs:
            seen.setdefault(h.id, h)
    return list(seen.values())
