"""Markdown and plain text into opsqa's clean text blocks, each knowing its source line.

Markdown goes through a real parser (markdown-it-py).

The clean text is what the chunker and the answerer read, one block kind per line shape:
ATX headings (``## Title``); each paragraph on one line; list items as ``- text`` or
``1. text``, nested ones indented two spaces per level; fenced code blocks verbatim with their
info string (indented code becomes fenced); tables as one ``- a | b`` item per row, the header
row first (it names the columns: a row of "yes | no" says nothing without it). Link text stays,
images and HTML tags go (the text inside HTML stays, script and style do not), emphasis markers
go, inline code keeps its backticks.

Site-generator syntax is removed first, line for line so source lines still match: Hugo
shortcodes (a ``highlight`` pair becomes a code fence), Jinja tags, MkDocs admonitions and
content tabs (their indented bodies dedented), Docusaurus ``:::`` fences, GitHub alert markers,
MkDocs includes and attribute lists. Trade-off: a shortcode's arguments are dropped with it,
so a shortcode that carries content in its arguments (a ``title="..."``) loses that text.

Plain text has no markup, only layout: paragraphs are blank-line separated (or one per line
when a file has no blank lines), wrapped lines are joined, and a short line with no closing
punctuation that stands alone before a paragraph is taken for a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ingest.html_text import html_to_text
from ingest.inline import inline_text, strip_urls
from ingest.site_syntax import strip_site_syntax

__all__ = ["Block", "join_blocks", "looks_like_heading", "markdown_blocks", "strip_site_syntax",
           "text_blocks"]


@dataclass(frozen=True)
class Block:
    """One block of clean text and the 0-based source line it starts on."""

    text: str
    line: int
    joined: bool = False  # follows the previous block after one newline (same list or table)


@lru_cache(maxsize=2)
def _parser(mdx: bool = False) -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md.disable("code") if mdx else md  # MDX has no indented code blocks


def markdown_blocks(text: str, first_line: int = 0, mdx: bool = False,
                    warnings: list[str] | None = None) -> list[Block]:
    """Parse Markdown ``text`` into clean blocks; ``first_line`` is added to every line.
    ``mdx``: ``text`` came from MDX (``ingest.mdx``), where indenting makes no code block.

    The parser reads lists and quotes nested ``maxNesting`` deep at most and drops what is
    nested deeper; that loss is added to ``warnings`` (when given), never silent.
    """
    parser = _parser(mdx)
    tokens = parser.parse(strip_site_syntax(text))
    limit = int(parser.options.get("maxNesting", 20))
    if warnings is not None and any(t.level >= limit - 1 for t in tokens):
        warnings.append(f"text nested more than {limit // 2} lists or quotes deep is not "
                        "indexed (the Markdown parser's limit)")
    return [Block(b.text, b.line + first_line, b.joined) for b in _Renderer(tokens).blocks]


def join_blocks(blocks: list[Block]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The clean text of ``blocks`` and its (text offset, source line) map, one per block."""
    parts: list[str] = []
    where: list[tuple[int, int]] = []
    pos = 0
    for b in blocks:
        if parts:
            sep = "\n" if b.joined else "\n\n"
            parts.append(sep)
            pos += len(sep)
        where.append((pos, b.line))
        parts.append(b.text)
        pos += len(b.text)
    return "".join(parts), tuple(where)


def text_blocks(text: str, first_line: int = 0) -> list[Block]:
    """Plain text into blocks: paragraphs on one line, list lines kept, headings detected;
    ``first_line`` is added to every line."""
    lines = [strip_urls(ln) for ln in text.split("\n")]
    one_per_line = not any(not ln.strip() for ln in lines[1:-1])
    paras: list[tuple[int, list[str]]] = []
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        prev = lines[i - 1] if i else ""
        # A line that starts in lower case continues the sentence above it, even in a file
        # with one paragraph per line.
        lower = ln.lstrip()[:1].islower()
        continues = bool(paras) and prev.strip() != "" and (
            (lower and not prev.rstrip().endswith((".", "!", "?", ":")))
            or not (one_per_line or (len(paras[-1][1]) == 1 and looks_like_heading(prev))))
        if continues and not _ITEM.match(ln) and not _ITEM.match(prev):
            paras[-1][1].append(ln.strip())
        else:
            paras.append((i, [ln.strip()]))
    out: list[Block] = []
    for n, (line, parts) in enumerate(paras):
        text_ = " ".join(parts)
        nxt = " ".join(paras[n + 1][1]) if n + 1 < len(paras) else ""
        line += first_line
        if looks_like_heading(text_) and nxt and not looks_like_heading(nxt) \
                and len(parts) == 1:
            out.append(Block(f"## {text_}", line))
        else:
            item = bool(_ITEM.match(text_))
            out.append(Block(text_, line, joined=item and bool(out) and bool(_ITEM.match(
                out[-1].text))))
    return out


