"""Crash safety: kill -9 during ingest loses nothing; a damaged index says how to recover.

Everything runs through the real CLI in subprocesses, so every check opens the index fresh,
as a user's next command would. Bounds: the kill loop is 5 kills (at most 10 runs) of at most 8 s
each plus a re-ingest of ~40 small documents (about 1-3 minutes on 2 busy cores); each damage case
is about 30 s.

Internal: the subprocess checks read the store itself (``IndexStore``) to show every chunk has
its file's record; the kill hook is the soak benchmark's (``eval.bench.soak_kill``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ARGO, CORPUS, ROOT

pytestmark = pytest.mark.slow
needs_argo = pytest.mark.skipif(not ARGO.is_dir(), reason="needs ../shared/corpora/argo-cd-docs")
QUESTION = "What is GitOps?"
KILLS = 5
# Small embedding batches make the writer flush every 32 chunks, so kills land between and
# during many writes instead of before the first one.
INGEST_ENV = {"OPSQA_EMBED_BATCH_SIZE": "8"}

INSPECT = """
import json, sys
from collections import Counter
from ingest.store import IndexStore
s = IndexStore(sys.argv[1])
recs = s.file_records()
per_path = Counter(m.path for _, _, m in s.all_chunks())
ids = [i for i, _, _ in s.all_chunks()]
print(json.dumps({"count": s.count(), "ids": len(ids), "unique_ids": len(set(ids)),
                  "records": {p: r.chunks for p, r in recs.items()}, "per_path": per_path}))
