"""`opsqa bench query`: warm and cold latency of ask per mode vs a plain llama-index retriever.

Warm figures interleave opsqa and the reference question by question, so load on a shared
machine hits both alike. Cold figures are fresh processes, alternated the same way.
``--backends`` adds the embedding-backend comparison: retrieval quality (hit@5, MRR on the
golden set) and query speed with documents embedded by each backend.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from eval.bench.common import ARGO, CORPUS, PY, ROOT, machine, median, pct, show, write_json

ARGO_QUESTIONS = [
    "What is Argo CD?", "How do I install Argo CD?", "What is an ApplicationSet?",
    "How does Argo CD detect configuration drift?", "How do I configure SSO with Dex?",
    "What is a sync wave?", "How do I add a private Git repository?",
    "What are resource hooks?", "How does automated sync with self-heal work?",
    "How do I use Helm charts with Argo CD?", "What is the App of Apps pattern?",
    "How do I configure RBAC?", "How do I rotate the admin password?",
    "What is a Project (AppProject)?", "How do I enable high availability?",
    "How do I use Kustomize?", "What are sync options like Prune=false?",
    "How do notifications work?", "How do I manage multiple clusters?",
    "How do I monitor Argo CD with Prometheus metrics?",
]
GOLDEN = ROOT / "eval" / "golden.yaml"


def golden(n: int | None = None) -> list[dict[str, Any]]:
    """Golden questions that expect an answer, with their expected source files."""
    data = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    qs = [q for q in data["questions"] if q.get("kind") != "out-of-scope"
          and not q.get("history") and not q.get("expect_refusal")]
    return qs[:n] if n else qs


def _ms(fn: Any, *a: Any, **kw: Any) -> float:
    t0 = time.perf_counter()
    fn(*a, **kw)
    return (time.perf_counter() - t0) * 1000


def _stats(what: str, corpus: str, ms: list[float]) -> dict[str, Any]:
    return {"what": what, "corpus": corpus, "n": len(ms), "median_ms": round(median(ms), 1),
            "p95_ms": round(pct(ms, 95), 1), "max_ms": round(max(ms, default=0), 1)}


def llama_retriever(bot: Any) -> Any:
    """Plain llama-index over opsqa's own Chroma collection, same model, top 5."""
    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed = HuggingFaceEmbedding(model_name=str(bot.encoder.model_dir), device="cpu")
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=bot.store.chunks), embed_model=embed)
    return index.as_retriever(similarity_top_k=5)


def warm(bot: Any, corpus: str, questions: list[str], modes: list[str], n_llm: int,
         retriever: Any) -> list[dict[str, Any]]:
    """Median/p95 of ask per mode, bot.search and llama-index retrieve, interleaved."""
    for q in questions[:3]:  # warm-up: BM25 built, sessions loaded, caches filled
        bot.ask(q)
        bot.search(q)
        retriever.retrieve(q)
    for m in modes[1:]:
        bot.ask(questions[0], mode=m)
    times: dict[str, list[float]] = {"ask extractive": [], "search k=5": [],
                                     "llama-index retrieve k=5": []}
    for q in questions:
        times["ask extractive"].append(_ms(bot.ask, q))
        times["search k=5"].append(_ms(bot.search, q, k=5))
        times["llama-index retrieve k=5"].append(_ms(retriever.retrieve, q))
    for m in modes[1:]:
        times[f"ask {m}"] = [_ms(bot.ask, q, mode=m) for q in questions[:n_llm]]
    return [_stats(k, corpus, v) for k, v in times.items()]


def cold(index_dir: Path, runs: int) -> list[dict[str, Any]]:
    """Fresh-process wall time: `opsqa ask` vs a bare import of the llama-index stack."""
    ask = [PY, "-m", "app.cli", "ask", "What is GitOps?", "--index-dir", str(index_dir)]
    bare = [PY, "-c", "import llama_index.core, chromadb, sentence_transformers"]
    out: dict[str, list[float]] = {"cold opsqa ask": [], "cold bare import": []}
    subprocess.run(ask, cwd=ROOT, capture_output=True, check=True)  # page cache, .pyc
    subprocess.run(bare, cwd=ROOT, capture_output=True, check=True)
    for _ in range(runs):
        for name, cmd in (("cold opsqa ask", ask), ("cold bare import", bare)):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
            out[name].append((time.perf_counter() - t0) * 1000)
    return [_stats(k, "corpus", v) for k, v in out.items()]


