"""Text out of Word (.docx, python-docx) and Jupyter (.ipynb, nbformat) files, as Markdown.

Both come out as Markdown (headings, bullets, fenced code), so the rest of ingest treats them
like any Markdown file: the same cleaning, heading-aware chunking and char spans, and sections
in citations. Trade-offs, measured against llama-index-readers-file (eval/BENCHMARKS.md):
its DocxReader (docx2txt) flattens headings and list styles into bare lines, and its
IPYNBReader pulls in nbconvert to export a Python script in which Markdown cells become
comments. python-docx keeps the paragraph styles and nbformat reads the cells as they are, for
fewer dependencies. Each library is imported only when a file of its type is read.

Hostile files are refused before a parser sees them: a .docx must be a zip archive holding
``word/document.xml`` whose XML parts unpack to at most ``MAX_UNZIPPED_BYTES``, counted as
they are unpacked (``ingest.archives.unzip_counted``), whatever its directory declares; python-docx
then reads a copy of the archive holding only those parts (media stay empty: their bytes are
no text). A notebook must be JSON with a list of cells. Outputs of code cells are kept only as
text, and each is capped, so a notebook full of images or logs does not drown its prose.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from ingest.archives import unzip_counted
from ingest.errors import SkipFile, first_line

MAX_UNZIPPED_BYTES = 64_000_000  # a Word file's XML parts, unpacked (lxml needs several times that)
MAX_DECLARED_BYTES = 200_000_000  # all its parts as its directory declares them: refused early
MAX_OUTPUT_CHARS = 2_000  # per code-cell output kept in a notebook's text
_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre)\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^list\b", re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _docx_parts(data: bytes) -> bytes:
    """A copy of the Word archive ``data`` holding its XML parts, unpacked by what is read
    and stored uncompressed, other parts empty: all python-docx needs for the text.

    Raises:
        SkipFile: not a Word archive, or its XML unpacks to more than ``MAX_UNZIPPED_BYTES``.
    """
    parts = unzip_counted(data, lambda n: n.endswith((".xml", ".rels")), MAX_UNZIPPED_BYTES,
                          "Word document")
    if "word/document.xml" not in parts:
        raise SkipFile("not a Word document: the archive has no word/document.xml")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    declared = sum(i.file_size for i in infos)
    if declared > MAX_DECLARED_BYTES:
        raise SkipFile(f"Word archive unpacks to {declared / 1e6:,.0f} MB, over the "
                       f"{MAX_DECLARED_BYTES / 1e6:,.0f} MB limit (a zip bomb?)")
    names = [i.filename for i in infos]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for name in dict.fromkeys(names):
            copy.writestr(name, parts.get(name, b""))
    return out.getvalue()


def _paragraph_markdown(par: Any) -> str:
    text = par.text.strip()
    if not text:
        return ""
    style = (par.style.name if par.style is not None else "") or ""
    heading = _HEADING_STYLE.match(style)
    if style.lower() == "title":
        return f"# {text}"
    if heading:
        return f"{'#' * min(int(heading.group(1)), 6)} {text}"
    if _LIST_STYLE.match(style):
        return f"- {text}"
    return text


def _table_markdown(table: Any) -> str:
    """A Markdown table: the first row is taken as its header."""
    rows = []
    for row in table.rows:
        cells = [" ".join(c.text.split()).replace("|", "/") for c in row.cells]
        rows.append("| " + " | ".join(cells) + " |")
        if len(rows) == 1:
            rows.append("|" + " --- |" * len(cells))
    return "\n".join(rows)


def _first_heading(markdown: str) -> str:
    m = re.search(r"^#{1,6} +(.+)$", markdown, re.M)  # not (.+?)[ #]*$: quadratic in a line
    return (m.group(1).rstrip(" #") or m.group(1)).strip() if m else ""


def docx_text(data: bytes, decode: Callable[[bytes], str]) -> tuple[str, str]:
    """Markdown of a Word document: headings from paragraph styles, list items as bullets,
    tables as pipe rows, in document order; and its title (first heading, else the file's
    title property).

    Raises:
        SkipFile: not a Word archive, too large unpacked, or unreadable.
    """
    package = _docx_parts(data)
    import docx  # only .docx ingest pays for python-docx (and lxml)

    try:
        document = docx.Document(io.BytesIO(package))
        blocks = []
        for item in document.iter_inner_content():
            is_table = hasattr(item, "rows")
            blocks.append(_table_markdown(item) if is_table else _paragraph_markdown(item))
        title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx and lxml raise many types for broken parts
        raise SkipFile(f"unreadable Word document: {first_line(exc)}") from exc
    body = "\n\n".join(b for b in blocks if b)
    return body, _first_heading(body) or title


def _output_text(output: Any) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
    elif kind in ("execute_result", "display_data"):
        text = output.get("data", {}).get("text/plain", "")
    else:  # errors: tracebacks are noise for answering
        return ""
    text = _ANSI.sub("", "".join(text) if isinstance(text, list) else str(text)).strip()
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS].rstrip() + "\n..."
    return text


def _fence(text: str, lang: str) -> str:
    ticks = "```"
    while ticks in text:  # a fence longer than any run of backticks inside
        ticks += "`"
    return f"{ticks}{lang}\n{text}\n{ticks}"


def ipynb_text(data: bytes, decode: Callable[[bytes], str]) -> tuple[str, str]:
    """Markdown of a Jupyter notebook: Markdown cells as they are, code cells and their text
    outputs as fenced blocks; and its title (the first heading of a Markdown cell, never a
    comment in code).

    Raises:
        SkipFile: not JSON, or JSON that is not a notebook.
    """
    import nbformat  # only .ipynb ingest pays for nbformat

    text = decode(data)
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SkipFile(f"not a Jupyter notebook: invalid JSON ({first_line(exc)})") from exc
    cells = raw.get("cells", raw.get("worksheets")) if isinstance(raw, dict) else None
    if not isinstance(cells, list):  # "worksheets": the old (v3) layout, converted below
        raise SkipFile("not a Jupyter notebook: no list of cells")
    try:
        nb = nbformat.from_dict(raw)
        if nb.get("nbformat", 4) < 4:
            nb = nbformat.convert(nb, 4)
        meta = nb.get("metadata", {})
        lang = str(meta.get("language_info", {}).get("name", "")
                   or meta.get("kernelspec", {}).get("language", "") or "")
        blocks, prose = [], []
        for cell in nb.cells:
            source = cell.get("source", "")
            source = ("".join(source) if isinstance(source, list) else str(source)).strip()
            if cell.get("cell_type") == "markdown" and source:
                blocks.append(source)
                prose.append(source)
            elif cell.get("cell_type") == "code":
                blocks += [_fence(source, lang)] if source else []
                outs = [_output_text(o) for o in cell.get("outputs", [])]
                blocks += [_fence(o, "text") for o in outs if o]
    except Exception as exc:  # malformed cells (wrong types) in otherwise valid JSON
        raise SkipFile(f"unreadable Jupyter notebook: {first_line(exc)}") from exc
    title = _first_heading("\n\n".join(prose)) or str(meta.get("title", "") or "")
    return "\n\n".join(blocks), title

