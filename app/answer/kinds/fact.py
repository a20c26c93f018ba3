"""A fact ("who ...?", "how many ...?", "what is the default ...?"): the sentence holding it.

When none of the passages that could answer holds the kind of fact asked (no name for "who",
no date for "when", no number for "how many"), the documents do not state it, and the
question is refused rather than answered with whatever is nearest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.answer.choose import Budget
from app.answer.grammar import Grammar
from app.answer.groups import Group
from app.answer.kinds.base import Candidates, Kind

if TYPE_CHECKING:
    from app.answer.grounding import Evidence
    from app.answer.plan import Plan
    from app.retrieval.lexical import LexicalIndex

# "... if I don't set one?", "when it is left out": what holds by default.
_UNSET = r"\bif\s+(?:i|you|we|one)\s+(?:don['’]?t|do\s+not|never)\s+(?:set|specify|configure|" \
    r"pass|provide|define|choose)\b|\b(?:if|when)\s+(?:it\s+is\s+|it['’]s\s+)?(?:not\s+(?:set|" \
    r"specified|configured|given)|unset|omitted|left\s+(?:out|empty|unset))\b|" \
    r"\bwithout\s+(?:setting|specifying|configuring)\b"
ASKS = re.compile(
    rf"{_UNSET}|^\W*(?:who|whom)\b|\bwhen\s+(?:was|were|did)\b|\bin\s+what\s+year\b|"
    # "how many ...?", "... and how often?", terse "memory how much": not "to check how many"
    r"(?:^\W*|[,;]\s*|\b(?:and|so|but)\s+)how\s+(?:many|much|long|often|old|big|large|frequently)\b|"
    r"\bhow\s+(?:many|much|long|often)\W*$|"
    r"\b(?:what|which)\s+(?:year|date|version|port|percentage|number)\b|"
    r"\b(?:what|which)(?:'s|\s+is|\s+are)?\s+the\s+(?:default|minimum|maximum|max|min|limit)\b|"
    r"\bby\s+default\b.*\?\s*$", re.I)
_WHO = re.compile(r"^\W*(?:who|whom)\b", re.I)
_WHEN = re.compile(r"^\W*when\b|\bwhen\s+(?:was|were|did)\b|\band\s+when\b|\bin\s+what\s+year\b|"
                   r"\bwhat\s+(?:year|date)\b", re.I)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(r"\b(?:1[89]|20)\d\d\b|\b(?:January|February|March|April|May|June|July|"
                   r"August|September|October|November|December)\b")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")  # "Patrick Debois"
_DEFAULT = re.compile(r"\bdefaults?\b|\bby\s+default\b", re.I)
_ASKS_DEFAULT = re.compile(rf"{_DEFAULT.pattern}|{_UNSET}", re.I)
# An amount in words ("three minutes", "twice a day", "continuously").
_AMOUNT = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"twenty|thirty|sixty|hundred|thousand|million|once|twice|single|double|"
                     r"hourly|daily|weekly|monthly|yearly|annually|continuously|unlimited)\b",
                     re.I)
_HOW_LONG = re.compile(r"\bhow\s+long\b", re.I)
_HOW_OFTEN = re.compile(r"\bhow\s+(?:often|frequently)\b", re.I)
_EVERY = re.compile(r"\b(?:every|each|per)\s+\w", re.I)  # "every week", "per release"
_UNIT = r"(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|weeks?|" \
    r"months?|years?)\b"
_DURATION = re.compile(rf"\d\s*{_UNIT}|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                       rf"twelve|thirty|sixty|a|an)\s+{_UNIT}", re.I)
# "how long can a name be?": a length, in characters, bytes or lines, answers it too.
_LENGTH = re.compile(r"\d\s*(?:characters?|chars?|bytes?|[kmgt]i?b|lines?|words?|digits?)\b",
                     re.I)
# "for seven winters", "for three minor releases": a count of anything after "for" is a span.
_SPAN = re.compile(r"\bfor\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve|"
                   r"several|many)\s+(?:\w+\s+)?\w+s\b", re.I)
_FOREVER = re.compile(r"\b(?:forever|indefinitely|permanently|until)\b", re.I)
_YES_NO = re.compile(r"^\W*(?:is|are|was|were|does|do|did|can|could|will|would|should|has|"
                     r"have|may|must)\b", re.I)
FITS = 0.1  # what a unit gains for holding the kind of fact asked
NEAR = 0.8  # a group this close to the best could answer: one of them must hold the fact


def _holds(text: str, question: str, words: bool = False) -> bool:
    """Whether ``text`` holds the kind of fact ``question`` asks for: a name for "who", a
    date or version for "when", a default for "what is the default", a duration or a length
    for "how long", else a number (with ``words``, an amount in words too: "every three
    minutes")."""
    if _WHEN.search(question):
        return bool(_DATE.search(text) or _NUMBER.search(text))
    if _WHO.match(question):
        return bool(_NAME.search(text))
    if _ASKS_DEFAULT.search(question):
        return bool(_DEFAULT.search(text))
    if _HOW_LONG.search(question):  # a duration, not any number
        return bool(_DURATION.search(text) or _SPAN.search(text) or _LENGTH.search(text)) or (
            words and bool(_FOREVER.search(text)))
    if _HOW_OFTEN.search(question) and _EVERY.search(text):
        return True
    return bool(_NUMBER.search(text) or (words and _AMOUNT.search(text)))


def _checkable(question: str) -> bool:
    """Whether the documents not holding the kind of fact asked means they do not answer:
    not for a yes/no question ("is it on by default?" may be answered "no"), nor for "who"
    alone (a role or a team answers it as well as a name)."""
    if _YES_NO.match(question):
        return False
    return bool(_WHEN.search(question)) or not _WHO.match(question)


class Fact(Kind):
    """The sentence holding the kind of fact asked (a number, a name, a default) leads."""

    name = "fact"
    budget = Budget(110, lead=45, sentences=1, followers=2)
    about_terms = True

    def detect(self, g: Grammar) -> bool:
        return bool(ASKS.search(g.text))

    def bonus(self, g: Group, c: Candidates) -> float:
        """A unit holding the kind of fact the question asks for."""
        return FITS if _holds(_prose(g), c.plan.text) else 0.0

    def defined(self, c: Candidates) -> bool:
        """Whether a group about as relevant as the best holds the kind of fact asked."""
        groups = self.groups(c)
        best = max((g.base for g in groups), default=0.0)
        return any(_holds(_prose(g), c.plan.text, words=True) for g in groups
                   if g.base >= NEAR * best)

    def unanswerable(self, plan: Plan, defined: bool, lexical: LexicalIndex) -> bool:
        """No passage near the best holds the fact asked: the documents do not state it."""
        return not defined and _checkable(plan.text)

    def unanswered(self, plan: Plan, evidence: Evidence) -> None:
        evidence.unstated = plan.text


def _prose(g: Group) -> str:
    return " ".join(u.text for u in g.units if u.kind != "code")
