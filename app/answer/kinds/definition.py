"""A definition ("what is X?", "define X", a bare term): the sentence that says what X is leads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.answer.choose import Budget, choose
from app.answer.grammar import Grammar, head, phrase
from app.answer.groups import Group
from app.answer.kinds.base import Candidates, Kind, around, term_passages
from app.answer.scoring import define_bonus, defining
from app.retrieval.terms import content_words, words

if TYPE_CHECKING:
    from app.answer.gather import Found
    from app.answer.plan import Plan
    from app.retrieval.hybrid import Hit, Retriever
    from app.retrieval.lexical import LexicalIndex


NAMED = 3  # a subject of more content words is a clause, not a name the documents would write
OTHER = 0.15  # what a passage says of something else, or how to use the subject
_LABEL = re.compile(r"^\W*([^:.!?]{1,60}?)\W*:\s+\S")  # "Drift: when the actual state ..."


def _labels_other(text: str, subject: str) -> bool:
    """Whether an item defines another term ("Declarative description: ..." asked about
    the state store)."""
    m = _LABEL.match(text)
    if not m:
        return False
    label, want = set(content_words(m.group(1))), set(content_words(head(subject)))
    return bool(label) and bool(want) and not want & label


class Definition(Kind):
    """What the subject is, from its own document when it has one; further passages must
    name the subject themselves."""

    name = "definition"
    budget = Budget(110, lead=70, sentences=2, followers=2)
    about_terms = True
    defines = True

    def detect(self, g: Grammar) -> bool:
        return not g.listy and bool(g.subject or g.bare)

    def subject(self, g: Grammar) -> str:
        return g.subject or phrase(g.text)  # a bare term: "webhooks?"

    def extra(self, r: Retriever, found: Found) -> dict[str, list[Hit]]:
        """Also the passages of the documents that define the subject itself (their own
        term)."""
        plan = found.plan
        named = [content_words(n) for n in (plan.subject, head(plan.subject))]
        terms = [t for t in plan.terms if t.strength == 2 and list(t.key) in named]
        return {**around(r, found), **term_passages(r, found, terms)}

    def bonus(self, g: Group, c: Candidates) -> float:
        """A sentence or item that says what the subject is, more so in its own document; not
        steps or code (they say how to use it), nor an item defining another term."""
        if g.shape in ("sentence", "item"):
            u = g.units[0]
            if g.shape == "item" and (u.marker != "-" or _labels_other(u.text, c.plan.subject)):
                return -OTHER  # a step, or another term's entry
            said = define_bonus(u, c.plan, c.units)
            # A lead-in quoted with its steps or code says how to use the subject, unless
            # the lead-in itself says what the subject is.
            if any(x.kind == "code" or x.marker != "-" for x in g.units[1:]) \
                    and defining(u, c.plan.subject, c.units) < 2:
                return said - OTHER
            return said
        if g.shape == "code" or g.steps:
            return -OTHER
        return 0.0

    def choose(self, c: Candidates) -> list[Group]:
        subject = set(content_words(head(c.plan.subject)))
        groups = self.groups(c)
        # What follows the lead must say what the subject is too, not how to use it.
        said = [g for g in groups if g.score >= g.base]
        return choose(said, self.budget, grow=lambda g: self.grow(g, c, groups),
                      subject=subject, lead_from=groups)

    def grow(self, best: Group, c: Candidates, groups: list[Group]) -> Group:
        """An entry that says what the subject is ("Drift: when ...") stands alone; its list
        holds other terms."""
        if best.shape == "item" and defining(best.units[0], c.plan.subject, c.units) == 2:
            return best
        return super().grow(best, c, groups)

    def defined(self, c: Candidates) -> bool:
        return any(defining(u, c.plan.subject, c.units) for u in c.units)

    def exempt(self, plan: Plan, lexical: LexicalIndex) -> bool:
        """What the documents define is answered, however little else the question shares."""
        return bool(lexical.defining(head(plan.subject)))

    def unanswerable(self, plan: Plan, defined: bool, lexical: LexicalIndex) -> bool:
        """A subject no passage defines and the documents never even write as a phrase
        ("platform engineering" where only "platform" and "engineering" occur): its words
        are known, what they name is not."""
        said = words(head(plan.subject))
        return 0 < len(content_words(plan.subject)) <= NAMED and not defined and \
            not lexical.has_phrase(said)

