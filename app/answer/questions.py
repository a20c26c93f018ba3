"""Planning a question: its grammar, its kind, what it is about, and its follow-up topic.

The grammar (``app/answer/grammar.py``) reads what the question asks; the first question kind
(``app/answer/kinds``) that recognises it answers it. What a question's words mean for a corpus
is learned from the indexed documents (their terms, headings and vocabulary), never listed.
"""

from __future__ import annotations

import re

from app.answer.grammar import (
    COMPARE,
    FOLLOW_UP,
    FRAME,
    LIST,
    PLURAL_ASKED,
    REFERS,
    Grammar,
    head,
    second_question,
    sides_of,
    subject_of,
    two_subjects,
)
from app.answer.kinds import classify
from app.answer.kinds.base import Kind
from app.answer.plan import Plan
from app.retrieval.term_index import Term, TermIndex
from app.retrieval.terms import STOPWORDS, content_words, tokens

__all__ = ["plan_question"]


def _topic(q: str, kind: Kind, subject: str, sides: tuple[str, ...], terms: list[Term]) -> str:
    """What a turn is about, for a later "it": its subject, sides or terms, else its words."""
    if subject:  # "the limitations of the scheduler" is about the scheduler
        return re.split(r"\s+of\s+", subject)[-1]
    if sides:
        return " and ".join(sides)
    if terms and kind.about_terms:  # a how-to is about its object's words
        return " and ".join(t.label for t in terms[:2])
    ws = kind.topic_words(q)
    found = [t.label for t in terms if t.label.lower() not in " ".join(ws).lower()]
    return " ".join([*found[:2], *ws[:12]])


def _sides(q: str, plural: bool, found: list[Term], previous: Plan | None) -> tuple[str, ...]:
    """What ``q`` compares; "How is it different from Y?" after "What is X?" compares X and Y."""
    if not COMPARE.search(q) or plural:
        return two_subjects(q)
    sides = sides_of(q)
    if len(sides) < 2 and previous is not None and previous.topic:
        other = sides[-1] if sides else (found[-1].label if found else "")
        if other and other.lower() not in previous.topic.lower():
            sides = (previous.topic, other)
    return sides


# "In which release was X deprecated?", "which one takes precedence?": which ONE thing.
_ONE = r"[\w.-]*(?:[^s\W]|ss|us|is)\s+"  # a noun in the singular
# "which X is ...", "which X takes ...", or any verb in the singular right after X ("which
# endpoint exposes ...").
ONE_OF = re.compile(rf"\bwhich\s+(?:(?:(?:[\w.-]+\s+){{0,3}}?{_ONE})?"
                    rf"(?:is|was|does|did|has|takes|wins|applies|comes)"
                    rf"|(?:[\w.-]+\s+)?{_ONE}\w{{2,}}[^su\W']s)\b", re.I)


def _listy(q: str, subject: str, plural: bool, named: bool = False) -> bool:
    """"What are X?" asks what X are, unless X is narrowed ("the limitations of Y") or the
    question asks which of several things ("which", "what tools does X use"); "which" of one
    thing, by a singular noun and verb, asks for that one ("in which release was ...?").
    X set in a context ("exemplars in Y") is still asked what it is when ``named``: X is one
    of the documents' terms."""
    if not plural and ONE_OF.search(q) and not re.search(r"\b(?:are|were|list)\b", q, re.I):
        return False
    # "its use cases" are the use cases of what the chat is about, as "use cases of X" are.
    narrowed = bool(re.search(r"\b(?:of|for|in|on|with|to|that|does|do|its|their)\b", subject,
                              re.I))
    return plural or bool(LIST.search(q)) and (
        not subject or narrowed and not named
        or bool(re.search(r"\bwhich\b|\bwhat\s+are\s+the\s+(?:[\w-]+\s+)*[\w-]+s\W*$", q, re.I)))


def plan_question(q: str, terms: TermIndex, previous: Plan | None = None) -> Plan:
    """Classify ``q``, find what it is about, and fill in a follow-up's topic."""
    found = terms.find(q)
    rewritten = ""
    n_words = len([w for w in tokens(q) if w not in STOPWORDS])
    if previous is not None and previous.topic:
        refers_back = bool(FOLLOW_UP.search(q))
        if refers_back or (not found and n_words <= 4):
            rewritten = f"{FRAME.sub('', q)} ({previous.topic})"
    body = FRAME.sub("", q) or q  # "And what are its limits?" is read as "what are its limits?"
    plural = bool(PLURAL_ASKED.search(body))
    sides = _sides(body, plural, found, previous)
    subject = "" if sides else subject_of(body)
    # "What are exemplars in Y?" asks what they are; "what are the options for Y?" which.
    named = bool(subject) and not re.search(r"\b(?:is|are|were)\s+the\b", body, re.I) and \
        tuple(content_words(head(subject))) in {t.key for t in found}
    grammar = Grammar(body, subject, sides, _listy(body, subject, plural, named), plural,
                      n_words, bool(rewritten))
    kind = classify(grammar)
    subject = kind.subject(grammar)
    if rewritten and kind.defines and FOLLOW_UP.search(subject):
        subject = previous.topic if previous else subject
    plan = Plan(text=q, kind=kind, subject=subject, sides=sides, terms=found,
                rewritten=rewritten, second="" if sides else second_question(body))
    # A follow-up reads what the earlier answer quoted first, unless it names a new topic
    # of its own without referring back ("What about the queue's limits?").
    if rewritten and previous is not None and (not found or REFERS.search(q)):
        plan.after = previous.cited
    plan.topic = _topic(q, kind, subject, sides, found) if not rewritten or found or subject \
        else (previous.topic if previous else "")
    return plan

