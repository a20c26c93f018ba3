"""What opsqa reads: the one list of document formats, their file types and how each is read.

Every other list derives from ``FORMATS``: discovery (``SUPPORTED_SUFFIXES``), the reader a
file goes to (``format_of``), the CLI's help, the web UI's upload filter and README's list
(a test holds README to it). A file whose type is not here is never read, and ingest names
it with ``NOT_A_DOCUMENT``. Importing this module is cheap: readers import their parsers
only when a file of their type is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.files import NOT_A_DOCUMENT

if TYPE_CHECKING:
    from ingest.reading import RawFile, Read

__all__ = ["FORMATS", "NOT_A_DOCUMENT", "SUPPORTED_SUFFIXES", "Format", "describe", "format_of",
           "suffixes"]


@dataclass(frozen=True)
class Format:
    """One document format: its name (the chunk's ``format`` metadata), file types, what a
    reader calls it, and its reader (bytes and context in, clean blocks out)."""

    name: str
    suffixes: tuple[str, ...]
    label: str
    reader: Callable[[RawFile], Read]


def _lazy(module: str, function: str) -> Callable[[RawFile], Read]:
    """A reader imported on first use, so the list costs nothing to import."""

    def read(raw: RawFile) -> Read:
        import importlib

        return getattr(importlib.import_module(module), function)(raw)

    read.__qualname__ = f"{module}.{function}"
    return read


FORMATS: tuple[Format, ...] = (
    Format("markdown", (".md", ".markdown"), "Markdown", _lazy("ingest.reading", "read_markdown")),
    Format("mdx", (".mdx",), "MDX", _lazy("ingest.reading", "read_markdown")),
    Format("rst", (".rst",), "reStructuredText", _lazy("ingest.rst", "read_rst")),
    Format("asciidoc", (".adoc", ".asciidoc"), "AsciiDoc", _lazy("ingest.asciidoc", "read_asciidoc")),
    Format("text", (".txt",), "plain text", _lazy("ingest.reading", "read_markdown")),
    Format("html", (".html", ".htm"), "HTML", _lazy("ingest.reading", "read_html")),
    Format("pdf", (".pdf",), "PDF", _lazy("ingest.pdf", "read_pdf")),
    Format("docx", (".docx",), "Word", _lazy("ingest.reading", "read_docx")),
    Format("notebook", (".ipynb",), "Jupyter", _lazy("ingest.reading", "read_notebook")),
)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(s for f in FORMATS for s in f.suffixes)
_BY_SUFFIX = {s: f for f in FORMATS for s in f.suffixes}


def format_of(path: str | Path) -> Format | None:
    """The format a file is read as, by its type (case-insensitive); None: not read."""
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def suffixes() -> tuple[str, ...]:
    """Every file type opsqa reads, in the order of ``FORMATS``."""
    return tuple(s for f in FORMATS for s in f.suffixes)


def describe() -> str:
    """One line for help texts: ``.md/.markdown (Markdown), .mdx (MDX), ...``."""
    return ", ".join(f"{'/'.join(f.suffixes)} ({f.label})" for f in FORMATS)
