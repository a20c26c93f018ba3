"""Reading files safely: FIFOs and devices never hang an ingest, any file name has a key, and
a symlinked file is indexed under its link (issue 14, points 1, 3 and 4).

Internal imports: ``read_file`` and ``load_document`` refuse a FIFO or device themselves,
behind discovery, which never hands them one; no ingest can reach that second guard.

Bounds: the CLI cases are subprocesses with a 120 s timeout each (a hang fails the test
instead of blocking the suite); the rest are in-process ingests of a few small files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import Assistant
from ingest.document_loader import SkipFile, load_document
from ingest.files import read_file
from tests.conftest import ROOT

DOC = "---\ntitle: {t}\n---\n# {t}\n\n{t} is the practice of {w} in operations teams.\n"


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def hostile_folder(docs: Path) -> None:
    """A good file beside a FIFO, a /dev/zero link, a /dev/null link and a dangling link."""
    write(docs / "good.md", DOC.format(t="Goodops", w="good things"))
    os.mkfifo(docs / "fifo.md")
    (docs / "zero.md").symlink_to("/dev/zero")
    (docs / "null.txt").symlink_to("/dev/null")
    (docs / "gone.md").symlink_to(docs / "nowhere.md")


def test_fifo_and_dev_zero_named_on_the_cli_are_skipped_not_hung(tmp_path):
    docs = tmp_path / "docs"
    hostile_folder(docs)
    args = [str(docs / n) for n in ("fifo.md", "zero.md", "null.txt", "gone.md", "good.md")]
    r = subprocess.run([sys.executable, "-m", "app.cli", "ingest", *args, "--index-dir",
                        str(tmp_path / "i")], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)  # today's code blocks on the FIFO forever
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    err = " ".join(r.stderr.split())  # rich wraps long lines
    assert "fifo.md: cannot read file: it is a named pipe (FIFO), not a regular file" in err
    assert "zero.md: cannot read file: it is a character device, not a regular file" in err
    assert "null.txt: cannot read file: it is a character device" in err
    assert "gone.md: cannot read file: a dangling symbolic link" in err
    assert "files added       │ 1" in r.stdout


def test_fifo_device_and_dangling_link_in_a_folder_are_skipped_with_a_reason(tmp_path):
    docs = tmp_path / "docs"
    hostile_folder(docs)
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert [Path(p).name for p in r.added] == ["good.md"]
    skipped = {Path(p).name: why for p, why in r.skipped}
    assert set(skipped) == {"fifo.md", "zero.md", "null.txt", "gone.md"}, skipped
    assert "named pipe (FIFO)" in skipped["fifo.md"]
    assert "character device" in skipped["zero.md"] and "character device" in skipped["null.txt"]
    assert "dangling symbolic link" in skipped["gone.md"]
    assert r.ok


@pytest.mark.timeout(60)  # today's load_document blocks on the FIFO: fail, do not hang
def test_read_file_checks_the_open_handle(tmp_path):
    """read_file refuses non-regular files itself (not only discovery), and stops reading at
    the limit even when the size it was told is wrong."""
    os.mkfifo(tmp_path / "fifo.md")
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    for name in ("fifo.md", "zero.md"):
        with pytest.raises(SkipFile, match="not a regular file"):
            read_file(tmp_path / name, 1000)
        with pytest.raises(SkipFile, match="not a regular file"):
            load_document(tmp_path / name)
    big = write(tmp_path / "big.md", "x" * 5000)
    with pytest.raises(SkipFile, match="max_file_mb"):
        read_file(big, 1000)
    assert read_file(big, 5000) == b"x" * 5000


def test_undecodable_file_name_is_indexed_and_does_not_abort_the_ingest(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "good.md", DOC.format(t="Goodops", w="good things"))
    raw = os.fsencode(docs)
    with open(raw + b"/bad\xffname.md", "wb") as fh:
        fh.write(DOC.format(t="Zorblaxops", w="quarterly gravel audits").encode())
    os.mkdir(raw + b"/sub\xfe")
    with open(raw + b"/sub\xfe/inner.md", "wb") as fh:
        fh.write(DOC.format(t="Quuxops", w="zebra frobnicator rotation").encode())
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert not r.skipped, r.skipped
    names = sorted(p[len(str(docs.resolve())) + 1:] for p in r.added)
    assert names == ["bad\\xffname.md", "good.md", "sub\\xfe/inner.md"]
    for p in r.added:
        p.encode("utf-8")  # stored names are valid UTF-8
    hit = bot.search("quarterly gravel audits", k=1)[0]
    assert hit.path.endswith("bad\\xffname.md") and "Zorblaxops" in hit.text
    # the raw name and its stored text name the same document
    raw_name = os.fsdecode(raw + b"/bad\xffname.md")
    by_raw, by_text = bot.document(raw_name), bot.document(hit.path)
    assert [p.chunk_id for p in by_raw] == [p.chunk_id for p in by_text] != []
    assert "Zorblaxops" in by_raw[0].text
    assert "Zorblaxops" not in bot.document(str(docs.resolve() / "good.md"))[0].text
    assert bot.document("\ud800 lone surrogate") == []  # any name has a key
    again = bot.ingest([docs])
    assert len(again.unchanged) == 3 and not again.changed
    os.unlink(raw + b"/bad\xffname.md")
    gone = bot.ingest([docs])
    assert [Path(p).name for p in gone.removed] == ["bad\\xffname.md"]
    assert bot.status()["chunks"] == sum(d.chunks for d in bot.documents())
    assert not any("Zorblaxops" in s.text for s in bot.search("quarterly gravel audits", k=5))


def test_removing_a_symlinked_file_removes_its_document(tmp_path):
    outside = write(tmp_path / "elsewhere" / "zorblax.md",
                    DOC.format(t="Zorblaxops", w="quarterly gravel audits"))
    docs = tmp_path / "docs"
    write(docs / "good.md", DOC.format(t="Goodops", w="good things"))
    (docs / "link.md").symlink_to(outside)
    (docs / "loop").symlink_to(docs, target_is_directory=True)  # loops stay harmless
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert sorted(r.added) == [str(docs.resolve() / "good.md"), str(docs.resolve() / "link.md")]
    assert bot.search("quarterly gravel audits", k=1)[0].path == str(docs.resolve() / "link.md")
    (docs / "link.md").unlink()
    r = bot.ingest([docs])
    assert r.removed == [str(docs.resolve() / "link.md")]
    assert [Path(d.path).name for d in bot.documents()] == ["good.md"]
    assert not any("Zorblaxops" in s.text for s in bot.search("quarterly gravel audits", k=5))


def test_one_file_under_two_names_is_indexed_once(tmp_path):
    docs = tmp_path / "docs"
    real = write(docs / "a.md", DOC.format(t="Alphaops", w="alpha"))
    (docs / "alias.md").symlink_to(real)
    (docs / "sub").mkdir()
    (docs / "sub" / "z.md").symlink_to(tmp_path / "out.md")
    write(tmp_path / "out.md", DOC.format(t="Outops", w="out"))
    (docs / "sub" / "y.md").symlink_to(tmp_path / "out.md")
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert [Path(p).relative_to(docs.resolve()).as_posix() for p in r.added] == [
        "a.md", "sub/y.md"]
    assert [Path(d.path).relative_to(docs.resolve()).as_posix() for d in bot.documents()] == [
        "a.md", "sub/y.md"]
