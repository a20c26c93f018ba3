"""Find, read, decode and clean source files (Markdown, text, HTML, PDF) into Documents.

Trade-offs: decoding prefers certainty over cleverness (BOM, then strict UTF-8, then
charset-normalizer, then latin-1, which never fails), and mojibake repair is left to ftfy
except for one narrow, explained Mac Roman rule ftfy does not cover. Markdown cleanup uses
regexes rather than a full renderer: it only removes what pollutes retrieval (images,
tracking URLs, rules, emphasis markers) and keeps headings and list markers, which the
chunker needs. HTML goes through the stdlib parser, so badly broken markup yields text that
is imperfect but never contains tags or script. PDF text is whatever pypdf extracts: scanned
PDFs have none and are skipped rather than OCR'd.
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import ftfy
import yaml

from ingest.errors import SkipFile  # re-exported: part of this module's API
from ingest.files import read_file, scan
from ingest.formats import html_to_text, pdf_text

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})




@dataclass(frozen=True)
class Document:
    """One cleaned source file; chunk spans index into ``text``."""

    path: str
    text: str
    metadata: dict[str, Any]
    warnings: tuple[str, ...] = ()


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
    if suffix == ".pdf":
        fmt, body = "pdf", clean_text(_repair(pdf_text(data)), "pdf")
    else:
        if _looks_binary(data):
            raise SkipFile("binary file, not text")
        text = decode_bytes(data)
        if suffix in (".html", ".htm"):
            fmt = "html"
            raw, html_title = html_to_text(text)
            body = _clean_common(raw)
        else:
            meta, text, warning = _split_front_matter(text)
            warnings.extend([warning] if warning else [])
            is_md = suffix != ".txt" or _MD_HEADING.search(text) is not None
            fmt = "markdown" if is_md else "text"
            body = clean_text(text, fmt)
    if not body:
        raise SkipFile("empty file")
    if not meta.get("title"):
        heading = re.search(r"^# +(.+?)[ #]*$", body, re.M) if fmt != "pdf" else None
        meta["title"] = heading.group(1).strip() if heading else html_title or path.stem
    meta["format"] = fmt
    return Document(str(path.resolve().as_posix()), body, meta, tuple(warnings))


def _looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        return False  # UTF-16/32 text is full of NULs; the UTF-16 LE BOM prefixes UTF-32 LE
    sample = data[:8192]
    # Like git: NUL means binary; many other C0 controls mean it is not prose either.
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f\x1b")
    return b"\x00" in sample or controls > len(sample) * 0.05


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_bytes(data: bytes) -> str:
    """Decode bytes of unknown encoding and repair mojibake; never fails.

    Args:
        data: Raw file content.

    Returns:
        The text: BOM encoding, else strict UTF-8, else charset-normalizer's guess
        (cp1252 when it ties with the best guess), else latin-1; then mojibake-repaired.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _repair(data[len(bom) :].decode(encoding, errors="replace"))
    try:
        return _repair(data.decode("utf-8"))  # decode() is the only thing that can raise here
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    try:
        matches = charset_normalizer.from_bytes(data)
        best = matches.best()
        if best is not None:
            text = str(best)
            # Short Western text is often a tie between cp1250 and cp1252; cp1252 is the
            # common one, and picking cp1250 turns "naïve" into "naďve".
            ties = [m for m in matches if m.chaos == best.chaos]
            if any("cp1252" in m.could_be_from_charset for m in ties):
                text = data.decode("cp1252")
    except (UnicodeDecodeError, LookupError, RuntimeError):
        pass
    return _repair(text)


def _macroman_class(byte_range: range) -> str:
    return "".join(re.escape(bytes([b]).decode("mac_roman")) for b in byte_range)


