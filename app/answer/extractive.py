"""The extractive answerer: quote the passage units that answer best, each with its citation.

It cannot invent: every sentence, list item and code block of an answer stands verbatim in
the passage it cites. Choosing them is ranking: each unit of the retrieved passages is scored
by its words (weighted by their rarity in the corpus), its meaning (embedding cosine), its
passage's heading and its passage's retrieval rank. Units are then grouped as they must be
read: a lead-in with its list or code block, a list under the sentence that introduces it.
The best group leads; more groups follow by score while they add something new (near-repeats
are dropped) and the answer stays short. The question's kind only tilts the ranking: a
definition favours the sentence that says what its subject is, a list question a whole list,
a how-to a command or steps. A comparison answers each side and what links them; a question
that asks a second thing ("..., and where is Y?") gets that answered too (``second.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.answer.kinds.base import Candidates
from app.answer.passages import Unit, runs_on, split_units
from app.answer.scoring import Idf, Scorer
from app.answer.second import answer_second
from app.answer.sections import join_adjacent
from app.retrieval.hybrid import Hit
from app.retrieval.term_index import TermIndex

if TYPE_CHECKING:
    from app.answer.plan import Plan

__all__ = ["Composer", "compose"]


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
    kind = plan.kind
    comp = Composer(kind.budget.words)
    kids = {k.split(" ", 1)[1]: v for k, v in extra.items() if k.startswith("children ") and v}
    extra = {k: v for k, v in extra.items() if not k.startswith("children ")}
    pool = join_adjacent(_merge(hits, *extra.values()))
    units = [u for h in pool for u in split_units(h)]
    if not units:
        return comp
    scorer = Scorer(plan, pool, idf, terms)
    score = scorer.score_all(units)
    c = Candidates(plan, units, score, kids, lambda p: Scorer(p, pool, idf).score_all(units))
    comp.defined = kind.defined(c)
    # The best group leads; each group reads in its own order (passage order). A lead-in
    # whose list or code is already quoted is not repeated on its own ("Here:").
    for g in answer_second(kind.choose(c), c, kind.budget):
        new = [u for u in g.units if not comp.has(u)]
        if all(runs_on(u) for u in new):
            continue
        comp.end_group()
        for u in new:
            comp.add(u)
    return comp


def _merge(*lists: list[Hit]) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for hs in lists:
        for h in hs:
            seen.setdefault(h.id, h)
    return list(seen.values())
