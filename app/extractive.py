"""The extractive answerer: quote the passage sentences that answer, each with its citation.

It cannot invent: every sentence of an answer is a sentence or list item that stands in the
cited passage. What it chooses depends on the question's kind: a definition leads with the
defining sentence of the term's definition section, a list question returns that section's
items, a comparison answers per side, anything else takes the passages' sentences closest
to the question (embedding cosine plus word overlap). Answers stay short: about 120 words,
200 for lists and comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.questions import Plan, section_pattern
from app.retrieval import Hit
from app.terms import content_words, words

ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(.*\S)\s*$")
SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
DEFINING = re.compile(r"\b(is|are|means|refers to|stands for|describes?)\b", re.I)
CONTRAST = re.compile(r"\b(differ|difference|unlike|whereas|while|instead|not the same|"
                      r"not a synonym|vs\.?|versus|rather than|but)\b", re.I)
EMBED_MAX = 12
RANK_TOKENS = 64  # a sentence's opening word pieces are enough to rank it
LIMITS = {"definition": 120, "general": 120, "list": 200, "comparison": 200, "boundary": 200}


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a passage, exactly as it stands there."""

    text: str
    item: bool
    hit: Hit
    pos: int


def split_units(hit: Hit) -> list[Unit]:
    """Sentences and list items of a passage, in order (markdown emphasis left as is)."""
    out: list[Unit] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            for s in SENT_END.split(" ".join(para)):
                s = s.strip()
                if len(s.split()) >= 2:
                    out.append(Unit(s, False, hit, len(out)))
            para.clear()

    for line in hit.text.splitlines():
        m = ITEM.match(line)
        if m:
            flush()
            out.append(Unit(m.group(1), True, hit, len(out)))
        elif not line.strip() or line.lstrip().startswith("#"):
            flush()
        else:
            para.append(line.strip())
    flush()
    return out


def n_words(text: str) -> int:
    return len(text.split())


class Composer:
    """Builds one answer: keeps the cited sources in order of first citation."""

    def __init__(self, limit: int):
        self.limit = limit
        self.sources: list[Hit] = []
        self.lines: list[str] = []
        self.used: list[tuple[int, str]] = []
        self.words = 0

    def cite(self, hit: Hit) -> int:
        for i, h in enumerate(self.sources):
            if h.id == hit.id:
                return i + 1
        self.sources.append(hit)
        return len(self.sources)

    def fits(self, unit: Unit) -> bool:
        return self.words + n_words(unit.text) <= self.limit or not self.used

    def add(self, unit: Unit, bullet: bool = False, new_para: bool = False) -> bool:
        if any(u == unit.text for _, u in self.used) or not self.fits(unit):
            return False
        n = self.cite(unit.hit)
        piece = f"{unit.text} [{n}]"
        if bullet:
            self.lines.append(f"- {piece}")
        elif new_para or not self.lines or self.lines[-1].startswith("- "):
            if self.lines:
                self.lines.append("")
            self.lines.append(piece)
        else:
            self.lines[-1] += " " + piece
        self.used.append((n - 1, unit.text))
        self.words += n_words(unit.text)
        return True

    def text(self) -> str:
        return "\n".join(self.lines).strip()


def best_facet_hit(hits: list[Hit], facet: str, files: tuple[str, ...] = (),
                   label: str = "") -> Hit | None:
    """The highest-ranked hit whose section matches the facet: in the term's own ``files``
    first, else in a section whose heading path names the term (a document that covers
    several disciplines, "Guide > MLOps – ... > Typical Tools")."""
    pat = re.compile(section_pattern(facet), re.I)
    key = set(words(label))

    def facet_ok(h: Hit) -> bool:
        last = h.section.split(" > ")[-1] if h.section else ""
        return bool(last) and bool(pat.search(last))

    for h in hits:
        if facet_ok(h) and (not files or h.file in files):
            return h
    if key:
        for h in hits:
            path = set(words(" ".join(h.section.split(" > ")[1:-1]) or h.title))
            if facet_ok(h) and key <= path:
                return h
    return None


