"""Reading a question: its kind (definition, list, comparison, boundary), facet and terms.

Kinds and facets are recognised from the wording of the question; the facet is then matched
against the documents' own section headings ("Typical tools", "Limitations"...), so any corpus
written with headings benefits, not only this project's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.terms import Term, TermIndex, within_edits, words

FACETS: dict[str, tuple[str, str]] = {
    # facet: (question pattern, section-heading pattern)
    "tools": (r"\btools?\b|\bsoftware\b|\btooling\b|\bstack\b|\bproducts?\b|\bplatforms?\b",
              r"tool"),
    "limitations": (r"limitation|drawback|downside|weakness|disadvantage|\blimits?\b|challenge|"
                    r"\bcons\b|problems? with|risks?", r"limitation|challenge|drawback"),
    "use_cases": (r"use ?cases?|used for|good for|useful for|applications? of|examples?",
                  r"use case|use when|application"),
    "when": (r"\bwhen\b.*\b(use|adopt|choose|pick|need)|should (i|we|you) use|use when|\bfit",
             r"when to use|use when|choosing"),
    "practices": (r"practices?|principles?|core ideas?|capabilit|how does .* work|activities",
                  r"practice|core idea|principle|capabilit"),
    "goal": (r"\bgoals?\b|\baims?\b|purpose|objective|why (use|adopt|do)|trying to achieve",
             r"goal|aim|purpose"),
}
DEFINITION_Q = re.compile(
    r"^\W*(what|wat|wht|whta|waht|whats|what's)\W*(is|are|'s|s|does\b.*\b(mean|stand for))\b|"
    r"\bdefin|\bmeaning\b|\bstands? for\b|\bexplain\b|\bdescribe\b|\btell me about\b|"
    r"\bintroduc|\boverview\b|\bwho are\b", re.I)
COMPARE_Q = re.compile(
    r"\bvs\.?\b|\bversus\b|\bdiffer|\bdifference|\bcompare|\bcomparison|\bcontrast|"
    r"\bdistinguish|\brelate|\brelationship", re.I)
BOUNDARY_Q = re.compile(
    r"\bsame (thing )?as\b|\bsynonyms?\b|\binterchangeabl|\bidentical\b|\bmerge|\bequivalent|"
    r"\bjust another name\b|\bpart of\b|\bsubset\b", re.I)
FOLLOW_UP = re.compile(r"\b(it|its|it's|they|them|their|this|that|these|those|each|both)\b", re.I)
_TAG = re.compile(r"<[^<>]{0,300}>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


@dataclass
class Plan:
    """What a question asks for."""

    text: str
    kind: str  # definition | list | comparison | boundary | general
    facet: str = ""
    terms: list[Term] = field(default_factory=list)
    rewritten: str = ""  # the question with a follow-up's topic filled in

    @property
    def query(self) -> str:
        return self.rewritten or self.text


def clean_question(q: str) -> str:
    """NFKC-normalise; drop control and zero-width characters and HTML tags; collapse spaces."""
    q = unicodedata.normalize("NFKC", q)
    q = _TAG.sub(" ", q)  # markup is never part of a question about the documents
    q = _CTRL.sub(" ", q)
    return re.sub(r"\s+", " ", q).strip()


# Typo-tolerant fallback for the facet words people misspell ("limitaions", "tols").
FACET_WORDS = {"tools": "tools", "limitations": "limitations", "drawbacks": "limitations",
               "practices": "practices", "principles": "practices", "usecases": "use_cases",
               "goal": "goal", "purpose": "goal"}


def facet_of(q: str) -> str:
    low = q.lower()
    if re.search(r"\bstands? for\b", low):
        return ""
    for name, (pattern, _) in FACETS.items():
        if re.search(pattern, low):
            return name
    for w in re.findall(r"[a-z]{4,}", low):
        for word, name in FACET_WORDS.items():
            if w[:1] == word[:1] and within_edits(w, word, 1 if len(word) < 8 else 2):
                return name
    return ""


def section_pattern(facet: str) -> str:
    if facet == "definition":
        return r"definition|overview|scope|what is|introduction"
    return FACETS[facet][1] if facet in FACETS else r"$^"


def plan_question(q: str, terms: TermIndex, previous: Plan | None = None) -> Plan:
    """Classify ``q`` and find its terms; a follow-up inherits the previous topic."""
    found = [t for t in terms.find(q) if t.strength == 2] or terms.find(q)
    facet = facet_of(q)
    rewritten = ""
    if previous is not None and previous.terms:
        if not found and (FOLLOW_UP.search(q) or facet or len(q.split()) <= 4):
            found = list(previous.terms)
        elif found and FOLLOW_UP.search(q) and COMPARE_Q.search(q):
            # "How is it different from MLOps?" after DataOps: compare the two.
            found = [t for t in previous.terms if t not in found][:1] + found
        if found != [t for t in terms.find(q) if t.strength == 2]:
            rewritten = f"{q} ({' and '.join(t.label for t in found)})"
    if len(found) < 2 and COMPARE_Q.search(q):
        # "DataOps vs MLOps" may also be a page's alias: compare the disciplines it names.
        sides = terms.find(q, singles=True)
        if len(sides) >= 2:
            found = sides
    qwords = set(words(q))
    if not rewritten and any(not set(t.key) <= qwords for t in found):
        # A misspelt or aliased term: search with its proper name too.
        rewritten = f"{q} ({' and '.join(t.label for t in found)})"
    if len(found) >= 2 and BOUNDARY_Q.search(q):
        kind = "boundary"
    elif len(found) >= 2 and (COMPARE_Q.search(q) or (facet == "" and " and " in q.lower())):
        kind = "comparison"
    elif facet:
        kind = "list" if facet in ("tools", "limitations", "use_cases", "when", "practices") \
            else "definition"
    elif found and (DEFINITION_Q.search(q) or len(q.split()) <= 3):
        kind, facet = "definition", "definition"
    else:
        kind = "general"
    if kind == "definition" and not facet:
        facet = "definition"
    return Plan(text=q, kind=kind, facet=facet, terms=found, rewritten=rewritten)
