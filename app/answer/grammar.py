"""The grammar of a question: its subject, the sides it compares, whether it asks for several.

Only the grammar of English questions is used here ("what is X", "how do I ...", "X vs Y",
"it"/"they" referring back); what a question's words mean for a corpus is learned from the
indexed documents (their terms, headings and vocabulary), never listed in code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.retrieval.terms import STOPWORDS, tokens

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
    r"will|would|exist|come|is)(?:n['’]t)?\b", re.I)
# What a list question asks for instances of: "which triggers come with X?", "what are the
# limitations of X?"
LISTED = re.compile(
    r"^\W*(?:what|which)\s+(?:are\s+(?:the\s+)?(?P<a>(?:[\w-]+\s+){0,2}?[\w-]+)"
    r"(?:\s+(?:of|for|in|that|which|to|on|available|supported|there)\b|\s*\?)"
    r"|(?!(?:is|are|do|does|did|can)\b)(?P<b>(?:[\w-]+\s+){0,3}?[\w-]+)\s+(?:does|do|did|are|"
    r"can|could|should|will|would|exist|come|is|were)(?:n['’]t)?\b)", re.I)
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
# Two subjects in one question ("what is an instance and what is a job?"): each is answered.
TWO_SUBJECTS = re.compile(
    rf"^\W*(?:in\s+[^,]+,\s*)?{_Q}\s*(?:is|are|'s)\s+(?P<a>.+?)\s*,?\s+and\s+{_Q}\s*"
    r"(?:is|are|'s)\s+(?P<b>.+?)\s*[?.!]*$", re.I)
# A second question joined to the first ("how do I enable X, and what URL shows it?").
SECOND = re.compile(
    r"^(?P<a>.*?\w.*?)\s*,?\s+and\s+(?P<b>(?:what|which|how|why|when|where|who|is|are|does|do|"
    r"did|can|could|should|would|will)\b.*?\w.*?)\s*[?.!]*$", re.I)
# Words that refer back to the previous turn's topic: a word that stands for it ("that
# install"), or an opening that goes on from it ("What about X?", which may name a new one).
REFERS = re.compile(
    r"\b(?:it|its|it's|they|them|their|this|that|these|those|there|such|one|both|each)\b", re.I)
FOLLOW_UP = re.compile(rf"{REFERS.pattern}|^\W*(?:and|also|what about|how about|then)\b", re.I)
# Qualifiers that end the phrase a question is about ("X in the CLI", "X according to ...",
# "the X you need").
_TAIL = re.compile(
    r"(?:\s+(?:according\s+to|for\s+me|in\s+one\s+sentence|and\s+(?:why|how|when|what)|so\s+that|"
    r"if|when|in\s+simple|please|i|you|we|they)\b|\s*[,(;:]|\s+[-–—]\s).*$", re.I)
# Where a phrase narrows to a context ("reconciliation in the glossary"): its head first.
CONTEXT = re.compile(r"\s+(?:in|within|inside|for|on|under|with)\s+.*$", re.I)
ASKS = re.compile(r"^\W*(?:is|are|does|do|did|can|could|should|would|will|how|what|which|why|"
                   r"when|who|where)\b", re.I)
FRAME = re.compile(r"^\W*(?:so|ok|okay|and|also|then|please|hey|hi)\b[\s,]*", re.I)
_TAG = re.compile(r"<[^<>]{0,300}>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")



@dataclass(frozen=True)
class Grammar:
    """What a question's grammar says, for the question kinds to tell which they are."""

    text: str  # the question as asked (misspellings fixed)
    subject: str = ""  # what it asks about ("what is X": X)
    sides: tuple[str, ...] = ()  # what it compares
    listy: bool = False  # it asks which of several things
    plural: bool = False  # "what <...> <plural noun> do/does/are ..."
    words: int = 0  # its content words
    rewritten: bool = False  # a follow-up, with an earlier topic added

    @property
    def bare(self) -> bool:
        """A bare term ("webhooks?"): one word, asking nothing."""
        return self.words == 1 and not self.rewritten and not ASKS.search(self.text)


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
    text = re.sub(r"(?:\s+\w+ly)+\s*$", "", text)  # "a Batch Definition actually (do)"
    return text.strip(" \"'`“”‘’?.!:;")


def head(text: str) -> str:
    """A phrase without the context it is narrowed to: "exporter in the monitoring world"
    -> "exporter"."""
    return CONTEXT.sub("", text) or text


def listed(q: str) -> str:
    """The noun a list question asks for instances of ("which time series does X record?":
    "series"), "" when it names none."""
    m = LISTED.search(q)
    words = (m.group("a") or m.group("b") or "").split() if m else []
    return words[-1] if words else ""


def subject_of(q: str) -> str:
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
    # "the {batch} thing", "the sparkline stuff": a filler noun names nothing of its own
    x = re.sub(r"^(.*\S)\s+(?:thing|things|stuff|bit|one)$", r"\1", x, flags=re.I)
    n = len([w for w in tokens(x) if w not in STOPWORDS])
    return x if 0 < n <= 6 else ""


def two_subjects(q: str) -> tuple[str, ...]:
    """The two subjects of "what is X and what is Y?", each a short noun phrase."""
    m = TWO_SUBJECTS.search(q)
    if not m:
        return ()
    a, b = phrase(m.group("a")), phrase(m.group("b"))
    return (a, b) if _side(a) and _side(b) and a.lower() != b.lower() else ()


def second_question(q: str) -> str:
    """The second of two questions asked in one ("..., and can I change it?"), "" when ``q``
    asks one thing; both parts ask something of their own (two content words and one)."""
    m = SECOND.search(q)
    if not m:
        return ""
    a, b = m.group("a"), m.group("b")
    said = [len([w for w in tokens(x) if w not in STOPWORDS]) for x in (a, b)]
    return b if said[0] >= 2 and said[1] >= 1 else ""


def sides_of(q: str) -> tuple[str, ...]:
    body = re.sub(r"^\W*(?:what(?:'s| is| are)?\s+(?:the\s+)?(?:main\s+)?(?:differences?|"
                  r"distinction)|how\s+(?:does|do|is|are))\b\s*", "", q, flags=re.I)
    for pat in _SIDES:
        m = pat.search(body) or pat.search(q)
        if m:
            a, b = phrase(m.group("a")), phrase(m.group("b"))
            a = re.sub(r"^(?:the\s+)?(?:differences?|distinction)\s+(?:between\s+)?", "", a,
                       flags=re.I)
            if CONTEXT.search(b) and not CONTEXT.search(a):
                b = head(b)  # "a refresh and a sync in the UI": the context is shared
            a, b = phrase(a), phrase(b)
            if _side(a) and _side(b) and a.lower() != b.lower():
                return a, b
    return ()


def _side(text: str) -> bool:
    """A comparison side is a short noun phrase, not a clause ("what extra ... does X need")."""
    ws = [w for w in tokens(text) if w not in STOPWORDS]
    return 0 < len(ws) <= 5 and not re.match(r"^\W*(?:what|which|how|why|when|who)\b", text, re.I)


