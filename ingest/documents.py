"""Find, read, decode and clean source files (Markdown, text, HTML, PDF, Word, notebooks).

Trade-offs: decoding prefers certainty over cleverness (BOM, then strict UTF-8, then
charset-normalizer, then latin-1, which never fails), and mojibake repair is left to ftfy
except for one narrow, explained Mac Roman rule ftfy does not cover. Markdown and plain text
become clean blocks in ``ingest.blocks`` (a real Markdown parser; layout rules for text), each
remembering its source line. HTML goes through the stdlib parser, so badly broken markup
yields text that is imperfect but never contains tags or script. PDF text is whatever pypdf
extracts: scanned PDFs have none and are skipped rather than OCR'd. A document without a
title takes its first heading, else its first short line, else its file name.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingest.blocks import Block, join_blocks, looks_like_heading, markdown_blocks, text_blocks
from ingest.decoding import decode_bytes, looks_binary, repair
from ingest.errors import SkipFile  # re-exported: part of this module's API
from ingest.files import read_file, scan
from ingest.formats import html_to_text, pdf_text
from ingest.readers import READERS

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", *READERS})




@dataclass(frozen=True)
class Document:
    """One cleaned source file; chunk spans index into ``text``."""

    path: str
    text: str
    metadata: dict[str, Any]
    warnings: tuple[str, ...] = ()
    lines: tuple[tuple[int, int], ...] = ()  # (offset in text, 0-based source line) per block

    def line_at(self, offset: int) -> int:
        """The 1-based source line the text at ``offset`` comes from (0: not known)."""
        i = bisect.bisect_right(self.lines, (offset, float("inf"))) - 1
        return self.lines[i][1] + 1 if i >= 0 else 0


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """``ingest.files.scan`` as ``(files, errors)``: the supported regular files under
    ``paths``, and ``(path, reason)`` for named paths that do not exist or are unsupported."""
    found = scan(paths, SUPPORTED_SUFFIXES)
    return found.files, found.missing


def load_document(path: Path, max_bytes: int = 20_000_000, data: bytes | None = None) -> Document:
    """Read, decode and clean one file.

    Args:
        path: The file to read; its suffix picks the format.
        max_bytes: Larger files are skipped before being read.
        data: The file's bytes when the caller has read them already (``read_file``).

    Returns:
        The cleaned Document with metadata (``title`` and ``format`` always present).

    Raises:
        SkipFile: not a regular file, too large, unreadable, binary, empty after cleaning,
            or a PDF that is encrypted, broken or has no extractable text.
    """
    path = Path(path)
    if data is None:
        data = read_file(path, max_bytes)
    suffix = path.suffix.lower()
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    html_title = ""
    lines: tuple[tuple[int, int], ...] = ()
    if suffix == ".pdf":
        fmt, body = "pdf", clean_text(repair(pdf_text(data)), "pdf")
    elif suffix in READERS:  # .docx, .ipynb (ingest/readers.py): Markdown and a title
        fmt, read = READERS[suffix]
        raw, meta["title"] = read(data, decode_bytes)
        body = clean_text(repair(raw), "markdown")
    else:
        if looks_binary(data):
            raise SkipFile("binary file, not text")
        text = decode_bytes(data)
        if suffix in (".html", ".htm"):
            fmt = "html"
            raw, html_title = html_to_text(text)
            body = _clean_common(raw)
        else:
            meta, text, warning, skipped = _split_front_matter(text)
            warnings.extend([warning] if warning else [])
            is_md = suffix != ".txt" or _MD_HEADING.search(text) is not None
            fmt = "markdown" if is_md else "text"
            body, lines = structured_text(text, fmt, skipped, front_matter_blocks(meta),
                                          warnings)
    if not body:
        raise SkipFile("empty file")
    if not meta.get("title"):
        meta["title"] = html_title or (first_title(body) if fmt != "pdf" else "") or path.stem
    meta["format"] = fmt
    return Document(str(path.resolve().as_posix()), body, meta, tuple(warnings), lines)


def first_title(body: str) -> str:
    """The first heading, else the first short title-like line near the top, else ""."""
    heading = re.search(r"^#{1,6} +(.+)$", body, re.M)
    if heading:  # the closing run stripped as text: ``(.+?)[ #]*$`` is quadratic in a line
        return (heading.group(1).rstrip(" #") or heading.group(1)).strip()
    for line in [ln for ln in body.split("\n") if ln.strip()][:5]:
        if len(line.split()) >= 2 and looks_like_heading(line.lstrip("# ")):
            return line.lstrip("# ").strip()
    return ""


_MD_HEADING = re.compile(r"^#{1,6} ", re.M)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_LIST_KEYS = ("tags", "aliases")


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, str, int]:
    """(metadata, body, warning, lines before the body) of a text with optional front matter."""
    match = _FRONT_MATTER.match(text)
    # A block whose first line is not "key:" is two horizontal rules, not front matter.
    if not match or not re.match(r"\s*[\w-]+\s*:", match.group(1)):
        return {}, text, "", 0
    body = text[match.end() :]
    skipped = text[: match.end()].count("\n")
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        reason = str(exc).strip().splitlines()[0]
        return {}, body, f"malformed front matter: {reason}; ingested without metadata", skipped
    if not isinstance(loaded, dict):
        return ({}, body, "malformed front matter: not a mapping; ingested without metadata",
                skipped)
    meta: dict[str, Any] = {}
    for key, value in loaded.items():
        key = str(key)
        if key in _LIST_KEYS:
            items = value.split(",") if isinstance(value, str) else value
            if isinstance(items, list):
                # Scalars only: str() of a nested list built from YAML aliases ("billion
                # laughs") is exponentially long and would hang the ingest.
                meta[key] = [
                    str(v).strip().lstrip("#")
                    for v in items
                    if isinstance(v, str | int | float) and str(v).strip()
                ]
        elif isinstance(value, bool | int | float | str):
            meta[key] = value.strip() if isinstance(value, str) else value
        elif isinstance(value, dt.date | dt.datetime):
            meta[key] = value.isoformat()
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            meta[key] = ", ".join(str(v) for v in value)  # flat lists read fine as text
        # Nested mappings and None carry nothing a citation or filter can use: dropped.
    if "title" in meta:
        meta["title"] = str(meta["title"])
    return meta, body, "", skipped


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
        return _clean_common(html_to_text(text)[0])
    if fmt in ("markdown", "text"):
        return structured_text(text, fmt)[0]
    return _clean_common(text)


def structured_text(text: str, fmt: str, first_line: int = 0, lead: list[Block] | None = None,
                    warnings: list[str] | None = None
                    ) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Markdown or plain text as clean blocks (after ``lead`` ones): the body and its
    (offset, source line) map; what could not be read is added to ``warnings``."""
    # Character-level cleanup first, so the blocks' offsets hold for the final text.
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text.replace("\r\n", "\n")
                                                       .replace("\r", "\n")))
    if fmt == "markdown":
        blocks = markdown_blocks(text, first_line, warnings)  # it decodes entities itself
    else:
        blocks = text_blocks(html.unescape(text), first_line)
    return join_blocks([*(lead or []), *blocks])


