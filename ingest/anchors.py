"""Source lines for text a parser gave back without them, found by its words in the source.

Some parsers (the stdlib HTML parser's text, AsciiDoc through DocBook, a notebook's JSON)
return clean text but no line numbers. Each block's first words are looked up in the
source's words, in order and from where the previous block was found, so a citation still
names the line its passage starts on. Trade-off: words the parser rewrote (an attribute
substituted, an entity decoded) are not found; fewer leading words are tried, within a short
reach, and a block found nowhere takes the line of the block before it, which keeps the map
in source order.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict

_WORD = re.compile(r"\w+")
_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,}).*$", re.M)
_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", re.M)  # list marks the parser wrote
LEAD = 4  # leading words tried first
REACH = 400  # how many source words past the last match a shorter lead may look


class Anchors:
    """The source's words and their lines, searched forward block by block."""

    def __init__(self, source: str):
        self.words: list[str] = []
        self.lines: list[int] = []
        for n, line in enumerate(source.split("\n")):
            for w in _WORD.findall(line.lower()):
                self.words.append(w)
                self.lines.append(n)
        self.where: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(self.words):
            self.where[w].append(i)
        self.cursor = 0
        self.last = 0

    def line_of(self, text: str) -> int:
        """The 0-based source line ``text`` starts on: searched from the last match on."""
        words = _WORD.findall(_MARKER.sub("", _FENCE_LINE.sub("", text)).lower())
        for k in sorted({min(LEAD, len(words)), min(2, len(words)), min(1, len(words))},
                        reverse=True):
            if k == 0:
                break
            hit = self._find(words[:k], reach=None if k == min(LEAD, len(words)) else REACH)
            if hit is not None:
                self.cursor, self.last = hit + k, self.lines[hit]
                return self.last
        return self.last

    def _find(self, lead: list[str], reach: int | None) -> int | None:
        spots = self.where.get(lead[0], [])
        limit = len(self.words) if reach is None else self.cursor + reach
        for i in spots[bisect.bisect_left(spots, self.cursor):]:
            if i > limit:
                return None
            if self.words[i:i + len(lead)] == lead:
                return i
        return None
