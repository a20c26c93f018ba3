"""Reading a question: what kind of answer it wants, what it is about, and its follow-up topic.

Only the grammar of English questions is used here ("what is X", "how do I ...", "X vs Y",
"it"/"they" referring back); what a question's words mean for a corpus is learned from the
indexed documents (their terms, headings and vocabulary), never listed in code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.retrieval.terms import STOPWORDS, Term, TermIndex, tokens

_Q = r"(?:what|wat|wht|whta|waht|whats|what's)"
DEFINITION = re.compile(
    rf"\b{_Q}\s*(?:is|are|'s|s)\s+(?:an?\s+|the\s+)?(?P<x>.+)$"
    rf"|\b{_Q}\s+(?:does|do)\s+(?:an?\s+|the\s+)?(?P<y>.+?)\s+(?:mean|stand\s+for|do)\b"
    r"|\b(?:define|explain|describe|tell\s+me\s+about|meaning\s+of|definition\s+of|overview\s+of|"
    r"introduction\s+to)\s+(?:an?\s+|the\s+)?(?P<z>.+)$", re.I)
HOWTO = re.compile(
    r"\bhow\s+(?:do|can|could|should|would|will|to|does\s+one)\b|\bsteps?\s+(?:to|for)\b|"
    r"\b(?:show|give)\s+(?:me\s+|us\s+)?(?:an?\s+|some\s+)?(?:example|sample|snippet)s?\b", re.I)
# "the command to ...", "which flag ...": a how-to, unless it asks for several ("options for")
HOWTO_ONE = re.compile(r"\b(?:command|flag|setting|option|way)\s+(?:to|for|that)\b|"
                       r"\b(?:what|which)\s+(?:command|flag|setting|option)\b(?!s)", re.I)
LIST = re.compile(
    r"^\W*(?:what|which)\s+(?:are|were)\b|\bwhich\b|\blist\b|\benumerate\b|"
    r"\bwhat\s+(?:kinds?|types?|sorts?|options?|ways?|features?)\b|\bname\s+(?:the|some|all)\b",
    re.I)
# "what <...> <plural noun> do/does/are ...": "what extra capabilities does X need"
PLURAL_ASKED = re.compile(
    r"^\W*(?:what|which)\s+(?:[\w-]+\s+){0,3}[\w-]+s\s+(?:does|do|did|are|can|could|should|"
    r"will|would|exist|come|is)\b", re.I)
COMPARE = re.compile(
    r"\bvs\.?\b|\bversus\b|\bdiffer|\bdifference|\bcompare|\bcomparison|\bcontrast|"
    r"\bdistinguish|\bsame\s+(?:thing\s+)?as\b|\bsynonym|\binterchangeabl|\bequivalent\s+to\b|"
    r"\bidentical\s+to\b|\b(?:part|subset)\s+of\b", re.I)
_SIDES = [
    re.compile(r"^\W*(?:is|are|isn't|aren't)\s+(?P<a>.+?)\s+(?:the\s+same\s+(?:thing\s+)?as|an?\s+"
               r"synonyms?\s+(?:for|of)|interchangeable\s+with|equivalent\s+to|identical\s+to|"
               r"(?:a\s+)?(?:part|subset)\s+of|just\s+another\s+name\s+for)\s+(?P<b>.+?)\s*[?.!]*$",
               re.I),
    re.compile(r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*[?.!]*$", re.I),
    re.compile(r"^(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)\s*[?.!]*$", re.I),
    re.compile(r"\b(?:does|do|is|are)\s+(?P<a>.+?)\s+(?:differ|compare|contrast)\w*\s+"
               r"(?:from|with|to|against)\s+(?P<b>.+?)\s*[?.!]*$", re.I),
    re.compile(r"\bcompare\s+(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+?)\s*[?.!]*$", re.I),
    re.compile(r"^(?P<a>.+?)\s+(?:differ|compared?)\w*\s+(?:from|with|to)\s+(?P<b>.+?)\s*[?.!]*$",
               re.I),
]
# Words that refer back to the previous turn's topic.
FOLLOW_UP = re.compile(
    r"\b(?:it|its|it's|they|them|their|this|that|these|those|there|such|one|both|each)\b|"
    r"^\W*(?:and|also|what about|how about|then)\b", re.I)
# Qualifiers that end the phrase a question is about ("X in the CLI", "X according to ...").
_TAIL = re.compile(
    r"(?:\s+(?:according\s+to|for\s+me|in\s+one\s+sentence|and\s+(?:why|how|when|what)|so\s+that|"
    r"if|when|in\s+simple|please)\b|\s*[,(;:]|\s+[-–—]\s).*$", re.I)
# Where a phrase narrows to a context ("reconciliation in the glossary"): its head first.
_CONTEXT = re.compile(r"\s+(?:in|within|inside|for|on|under|with)\s+.*$", re.I)
_ASKS = re.compile(r"^\W*(?:is|are|does|do|did|can|could|should|would|will|how|what|which|why|"
                   r"when|who|where)\b", re.I)
_FRAME = re.compile(r"^\W*(?:so|ok|okay|and|also|then|please|hey|hi)\b[\s,]*", re.I)
_TAG = re.compile(r"<[^<>]{0,300}>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


@dataclass
class Plan:
    """What a question asks for."""

    text: str
    kind: str  # definition | list | howto | comparison | general
    subject: str = ""  # what a definition asks about, as written ("the query log")
    sides: tuple[str, ...] = ()  # what a comparison compares
    terms: list[Term] = field(default_factory=list)  # the documents' own terms it names
    topic: str = ""  # what this turn is about, for the next one to refer back to
    rewritten: str = ""  # a follow-up with the earlier topic added

    @property
    def query(self) -> str:
        return self.rewritten or self.text

    @property
    def inherited(self) -> str:
        """The words a follow-up took from the earlier turn (empty for a fresh question)."""
        return self.rewritten[len(self.text):] if self.rewritten.startswith(self.text) else ""


def clean_question(q: str) -> str:
    """NFKC-normalise; drop control and zero-width characters and HTML tags; collapse spaces."""
    q = unicodedata.normalize("NFKC", q)
    q = _TAG.sub(" ", q)  # markup is never part of a question about the documents
    q = _CTRL.sub(" ", q)
    return re.sub(r"\s+", " ", q).strip()


def phrase(text: str) -> str:
    """The noun phrase a question part names: quotes, articles, qualifiers and marks dropped."""
    text = _TAIL.sub("", text.strip())
    text = re.sub(r"^(?:an?|the|my|our|your)\s+", "", text.strip(), flags=re.I)
    text = re.sub(r"(?<=\w)['’]s?\s*$", "", text.strip(" \"`“”?.!:;"))  # "Graphite's"
    return text.strip(" \"'`“”‘’?.!:;")


def head(text: str) -> str:
    """A phrase without the context it is narrowed to: "exporter in the monitoring world"
    -> "exporter"."""
    return _CONTEXT.sub("", text) or text


def _subject(q: str) -> str:
    m = DEFINITION.search(q)
    if not m:
        return ""
    x = m.group("x") or m.group("y") or m.group("z") or ""
    # "explain what a declarative description is": the subject is inside the clause
    inner = re.match(r"^(?:what|how)\s+(?:an?\s+|the\s+)?(.+?)\s+(?:is|are|means?|works?)\b", x,
                     re.I)
    if inner:
        x = inner.group(1)
    if re.match(r"^(?:in|on|at|inside|behind|between|with|from|for|to|about)\b", x, re.I):
        return ""  # "what is in X" asks what X holds, not what it is
    x = phrase(x)
    n = len([w for w in tokens(x) if w not in STOPWORDS])
    return x if 0 < n <= 6 else ""


def _sides(q: str) -> tuple[str, ...]:
    body = re.sub(r"^\W*(?:what(?:'s| is| are)?\s+(?:the\s+)?(?:main\s+)?(?:differences?|"
                  r"distinction)|how\s+(?:does|do|is|are))\b\s*", "", q, flags=re.I)
    for pat in _SIDES:
        m = pat.search(body) or pat.search(q)
        if m:
            a, b = phrase(m.group("a")), phrase(m.group("b"))
            a = re.sub(r"^(?:the\s+)?(?:differences?|distinction)\s+(?:between\s+)?", "", a,
                       flags=re.I)
            if _CONTEXT.search(b) and not _CONTEXT.search(a):
                b = head(b)  # "a refresh and a sync in the UI": the context is shared
            a, b = phrase(a), phrase(b)
            if _side(a) and _side(b) and a.lower() != b.lower():
                return a, b
    return ()


def _side(text: str) -> bool:
    """A comparison side is a short noun phrase, not a clause ("what extra ... does X need")."""
    ws = [w for w in tokens(text) if w not in STOPWORDS]
    return 0 < len(ws) <= 5 and not re.match(r"^\W*(?:what|which|how|why|when|who)\b", text, re.I)


def _topic(q: str, kind: str, subject: str, sides: tuple[str, ...], terms: list[Term]) -> str:
    """What a turn is about, for a later "it": its subject, sides or terms, else its words."""
    if subject:  # "the limitations of the scheduler" is about the scheduler
        return re.split(r"\s+of\s+", subject)[-1]
    if sides:
        return " and ".join(sides)
    if terms and kind not in ("howto", "general"):  # a how-to is about its object's words
        return " and ".join(t.label for t in terms[:2])
    body = HOWTO.sub(" ", q) if kind == "howto" else q
    ws = [w for w in re.findall(r"[\w.+/-]+", body) if w.lower() not in STOPWORDS]
    if kind == "howto" and len(ws) > 1:
        ws = ws[1:]  # "how do I <verb> X": X is what it is about
    found = [t.label for t in terms if t.label.lower() not in " ".join(ws).lower()]
    return " ".join([*found[:2], *ws[:12]])


def plan_question(q: str, terms: TermIndex, previous: Plan | None = None) -> Plan:
    """Classify ``q``, find what it is about, and fill in a follow-up's topic."""
    found = terms.find(q)
    rewritten = ""
    n_words = len([w for w in tokens(q) if w not in STOPWORDS])
    if previous is not None and previous.topic:
        refers_back = bool(FOLLOW_UP.search(q))
        if refers_back or (not found and n_words <= 4):
            rewritten = f"{_FRAME.sub('', q)} ({previous.topic})"
    text = rewritten or q
    plural = bool(PLURAL_ASKED.search(q))
    sides = _sides(q) if COMPARE.search(q) and not plural else ()
    if COMPARE.search(q) and not plural and len(sides) < 2 and previous is not None \
            and previous.topic:
        # "How is it different from Y?" after "What is X?": compare the two.
        other = sides[-1] if sides else (found[-1].label if found else "")
        if other and other.lower() not in previous.topic.lower():
            sides = (previous.topic, other)
    subject = "" if sides else _subject(q)
    # "What are X?" asks what X are, unless X is narrowed ("the limitations of Y") or
    # the question asks which of several things ("which", "what tools does X use").
    listy = plural or bool(LIST.search(q)) and (
        not subject or bool(re.search(r"\b(?:of|for|in|on|with|to|that|does|do)\b", subject, re.I))
        or bool(re.search(r"\bwhich\b|\bwhat\s+are\s+the\s+(?:[\w-]+\s+)*[\w-]+s\W*$", q, re.I)))
    if sides:
        kind = "comparison"
    elif HOWTO.search(q) or (HOWTO_ONE.search(q) and not plural):
        kind = "howto"
    elif subject and not listy:
        kind = "definition"
    elif listy:
        kind = "list"
    elif n_words == 1 and not rewritten and not _ASKS.search(q):
        kind, subject = "definition", phrase(q)  # a bare term: "webhooks?"
    else:
        kind = "general"
    if rewritten and kind == "definition" and FOLLOW_UP.search(subject):
        subject = previous.topic if previous else subject
    plan = Plan(text=q, kind=kind, subject=subject, sides=sides, terms=found,
                rewritten=rewritten if text != q else "")
    plan.topic = _topic(q, kind, subject, sides, found) if not rewritten or found or subject \
        else (previous.topic if previous else "")
    return plan