def define_score(u: Unit, label: str) -> int:
    """2: the sentence opens with the term and says what it is ("DataOps is ..."),
    1: it opens with the term and a defining verb follows soon, 0: neither."""
    if u.item:
        return 0
    name = re.escape(label)
    if re.match(rf"(?:the\s+)?{name}\b(?:\s*\([^)]*\)|,\s*or\s+[^,]+,)?\s+(?:is|are|means|"
                rf"refers to|stands for)\b", u.text, re.I):
        return 2
    if re.match(rf"(?:the\s+)?{name}\b[^.]{{0,40}}?\b(?:is|are|means|refers to)\b", u.text,
                re.I):
        return 1
    return 0


def defining_units(hits: list[Hit], label: str, files: tuple[str, ...]) -> list[Unit]:
    """The sentences that define ``label``, best first: the clearest defining sentence
    (preferring a definition section of the term's own document), then the sentences after
    it in that passage that go on about the term."""
    key = set(words(label))
    pat = re.compile(section_pattern("definition"), re.I)
    scored = []
    for rank, h in enumerate(hits):
        last = h.section.split(" > ")[-1] if h.section else ""
        in_def = bool(last and pat.search(last))
        in_files = not files or h.file in files
        for u in split_units(h):
            d = define_score(u, label)
            if d:
                scored.append(((-d, not in_def, not in_files, rank, u.pos), u))
    if not scored:
        best = best_facet_hit(hits, "definition", files, label)
        return [u for u in split_units(best) if not u.item] if best is not None else []
    scored.sort(key=lambda p: p[0])
    first = scored[0][1]
    more = [u for u in split_units(first.hit)
            if u.pos > first.pos and not u.item and key & set(words(u.text)[:3])]
    return [first, *more]


def compose_definition(plan: Plan, hits: list[Hit], comp: Composer, facet_hits: list[Hit]) -> None:
    term = plan.terms[0]
    units = defining_units(facet_hits + hits, term.label, term.files)
    for u in units[:2]:
        if u is units[0] or n_words(u.text) + comp.words <= 60:
            comp.add(u)
    goal = best_facet_hit(facet_hits + hits, "goal", term.files, term.label)
    if goal is not None:
        gu = [u for u in split_units(goal) if not u.item]
        if gu:
            comp.add(gu[0])


def compose_list(plan: Plan, hits: list[Hit], comp: Composer, facet_hits: list[Hit]) -> bool:
    files = plan.terms[0].files if plan.terms else ()
    label = plan.terms[0].label if plan.terms else ""
    h = best_facet_hit(facet_hits + hits, plan.facet, files, label)
    if h is None:
        return False
    # A long section spans several chunks: take all of them, in document order.
    parts = {x.id: x for x in facet_hits + hits if x.file == h.file and x.section == h.section}
    ordered = sorted(parts.values(), key=lambda x: int(x.meta.get("start", 0)))
    units = [u for x in ordered for u in split_units(x)]
    lead = [u for u in units if not u.item]
    items = [u for u in units if u.item]
    for u in lead[: 1 if items else 2]:
        comp.add(u)
    for u in items:
        comp.add(u, bullet=True)
    return bool(comp.used)


STRONG_CONTRAST = re.compile(r"\b(differs?|difference|unlike|whereas|not the same)\b", re.I)
SIMILAR_Q = re.compile(r"\b(common|share|shared|similar|similarit|both|overlap|alike)", re.I)
SIMILAR = re.compile(r"\b(both|share|shared|common|also|overlap|alike|same)\b", re.I)


def compose_sides(plan: Plan, hits: list[Hit], comp: Composer,
                  side_hits: dict[str, list[Hit]], rank: Callable[[list[Unit]], list[Unit]]
                  ) -> None:
    """Comparison and boundary questions: the sentences that link both sides (contrast, or
    what they share when that is asked), then each side's definition and goal."""
    labels = [words(t.label) for t in plan.terms[:2]]
    cue = SIMILAR if SIMILAR_Q.search(plan.text) else CONTRAST
    linking = []
    for h in hits + [x for sh in side_hits.values() for x in sh]:
        for u in split_units(h):
            uw = set(words(u.text))
            if all(any(k in uw for k in lab) for lab in labels):
                linking.append(u)
    if linking:
        ranked = rank(linking)
        cued = [u for u in ranked if cue.search(u.text)]
        if cue is CONTRAST:  # an explicit "differs from" beats a passing "but"
            cued.sort(key=lambda u: not STRONG_CONTRAST.search(u.text))
        for u in (cued or ranked)[:1] + cued[1:2]:
            comp.add(u)
    for t in plan.terms[:2]:
        sh = side_hits.get(t.label, [])
        units = defining_units(sh + hits, t.label, t.files)
        if units:
            comp.add(units[0], new_para=True)
        goal = best_facet_hit(sh, "goal", t.files, t.label)
        if goal is not None:
            gu = [u for u in split_units(goal) if not u.item]
            if gu:
                comp.add(gu[0])


