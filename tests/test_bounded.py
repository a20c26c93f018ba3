"""Bounded time and memory on every input (issue 21, point 1).

Lines built to make a pattern scan far from every position it fails at (runs of spaces,
``{{<`` never closed, endless ``!!!``) are read in linear time; archives are unpacked by what
comes out, not by what their directory declares; and each file is read within a budget of
time and memory, over which it is skipped with the reason. Bounds: the CPU-time cases are
built so that the quadratic code took minutes on each (about 1 s each now); the ingest cases
ingest one small file each (a few seconds).

Internal: the CPU-time and memory bounds are measured on the reader and chunker alone, where
an ingest's embedding time and its reading sandbox would hide what they measure.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from app import Assistant
from ingest.chunking import chunk_document
from ingest.document_loader import Document, SkipFile, first_title, load_document
from ingest.docx_ipynb import docx_text
from ingest.site_syntax import strip_site_syntax
from tests.conftest import indexed, read_folder


def _chunk(text: str) -> object:
    from ingest.embedding import Encoder

    doc = Document("x.md", text, {"title": "T", "format": "markdown"})
    return chunk_document(doc, Encoder().count_tokens)


# (what reads it, the hostile text): sized so the quadratic code took two minutes or more
# on each (measured at a tenth of the size and scaled); the linear code takes a fraction of
# a second.
CASES = {
    "spaces-then-brace": (strip_site_syntax, " " * 160_000 + "x {"),
    "tabs-then-brace": (strip_site_syntax, "a" + "\t " * 80_000 + "x"),
    "shortcode-never-closed": (strip_site_syntax, "{{<" * 53_000),
    "jinja-never-closed": (strip_site_syntax, "{%" * 80_000),
    "include-never-closed": (strip_site_syntax, "{!" * 80_000),
    "attrs-never-closed": (strip_site_syntax, "{:" * 120_000),
    "images-never-closed": (strip_site_syntax, "![" * 200_000 + "]"),
    "stops-without-space": (_chunk, "Words " + "!" * 80_000),
    "heading-of-hashes": (_chunk, "# a" + " #" * 500_000 + " x\n\nbody"),
    "heading-of-numbers": (_chunk, "# " + "1. " * 333_000 + "x\n\nbody"),
    "title-of-hashes": (first_title, "# a" + " #" * 75_000 + " x"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_lines_are_read_in_linear_time(name):
    read, text = CASES[name]
    t0 = time.process_time()
    read(text)
    assert time.process_time() - t0 < 10  # before: 2 to 5 minutes each


@pytest.mark.timeout(120)
def test_a_deeply_nested_list_is_read_in_linear_time(tmp_path, encoder):
    """The issue's 9 MB nested list took 106 s for one chunk: 2 MB of it took 25 s here."""
    path = tmp_path / "nested.md"
    path.write_text("# Nested\n\n" + "".join("  " * d + f"- item {d}\n" for d in range(1400)))
    t0 = time.process_time()
    doc = load_document(path)
    chunk_document(doc, encoder.count_tokens)
    assert time.process_time() - t0 < 5


def test_text_nested_past_the_parsers_limit_is_reported(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deep.md").write_text("# Deep\n\nTop words.\n\n"
                                  + "".join("  " * d + f"- level {d}\n" for d in range(40)))
    bot, report = read_folder(docs, tmp_path / "idx")
    text, _ = indexed(bot, docs / "deep.md")
    assert "level 3" in text and "level 39" not in text
    assert any(Path(p).name == "deep.md" and "nested more than" in w
               for p, w in report.warnings), report.warnings