def quality(backends: list[str], tmp: Path) -> list[dict[str, Any]]:
    """Retrieval quality and query speed with documents embedded by each backend."""
    from app.assistant import Assistant
    from eval.metrics import retrieval_scores

    qs = [q for q in golden() if q.get("sources")]
    rows = []
    for docs in backends:
        bot = Assistant.open(index_dir=tmp / f"q-{docs}", corpus_dir=CORPUS, embed_backend=docs)
        t0 = time.perf_counter()
        bot.ingest([CORPUS], rebuild=True)
        ingest_s = time.perf_counter() - t0
        for query in backends:
            bot = Assistant.open(index_dir=tmp / f"q-{docs}", embed_backend=query)
            bot.search("warm up")
            scores, ms = [], []
            for q in qs:
                t0 = time.perf_counter()
                found = bot.search(q["question"], k=5)
                ms.append((time.perf_counter() - t0) * 1000)
                scores.append(retrieval_scores([s.path for s in found], q["sources"]))
            n = len(scores)
            rows.append({"what": f"docs {docs} / queries {bot.encoder.backend}", "n": n,
                         "hit@5": round(sum(s["hit@5"] for s in scores) / n, 4),
                         "mrr": round(sum(s["mrr"] for s in scores) / n, 4),
                         "search_p50_ms": round(median(ms), 1),
                         "search_p95_ms": round(pct(ms, 95), 1),
                         "corpus_ingest_s": round(ingest_s, 2)})
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.assistant import Assistant
    from ingest.document_loader import discover

    res: dict[str, Any] = {"machine": machine(), "warm": [], "cold": [], "backends": []}
    with tempfile.TemporaryDirectory(prefix="opsqa-bench-query-") as t:
        tmp = Path(t)
        extra = {"hosted_base_url": args.hosted_url, "hosted_model": args.hosted_model}
        bot = Assistant.open(index_dir=tmp / "corpus", corpus_dir=CORPUS, **extra)
        modes = ["extractive"]
        if importlib.util.find_spec("llama_cpp") and "local" in bot.modes() and args.llm:
            modes.append("local")
        if args.hosted_url:
            modes.append("hosted")
        res["modes"] = modes
        qs = [q["question"] for q in golden(args.questions)]
        res["warm"] += warm(bot, "corpus", qs, modes, args.llm_questions, llama_retriever(bot))
        if ARGO.is_dir() and not args.no_argo:
            idx = Path(args.argo_index) if args.argo_index else tmp / "argo"
            argo = Assistant.open(index_dir=idx, auto_ingest=False, **extra)
            files = sorted(discover([ARGO])[0])[: args.argo_limit]
            if argo.store.count() == 0:
                argo.ingest(files)
            res["argo_chunks"] = argo.store.count()
            res["warm"] += warm(argo, "argo-cd-docs", ARGO_QUESTIONS[: args.questions], modes,
                                args.llm_questions, llama_retriever(argo))
        if args.cold:
            res["cold"] = cold(tmp / "corpus", args.cold)
        if args.backends:
            res["backends"] = quality(args.backends.split(","), tmp)
    by = {(r["what"], r["corpus"]): r for r in res["warm"]}
    res["goals"] = {c: {"ask_extractive_median_ms": by[("ask extractive", c)]["median_ms"],
                        "llama_index_median_ms": by[("llama-index retrieve k=5", c)]["median_ms"]}
                    for c in {r["corpus"] for r in res["warm"]}}
    if res["cold"]:
        res["cold_ratio"] = round(res["cold"][0]["median_ms"] / res["cold"][1]["median_ms"], 3)
    return res


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench query", description=__doc__)
    p.add_argument("--questions", type=int, default=20, help="warm questions per corpus")
    p.add_argument("--llm", action=argparse.BooleanOptionalAction, default=True,
                   help="include local mode when llama_cpp and a GGUF are available")
    p.add_argument("--llm-questions", type=int, default=5, help="questions per LLM mode")
    p.add_argument("--hosted-url", help="OpenAI-compatible base URL: adds hosted mode")
    p.add_argument("--hosted-model", default="", help="model name for --hosted-url")
    p.add_argument("--no-argo", action="store_true", help="skip the argo-cd-docs corpus")
    p.add_argument("--argo-limit", type=int, help="ingest only the first N argo files")
    p.add_argument("--argo-index", help="keep (and reuse) the argo index in this folder")
    p.add_argument("--cold", type=int, default=5, help="fresh-process runs each (0 = skip)")
    p.add_argument("--backends", default="", help="compare embedding backends, e.g. onnx,torch")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    res = run(args)
    ratios = [f"{c}: opsqa ask / llama-index retrieve = "
              f"{g['ask_extractive_median_ms'] / g['llama_index_median_ms']:.2f} (goal <= 1)"
              for c, g in sorted(res["goals"].items()) if g["llama_index_median_ms"]]
    show("opsqa bench query: warm (ms)", res["warm"],
         [f"modes: {', '.join(res['modes'])}; load avg {res['machine']['load_avg_1m']}",
          *ratios])
    if res["cold"]:
        show("cold, fresh process (ms)", res["cold"],
             [f"opsqa ask / bare import = {res['cold_ratio']:.2f} (goal <= 0.5)"])
    if res["backends"]:
        show("embedding backends (golden set, default corpus)", res["backends"])
    write_json(args.json, res)
    return 0