def heading_hit(plan: Plan, hits: list[Hit]) -> Hit | None:
    """A passage whose own heading names what the question asks ("Model monitoring vs data
    observability"): that section is the answer."""
    qwords = set(content_words(plan.query))
    term_words = {w for t in plan.terms for w in t.key}
    for h in hits[:5]:
        last = h.section.split(" > ")[-1] if h.section else ""
        hw = set(content_words(last)) - term_words  # more than the disciplines' names
        if len(hw) >= 2 and hw <= qwords:
            return h
    return None


Encode = Callable[..., np.ndarray]


def rank_units(units: list[Unit], question: str, qvec: np.ndarray | None,
               encode: Encode | None) -> list[Unit]:
    """Order units by closeness to the question: cosine (when an encoder is given) plus
    the share of the question's content words they contain."""
    if not units:
        return []
    qwords = set(content_words(question))
    lex = np.array([
        len(qwords & set(words(u.text))) / max(1, len(qwords)) for u in units], dtype=np.float32)
    if encode is None or qvec is None:
        return [units[i] for i in np.argsort(-lex, kind="stable")]
    # Embedding sentences is most of an answer's cost: embed only the EMBED_MAX best by
    # word overlap (ties broken by passage rank), the rest follow in that order.
    pre = np.argsort(-lex, kind="stable")
    head, tail = pre[:EMBED_MAX], pre[EMBED_MAX:]
    vecs = encode([units[i].text for i in head], max_length=RANK_TOKENS)
    score = vecs @ qvec + 0.5 * lex[head]
    order = [int(head[i]) for i in np.argsort(-score, kind="stable")] + [int(i) for i in tail]
    return [units[i] for i in order]


def _same_point(a: Unit, b: Unit) -> bool:
    """Two sentences that say the same thing (documents repeat themselves across pages)."""
    wa, wb = set(content_words(a.text)), set(content_words(b.text))
    return len(wa & wb) / max(1, len(wa | wb)) > 0.6


def compose_general(plan: Plan, hits: list[Hit], comp: Composer, qvec: np.ndarray | None,
                    encode: Encode | None) -> None:
    units = [u for h in hits[:4] for u in split_units(h)]
    ranked = rank_units(units, plan.query, qvec, encode)
    chosen: list[Unit] = []
    for u in ranked[:8]:
        if len(chosen) >= 4 or not comp.fits(u) or any(_same_point(u, c) for c in chosen):
            continue
        chosen.append(u)
        comp.words += n_words(u.text)
    comp.words = 0
    # Keep the passage order so the answer reads as it stands in the documents.
    chosen.sort(key=lambda u: (hits.index(u.hit), u.pos))
    for u in chosen:
        comp.add(u, bullet=u.item)


def compose(plan: Plan, hits: list[Hit], facet_hits: list[Hit],
            side_hits: dict[str, list[Hit]], qvec: np.ndarray | None,
            encode: Encode | None) -> Composer:
    """Choose and order the sentences that answer ``plan`` from the retrieved passages."""
    comp = Composer(LIMITS.get(plan.kind, 120))
    focus = heading_hit(plan, hits)
    if focus is not None and not (plan.terms and plan.facet):
        for u in split_units(focus):
            comp.add(u, bullet=u.item)
    elif plan.kind in ("comparison", "boundary") and len(plan.terms) >= 2:
        compose_sides(plan, hits, comp, side_hits,
                      lambda us: rank_units(us, plan.query, qvec, encode))
    elif plan.kind == "list" and compose_list(plan, hits, comp, facet_hits):
        pass
    elif plan.kind == "definition" and plan.terms and plan.facet == "definition":
        compose_definition(plan, hits, comp, facet_hits)
    elif plan.kind == "definition" and plan.facet and compose_list(plan, hits, comp, facet_hits):
        pass
    if not comp.used:
        compose_general(plan, facet_hits + [h for h in hits if h not in facet_hits], comp,
                        qvec, encode)
    return comp
