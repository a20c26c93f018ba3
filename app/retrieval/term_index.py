"""The terms the indexed documents define (titles, aliases, terms a passage defines, top
headings), and finding them in a question or a heading.

Nothing here is a list of one corpus's words: the index is built from the documents' own
titles, aliases and headings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.retrieval.terms import STOPWORDS, content_words, stem, stems, tokens, typo_limit, within_edits


@dataclass(frozen=True)
class Term:
    """A defined term: its stems, its display form, and the files that define it."""

    key: tuple[str, ...]
    label: str
    files: tuple[str, ...]
    strength: int  # 2 = title or alias (a defining document), 1 = a heading


FIND_KEPT = 20_000  # texts whose terms TermIndex.find keeps


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
        self._found: dict[str, tuple[Term, ...]] = {}  # find's answers: headings recur

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
        match hides the shorter ones inside it. Answers are kept (up to ``FIND_KEPT`` texts):
        the same headings are read for question after question."""
        got = self._found.get(text)
        if got is None:
            if len(self._found) >= FIND_KEPT:
                self._found.clear()
            got = self._found[text] = tuple(self._find(text))
        return list(got)

    def _find(self, text: str) -> list[Term]:
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