def lying_docx(real_mb: int, declared: int) -> bytes:
    """A Word archive whose document.xml unpacks to ``real_mb`` MB while its local header and
    the zip directory both declare ``declared`` bytes."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    par = b"<w:p><w:r><w:t>" + b"plain words " * 40 + b"</w:t></w:r></w:p>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"/>')
        with zf.open("word/document.xml", "w") as fh:
            fh.write(f'<w:document xmlns:w="{w}"><w:body>'.encode())
            block = par * (1_000_000 // len(par))
            for _ in range(real_mb):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    data = bytearray(buf.getvalue())
    name = b"word/document.xml"
    for sig, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = data.find(sig)
        while at >= 0:
            if data[at + name_at : at + name_at + len(name)] == name:
                data[at + size_at : at + size_at + 4] = declared.to_bytes(4, "little")
            at = data.find(sig, at + 4)
    return bytes(data)


@pytest.mark.parametrize("declared", [200_000_000, 1_000_000], ids=["honest", "understated"])
def test_docx_is_unpacked_by_what_comes_out(declared):
    """Before: python-docx read the whole member in one call (zipfile inflates up to 1 GB at
    once before cutting at the declared size): 400 MB of Python bytes for this file."""
    data = lying_docx(400, declared)
    tracemalloc.start()
    try:
        with pytest.raises(SkipFile) as exc:
            docx_text(data, bytes.decode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 150_000_000, f"{peak / 1e6:.0f} MB held while reading a {len(data) / 1e6:.1f} MB file"
    reason = str(exc.value)
    assert "more than 64 MB" in reason or "Bad CRC" in reason, reason


def _wide_table(path: Path, columns: int, rows: int) -> Path:
    head = "| " + " | ".join(f"c{i}" for i in range(columns)) + " |\n"
    row = "| " + " | ".join(f"v{i % 97}" for i in range(columns)) + " |\n"
    path.write_text("# Table\n\nA table follows.\n\n" + head + "|" + " --- |" * columns + "\n"
                    + row * rows)
    return path


@pytest.mark.parametrize(("budget", "reason"), [
    # The CPU limit is whole seconds past what the reader has used (1-2 s in all): the parse
    # must take longer than that on a fast machine too, and memory must not run out first.
    ({"max_read_seconds": 1, "max_read_mb": 4096}, "longer than 1 s (max_read_seconds)"),
    ({"max_read_mb": 64}, "more than 64 MB of memory (max_read_mb)"),
], ids=["time", "memory"])
def test_a_file_over_the_read_budget_is_skipped_with_the_reason(tmp_path, budget, reason):
    docs = tmp_path / "docs"
    docs.mkdir()
    _wide_table(docs / "wide.md", 2000, 150)  # 3 MB: 60 rows once parsed within the limit
    (docs / "fine.md").write_text("# Fine\n\nA fine document about release trains.\n")
    (docs / "zed.md").write_text("# Zed\n\nRead after the file over budget, by a new reader.\n")
    # max_file_chunks: should the budget fail to stop it, the table is skipped for its size
    # at once (another reason), rather than embedded for minutes.
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False, max_file_chunks=100,
                         **budget)
    report = bot.ingest([docs])
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert set(skipped) == {"wide.md"}, (skipped, report.added)
    assert reason in skipped["wide.md"], skipped
    assert [Path(p).name for p in report.added] == ["fine.md", "zed.md"]
    assert bot.status()["documents"] == 2


def test_a_file_of_brackets_has_nothing_to_index(tmp_path):
    """550 KB of brackets made 2,231 chunks of nothing (minutes of embedding)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "brackets.md").write_text("[" * 20_000 + "]" * 20_000 + "\n")
    (docs / "mixed.md").write_text("# Mixed\n\nRelease trains leave weekly.\n\n" + "{}" * 5000 + "\n")
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False)
    report = bot.ingest([docs])
    assert [(Path(p).name, why) for p, why in report.skipped] == [("brackets.md", "no text to index")]
    assert report.chunks == 1, "the line of braces is no chunk of its own"


def test_a_file_cut_into_too_many_chunks_is_skipped(tmp_path):
    """800 KB of headings made 20,000 chunks: over max_file_chunks, the file is skipped."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "headings.md").write_text("".join(f"## Part {i}\n\nword {i}\n\n" for i in range(300)))
    (docs / "fine.md").write_text("# Fine\n\nA fine document about release trains.\n")
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False, max_file_chunks=200)
    report = bot.ingest([docs])
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert list(skipped) == ["headings.md"]
    assert "300 chunks, over the 200 limit (max_file_chunks)" in skipped["headings.md"]
    assert [Path(p).name for p in report.added] == ["fine.md"]
