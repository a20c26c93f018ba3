"""Find, read, decode and clean source files, in every format ``ingest.registry`` lists.

Trade-offs: decoding prefers certainty over cleverness (BOM, then strict UTF-8, then
charset-normalizer, then latin-1, which never fails), and mojibake repair is left to ftfy
except for one narrow, explained Mac Roman rule ftfy does not cover. Each format's reader
(``ingest.reading``, ``ingest.rst``, ``ingest.asciidoc``, ``ingest.pdf``) parses its markup
with a real parser into clean blocks, each remembering its source line; the blocks joined
are the indexed text, and their lines the map a citation's line range comes from. A
document without a title takes its first heading, else its first short line, else (plain
text) its first line, else its file name.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.blocks import join_blocks, looks_like_heading, markdown_blocks, text_blocks
from ingest.decoding import decode_bytes  # re-exported: part of this module's API
from ingest.errors import SkipFile  # re-exported: part of this module's API
from ingest.files import read_file, scan
from ingest.reading import RawFile, clean_lines, normalise
from ingest.registry import NOT_A_DOCUMENT, SUPPORTED_SUFFIXES, format_of

__all__ = ["SUPPORTED_SUFFIXES", "Document", "SkipFile", "clean_text", "decode_bytes",
           "discover", "first_title", "load_document"]


@dataclass(frozen=True)
class Document:
    """One cleaned source file; chunk spans index into ``text``."""

    path: str
    text: str
    metadata: dict[str, Any]
    warnings: tuple[str, ...] = ()
    lines: tuple[tuple[int, int], ...] = ()  # (offset in text, 0-based source line) per block
    source_lines: int = 0  # lines in the source file (0: it has none, e.g. PDF or Word)

    def line_at(self, offset: int) -> int:
        """The 1-based source line the text at ``offset`` comes from (0: not known)."""
        i = bisect.bisect_right(self.lines, (offset, float("inf"))) - 1
        return self.lines[i][1] + 1 if i >= 0 else 0

    def line_span(self, start: int, end: int) -> tuple[int, int]:
        """The 1-based first and last source lines that hold ``text[start:end]`` ((0, 0):
        not known): from the line its first block starts on to the line before the next
        block that starts further down the source."""
        first = self.line_at(start)
        if not first:
            return 0, 0
        last_start = self.line_at(max(start, end - 1))
        i = bisect.bisect_left(self.lines, (end, -1))
        nxt = next((ln for _, ln in self.lines[i:] if ln + 1 > last_start), None)
        last = nxt if nxt is not None else (self.source_lines or last_start)
        return first, max(first, last_start, last)


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """``ingest.files.scan`` as ``(files, errors)``: the supported regular files under
    ``paths``, and ``(path, reason)`` for named paths that do not exist or are unsupported."""
    found = scan(paths, SUPPORTED_SUFFIXES)
    return found.files, found.missing


def load_document(path: Path, max_bytes: int = 20_000_000, data: bytes | None = None,
                  root: Path | None = None) -> Document:
    """Read, decode and clean one file.

    Args:
        path: The file to read; its suffix picks the format (``ingest.registry``).
        max_bytes: Larger files are skipped before being read.
        data: The file's bytes when the caller has read them already (``read_file``).
        root: The folder it was ingested from: files it pulls in (an included code sample)
            must sit inside it. Default: the file's own folder.

    Returns:
        The cleaned Document with metadata (``title`` and ``format`` always present).

    Raises:
        SkipFile: not a document format, not a regular file, too large, unreadable,
            binary, empty after cleaning, or a PDF that is encrypted, broken or has no
            extractable text.
    """
    path = Path(path)
    fmt = format_of(path)
    if fmt is None:
        raise SkipFile(f"{NOT_A_DOCUMENT} ({path.suffix or 'no file type'})")
    if data is None:
        data = read_file(path, max_bytes)
    got = fmt.reader(RawFile(path, data, Path(root) if root else path.parent, max_bytes))
    body, lines = join_blocks(got.blocks)
    if not body.strip():
        raise SkipFile("empty file")
    name = got.format or fmt.name
    meta = dict(got.meta)
    title = meta.get("title") or got.title
    if not title:
        title = first_heading(body) if name == "pdf" else first_title(body)
    meta["title"] = str(title or got.fallback_title or path.stem)
    meta["format"] = name
    known = tuple((off, ln) for off, ln in lines if ln >= 0)
    return Document(str(path.resolve().as_posix()), body, meta, tuple(got.warnings), known,
                    got.source_lines if known else 0)


def first_heading(body: str) -> str:
    """The text of the first ``#`` heading, else ""."""
    heading = re.search(r"^#{1,6} +(.+)$", body, re.M)
    if not heading:  # the closing run stripped as text: ``(.+?)[ #]*$`` is quadratic in a line
        return ""
    return (heading.group(1).rstrip(" #") or heading.group(1)).strip()


def first_title(body: str) -> str:
    """The first heading, else the first short title-like line near the top, else ""."""
    heading = first_heading(body)
    if heading:
        return heading
    for line in [ln for ln in body.split("\n") if ln.strip()][:5]:
        if len(line.split()) >= 2 and looks_like_heading(line.lstrip("# ")):
            return line.lstrip("# ").strip()
    return ""


def clean_text(text: str, fmt: str) -> str:
    """Clean decoded text of one format into the indexed body.

    Args:
        text: Decoded, repaired text (front matter already removed).
        fmt: "markdown", "text", "html" or "pdf".

    Returns:
        Body text: markup parsed away (markdown, html), NFC, no zero-width or control
        characters, no trailing spaces, at most one blank line.
    """
    if fmt == "html":
        from ingest.html_text import html_to_text

        return clean_lines(html_to_text(text)[0])
    if fmt == "markdown":
        return join_blocks(markdown_blocks(normalise(text)))[0]
    if fmt == "text":
        import html

        return join_blocks(text_blocks(html.unescape(normalise(text))))[0]
    return clean_lines(text)
