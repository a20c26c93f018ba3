"""Word (.docx) and Jupyter (.ipynb) documents: real files made here with python-docx and
nbformat, ingested through ``Assistant``: read as Markdown (what ``Assistant.document`` gives
back), answerable with citations, and hostile ones skipped with a one-line reason."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import docx
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from app import Assistant
from tests.conftest import indexed, read_folder

CHAOS = ("Chaos engineering is the practice of injecting controlled failures into production "
         "systems to build confidence that they withstand turbulent conditions.")
FEATURES = ("A feature store is a central service that stores, versions and serves machine "
            "learning features so that training and inference compute them the same way.")


def make_docx(path: Path) -> Path:
    d = docx.Document()
    d.core_properties.title = "old template title"
    d.add_heading("Chaos engineering", level=1)
    d.add_heading("Definition", level=2)
    d.add_paragraph(CHAOS)
    d.add_heading("Tools", level=2)
    for tool in ("Chaos Mesh", "LitmusChaos", "Gremlin"):
        d.add_paragraph(tool, style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "signal", (0, 1): "limit", (1, 0): "error rate",
                         (1, 1): "2 | 3 %"}.items():
        table.cell(r, c).text = text
    d.save(str(path))
    return path


def make_notebook(path: Path, **extra_outputs: object) -> Path:
    nb = new_notebook(metadata={"language_info": {"name": "python"}})
    nb.cells.append(new_markdown_cell(f"# Feature stores\n\n## Definition\n\n{FEATURES}"))
    code = new_code_cell("# load the features\nstore.get('user_clicks')")
    code.outputs = [new_output("stream", name="stdout", text="\x1b[32m42 rows\x1b[0m\n"),
                    new_output("error", ename="KeyError", evalue="x", traceback=["Traceback"]),
                    new_output("display_data", data={"image/png": "iVBORw0" * 50_000})]
    code.outputs += [new_output("execute_result", data={"text/plain": v}, execution_count=1)
                     for v in extra_outputs.values()]
    nb.cells.append(code)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """One index over a Word document and a notebook (with a 50 000-character output):
    (assistant, report, folder)."""
    tmp = tmp_path_factory.mktemp("readers")
    docs = tmp / "docs"
    docs.mkdir()
    make_docx(docs / "chaos.docx")
    make_notebook(docs / "features.ipynb", big="y" * 50_000)
    bot, report = read_folder(docs, tmp / "idx")
    return bot, report, docs


def test_docx_reads_as_markdown(both):
    bot, _, docs = both
    text, sections = indexed(bot, docs / "chaos.docx")
    first = bot.document(str((docs / "chaos.docx").resolve()))[0]
    assert first.title == "Chaos engineering"  # the first heading, not the template's title
    assert sections[0] == "Chaos engineering > Definition" and text.startswith(CHAOS)
    assert "Chaos engineering > Tools" in sections
    assert "- Chaos Mesh\n- LitmusChaos" in text
    assert "- error rate | 2 / 3 %" in text  # a table's rows; its header row names columns


def test_ipynb_reads_as_markdown(both):
    bot, _, docs = both
    text, sections = indexed(bot, docs / "features.ipynb")
    first = bot.document(str((docs / "features.ipynb").resolve()))[0]
    assert first.title == "Feature stores"
    assert sections[0] == "Feature stores > Definition" and text.startswith(FEATURES)
    assert "```python\n# load the features\nstore.get('user_clicks')\n```" in text
    assert "```text\n42 rows\n```" in text  # colour codes dropped
    assert "Traceback" not in text and "iVBOR" not in text  # errors, images dropped
    ys = re.findall(r"y{100,}", text)  # the 50 000-character output, cut short and marked
    assert len(ys) == 1 and 100 <= len(ys[0]) <= 5_000
    assert ys[0] + "\n..." in text


def test_ingest_finds_docx_and_ipynb(both):
    _, report, _ = both
    assert sorted(Path(p).name for p in report.added) == ["chaos.docx", "features.ipynb"]
    assert not report.skipped and not report.ignored


def test_docx_and_ipynb_are_answerable_with_citations(both):
    bot, _, _ = both
    for question, name, fact in (("What is chaos engineering?", "chaos.docx", "controlled failures"),
                                 ("What is a feature store?", "features.ipynb", "central service")):
        ans = bot.ask(question)
        assert not ans.refused and fact in ans.text and "[1]" in ans.text
        top = ans.sources[0]
        assert Path(top.path).name == name and top.section.endswith("Definition")
        # the citation's span is that passage of the whole document, as the UI shows it
        held = [p for p in bot.document(top.path) if (p.start, p.end) == (top.start, top.end)]
        assert [p.text for p in held] == [top.text]


def _zip(members: dict[str, bytes], big: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if big:  # a zip bomb: megabytes of zeros that pack into a few kilobytes each
            with zf.open("word/media/pad.bin", "w", force_zip64=True) as fh:
                block = bytes(1 << 20)
                for _ in range(big):
                    fh.write(block)
    return buf.getvalue()


def _truncated_docx(tmp_path: Path) -> bytes:
    return make_docx(tmp_path / "whole.docx").read_bytes()[:3000]


HOSTILE = [
    ("text.docx", lambda _: b"just some text, not a zip archive", "not a Word document"),
    ("truncated.docx", _truncated_docx, "not a Word document"),
    ("other.docx", lambda _: _zip({"hello.txt": b"hi"}), "has no word/document.xml"),
    ("bomb.docx", lambda _: _zip({"word/document.xml": b"<x/>"}, big=210), "zip bomb"),
    ("broken.docx", lambda _: _zip({"word/document.xml": b"<w:document><unclosed>"}),
     "unreadable Word document"),
    ("text.ipynb", lambda _: b"print('not json')", "invalid JSON"),
    ("deep.ipynb", lambda _: b"[" * 200_000, "invalid JSON"),
    ("list.ipynb", lambda _: b"[1, 2, 3]", "no list of cells"),
    ("cells.ipynb", lambda _: json.dumps({"cells": [1, "x"]}).encode(), "unreadable Jupyter"),
    ("binary.ipynb", lambda _: bytes(range(256)) * 8, "invalid JSON"),
    ("empty.ipynb", lambda _: nbformat.writes(new_notebook()).encode(), "empty file"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every hostile file of ``HOSTILE`` beside one good document, ingested once: the reasons
    the report gives, by file name."""
    tmp = tmp_path_factory.mktemp("hostile")
    docs = tmp / "docs"
    docs.mkdir()
    for name, make, _ in HOSTILE:
        (docs / name).write_bytes(make(tmp))
    make_docx(docs / "chaos.docx")
    _, report = read_folder(docs, tmp / "idx")
    assert [Path(p).name for p in report.added] == ["chaos.docx"]
    return {Path(p).name: why for p, why in report.skipped}


@pytest.mark.parametrize(("name", "make", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_skipped_with_a_reason(hostile, name, make, reason):
    assert name in hostile, sorted(hostile)
    assert re.search(reason, hostile[name]), hostile[name]
    assert "\n" not in hostile[name] and len(hostile[name]) < 200


def test_hostile_files_leave_the_index_answering(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "chaos.docx")
    (docs / "bomb.docx").write_bytes(_zip({"word/document.xml": b"<x/>"}, big=210))
    (docs / "fake.ipynb").write_text("{ not json", encoding="utf-8")
    big = make_notebook(docs / "huge.ipynb", big="z" * 3_000_000)
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False, max_file_mb=2)
    report = bot.ingest([docs])
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert set(skipped) == {"bomb.docx", "fake.ipynb", "huge.ipynb"}, skipped
    assert "zip bomb" in skipped["bomb.docx"] and "invalid JSON" in skipped["fake.ipynb"]
    assert "over the 2.0 MB limit" in skipped["huge.ipynb"] and big.stat().st_size > 2_000_000
    assert [Path(p).name for p in report.added] == ["chaos.docx"]
    assert not bot.ask("What is chaos engineering?").refused
