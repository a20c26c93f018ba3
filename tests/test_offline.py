"""Offline guarantee: ingest, ask and eval run inside a network namespace with no network,
and (under strace, when present) attempt no IP connection at all.

HF_HUB_OFFLINE is removed from the children's environment on purpose: the code itself must
not reach out (opsqa's encoder sets it for its own process). Bound: about 2-4 minutes on 2
busy cores (ingest of corpus/, one ask, a 3-question eval with the llama-index reference).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow

TINY = """\
questions:
- id: def-gitops
  question: What is GitOps?
  kind: definition
  reference: GitOps manages infrastructure and applications declaratively with Git as the source of truth.
  key_facts:
  - {any: [git], need: 1}
  - {any: [declarative, declaratively], need: 1}
  need_facts: 2
  sources: [gitops.md]
- id: cmp-mlops-dataops
  question: How does MLOps differ from DataOps?
  kind: comparison
  reference: MLOps operationalises machine learning models; DataOps the data pipelines that feed them.
  key_facts:
  - {any: [model, models], need: 1}
  - {any: [data], need: 1}
  need_facts: 2
  sources: [mlops-vs-dataops.md, mlops.md, dataops.md]
- id: oos-finops
  question: What is FinOps?
  kind: out-of-scope
  reference: Not covered by the documents.
  expect_refusal: true
  sources: []
"""
# connect() to an IPv4/IPv6 address; unix sockets and netlink are local
INET_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?,.*")


def _netns_works() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


if not _netns_works():
    pytest.skip("`unshare -n true` fails here (needs root or user namespaces)",
                allow_module_level=True)

STRACE = shutil.which("strace")


def offline(*args: str, trace: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``opsqa ARGS`` with no network; IP connect() attempts are written to ``trace``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    cmd = [sys.executable, "-m", "app.cli", *args]
    if STRACE:
        cmd = [STRACE, "-f", "-qq", "-e", "trace=connect", "-o", str(trace), *cmd]
    return subprocess.run(["unshare", "-n", "--", *cmd], cwd=ROOT, text=True,
                          capture_output=True, env=env, timeout=timeout)


def outbound(trace: Path) -> list[str]:
    if not trace.is_file():
        return []
    return [line for line in trace.read_text().splitlines() if INET_CONNECT.search(line)]


def test_ingest_ask_eval_without_network(tmp_path):
    idx = tmp_path / "idx"
    r = offline("ingest", str(CORPUS), "--index-dir", str(idx), trace=tmp_path / "ingest.trace")
    assert r.returncode == 0, r.stderr
    assert "files added       │ 9" in r.stdout, r.stdout  # corpus/ less its README
    assert outbound(tmp_path / "ingest.trace") == []

    r = offline("ask", "What is GitOps?", "--json", "--index-dir", str(idx),
                trace=tmp_path / "ask.trace")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert not answer["refused"] and answer["sources"] and "Git" in answer["text"]
    assert outbound(tmp_path / "ask.trace") == []

    if not (ROOT / "eval" / "runner.py").is_file():
        pytest.skip("eval/runner.py is not written yet: ingest and ask passed offline")
    help_ = subprocess.run([sys.executable, "-m", "app.cli", "eval", "--help"], cwd=ROOT,
                           text=True, capture_output=True, timeout=120)
    if help_.returncode != 0 or "--dataset" not in help_.stdout:
        pytest.skip(f"`opsqa eval --help` does not offer --dataset: {help_.stderr[-300:]}")
    dataset = tmp_path / "tiny.yaml"
    dataset.write_text(TINY)
    out = tmp_path / "eval-out"
    r = offline("eval", "--dataset", str(dataset), "--index-dir", str(idx), "--out", str(out),
                trace=tmp_path / "eval.trace")
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert (out / "summary.json").is_file(), sorted(p.name for p in out.iterdir())
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len([r for r in rows if r.get("id") in ("def-gitops", "cmp-mlops-dataops",
                                                    "oos-finops")]) >= 3
    assert outbound(tmp_path / "eval.trace") == []
