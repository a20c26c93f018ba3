"""PDF text (pypdf) with its headings set apart: larger or bold short lines become headings.

pypdf extracts a page's text line by line and reports, for each piece, its font and size.
The size most of the text is set in is the body size; a short line set larger, or wholly in
bold, that does not end a sentence is a heading (larger sizes are higher levels). Lines
further apart than the body's line spacing start a new paragraph, and lines starting with a
bullet start a list item; a bold word inside a line is just a word. Trade-offs: scanned
PDFs have no text and are skipped rather than OCR'd; a PDF has no source lines to cite, so
its citations name the section only; a layout with no size or weight differences reads as
paragraphs, as before.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.blocks import Block
from ingest.decoding import repair
from ingest.errors import SkipFile
from ingest.reading import RawFile, Read, normalise

_BULLET = re.compile(r"^\s*(?:[•◦▪▫‣∙·●○■□–-]|\d{1,3}[.)])\s+")
_HEADING_LIKE = re.compile(r"^#{1,6}(?=[ \t]|$)")
MAX_HEADING_WORDS = 12
LARGER = 1.15  # a heading's size over the body's


@dataclass
class _Line:
    text: str = ""
    y: float = math.nan
    sizes: Counter[float] = field(default_factory=Counter)
    bold: int = 0  # characters set in a bold face

    def add(self, text: str, size: float, bold: bool, y: float) -> None:
        self.text += text
        chars = len(text.strip())
        if chars:
            self.sizes[size] += chars
            self.bold += chars if bold else 0
            self.y = y if math.isnan(self.y) else self.y

    @property
    def size(self) -> float:
        return self.sizes.most_common(1)[0][0] if self.sizes else 0.0

    @property
    def all_bold(self) -> bool:
        return self.bold >= sum(self.sizes.values()) > 0


def _scale(m: list[float]) -> float:
    return math.hypot(m[2], m[3]) or 1.0


def _page_lines(page: object) -> list[_Line]:
    lines = [_Line()]

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        name = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
        bold = bool(re.search(r"bold|black|heavy|semibold", name, re.I))
        parts = text.split("\n")
        for n, part in enumerate(parts):
            if n:
                lines.append(_Line())
            y = tm[5] * _scale(cm) + cm[5]
            lines[-1].add(part, round(size * _scale(tm) * _scale(cm), 1), bold, y)

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return [ln for ln in lines if ln.text.strip()]


def pdf_lines(data: bytes) -> list[list[_Line]]:
    """The text lines of each page, with their size and weight.

    Raises:
        SkipFile: encrypted, unreadable, or no text (scanned).
    """
    import pypdf  # only PDF ingest pays for importing pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # e.g. AES without the cryptography package
                raise SkipFile("encrypted PDF") from exc
            if opened == pypdf.PasswordType.NOT_DECRYPTED:
                raise SkipFile("encrypted PDF")
        pages = [_page_lines(page) for page in reader.pages]
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many types for broken files
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise SkipFile(f"unreadable PDF: {reason}") from exc
    if not any(ln.text.strip() for page in pages for ln in page):
        raise SkipFile("PDF has no extractable text (scanned images?)")
    return pages


def _levels(pages: list[list[_Line]], body: float) -> dict[float, int]:
    sizes = sorted({ln.size for page in pages for ln in page if ln.size >= body * LARGER},
                   reverse=True)
    return {s: min(6, n + 1) for n, s in enumerate(sizes)}


def _heading_level(line: _Line, body: float, levels: dict[float, int]) -> int:
    text = line.text.strip()
    words = len(text.split())
    if not 0 < words <= MAX_HEADING_WORDS or text.endswith((".", ",", ";", ":")) \
            or text[:1].islower() or _BULLET.match(text):
        return 0
    if line.size in levels:
        return levels[line.size]
    if line.all_bold and line.size >= body * 0.95:
        return min(6, len(levels) + 1)
    return 0


def read_pdf(raw: RawFile) -> Read:
    """A text PDF as headings, paragraphs and list items (no source lines: -1)."""
    pages = pdf_lines(raw.data)
    sizes: Counter[float] = Counter()
    for page in pages:
        for ln in page:
            sizes.update(ln.sizes)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    levels = _levels(pages, body)
    blocks: list[Block] = []
    for page in pages:
        blocks += _page_blocks(page, body, levels)
    return Read(blocks)


def _page_blocks(page: list[_Line], body: float, levels: dict[float, int]) -> list[Block]:
    gaps = sorted(abs(a.y - b.y) for a, b in zip(page, page[1:], strict=False)
                  if a.size == b.size and not math.isnan(a.y - b.y) and a.y != b.y)
    spacing = gaps[len(gaps) // 2] if gaps else 0.0
    out: list[Block] = []
    parts: list[str] = []
    item = False

    def flush() -> None:
        if parts:
            text = _clean(" ".join(parts))
            out.append(Block(f"- {text}" if item else text, -1, joined=item and bool(out)
                             and out[-1].text.startswith("- ")))
            parts.clear()

    prev: _Line | None = None
    for line in page:
        text = line.text.strip()
        level = _heading_level(line, body, levels)
        far = prev is not None and spacing and abs(prev.y - line.y) > spacing * 1.4
        if level:
            flush()
            out.append(Block(f"{'#' * level} {_clean(text)}", -1))
        else:
            bullet = _BULLET.match(text)
            if bullet or far or not parts:
                flush()
                item = bool(bullet)
                text = text[bullet.end():] if bullet else text
            parts.append(text)
        prev = line
    flush()
    return out


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", normalise(repair(text))).strip()
    # A line of body text that starts with "# " is not a heading: a no-break space after the
    # marks keeps the chunker from reading it as one.
    return _HEADING_LIKE.sub(lambda m: m.group() + "\u00a0", text) if _HEADING_LIKE.match(text) \
        else text
