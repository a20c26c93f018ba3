"""Scoring passage units against a question: rare words, heading, meaning, rank, and what defines the subject.

Meaning is the passage's embedding similarity (units inherit it); words are weighted by
their rarity in the corpus; a unit that says what the question's subject is ("X is ...")
gets a lead, more so in the subject's own document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.answer.grammar import head
from app.answer.passages import Unit, label
from app.retrieval.hybrid import Hit
from app.retrieval.term_index import TermIndex
from app.retrieval.terms import content_words, words

if TYPE_CHECKING:
    from app.answer.plan import Plan

Idf = Callable[[str], float]

HEADING_SHARE = 0.7  # a question word found only in a unit's heading path counts this much
OTHER_TERM = 0.15  # a passage under another term's heading answers about that term
FAQ_SHARE, FAQ_BONUS = 0.6, 0.25  # a heading holding this share of the question: its section
# "X is ...", "X means ...": what X is; not "X is not ...", nor a passive, "X is stored in
# ...", which says what is done to X (a verb of naming excepted: "X is called ...").
COPULA = re.compile(r"^(?:\s*(?:\([^)]*\)|,[^,]{1,60},))?\s*(?:is|are|was|means|refers\s+to|"
                    r"stands\s+for|describes|represents|defines)\b(?!\s+(?:not|never)\b)"
                    r"(?!\s+(?:\w+ly\s+)?(?!(?:defined|called|named|known|termed)\b)\w+ed\b)", re.I)
_MARK = re.compile(r"[*_`\"'“”‘’]")
# A name as written in code or config ("{batch}", "my.metric", "scrape_interval", "--web.x"):
# a unit holding it verbatim says something of that very name.
LITERAL = re.compile(r"(?<![\w.{$-])(?=[\w.{}$-]*[a-z])[\w.{}$-]*(?:[._{}$]|--)[\w.{}$-]*[\w}]",
                     re.I)
LITERAL_BONUS = 0.1
PRONOUN = re.compile(r"^\W*(?:it|its|this|they|their|these|such)\b", re.I)  # no subject of its own


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
        self.literals = [m.lower() for m in LITERAL.findall(plan.text) if len(m) >= 4]

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

    def referent(self, u: Unit, units: list[Unit]) -> str:
        """What a sentence with no subject of its own ("It aims to ...") refers to: the
        opening words of its paragraph's first sentence ("" for any other unit)."""
        if u.kind != "sentence" or not PRONOUN.match(u.text):
            return ""
        first = next((x for x in units if x.hit is u.hit and x.block == u.block), u)
        return "" if first is u else " ".join(first.text.split()[:4])

    def about_other(self, referent: str) -> bool:
        """Whether a referent opens with another of the documents' terms than the question's."""
        if not referent or not self.plan.terms or self.terms is None:
            return False
        named = self.terms.find(referent)
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
            # "It aims to ..." in a paragraph that opens "Widgets are ..." is about widgets.
            lex -= OTHER_TERM * (aside[u.hit.id] + self.about_other(self.referent(u, units)))
            lex += FAQ_BONUS * versus[u.hit.id]
            if faq[u.hit.id] >= FAQ_SHARE:
                lex += FAQ_BONUS * faq[u.hit.id]
            if self.literals:
                low = u.text.lower()
                lex += LITERAL_BONUS * sum(x in low for x in self.literals) / len(self.literals)
            asks = u.kind == "sentence" and u.text.rstrip("\"'”’)").endswith("?")
            out[unit_key(u)] = 0.45 * u.hit.dense + 0.55 * lex - (0.15 if asks else 0.0)
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


def unit_key(u: Unit) -> tuple[str, int]:
    """A unit's key in a score table: (hit id, position in its passage)."""
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
    aliases = [a for a in u.hit.meta.aliases.split(",") if a.strip()]
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
    # The opening of the subject's own section, or of its document: not of each section in it.
    opening = u.hit.meta.index == 0 or " > " not in u.hit.section
    own_heading = u.hit.section.split(" > ")[-1] if u.hit.section else ""
    for name in (own_heading, u.hit.title if opening else ""):
        if name and content_words(name) in wanted:
            first = next((x for x in units if x.hit is u.hit and x.kind != "code"
                          and not label(x)), None)
            if first is not None and first.pos == u.pos:
                return 1
    return 0




def define_bonus(u: Unit, plan: Plan, units: list[Unit]) -> float:
    """How much a unit says what the subject is; more in the subject's own document."""
    d = defining(u, plan.subject, units)
    return 0.25 * d + own(u.hit, plan) if d else 0.0


def own(hit: Hit, plan: Plan) -> float:
    """A small lead for the subject's own document (titled, or aliased, by it) over passing
    mentions."""
    if not plan.subject:
        return 0.0
    names = [content_words(n) for n in _names(plan.subject)]
    titles = [hit.title, *hit.meta.aliases.split(",")]
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
