"""Readers for the text formats (Markdown, MDX, plain text, HTML) and the packaged ones
(.docx, .ipynb): each turns one file's bytes into clean blocks that know their source line.

Every reader returns a ``Read``: blocks of clean text (``ingest.blocks``), each with the
0-based source line it starts on (-1: the format has no lines, as a Word file), and the
document's title and metadata when the file says them. ``ingest.document_loader`` joins the blocks
into the indexed text and its line map, so a citation names its passage's source lines in
every format. Markdown and MDX share one reader (MDX's module lines and JSX tags go first,
``ingest.mdx``); a ``.md`` written for Docusaurus, which reads ``.md`` as MDX, is read as MDX.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.anchors import Anchors
from ingest.blocks import Block, markdown_blocks, text_blocks
from ingest.decoding import decode_bytes, looks_binary, repair
from ingest.errors import SkipFile
from ingest.frontmatter import front_matter_blocks, split_front_matter
from ingest.mdx import is_mdx, strip_mdx


@dataclass(frozen=True)
class RawFile:
    """One file to read: its bytes, where it is, and the folder it was ingested from
    (``root``: files a document pulls in, such as an included code sample, must sit in it)."""

    path: Path
    data: bytes
    root: Path
    max_bytes: int = 20_000_000

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


@dataclass
class Read:
    """What a reader got out of a file: clean blocks, and the title and metadata it states."""

    blocks: list[Block]
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    format: str = ""  # overrides the format's name (a .txt with Markdown headings: markdown)
    fallback_title: str = ""  # when neither the file nor its first heading names it
    source_lines: int = 0  # lines in the source (0: it has none)


_MD_HEADING = re.compile(r"^#{1,6} ", re.M)
INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalise(text: str) -> str:
    """Line ends to ``\\n``, NFC, no zero-width or control characters (lines kept in place)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", INVISIBLE.sub("", text))


def decoded(raw: RawFile) -> str:
    """The file as text.

    Raises:
        SkipFile: binary content.
    """
    if looks_binary(raw.data):
        raise SkipFile("binary file, not text")
    return decode_bytes(raw.data)


def read_markdown(raw: RawFile) -> Read:
    """Markdown, MDX or plain text: front matter to metadata (its prose as a paragraph), then
    markup parsed into blocks; a ``.txt`` with ``#`` headings is read as Markdown."""
    meta, text, warning, skipped = split_front_matter(decoded(raw))
    plain = raw.suffix == ".txt" and _MD_HEADING.search(text) is None
    text = normalise(text)
    lead = front_matter_blocks(meta)
    lines = skipped + text.count("\n") + 1
    warnings = [warning] if warning else []
    if plain:
        blocks = text_blocks(html.unescape(text), skipped)
        return Read([*lead, *blocks], str(meta.get("title", "")), meta, warnings, "text",
                    first_line(text), lines)
    mdx = raw.suffix == ".mdx" or is_mdx(text)
    blocks = markdown_blocks(strip_mdx(text) if mdx else text, skipped, mdx, warnings)
    fmt = "markdown" if raw.suffix == ".txt" else ""
    return Read([*lead, *blocks], str(meta.get("title", "")), meta, warnings, fmt,
                source_lines=lines)


def first_line(text: str, words: int = 12) -> str:
    """A plain text's first line as its title: up to ``words`` words, closing stop dropped."""
    line = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    cut = line.split()[:words]
    return " ".join(cut).rstrip(".:;,") + (" ..." if len(line.split()) > words else "")


def read_html(raw: RawFile) -> Read:
    """HTML's visible text, headings as Markdown headings, each line found in the source."""
    from ingest.html_text import html_to_text

    source = decoded(raw)
    body, title = html_to_text(source)
    return Read(text_lines(clean_lines(body), source), title,
                source_lines=source.count("\n") + 1)


def clean_lines(text: str) -> str:
    """Text tidied line by line: no trailing spaces, at most one blank line, stripped."""
    text = normalise(text)
    text = re.sub(r"(?<![ \t\u00a0])[ \t\u00a0]+$", "", text, flags=re.M)  # from a run's start
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_lines(body: str, source: str | None) -> list[Block]:
    """``body`` as blocks that join back to exactly it (a line each; lines of one paragraph
    joined), each on the source line its words are found on (-1 without a source)."""
    anchors = Anchors(source) if source is not None else None
    out: list[Block] = []
    after_blank = True
    for line in body.split("\n"):
        if not line.strip():
            after_blank = True
            continue
        where = anchors.line_of(line) if anchors else -1
        out.append(Block(line, where, joined=not after_blank and bool(out)))
        after_blank = False
    return out


def anchored(blocks: list[Block], source: str | None) -> list[Block]:
    """``blocks`` moved to the source lines their words are found on (-1 without a source)."""
    anchors = Anchors(source) if source is not None else None
    return [Block(b.text, anchors.line_of(b.text) if anchors else -1, b.joined) for b in blocks]


def read_docx(raw: RawFile) -> Read:
    """Word: python-docx's paragraphs as Markdown; a Word file has no lines to cite."""
    from ingest.docx_ipynb import docx_text

    body, title = docx_text(raw.data, decode_bytes)
    return Read(anchored(markdown_blocks(normalise(repair(body))), None), title)


def read_notebook(raw: RawFile) -> Read:
    """Jupyter: cells as Markdown, each block found on its line of the notebook's JSON."""
    from ingest.docx_ipynb import ipynb_text

    body, title = ipynb_text(raw.data, decode_bytes)
    blocks = markdown_blocks(normalise(repair(body)))
    source = decode_bytes(raw.data)
    return Read(anchored(blocks, source), title, source_lines=source.count("\n") + 1)


def relative_inside(root: Path, base: Path, name: str) -> Path | None:
    """``name`` (relative to ``base``, or to ``root`` when it starts with ``/``) as a path that
    resolves inside ``root``; None when it would leave it."""
    target = (root / name.lstrip("/")) if name.startswith("/") else (base / name)
    try:
        resolved = target.resolve()
        resolved.relative_to(root.resolve())
    except (OSError, ValueError, RuntimeError):
        return None
    return resolved
