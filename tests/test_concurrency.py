"""Concurrency: questions keep working while another process ingests; two ingests serialize.

Bounds: each test ingests at most ~25 small documents in a subprocess (about 30-60 s on 2
busy cores); every wait has a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import Assistant
from tests.conftest import ROOT
from tests.test_crash import INGEST_ENV, assert_consistent, inspect_index, needs_argo, ops_folder

pytestmark = [pytest.mark.slow, needs_argo]
QUESTIONS = ("What is GitOps?", "What is MLOps?", "How does DevSecOps differ from DevOps?",
             "Which tools does GitOps use?", "What is AIOps?", "What does LLMOps add to MLOps?")


def start_ingest(folder: Path, index_dir: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(folder), "--index-dir", str(index_dir)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **INGEST_ENV, **env})


def wait_for_lock(index_dir: Path, pid: int, timeout: float = 60) -> None:
    """Until process ``pid`` holds the ingest lock (it writes "pid N" into the lock file)."""
    lock = index_dir / "ingest.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.is_file() and lock.read_text().strip() == f"pid {pid}":
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the ingest lock")


def grounded(answer) -> bool:
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    return (not answer.refused and bool(answer.sources) and bool(cited)
            and max(cited) <= len(answer.sources))


def test_questions_while_another_process_ingests(bot, tmp_path):
    ops_folder(tmp_path / "docs", n=25)
    before = bot.ask("What is GitOps?")
    asked: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def asker() -> None:
        i = 0
        while not stop.is_set():
            q = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            try:
                a = bot.ask(q)
            except Exception as exc:  # every failure is recorded, none may happen
                errors.append(f"{q}: {type(exc).__name__}: {exc}")
                continue
            asked.append(q)
            if not grounded(a):
                errors.append(f"{q}: not grounded: {a.text[:200]!r}")
            elif q == "What is GitOps?" and a.text != before.text:
                errors.append(f"{q}: answer changed: {a.text[:200]!r}")

    thread = threading.Thread(target=asker, daemon=True)
    proc = start_ingest(tmp_path / "docs", Path(bot.settings.index_dir))
    thread.start()
    try:
        _, err = proc.communicate(timeout=300)
    finally:
        stop.set()
        thread.join(timeout=60)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    print(f"\nconcurrency: {len(asked)} asks during the ingest, {len(errors)} errors")
    assert not errors, errors[:5]
    assert len(asked) >= 5
    # The reader picks up the other process's writes (generation bump) without reopening;
    # it looks at the store's generation at most once a second (Retriever.check_every).
    deadline = time.monotonic() + 5
    while not any(Path(s.path).parent.name == "docs" for s in bot.search("Argo CD", k=5)):
        assert time.monotonic() < deadline, "the other process's ingest never became visible"
        time.sleep(0.25)
    assert_consistent(inspect_index(Path(bot.settings.index_dir)))


@pytest.mark.parametrize("lock_timeout", [None, "1"], ids=["waits", "refuses"])
def test_two_ingests_at_once(corpus_index, tmp_path, lock_timeout):
    index_dir = tmp_path / "idx"
    shutil.copytree(corpus_index, index_dir)
    first_docs = ops_folder(tmp_path / "a", n=15)
    second_docs = ops_folder(tmp_path / "b", n=5, skip=15)
    first = start_ingest(tmp_path / "a", index_dir)
    second = None
    try:
        wait_for_lock(index_dir, first.pid)
        env = {"OPSQA_INGEST_LOCK_TIMEOUT": lock_timeout} if lock_timeout else {}
        t0 = time.monotonic()
        second = start_ingest(tmp_path / "b", index_dir, **env)
        out2, err2 = second.communicate(timeout=300)
        waited = time.monotonic() - t0
        out1, err1 = first.communicate(timeout=300)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert first.returncode == 0, err1
    assert "Traceback" not in err2
    records = set(inspect_index(index_dir)["records"])
    if lock_timeout:
        assert second.returncode == 2, (out2, err2)
        assert "another ingest" in err2 and "Try again" in err2, err2
        assert waited < 30, "the refusal should come after about the 1 s lock timeout"
        assert records.isdisjoint(str(f) for f in second_docs)
    else:
        assert second.returncode == 0, err2
        assert "another ingest is running; waiting" in err2
        assert {str(f) for f in second_docs} <= records
    assert {str(f) for f in first_docs} <= records
    assert_consistent(inspect_index(index_dir))
    after = Assistant.open(index_dir=index_dir, auto_ingest=False).ask("What is GitOps?")
    assert grounded(after)
