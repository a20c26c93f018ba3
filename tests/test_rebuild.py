"""A damaged store is never replaced silently, and a rebuild brings back every file the
index knew (issue 21, point 5).

Bounds: a copy of the corpus index and a few small files per case; the CLI cases run one or
two subprocesses each (about 10-20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import Assistant, IndexStoreError
from tests.conftest import CORPUS, ROOT

DOC = "---\ntitle: {t}\n---\n# {t}\n\n{t} is the practice of {w} in operations teams.\n"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=600, env=dict(os.environ))


@pytest.fixture()
def index(corpus_index, tmp_path) -> Path:
    """The corpus index plus one more document from a folder of its own."""
    d = tmp_path / "idx"
    shutil.copytree(corpus_index, d)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "zorb.md").write_text(DOC.format(t="Zorblaxops", w="quarterly gravel audits"))
    Assistant.open(index_dir=d, auto_ingest=False).ingest([extra])
    Assistant.open(index_dir=d, auto_ingest=False).ask("What is Zorblaxops?")  # a snapshot
    return d


NAMES = """
import json, sys
from pathlib import Path
from app import Assistant
bot = Assistant.open(index_dir=sys.argv[1], auto_ingest=False)
print(json.dumps(sorted(Path(r.path).name for r in bot.documents())))
"""


def _names(index: Path) -> list[str]:
    """The documents indexed, as a fresh process sees them (this one may hold a store that
    another process has since made anew)."""
    r = subprocess.run([sys.executable, "-c", NAMES, str(index)], cwd=ROOT, text=True,
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return list(json.loads(r.stdout))


def test_an_empty_database_is_reported_not_replaced(index, tmp_path):
    """Before: a zero-length chroma.sqlite3 became a fresh index of corpus_dir (the other
    documents silently gone)."""
    db = index / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"")
    before = sorted(p.name for p in (index / "chroma").iterdir())
    r = cli("ask", "What is Zorblaxops?", "--index-dir", str(index), "--corpus-dir", str(CORPUS))
    assert r.returncode == 2, (r.returncode, r.stdout[-300:], r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty (0 bytes)" in lines[0] and "--rebuild" in lines[0], r.stderr
    with pytest.raises(IndexStoreError, match="damaged"):
        Assistant.open(index_dir=index, corpus_dir=CORPUS)
    assert db.stat().st_size == 0 and sorted(p.name for p in (index / "chroma").iterdir()) == before


def test_rebuild_brings_back_every_file_the_manifest_knew(index, tmp_path):
    """Before: `--rebuild PATH` kept only PATH (here the corpus lost zorb.md)."""
    before = _names(index)
    r = cli("ingest", "--rebuild", str(CORPUS), "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    assert _names(index) == before and "zorb.md" in before
    report = Assistant.rebuild(index_dir=index)  # the API: no paths, every file it knew
    assert sorted(Path(p).name for p in report.added) == before
    assert not Assistant.open(index_dir=index, auto_ingest=False).ask(
        "What is Zorblaxops?").refused


def test_rebuild_of_an_unreadable_index_says_what_is_lost(index, tmp_path):
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"")
    r = cli("ingest", "--rebuild", str(CORPUS), "--index-dir", str(index))
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stderr.split())  # the terminal may wrap the line
    assert "could not be opened" in said and "only the paths given" in said, said
    assert "not back, of the documents the last saved search index knew (1): Zorblaxops" in said
    assert "zorb.md" not in _names(index) and len(_names(index)) == 9  # README not read


def test_the_api_recovers_a_damaged_store(index):
    """Issue 22: what `opsqa ingest --rebuild` does is the API's: a store too damaged to open
    is made anew by ``Assistant.rebuild`` and answers again."""
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"")
    with pytest.raises(IndexStoreError, match="damaged"):
        Assistant.open(index_dir=index, auto_ingest=False)
    report = Assistant.rebuild([CORPUS], index_dir=index)
    where, why = report.warnings[0]
    assert where == str(index / "chroma") and "could not be opened" in why
    assert "Zorblaxops" in why  # named as not back
    assert len(_names(index)) == 9 and "zorb.md" not in _names(index)
    bot = Assistant.open(index_dir=index, auto_ingest=False)
    assert not bot.ask("What is GitOps?").refused
