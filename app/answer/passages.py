"""A retrieved passage as the units an answer can quote: sentences, list items, code blocks.

Passages are chunks of the clean text ``ingest.blocks`` writes, so structure is read from
line shapes: a fenced block is code, ``- `` or ``1. `` starts a list item (two spaces of
indent per level), any other line is a paragraph, split into sentences. A paragraph's last
sentence that runs into a list or a code block ("... is a set of", "Run:") is its lead-in:
the two are quoted together. Units never change the text: each stands verbatim in its passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.text import FENCE, WORD, closes, sentences

if TYPE_CHECKING:
    from app.retrieval.hybrid import Hit

ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+•]|\d{1,3}[.)])\s+(?P<text>.*\S)\s*$")
CLOSED = (".", "!", "?", ")", '"', "'", "”", "’", "`")


@dataclass(frozen=True, eq=False)
class Unit:
    """A sentence, list item or code block of one passage, as it stands there."""

    text: str
    kind: str  # "sentence" | "item" | "code"
    hit: Hit
    pos: int  # order within the passage
    block: int  # paragraph, list or code block it belongs to
    lead: bool = False  # the sentence leads into the next block (a list or code)
    depth: int = 0  # list nesting level
    marker: str = "-"  # the item's list marker ("-" or "3.")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unit) and (other.hit.id, other.pos) == (self.hit.id, self.pos)

    def __hash__(self) -> int:
        return hash((self.hit.id, self.pos))

    @property
    def words(self) -> int:
        """Length for answer budgets, as a reader counts it: a code block one word per line
        (it is read a line at a glance), prose its words (marks such as "-" or "|" are none)."""
        if self.kind == "code":
            lines = [x for x in self.text.split("\n")[1:-1] if x.strip()]  # fences are not read
            return max(1, len(lines))
        return max(1, len(WORD.findall(self.text)))


def split_units(hit: Hit) -> list[Unit]:
    """The units of a passage, in order."""
    out: list[Unit] = []
    para: list[str] = []
    block, cur = -1, ""  # current block id and kind ("para", "list" or "" between blocks)

    def flush() -> None:
        if para:
            for s in sentences(" ".join(para)):
                out.append(Unit(s, "sentence", hit, len(out), block))
            para.clear()

    lines = hit.text.split("\n")
    fence_at_start = hit.meta.fence
    if fence_at_start:  # the passage starts inside a code block another passage opened
        lines = [fence_at_start, *lines]
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        item = ITEM.match(line)
        if fence:
            flush()
            body, j = _code_block(lines, i, fence.group(1))
            if any(x.strip() for x in body.split("\n")[1:-1]):  # an empty block says nothing
                block, cur = block + 1, ""
                out.append(Unit(body, "code", hit, len(out), block))
            i = j + 1
            continue
        if item:
            if cur != "list":
                flush()
                block, cur = block + 1, "list"
            marker = item.group("marker")
            out.append(Unit(item.group("text"), "item", hit, len(out), block,
                            depth=len(item.group("indent").expandtabs(2)) // 2,
                            marker=marker if marker[0].isdigit() else "-"))
        elif not line.strip() or line.lstrip().startswith("#"):
            flush()
            cur = ""
        else:
            if cur != "para":
                flush()
                block, cur = block + 1, "para"
            para.append(line.strip())
        i += 1
    flush()
    return _mark_leads(out)


def _code_block(lines: list[str], i: int, fence: str) -> tuple[str, int]:
    """The code block opened by ``fence`` on line ``i``, and the line it closes on."""
    j = i + 1
    while j < len(lines) and not closes(lines[j], fence):
        j += 1
    body = "\n".join(lines[i : j + 1])
    if j >= len(lines):  # the passage ends inside the block: close it as it must read
        body = body.rstrip("\n") + "\n" + fence
    return body, j


def _mark_leads(units: list[Unit]) -> list[Unit]:
    """Mark each paragraph's last sentence that is directly followed by a list or code."""
    out = list(units)
    for i, u in enumerate(units[:-1]):
        nxt = units[i + 1]
        if u.kind == "sentence" and nxt.kind in ("item", "code") and nxt.block == u.block + 1:
            out[i] = Unit(u.text, u.kind, u.hit, u.pos, u.block, True)
    return out


def runs_on(u: Unit) -> bool:
    """A lead-in that is not a finished sentence ("... is a set of", "Run:") must not be
    quoted without what follows it."""
    return u.lead and (u.text.endswith(":") or not u.text.endswith(CLOSED))


_JOINING = frozenset({"and", "for", "the", "with", "from", "into", "via"})


def label(u: Unit) -> bool:
    """A label rather than a claim ("Beta Feature (Since v3.3)", "Current Status: Stable"): a
    sentence with no full stop whose words are all capitalised but for a joining word."""
    if u.kind != "sentence" or u.text.rstrip().endswith((".", "!", "?")):
        return False
    named = re.findall(r"[A-Za-z]{3,}", u.text)
    return bool(named) and all(w[0].isupper() or w in _JOINING for w in named)


def block_units(units: list[Unit], block: int) -> list[Unit]:
    return [u for u in units if u.block == block]
