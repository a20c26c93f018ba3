"""Server mode against a real `chroma run`: ingest, ask, updates, two processes, the lease.

Internal: ``eval.bench.common.chroma_server`` starts and stops the `chroma run` (a test helper
shared with the benchmarks, not opsqa code under test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow

NEW_DOC = """---
title: Zorblax
---
# Zorblax

Zorblax is an operations practice in which quarterly gravel audits decide every deployment.
Teams practising Zorblax record each audit in a ledger kept next to the service code.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real Chroma server on loopback for this module: (host, port)."""
    from eval.bench.common import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as (port, _):
        yield "127.0.0.1", port


@pytest.fixture()
def remote(server, tmp_path):
    """Settings for a fresh collection on the shared server, plus a private corpus copy."""
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    host, port = server
    return {"chroma_host": host, "chroma_port": port, "corpus_dir": docs,
            "collection": f"t{uuid.uuid4().hex[:10]}"}


def _open(remote, index_dir, **kw):
    from app import Assistant

    return Assistant.open(index_dir=index_dir, **{**remote, **kw})


def _cli(remote, tmp, *args):
    env = {**os.environ, "OPSQA_COLLECTION": remote["collection"],
           "OPSQA_CORPUS_DIR": str(remote["corpus_dir"])}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args, "--index-dir", str(tmp),
         "--chroma-host", remote["chroma_host"], "--chroma-port", str(remote["chroma_port"])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_ingest_and_ask_cites(remote, tmp_path):
    bot = _open(remote, tmp_path / "a")
    assert bot.status()["store"] == "server"
    assert not (tmp_path / "a" / "chroma").exists()  # nothing embedded on disk
    answer = bot.ask("What is GitOps?")
    assert not answer.refused
    assert "[1]" in answer.text
    assert any(Path(s.path).name == "gitops.md" for s in answer.sources)


def test_incremental_update_and_unchanged(remote, tmp_path):
    bot = _open(remote, tmp_path / "a")
    again = bot.ingest([remote["corpus_dir"]])
    assert again.embedded == 0 and not again.changed
    target = Path(remote["corpus_dir"]) / "gitops.md"
    target.write_text(target.read_text() + "\n\nGitOps teams also review drift weekly.\n")
    rep = bot.ingest([remote["corpus_dir"]])
    assert rep.updated == [str(target.resolve())] or rep.updated == [str(target)]
    assert 0 < rep.embedded < 5
    assert bot.ingest([remote["corpus_dir"]]).embedded == 0


def test_two_processes_share_the_index(remote, tmp_path):
    reader = _open(remote, tmp_path / "reader")  # opened before the other process ingests
    assert not any("zorblax" in s.path for s in reader.search("Zorblax gravel audits"))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "zorblax.md").write_text(NEW_DOC)
    a = _cli(remote, tmp_path / "proc-a", "ingest", str(extra))
    assert a.returncode == 0, a.stderr
    b = _cli(remote, tmp_path / "proc-b", "ask", "What is Zorblax?", "--json")
    assert b.returncode == 0, b.stderr
    got = json.loads(b.stdout)
    assert not got["refused"]
    assert any(s["path"].endswith("zorblax.md") for s in got["sources"])
    time.sleep(1.1)  # the retriever looks at the generation counter at most once a second
    hits = reader.search("Zorblax gravel audits", k=3)
    assert hits and hits[0].path.endswith("zorblax.md")
    assert not reader.ask("What is Zorblax?").refused


def test_lease_serialises_ingests_across_hosts(remote, tmp_path):
    """Two index folders (as on two hosts) share one server: the lease, not flock, guards it."""
    from app import IndexStoreError

    one = _open(remote, tmp_path / "host1", auto_ingest=False)
    two = _open(remote, tmp_path / "host2", auto_ingest=False, ingest_lock_timeout=1)
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with one.store.ingest_lock(5):
            entered.set()
            release.wait(20)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert entered.wait(20)
        with pytest.raises(IndexStoreError, match="another ingest"):
            two.ingest([remote["corpus_dir"]])
        assert one.store.file_records() == {}  # the lease is not a file record
    finally:
        release.set()
        t.join()
    rep = two.ingest([remote["corpus_dir"]])  # free again once released
    assert rep.added