_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\S")


def looks_like_heading(line: str) -> bool:
    """A short line that reads as a title: 1-8 words, capitalised, no closing punctuation."""
    words = line.split()
    return (0 < len(words) <= 8 and len(line) <= 80 and line[:1].isupper()
            and not line.rstrip().endswith((".", ",", ";", ":", "!", "?", '"', "”"))
            and not _ITEM.match(line))


# -- rendering ----------------------------------------------------------------------------
class _Renderer:
    """Walks markdown-it's token stream once, appending clean ``Block``s."""

    def __init__(self, tokens: list[Any]):
        self.blocks: list[Block] = []
        self.lists: list[list[int]] = []  # per open list: [ordered, next number, first]
        self.item: list[str] | None = None  # text parts of the innermost open list item
        self.item_line = 0
        self.cells: list[str] = []
        self.row_line = self.table_line = 0
        self._parent = ""
        self._level = 0
        self._walk(tokens)

    def _add(self, text: str, line: int, joined: bool = False) -> None:
        if text.strip():
            self.blocks.append(Block(text, line, joined and bool(self.blocks)))

    def _flush_item(self) -> None:
        if self.item is not None:
            text = " ".join(p for p in self.item if p)
            if re.search(r"\w", text):  # not an item that held only a component: "- <X/>."
                ordered, number, _ = self.lists[-1]
                marker = f"{number - 1}." if ordered else "-"
                # Items of one list, and a nested list under its item, sit on adjacent lines.
                first = number - 1 == self.lists[-1][2]
                self._add(f"{'  ' * (len(self.lists) - 1)}{marker} {text}", self.item_line,
                          joined=not first or len(self.lists) > 1)
            self.item = None

    def _walk(self, tokens: list[Any]) -> None:
        for t in tokens:
            line = t.map[0] if t.map else (self.blocks[-1].line if self.blocks else 0)
            kind = t.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                self._flush_item()
                start = int(t.attrGet("start") or 1) if kind == "ordered_list_open" else 1
                self.lists.append([int(kind == "ordered_list_open"), start, start])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self._flush_item()
                self.lists.pop()
            elif kind == "list_item_open":
                self._flush_item()
                self.item, self.item_line = [], line
                self.lists[-1][1] += 1
            elif kind == "list_item_close":
                self._flush_item()
            elif kind in ("heading_open", "paragraph_open", "th_open", "td_open"):
                self._parent = kind  # what the next inline token belongs to
                self._level = int(t.tag[1:]) if kind == "heading_open" else 0
            elif kind == "inline":
                self._inline(t, line)
            elif kind in ("fence", "code_block"):
                self._flush_item()
                info = t.info.strip() if kind == "fence" else ""
                body = t.content.rstrip("\n")
                if body.strip():
                    # A code block inside a list stays beside its item, at the item's level.
                    self._add(f"```{info}\n{body}\n```", line, joined=bool(self.lists))
            elif kind == "html_block":
                self._flush_item()
                self._add(" ".join(html_to_text(t.content)[0].split()), line)
            elif kind == "table_open":
                self.table_line = line
            elif kind == "tr_open":
                self.cells, self.row_line = [], line
            elif kind == "tr_close":
                self._row()

    def _inline(self, t: Any, line: int) -> None:
        text = inline_text(t.children)
        parent = self._parent
        if parent in ("th_open", "td_open"):
            self.cells.append(text.replace("|", "/"))
        elif self.item is not None:
            # The item's paragraphs as text; a heading inside it labels them ("Drift: ...").
            labelled = parent == "heading_open" and text and text[-1] not in ".:!?"
            self.item.append(f"{text}:" if labelled else text)
        elif parent == "heading_open":
            if text.strip():  # an empty heading ("#") names nothing
                self._add(f"{'#' * self._level} {text}", line)
        else:
            self._add(text, line)

    def _row(self) -> None:
        # Every row becomes an item of a list, so the sentence that introduces a table
        # introduces its rows; the header row comes first, as it names the columns.
        row = " | ".join(c for c in self.cells)
        if row.strip(" |"):
            first = not self.blocks or not self.blocks[-1].text.startswith("- ") or \
                self.blocks[-1].line < self.table_line
            self._add(f"- {row}", self.row_line, joined=not first)
