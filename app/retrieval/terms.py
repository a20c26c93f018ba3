"""Words: tokens, stems, typo-tolerant matching, and the vocabulary of the indexed documents.

Tokens are runs of letters and digits, lower-cased; for search, a camelCase token
(``selfHeal``) also gives its parts, so a question in plain words finds a configuration key.
Stems come from the Snowball English stemmer (PyStemmer), so "limitations" meets "limits"
and "tools" meets "tool". Typos are matched on surface words, before stemming, with rapidfuzz's optimal string
alignment distance (1 edit for words of 5-7 letters, 2 from 8 letters, none below 5).

Nothing here is a list of one corpus's words: the vocabulary is the indexed documents' own
(the terms they define are ``app/retrieval/term_index.py``).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA

# English function words: articles, pronouns, auxiliaries, prepositions, question words.
# Written here rather than taken from a library list: NLTK's English list in its place lost
# questions (it lacks the modals "would", "could", "might" and chat spellings like "wat"), and
# scikit-learn's holds words documentation asks about ("system", "empty", "first", "keep").
FUNCTION_WORDS = frozenset(
    """a an the and or but of for to in on at by with from into about as is are was were be been
    being am do does did doing done have has had i me my we our you your it its they them their
    this that these those there here what which who whom whose when where why how can could should
    would will shall may might must not no yes so than then too very just also any some each
    s t wat whats if else let lets""".split()
)
# ... and the words that frame a question rather than name its topic.
STOPWORDS = FUNCTION_WORDS | frozenset(
    """tell explain describe define definition meaning mean means please give show list name
    difference differences differ differs between vs versus compare compared comparison against
    same similar like kind sort type thing things one ones more most less least other others
    much many use used uses using usage get got make makes want need way ways""".split()
)

_TOKEN = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_local = threading.local()


def _stemmer() -> Any:
    s = getattr(_local, "stemmer", None)
    if s is None:  # PyStemmer objects are not thread-safe: one per thread
        import Stemmer

        s = _local.stemmer = Stemmer.Stemmer("english")
    return s


def surface(text: str) -> list[str]:
    """The words of ``text`` as written, in order: runs of letters and digits, a possessive
    "'s" dropped. Every word the project counts is one of these (``tokens`` lower-cases them)."""
    return _TOKEN.findall(_POSSESSIVE.sub("", text))


def tokens(text: str, parts: bool = False) -> list[str]:
    """Surface words of ``text``, lower-cased, in order; with ``parts``, the parts of its
    camelCase words follow at the end (for search: "selfHeal" finds "self heal", and the
    words themselves stay side by side for phrase look-ups)."""
    out: list[str] = []
    extra: list[str] = []
    for raw in surface(text):
        low = raw.lower()
        out.append(low)
        if parts and low != raw and not raw.isupper():
            pieces = _CAMEL.findall(raw)
            if len(pieces) > 1:
                extra += [p.lower() for p in pieces]
    return out + extra


def stem(word: str) -> str:
    """The Snowball stem of one lower-case word."""
    return str(_stemmer().stemWord(word))


def stems(ws: list[str]) -> list[str]:
    return [str(s) for s in _stemmer().stemWords(ws)]


# The same passages are read question after question: their words are kept (per text).
WORDS_KEPT = 5_000


def words(text: str) -> list[str]:
    """The stems of every word of ``text``, in order (what lexical matching compares)."""
    return list(_words(text))


@lru_cache(maxsize=WORDS_KEPT)
def _words(text: str) -> tuple[str, ...]:
    return tuple(stems(tokens(text)))


def content_words(text: str) -> list[str]:
    """Stems of the words that carry a text's topic: stop and question words removed,
    each once, in order."""
    return list(_content_words(text))


@lru_cache(maxsize=WORDS_KEPT)
def _content_words(text: str) -> tuple[str, ...]:
    keep = [w for w in tokens(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]
    return tuple(dict.fromkeys(stems(keep)))


def typo_limit(w: str) -> int:
    return 0 if len(w) < 5 else (1 if len(w) < 8 else 2)


def within_edits(a: str, b: str, limit: int) -> bool:
    """Edit distance of a and b (adjacent transpositions count one) is at most ``limit``."""
    return bool(OSA.distance(a, b, score_cutoff=limit) <= limit)


# Particles that make a verb a phrase the documents may write as one word ("set up": "setup").
PARTICLES = frozenset({"up", "down", "in", "out", "on", "off", "over", "back", "around"})


class Vocabulary:
    """The surface words of the indexed documents, for typo correction.

    Args:
        surface: every distinct lower-case word of the documents.
    """

    def __init__(self, surface: Iterable[str]):
        self.words = set(surface)
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    def __contains__(self, w: object) -> bool:
        return w in self.words

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.words == self.words

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.words)

    def correct(self, w: str) -> str | None:
        """``w`` itself when the documents use it, else the closest word they use within the
        typo limit (same first letter), else None."""
        if w in self.words:
            return w
        limit = typo_limit(w)
        if not limit:
            return None
        if self._buckets is None:
            b: dict[tuple[str, int], list[str]] = defaultdict(list)
            for v in self.words:
                b[(v[:1], len(v))].append(v)
            self._buckets = dict(b)  # one assignment: safe for concurrent readers
        best, best_d = None, limit + 1
        for n in range(len(w) - limit, len(w) + limit + 1):
            for v in self._buckets.get((w[:1], n), ()):
                d = OSA.distance(w, v, score_cutoff=limit)
                if d < best_d or (d == best_d and best is not None and v < best):
                    best, best_d = v, d
        return best


    def fix(self, text: str, common: Callable[[str], bool] | None = None) -> str:
        """``text`` with its misspelt words replaced by the closest words the documents use,
        run-together words split ("usecases") and split ones joined ("roll back", "back up")
        where the documents write them so. Words written with a capital inside the text are names and
        stay as written, and so do words ``common`` says are ordinary words of the language
        ("bread" is not a typo of "break")."""
        parts = re.split(r"([^\W_]+)", text)  # odd items are words
        for i in range(1, len(parts), 2):
            w = parts[i]
            low = w.lower()
            nxt = parts[i + 2].lower() if i + 2 < len(parts) and parts[i + 1] == " " else ""
            if nxt in PARTICLES and low not in STOPWORDS and low + nxt in self.words:
                # a verb with its particle is the documents' one word: "back up" -> "backup"
                parts[i], parts[i + 1], parts[i + 2] = low + nxt, "", ""
                continue
            if low in self.words or low in STOPWORDS or (w[:1].isupper() and i > 1):
                continue
            if nxt and low + nxt in self.words and nxt not in STOPWORDS:
                parts[i], parts[i + 1], parts[i + 2] = low + nxt, "", ""
                continue
            if common is not None and common(low):
                continue
            fixed = self.correct(low) or self._split(low)
            if fixed:
                parts[i] = fixed if not w[:1].isupper() else fixed[:1].upper() + fixed[1:]
        return "".join(parts)

    def _split(self, w: str) -> str | None:
        for n in range(2, len(w) - 1):
            if w[:n] in self.words and w[n:] in self.words:
                return f"{w[:n]} {w[n:]}"
        return None
