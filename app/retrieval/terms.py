"""Words: tokens, stems, typo-tolerant matching, and the terms the indexed documents define.

Tokens are runs of letters and digits, lower-cased; for search, a camelCase token
(``selfHeal``) also gives its parts, so a question in plain words finds a configuration key.
Stems come from the Snowball English stemmer (PyStemmer), so "limitations" meets "limits"
and "tools" meets "tool". Typos are matched on surface words, before stemming, with rapidfuzz's optimal string
alignment distance (1 edit for words of 5-7 letters, 2 from 8 letters, none below 5).

Nothing here is a list of one corpus's words: the term index is built from the indexed
documents' own titles, aliases and headings.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


def words(text: str) -> list[str]:
    """The stems of every word of ``text``, in order (what lexical matching compares)."""
    return stems(tokens(text))


def content_words(text: str) -> list[str]:
    """Stems of the words that carry a text's topic: stop and question words removed,
    each once, in order."""
    keep = [w for w in tokens(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]
    return list(dict.fromkeys(stems(keep)))


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


@dataclass(frozen=True)
class Term:
    """A defined term: its stems, its display form, and the files that define it."""

    key: tuple[str, ...]
    label: str
    files: tuple[str, ...]
    strength: int  # 2 = title or alias (a defining document), 1 = a heading


class TermIndex:
    """Terms of the indexed documents (titles, aliases, terms a passage defines, top
    headings), found in questions.

    Args:
        metas: dicts with ``file``, ``title``, ``aliases``, ``section`` and ``defines``
            (terms the chunk defines, "|"-separated).
    """

    def __init__(self, metas: Iterable[dict[str, Any]]):
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        names: dict[tuple[str, str], None] = {}  # (name, file), each looked at once
        heads: dict[tuple[str, str], None] = {}
        for m in metas:
            file = str(m.get("file", ""))
            for name in [str(m.get("title", ""))] + str(m.get("aliases", "")).split(",") + \
                    str(m.get("defines", "")).split("|"):
                names[(name, file)] = None
            heads[(str(m.get("section", "")).split(" > ")[0], file)] = None
        for name, file in names:
            self._add(found, name, file, 2)
        for head, file in heads:
            self._add(found, head, file, 1)
        self.terms = [
            Term(k, v["label"], tuple(sorted(v["files"])), v["strength"]) for k, v in found.items()
        ]
        self.by_first: dict[str, list[Term]] = defaultdict(list)
        for t in self.terms:
            self.by_first[t.key[0][:1]].append(t)
        self.short_keys = {t.key for t in self.terms if len(t.key) <= 2}  # for split_names

    @staticmethod
    def _add(found: dict[tuple[str, ...], dict[str, Any]], name: str, file: str,
             strength: int) -> None:
        name = re.sub(r"\s+", " ", name).strip()
        key = tuple(content_words(name))
        if not key or len(key) > 5 or not file:
            return
        if len(key) == 1 and len(key[0]) < 3:
            return
        entry = found.setdefault(key, {"label": name, "files": set(), "strength": strength})
        if strength > entry["strength"]:  # a title beats a heading: only definers remain
            entry.update(label=name, files=set(), strength=strength)
        if strength == entry["strength"]:
            entry["files"].add(file)

    def split_names(self, text: str) -> str:
        """``text`` with a word that runs two words of a term together written as the term
        ("datasource" -> "data source" where the documents title a page "Data Source"); a
        word that is itself a term stays."""
        keys = self.short_keys

        def split(m: re.Match[str]) -> str:
            w = m.group()
            low = w.lower()
            if len(low) < 6 or (stem(low),) in keys:
                return w
            for n in range(3, len(low) - 2):
                if (stem(low[:n]), stem(low[n:])) in keys:
                    return f"{low[:n]} {low[n:]}"
            return w

        return re.sub(r"(?<![\w.-])[a-z]+(?![\w.-])", split, text)

    def find(self, text: str) -> list[Term]:
        """Terms named in ``text`` (typos tolerated on one-word terms), by position; a longer
        match hides the shorter ones inside it."""
        surface = [w for w in tokens(text) if w not in STOPWORDS]
        toks = stems(surface)
        hits: list[tuple[int, int, Term]] = []
        for i, tok in enumerate(toks):
            for t in self.by_first.get(tok[:1], []):
                n = len(t.key)
                window = tuple(toks[i : i + n])
                if len(window) < n:
                    continue
                if window == t.key or (
                    n == 1 and within_edits(surface[i], t.key[0], typo_limit(t.key[0]))
                ):
                    hits.append((i, n, t))
        # Prefer longer and stronger matches; drop ones covered by a longer match.
        hits.sort(key=lambda h: (-h[1], -h[2].strength, h[0]))
        taken: set[int] = set()
        out: list[tuple[int, Term]] = []
        for i, n, t in hits:
            span = set(range(i, i + n))
            if span & taken:
                continue
            taken |= span
            out.append((i, t))
        out.sort(key=lambda p: p[0])
        return [t for _, t in out]

    def labels(self, strength: int = 2) -> list[str]:
        return sorted({t.label for t in self.terms if t.strength >= strength})
