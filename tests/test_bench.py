"""Smoke tests of `opsqa bench ingest|query|scale|soak` on tiny inputs: fields present and positive."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.conftest import ARGO

needs_argo = pytest.mark.skipif(not ARGO.is_dir(), reason="needs ../shared/corpora/argo-cd-docs")


def _run(tmp_path, *args):
    out = tmp_path / "out.json"
    assert main(["bench", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


@needs_argo
def test_bench_ingest(tmp_path):
    res = _run(tmp_path, "ingest", "--limit", "2")
    assert res["files"] == 2 and res["chunks"] > 0 and res["tokens"] > 0
    whats = [r["what"] for r in res["rows"]]
    assert len(whats) == 7  # 2 backends x (ingest, re-ingest, raw) + llama-index
    for r in res["rows"]:
        if "re-ingest" in r["what"]:
            assert r["chunks"] == 0 and r["speedup"] > 0
        else:
            assert r["chunks"] > 0 and r["tokens_per_s"] > 0 and r["seconds"] > 0
    for b in ("onnx", "torch"):
        assert res[f"pipeline_vs_raw_{b}"] > 0
        assert res[f"reingest_embedded_{b}"] == 0


@needs_argo
def test_bench_query(tmp_path):
    res = _run(tmp_path, "query", "--questions", "3", "--no-llm", "--argo-limit", "2",
               "--cold", "1")
    assert res["modes"] == ["extractive"]
    got = {(r["what"], r["corpus"]) for r in res["warm"]}
    for corpus in ("corpus", "argo-cd-docs"):
        for what in ("ask extractive", "search k=5", "llama-index retrieve k=5"):
            assert (what, corpus) in got
    assert all(r["median_ms"] > 0 and r["p95_ms"] >= r["median_ms"] for r in res["warm"])
    assert [r["what"] for r in res["cold"]] == ["cold opsqa ask", "cold bare import"]
    assert res["cold_ratio"] > 0


@needs_argo
def test_bench_scale(tmp_path):
    png = tmp_path / "scale.png"
    res = _run(tmp_path, "scale", "--sizes", "60", "--modes", "embedded", "--fast-embed", "all",
               "--plot", str(png))
    (row,) = res["rows"]
    assert row["embed"] == "reused+noise" and row["chunks"] >= 50
    for k in ("tokens_per_s", "peak_rss_mb", "query_rss_mb", "search_p50_ms", "ask_p95_ms",
              "disk_mb", "all_ids_ms", "reopen_ms", "catch_up_ms"):
        assert row[k] > 0, k
    assert png.stat().st_size > 0


@pytest.mark.slow
def test_bench_soak_smoke(tmp_path):
    """The soak at smoke size (about 1-2 minutes): every phase runs, one kill per phase."""
    res = _run(tmp_path, "soak", "--docs", "24", "--batch", "12", "--questions", "30",
               "--cli-questions", "2", "--kills", "4", "--clients", "2", "--ui-seconds", "8",
               "--hang-seconds", "120")
    rows = {r["what"].split(":")[0]: r for r in res["rows"]}
    assert set(rows) == {"ingest fuzzed documents", "ask fuzzed questions", "kill -9 ingests",
                         "UI", "total"}
    assert rows["ingest fuzzed documents"]["inputs"] >= 24 + 2 * 4  # files + special entries
    assert rows["ask fuzzed questions"]["inputs"] == 32
    assert rows["kill -9 ingests"]["kills_survived"] == 4
    assert rows["UI"]["inputs"] > 0
    total = rows["total"]
    assert total["crashes"] == total["hangs"] == total["mismatches"] == total["errors"] == 0, res
    aimed = next(n for n in res["notes"] if n.startswith("kills aimed at"))
    for phase in ("reading", "embedding", "writing", "manifest"):
        assert phase in aimed, aimed


def test_bench_help_lists_kinds(capsys):
    assert main(["bench", "--help"]) == 0
    assert "scale" in capsys.readouterr().out


def test_bench_hostile_one_input(tmp_path):
    res = _run(tmp_path, "hostile", "--only", "notebook-nested-json", "--workdir",
               str(tmp_path / "w"), "--limit", "300")
    (row,) = res["rows"]
    assert row["what"] == "notebook-nested-json" and row["peak_rss_mb"] > 0
    assert row["outcome"].startswith("skipped: not a Jupyter notebook"), row
