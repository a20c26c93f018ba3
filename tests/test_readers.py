"""Word (.docx) and Jupyter (.ipynb) documents: real files made here with python-docx and
nbformat, read as Markdown, answerable with citations, and hostile ones skipped with a reason."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import docx
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from app import Assistant
from ingest.document_loader import SkipFile, discover, load_document
from ingest.docx_ipynb import MAX_OUTPUT_CHARS

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


def test_docx_reads_as_markdown(tmp_path):
    doc = load_document(make_docx(tmp_path / "chaos.docx"))
    assert doc.metadata == {"title": "Chaos engineering", "format": "docx"}
    assert doc.text.startswith("# Chaos engineering\n\n## Definition\n\n" + CHAOS)
    assert "- Chaos Mesh\n- LitmusChaos" in doc.text
    assert "- error rate | 2 / 3 %" in doc.text  # a table's rows; its header row names columns


def test_ipynb_reads_as_markdown(tmp_path):
    doc = load_document(make_notebook(tmp_path / "features.ipynb", big="y" * 50_000))
    assert doc.metadata == {"title": "Feature stores", "format": "notebook"}
    assert doc.text.startswith("# Feature stores\n\n## Definition\n\n" + FEATURES)
    assert "```python\n# load the features\nstore.get('user_clicks')\n```" in doc.text
    assert "```text\n42 rows\n```" in doc.text  # colour codes dropped
    assert "Traceback" not in doc.text and "iVBOR" not in doc.text  # errors, images dropped
    assert "y" * MAX_OUTPUT_CHARS + "\n..." in doc.text and "y" * (MAX_OUTPUT_CHARS + 1) not in doc.text


def test_discover_finds_docx_and_ipynb(tmp_path):
    make_docx(tmp_path / "a.docx")
    make_notebook(tmp_path / "b.ipynb")
    files, errors = discover([tmp_path])
    assert [f.name for f in files] == ["a.docx", "b.ipynb"] and not errors


def test_docx_and_ipynb_are_answerable_with_citations(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "chaos.docx")
    make_notebook(docs / "features.ipynb")
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False)
    report = bot.ingest([docs])
    assert sorted(Path(p).name for p in report.added) == ["chaos.docx", "features.ipynb"]
    for question, name, fact in (("What is chaos engineering?", "chaos.docx", "controlled failures"),
                                 ("What is a feature store?", "features.ipynb", "central service")):
        ans = bot.ask(question)
        assert not ans.refused and fact in ans.text and "[1]" in ans.text
        top = ans.sources[0]
        assert Path(top.path).name == name and top.section.endswith("Definition")
        assert load_document(Path(top.path)).text[top.start:top.end] == top.text


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


@pytest.mark.parametrize(("name", "make", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_skipped_with_a_reason(tmp_path, name, make, reason):
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    with pytest.raises(SkipFile, match=reason) as exc:
        load_document(path)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 200


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