# UTF-8 that was decoded as Mac Roman and saved again (seed 002: "‚Üí" for "→"). ftfy
# leaves most of it and even makes "‚Üí" worse by uncurling "‚", so undo exactly that: a
# Mac Roman rendering of a 3- or 4-byte UTF-8 sequence, or of a 2-byte one led by C2/C3
# (Latin-1 range), decoded back when it is valid UTF-8. Other 2-byte leads are skipped
# because real text like "’é" would match them.
_CONT = _macroman_class(range(0x80, 0xC0))
_MACROMAN_MOJIBAKE = re.compile(
    f"(?:[{_macroman_class(range(0xF0, 0xF5))}][{_CONT}]{{3}}"
    f"|[{_macroman_class(range(0xE0, 0xF0))}][{_CONT}]{{2}}"
    f"|[{_macroman_class(range(0xC2, 0xC4))}][{_CONT}])+"
)


def _fix_macroman(match: re.Match[str]) -> str:
    try:
        return match.group().encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return match.group()


def _repair(text: str) -> str:
    text = _MACROMAN_MOJIBAKE.sub(_fix_macroman, text)
    # Curly quotes are kept (they are what the author wrote); entities are handled later,
    # outside code blocks.
    return ftfy.fix_text(text, uncurl_quotes=False, unescape_html=False)


_MD_HEADING = re.compile(r"^#{1,6} ", re.M)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_LIST_KEYS = ("tags", "aliases")


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, str]:
    match = _FRONT_MATTER.match(text)
    # A block whose first line is not "key:" is two horizontal rules, not front matter.
    if not match or not re.match(r"\s*[\w-]+\s*:", match.group(1)):
        return {}, text, ""
    body = text[match.end() :]
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        reason = str(exc).strip().splitlines()[0]
        return {}, body, f"malformed front matter: {reason}; ingested without metadata"
    if not isinstance(loaded, dict):
        return {}, body, "malformed front matter: not a mapping; ingested without metadata"
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
    return meta, body, ""


def clean_text(text: str, fmt: str) -> str:
    """Clean decoded text of one format into the indexed body.

    Args:
        text: Decoded, repaired text (front matter already removed).
        fmt: "markdown", "text", "html" or "pdf".

    Returns:
        Body text: entities unescaped (markdown/text), markup noise removed, NFC, no
        zero-width or control characters, no trailing spaces, at most one blank line.
    """
    if fmt == "html":
        return _clean_common(html_to_text(text)[0])
    if fmt in ("markdown", "text"):
        parts = _FENCE.split(text)  # odd items are fenced code blocks, left verbatim
        for i in range(0, len(parts), 2):
            parts[i] = _clean_markdown(parts[i]) if fmt == "markdown" else _clean_prose(parts[i])
        text = "".join(parts)
    return _clean_common(text)


_FENCE = re.compile(r"(^ {0,3}(?:```|~~~).*?(?:^ {0,3}(?:```|~~~)[ \t]*$|\Z))", re.M | re.S)
_LINKED_IMAGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"<?https?://[^\s<>)\]]+>?")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_STRONG = re.compile(r"(\*\*|(?<!\w)__)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_CODE_SPAN = re.compile(r"(`+[^`]*`+)")
_RAW_HTML = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<img\b[^>]*>", re.I | re.S)


def _drop_url(match: re.Match[str]) -> str:
    url = match.group().strip("<>")
    # Long or query-carrying URLs are tracking/CDN noise that only dilutes embeddings.
    return "" if len(url) > 80 or "?" in url else url


def _clean_prose(text: str) -> str:
    return _URL.sub(_drop_url, html.unescape(text))


def _clean_markdown(text: str) -> str:
    text = _RAW_HTML.sub("", text)
    text = _LINKED_IMAGE.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _RULE.sub("", text)
    pieces = _CODE_SPAN.split(text)  # inline code keeps its __dunder__ names
    for i in range(0, len(pieces), 2):
        pieces[i] = _STRONG.sub(r"\2", _clean_prose(pieces[i]))
    return "".join(pieces)


_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean_common(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = re.sub(r"[ \t\u00a0]+$", "", text, flags=re.M)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