_PROSE_SKIP = re.compile(r"^(?:https?://|/|\d{4}-\d\d|\w{3} \w{3} \d)|\.(?:png|jpe?g|svg|gif)$", re.I)


def front_matter_blocks(meta: dict[str, Any]) -> list[Block]:
    """Front matter that is prose (a description, prerequisites, objectives) as a paragraph
    each, so questions about it can be answered; titles, tags, ids, dates and URLs stay
    metadata only."""
    out = []
    for key, value in meta.items():
        if key in ("title", "aliases", "tags"):
            continue
        items = [str(v).strip() for v in (value if isinstance(value, list) else [value])]
        prose = [v for v in items if len(v.split()) >= 3 and not _PROSE_SKIP.search(v)]
        if prose and len(prose) == len(items):
            name = re.sub(r"(?<=[a-z])(?=[A-Z])|[_-]+", " ", str(key)).strip().capitalize()
            text = "; ".join(prose)
            out.append(Block(f"{name}: {text}{'' if text.endswith(('.', '!', '?')) else '.'}", 0))
    return out


_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean_common(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = re.sub(r"(?<![ \t\u00a0])[ \t\u00a0]+$", "", text, flags=re.M)  # from a run's start
    return re.sub(r"\n{3,}", "\n\n", text).strip()
