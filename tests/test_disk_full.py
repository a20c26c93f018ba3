"""Disk full during ingest: one line saying so and what to do, the index as it was (issue
21, point 6). A real full disk: a 16 MB tmpfs holding a copy of the corpus index and a file
that takes all but 150 KB of it (root only, as in CI).

Bounds: about 20 small documents embedded (10-30 s), a few CLI subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
WORDS = ["release", "train", "cadence", "rollback", "canary", "deploy", "pipeline", "drift",
         "audit", "ledger", "quorum", "shard", "replica", "backup", "restore", "queue",
         "worker", "schedule", "window", "freeze"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=600, env=dict(os.environ))


@pytest.fixture()
def small_disk(tmp_path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs",
                                            str(mnt)], capture_output=True).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> Path:
    filler = mnt / "filler"
    free = shutil.disk_usage(mnt).free
    with open(filler, "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, free - leave)
    return filler


def test_disk_full_during_ingest_is_one_line_and_the_index_survives(corpus_index, small_disk,
                                                                     tmp_path):
    index = small_disk / "idx"
    shutil.copytree(corpus_index, index)
    before = json.loads(cli("ask", "What is GitOps?", "--json", "--index-dir", str(index)).stdout)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(20):
        words = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(300))
        (docs / f"runbook{i}.md").write_text(f"# Runbook {i}\n\n{words.capitalize()}.\n")
    filler = _fill(small_disk, 150_000)
    r = cli("ingest", str(docs), "--index-dir", str(index))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("opsqa: error:"), r.stderr
    assert "disk holding it is full" in lines[0] and "free some space" in lines[0], lines[0]
    assert "--rebuild" not in lines[0]
    full = cli("ask", "What is GitOps?", "--index-dir", str(index))  # still full
    assert full.returncode in (0, 2) and "Traceback" not in full.stderr, full.stderr
    assert full.returncode == 0 or "free some space" in full.stderr, full.stderr
    filler.unlink()
    after = json.loads(cli("ask", "What is GitOps?", "--json", "--index-dir", str(index)).stdout)
    assert after["text"] == before["text"]
    again = cli("ingest", str(docs), "--index-dir", str(index))
    assert again.returncode == 0, again.stderr
    check = subprocess.run([sys.executable, "-c", "import sys\nfrom app import Assistant\n"
                            "b = Assistant.open(index_dir=sys.argv[1], auto_ingest=False)\n"
                            "d = b.documents()\n"
                            "print(b.status()['chunks'], sum(x.chunks for x in d), len(d))",
                            str(index)], cwd=ROOT, text=True, capture_output=True, timeout=120)
    count, recorded, files = map(int, check.stdout.split())
    assert count == recorded and files == 29  # 9 of the corpus (not its README), 20 runbooks
