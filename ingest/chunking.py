"""Split a Document into heading-scoped chunks whose embedding text always fits the model.

Trade-offs: chunks follow the document's own structure (ATX headings, then paragraphs,
list items and code blocks) instead of fixed windows, so sizes vary: a short section gives a
short chunk, and chunks never overlap or cross a heading. Sizes are measured with the
injected tokenizer on the text that is embedded (heading path header included). To stay fast
each block is counted once and sums are used while packing (exact for WordPiece, whose
pre-tokenizer splits on whitespace); each finished chunk is then counted once more, and
re-split if the sum was wrong, so the max_tokens bound holds for any tokenizer. Oversized
blocks are split at sentences, then lines, then words, and only a lone over-long "word"
(say, a base64 blob) is cut between characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ingest.document_loader import Document
from ingest.text import FENCE, closes, has_word, sentence_ends

Span = tuple[int, int, int]  # (start, end, tokens without [CLS]/[SEP]) into the document text


@dataclass(frozen=True)
class Chunk:
    """A stripped span of ``Document.text`` plus what gets embedded for it."""

    index: int
    text: str
    start: int
    end: int
    section: str
    embed_text: str
    fence: str = ""  # the opening fence line of a code block this chunk starts inside of


_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
# A run of stops is tried from its first stop only: tried from each, a long run that no space
# follows (a line of "!!!") costs its length squared.
_PLAN_PROSE = ("sentences", "lines", "words", "chars")
_PLAN_CODE = ("lines", "words", "chars")
# Above this many characters per allowed token a span is not worth counting before splitting
# (English WordPiece averages about 4-5); a wrong guess only makes an extra split, never an
# oversized chunk.
_CHARS_PER_TOKEN_MAX = 12


def chunk_document(
    doc: Document,
    count_tokens: Callable[[str], int],
    max_tokens: int = 256,
    target_tokens: int = 160,
) -> list[Chunk]:
    """Cut a document into ordered chunks, one heading section at a time.

    Args:
        doc: The cleaned document; its "#" headings (every reader marks only real ones) cut it.
        count_tokens: Tokens of a string as the embedding model counts them (with specials).
        max_tokens: Hard upper bound on ``count_tokens(chunk.embed_text)``.
        target_tokens: Size blocks are packed up to before a new chunk starts.

    Returns:
        Chunks in document order; sections with no body text yield none, and neither does
        a piece without a letter or digit (a run of brackets, a rule, a line of symbols).

    Raises:
        ValueError: max_tokens is too small to hold a heading header and some text.
    """
    if max_tokens < 16:
        raise ValueError(f"max_tokens must be at least 16, got {max_tokens}")
    packer = _Packer(doc.text, count_tokens, max_tokens, min(target_tokens, max_tokens))
    title = str(doc.metadata.get("title") or "").strip()
    by_lines = "\n\n" not in doc.text.replace("\r", "")  # no paragraphs: each line is one
    chunks: list[Chunk] = []
    for section, blocks in _sections(doc.text, by_lines):
        header = packer.fit_header(_header(title, section))
        for start, end in packer.pack(header, blocks):
            text = doc.text[start:end]
            if not has_word(text):  # brackets, rules, punctuation: nothing to find or quote
                continue
            embed = f"{header}\n{text}" if header else text
            fence = next((doc.text[b:doc.text.find("\n", b)] for b, e, code in blocks
                          if code and b < start < e), "")  # a long code block cut in pieces
            chunks.append(Chunk(len(chunks), text, start, end, section, embed, fence.strip()))
    return chunks


def _sections(
    text: str, by_lines: bool
) -> Iterator[tuple[str, list[tuple[int, int, bool]]]]:
    """Yield (heading path, blocks) where blocks are (start, end, is_code) line ranges."""
    stack: list[tuple[int, str]] = []
    section = ""
    blocks: list[tuple[int, int, bool]] = []
    block_start, block_end, fence = -1, 0, ""
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if fence:  # inside a fenced code block: nothing is a heading or a break
            block_end = end
            if closes(line, fence):
                blocks.append((block_start, block_end, True))
                block_start, fence = -1, ""
            continue
        opening = FENCE.match(line)
        heading = _HEADING.match(line)
        ends_block = opening or heading or not stripped or by_lines or _LIST_ITEM.match(line)
        if ends_block and block_start >= 0:  # the current paragraph or list item is done
            blocks.append((block_start, block_end, False))
            block_start = -1
        if opening:
            block_start, block_end, fence = start, end, opening.group(1)
        elif heading:
            if blocks:
                yield section, blocks
            blocks = []
            level = len(heading.group(1))
            stack = [(lvl, name) for lvl, name in stack if lvl < level]
            stack.append((level, _clean_heading(_heading_text(heading.group(2) or ""))))
            section = " > ".join(name for _, name in stack if name)
        elif stripped:
            if block_start < 0:
                block_start = start
            block_end = end
    if block_start >= 0:
        blocks.append((block_start, block_end, bool(fence)))
    if blocks:
        yield section, blocks


def _heading_text(rest: str) -> str:
    """An ATX heading's text: without its closing run of ``#`` (string operations: a lazy
    ``(.*?)`` before an optional closing run costs a long heading its length squared)."""
    text = rest.rstrip(" \t")
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip(" \t")
    return text


def _clean_heading(heading: str) -> str:
    """Drop leading emoji, keycaps and numbering ("1️⃣ ", "2.3 ", "🚀 ") from a heading (a few
    layers: each pass copies the heading, so a heading of endless "1. 1. 1." stops there)."""
    text = heading.strip().strip("*_`").strip()
    previous = None
    for _ in range(8):
        if text == previous:
            break
        previous = text
        text = re.sub(r"^\d+(?:\.\d+)*(?:[.):](?=\s)|\ufe0f?\u20e3)\s*", "", text)
        text = re.sub(r"^\d+(?:\.\d+)+\s+", "", text)
        text = re.sub(r"^[^\w\s\"'(\[`<.$/@~]+\s*", "", text)
    return text or heading.strip()


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _header(title: str, section: str) -> str:
    first = section.split(" > ", 1)[0]
    if not title or (section and _key(first) == _key(title)):
        return section  # the top heading usually repeats the title
    return f"{title} > {section}" if section else title


class _Packer:
    """Counts, splits and packs block spans of one document's text."""

    def __init__(self, text: str, count: Callable[[str], int], max_tokens: int, target: int) -> None:
        self.text = text
        self.count = count
        self.max = max_tokens
        self.target = target
        self.special = count("")  # [CLS] and [SEP], counted once per string
        self.header_tokens = 0
        self.header_cache: dict[str, int] = {}

    def fit_header(self, header: str) -> str:
        # A pathological title or heading must not crowd out the text: cap it at a third,
        # first in characters (no more than a third's tokens can take), then in tokens.
        header = header[: self.max // 3 * _CHARS_PER_TOKEN_MAX]
        n = self._header_count(header)
        while n > self.max // 3:
            header = header[: len(header) * 4 // 5].rstrip()
            n = self._header_count(header)
        self.header_tokens = n
        return header

    def _header_count(self, header: str) -> int:
        if header not in self.header_cache:  # consecutive sections share most headers
            self.header_cache[header] = self.count(header) if header else self.special
        return self.header_cache[header]

    def pack(self, header: str, blocks: list[tuple[int, int, bool]]) -> Iterator[tuple[int, int]]:
        budget = self.max - self.header_tokens
        whole = self._strip(blocks[0][0], blocks[-1][1])
        # Most sections are short: one exact count of the whole embed text settles them.
        if whole and whole[1] - whole[0] <= self.target * _CHARS_PER_TOKEN_MAX // 2:
            body = self.text[whole[0] : whole[1]]
            if self.count(f"{header}\n{body}" if header else body) <= self.target:
                yield whole
                return
        units: list[Span] = []
        for start, end, is_code in blocks:
            span = self._strip(start, end)
            if not span:
                continue
            plan = _PLAN_CODE if is_code else _PLAN_PROSE
            if span[1] - span[0] > budget * _CHARS_PER_TOKEN_MAX:
                n = budget + 1  # cannot fit anyway: skip counting, go straight to splitting
            else:
                n = self._tokens(*span)
            units.extend(self._fit(*span, n, plan, budget))
        group: list[Span] = []
        total = self.header_tokens
        for unit in units:
            if group and total + unit[2] > self.target:
                # A sentence that leads into a list or code block goes with it.
                carry = [group.pop()] if len(group) > 1 and self._leads_in(group[-1]) else []
                yield from self._verified(header, group)
                group, total = carry, self.header_tokens + sum(u[2] for u in carry)
            group.append(unit)
            total += unit[2]
        if group:
            yield from self._verified(header, group)

    def _verified(self, header: str, group: list[Span]) -> Iterator[tuple[int, int]]:
        start, end = group[0][0], group[-1][1]
        body = self.text[start:end]
        if self.count(f"{header}\n{body}" if header else body) <= self.max or end - start < 2:
            yield start, end
        elif len(group) > 1:  # the summed estimate was off: halve and check again
            yield from self._verified(header, group[: len(group) // 2])
            yield from self._verified(header, group[len(group) // 2 :])
        else:
            mid = (start + end) // 2
            halves = [s for s in (self._strip(start, mid), self._strip(mid, end)) if s]
            yield from self._verified(header, [(s, e, 0) for s, e in halves])

    def _leads_in(self, span: Span) -> bool:
        text = self.text[span[0] : span[1]].rstrip()
        if _LIST_ITEM.match(text) or text.endswith("```") or text.startswith("#"):
            return False
        return text.endswith(":") or not text.endswith((".", "!", "?", ")", '"', "'", "”"))

    def _tokens(self, start: int, end: int) -> int:
        return max(0, self.count(self.text[start:end]) - self.special)

    def _strip(self, start: int, end: int) -> tuple[int, int] | None:
        piece = self.text[start:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        return (start + left, start + right) if right > left else None

    def _fit(self, start: int, end: int, n: int, plan: tuple[str, ...], budget: int) -> list[Span]:
        """Split one unit, coarsest boundary first, until every piece fits the budget."""
        if n <= budget:
            return [(start, end, n)]
        for depth, how in enumerate(plan):
            pieces = [s for s in self._pieces(start, end, n, how, budget) if s]
            if len(pieces) > 1:
                rest = plan[depth:] if how == "chars" else plan[depth + 1 :]
                out: list[Span] = []
                for s, e in pieces:
                    out.extend(self._fit(s, e, self._tokens(s, e), rest, budget))
                return out
        return [(start, end, n)]  # a single character: nothing left to split

    def _pieces(self, start: int, end: int, n: int, how: str, budget: int) -> list[tuple[int, int] | None]:
        piece = self.text[start:end]
        if how == "sentences":
            cuts = sentence_ends(piece, strict=False)
        elif how == "lines":
            cuts = [m.end() for m in re.finditer("\n", piece)]
        elif how == "words":
            return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", piece)]
        else:  # chars: pieces sized from this unit's chars-per-token, with some slack
            size = max(1, len(piece) * budget * 4 // (max(n, 1) * 5))
            cuts = list(range(size, len(piece), size))
        bounds = [0, *cuts, len(piece)]
        return [self._strip(start + a, start + b) for a, b in zip(bounds, bounds[1:], strict=False)]