"""


def opsqa(*args: str, env: dict[str, str] | None = None, timeout: float = 180,
          ) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app.cli ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, env={**os.environ, **(env or {})})


def ask_json(index_dir: Path) -> dict:
    r = opsqa("ask", QUESTION, "--json", "--index-dir", str(index_dir))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)


def same_answer(a: dict, b: dict) -> bool:
    return (a["text"], a["refused"], a["sources"][0]["path"]) == (
        b["text"], b["refused"], b["sources"][0]["path"])


def inspect_index(index_dir: Path) -> dict:
    """Counts read by a fresh process: chunks, manifest records, chunks per source path."""
    r = subprocess.run([sys.executable, "-c", INSPECT, str(index_dir)], cwd=ROOT, text=True,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def assert_consistent(info: dict) -> None:
    """No orphan chunks, no duplicates: the manifest accounts for every stored chunk."""
    assert info["ids"] == info["unique_ids"] == info["count"]
    assert info["count"] == sum(info["records"].values()), "orphan or missing chunks"
    assert info["per_path"] == info["records"], "chunks per file differ from the manifest"


def ops_folder(dest: Path, n: int = 40, skip: int = 0) -> list[Path]:
    """``n`` small Argo CD pages that never say "GitOps" (so the GitOps answer must not move),
    after the first ``skip`` of them (so two folders can be disjoint)."""
    dest.mkdir(parents=True)
    picked = []
    for f in sorted((ARGO / "docs").rglob("*.md")):
        size = f.stat().st_size
        if 2_000 < size < 6_000 and "gitops" not in f.read_text(errors="ignore").lower():
            picked.append(f)
        if len(picked) == skip + n:
            break
    out = []
    for f in picked[skip:]:
        target = dest / "__".join(f.relative_to(ARGO / "docs").parts)
        shutil.copyfile(f, target)
        out.append(target.resolve())
    return out


@pytest.fixture()
def index_copy(corpus_index, tmp_path) -> Path:
    d = tmp_path / "idx"
    shutil.copytree(corpus_index, d)
    return d


@needs_argo
def test_kill_9_during_ingest_loses_nothing(index_copy, tmp_path):
    files = ops_folder(tmp_path / "docs")
    before = ask_json(index_copy)
    assert not before["refused"]
    rng = random.Random()
    killed, finished, t0 = 0, 0, time.monotonic()
    span = 8.0  # kill within this many seconds; shrinks when a run beats the kill
    i = -1
    while killed < KILLS and i + 1 < 3 * KILLS:  # runs that finish first do not count
        i += 1
        if i:  # edit some files, so every run has updates to make (and to be killed in)
            for f in rng.sample(files, min(30, len(files))):
                with open(f, "a", encoding="utf-8") as fh:
                    fh.write(f"\n\n## Revision {i}\n\nRevision {i} of {f.stem} adds a note "
                             f"about sync waves, health checks and {rng.random():.6f}.\n")
        log = tmp_path / f"ingest-{i}.err"
        with open(log, "w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "ingest", str(tmp_path / "docs"),
                 "--index-dir", str(index_copy)], cwd=ROOT, env={**os.environ, **INGEST_ENV},
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        delay = rng.uniform(min(1.0, span / 2), span)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        else:  # finished on its own: then it must have succeeded; kill sooner next time
            finished += 1
            span = max(1.0, delay * 0.6)
            assert proc.returncode == 0, log.read_text()[-2000:]
        proc.wait(timeout=30)
        after = ask_json(index_copy)
        assert same_answer(after, before), f"kill {i} at {delay:.1f} s changed the answer"
        what = "killed" if proc.returncode == -signal.SIGKILL else "finished"
        print(f"\ncrash: run {i} {what} after {delay:.1f} s: index opens, answer unchanged")
    done = opsqa("ingest", str(tmp_path / "docs"), "--index-dir", str(index_copy))
    assert done.returncode == 0, done.stderr
    info = inspect_index(index_copy)
    assert_consistent(info)
    # corpus/README.md is about the folder, not read (setting skip_files)
    corpus = {str(p.resolve()) for p in CORPUS.glob("*.md") if p.name != "README.md"}
    assert set(info["records"]) == corpus | {str(f) for f in files}
    assert same_answer(ask_json(index_copy), before)
    print(f"\ncrash: {killed} kills survived, {finished} runs finished before the kill, "
          f"{time.monotonic() - t0:.0f} s")
    assert killed >= KILLS // 2


KILL_AT = """
import sys
from eval.bench.soak_kill import _install_hooks
_install_hooks(open(sys.argv[4], "a", buffering=1), ("embedding", int(sys.argv[3])))
from app.cli import main
sys.exit(main(["ingest", sys.argv[2], "--index-dir", sys.argv[1]]))
"""


def _embedded(out: str) -> int:
    return int(next(ln for ln in out.splitlines() if "chunks embedded" in ln).split("│")[2])


@needs_argo
def test_a_kill_keeps_the_chunks_already_stored(index_copy, tmp_path):
    """A small ingest (one embedding group: fewer than 1,024 chunks) killed as it starts
    embedding its last step keeps every step stored before it: the next ingest embeds only
    the rest. Before, nothing was stored until the whole group was embedded."""
    folder = tmp_path / "docs"
    ops_folder(folder)
    dry, log = tmp_path / "dry", tmp_path / "calls.log"
    shutil.copytree(index_copy, dry)
    r = subprocess.run([sys.executable, "-c", KILL_AT, str(dry), str(folder), "1000000",
                        str(log)], cwd=ROOT, text=True, capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr
    total, steps = _embedded(r.stdout), log.read_text().count("start embedding")
    assert total > 100
    log.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", KILL_AT, str(index_copy), str(folder),
                             str(steps), str(log)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while proc.poll() is None and "target" not in log.read_text():
        assert time.monotonic() < deadline, "the ingest never reached its last step"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert "target" in log.read_text(), "the ingest finished before its last step"
    again = opsqa("ingest", str(folder), "--index-dir", str(index_copy))
    assert again.returncode == 0, again.stderr
    print(f"\ncrash: {total} chunks in {steps} steps; killed at the last, "
          f"{_embedded(again.stdout)} embedded again")
    assert _embedded(again.stdout) <= total - 100, "the chunks stored before the kill were lost"
    assert_consistent(inspect_index(index_copy))
    assert inspect_index(index_copy)["records"] == inspect_index(dry)["records"]


def _truncate(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _garbage(fraction: float):
    """Overwrite 40 KB at ``fraction`` of the file: header, log, or data pages."""

    def damage(db: Path) -> None:
        with open(db, "r+b") as fh:
            fh.seek(int(db.stat().st_size * fraction))
            fh.write(random.Random(2).randbytes(40_000))

    return damage


def _garbage_table(table: str):
    """Overwrite every page of one of Chroma's tables (found with SQLite's dbstat): a place
    an answer reads from, wherever this build's layout put it. An offset into the file may
    land on pages of the write log alone, which reading never touches."""

    def damage(db: Path) -> None:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            size = con.execute("PRAGMA page_size").fetchone()[0]
            pages = [p for (p,) in con.execute(
                "SELECT pageno FROM dbstat WHERE name = ?", (table,))]
        finally:
            con.close()
        assert pages, f"no pages of {table} in {db}"
        noise = random.Random(2)
        with open(db, "r+b") as fh:
            for page in pages:
                fh.seek((page - 1) * size)
                fh.write(noise.randbytes(size))

    return damage


@pytest.mark.parametrize("damage", [_truncate, _garbage(0.0), _garbage(0.33),
                                    _garbage_table("embedding_metadata")],
                         ids=["truncated", "garbage-header", "garbage-log", "garbage-data"])
def test_damaged_store_says_rebuild_and_rebuild_recovers(index_copy, damage):
    before = ask_json(index_copy)
    damage(index_copy / "chroma" / "chroma.sqlite3")
    r = opsqa("ask", QUESTION, "--json", "--index-dir", str(index_copy))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "--rebuild" in r.stderr
    # Chroma's Rust runtime may print its own panic line first; ours is the last line.
    assert r.stderr.strip().splitlines()[-1].startswith("opsqa: error:"), r.stderr
    # The Python API raises the same user-facing error type (on open, or on the first read).
    probe = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom app import Assistant, OpsqaError\n"
         "try:\n    Assistant.open(index_dir=sys.argv[1]).ask('What is GitOps?')\n"
         "except OpsqaError as e:\n    print(type(e).__name__, e)\n    sys.exit(3)\n",
         str(index_copy)], cwd=ROOT, text=True, capture_output=True, timeout=120)
    assert probe.returncode == 3 and "--rebuild" in probe.stdout, (probe.stdout, probe.stderr)
    assert probe.stdout.startswith("IndexStoreError")
    fixed = opsqa("ingest", "--rebuild", str(CORPUS), "--index-dir", str(index_copy))
    assert fixed.returncode == 0, fixed.stderr
    assert same_answer(ask_json(index_copy), before)
    assert_consistent(inspect_index(index_copy))


def test_missing_manifest_is_recovered_by_ingest_without_duplicates(index_copy):
    """Chunks without a manifest: answers still work, and a plain ingest re-adopts them.

    Chunk ids are content hashes, so the re-ingest finds every chunk already stored and
    only rewrites the manifest (nothing re-embedded, nothing duplicated).
    """
    before = ask_json(index_copy)
    info0 = inspect_index(index_copy)
    subprocess.run([sys.executable, "-c", "import sys\nfrom ingest.store import IndexStore\n"
                    "s = IndexStore(sys.argv[1])\ns.client.delete_collection(s.name + '-files')",
                    str(index_copy)], cwd=ROOT, check=True, timeout=120)
    assert inspect_index(index_copy)["records"] == {}
    assert same_answer(ask_json(index_copy), before)
    r = opsqa("ingest", str(CORPUS), "--index-dir", str(index_copy))
    assert r.returncode == 0, r.stderr
    assert "files added       │ 9" in r.stdout and "chunks embedded   │ 0" in r.stdout, r.stdout
    info = inspect_index(index_copy)
    assert_consistent(info)
    assert info["count"] == info0["count"] and info["records"] == info0["records"]
    assert same_answer(ask_json(index_copy), before)
