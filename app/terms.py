"""The corpus's defined terms (titles, aliases, headings) and question word handling.

Nothing here is a hard-coded list of disciplines: terms come from the indexed documents'
metadata, so a new document with ``title: FinOps`` makes "what is finops" answerable.
Typo tolerance is a bounded edit distance (1 for short words, 2 for long ones, same first
letter), strict enough that "finops" does not pass for "devops".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

STOPWORDS = frozenset(
    """a an the and or but of for to in on at by with from into about as is are was were be been
    being am do does did doing done have has had i me my we our you your it its they them their
    this that these those there here what which who whom whose when where why how can could should
    would will shall may might must not no yes so than then too very just also any some each
    tell explain describe define definition meaning mean means please give show list name
    difference differences differ differs between vs versus compare compared comparison against
    same similar like kind sort type thing things one ones more most less least other others
    s t wat whats what's much many use used uses using usage get got make makes""".split()
)

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def normalize_word(w: str) -> str:
    """Lower-case and strip a plural or possessive ending ("tools" -> "tool", keeps "devops")."""
    w = w.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ops")):
        return w[:-1]
    return w


def words(text: str) -> list[str]:
    return [normalize_word(t) for t in _WORD.findall(text.lower())]


def content_words(text: str) -> list[str]:
    """The words of a question that carry its topic (stop and question words removed)."""
    out = []
    for w in words(text):
        if w in STOPWORDS or len(w) < 2 or w.isdigit():
            continue
        if w not in out:
            out.append(w)
    return out


def within_edits(a: str, b: str, limit: int) -> bool:
    """Edit distance of a and b (with adjacent transpositions) is at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


def typo_limit(w: str) -> int:
    return 0 if len(w) < 5 else (1 if len(w) < 8 else 2)


@dataclass(frozen=True)
class Term:
    """A defined term: its words, its display form, and the files that define it."""

    key: tuple[str, ...]
    label: str
    files: tuple[str, ...]
    strength: int  # 2 = title or alias (a defining document), 1 = a heading


class TermIndex:
    """Terms of the indexed documents, looked up in questions.

    Args:
        metas: chunk metadata dicts with ``file``, ``title``, ``aliases`` and ``section``.
    """

    def __init__(self, metas: Iterable[dict[str, Any]]):
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        names: dict[tuple[str, str], None] = {}  # (name, file), each looked at once
        heads: dict[tuple[str, str], None] = {}
        for m in metas:
            file = str(m.get("file", ""))
            for name in [str(m.get("title", ""))] + str(m.get("aliases", "")).split(","):
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
        self.single = {t.key[0] for t in self.terms if len(t.key) == 1}

    @staticmethod
    def _add(found: dict[tuple[str, ...], dict[str, Any]], name: str, file: str,
             strength: int) -> None:
        name = re.sub(r"\s+", " ", name).strip()
        key = tuple(words(name))
        if not key or len(key) > 5 or not file:
            return
        if len(key) == 1 and (key[0] in STOPWORDS or len(key[0]) < 4):
            return
        entry = found.setdefault(key, {"label": name, "files": set(), "strength": strength})
        if strength > entry["strength"]:  # a title beats a heading: only definers remain
            entry.update(label=name, files=set(), strength=strength)
        if strength == entry["strength"]:
            entry["files"].add(file)

    def find(self, text: str, singles: bool = False) -> list[Term]:
        """Terms named in ``text`` (typos tolerated), by position; a longer match hides the
        shorter ones inside it unless ``singles`` asks for the one-word terms only."""
        toks = words(text)
        hits: list[tuple[int, int, Term]] = []
        for i, tok in enumerate(toks):
            for t in self.by_first.get(tok[:1], []):
                n = len(t.key)
                if singles and (n > 1 or t.strength < 2):
                    continue
                window = tuple(toks[i : i + n])
                if len(window) < n:
                    continue
                if window == t.key or (
                    n == 1 and within_edits(tok, t.key[0], typo_limit(t.key[0]))
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

    def known_word(self, w: str, vocab: set[str]) -> bool:
        """Whether the corpus knows ``w``, allowing a small typo."""
        if w in vocab:
            return True
        limit = typo_limit(w)
        if not limit:
            return False
        # Only words with the same first letter and a near length can be within the limit;
        # bucketing keeps this O(bucket) instead of O(vocabulary) per word.
        buckets = self._buckets(vocab)
        return any(
            within_edits(w, v, limit)
            for n in range(len(w) - limit, len(w) + limit + 1)
            for v in buckets.get((w[:1], n), ())
        )

    def _buckets(self, vocab: set[str]) -> dict[tuple[str, int], list[str]]:
        cached = getattr(self, "_vocab_buckets", None)
        if cached is None or cached[0] is not vocab:
            b: dict[tuple[str, int], list[str]] = defaultdict(list)
            for v in vocab:
                b[(v[:1], len(v))].append(v)
            cached = (vocab, dict(b))
            self._vocab_buckets = cached  # one tuple assignment: safe for concurrent readers
        return cached[1]
