"""`opsqa bench ingest`: pipeline throughput per backend vs the raw encoder, re-ingest, llama-index.

All rows come from one run on the same files, so the ratios are side by side. Throughput is
given per wall second and per CPU second: on a shared 2-core machine the CPU figure is the
steadier one, and the goal ratios use it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from eval.bench.common import ARGO, Clock, machine, show, write_json

GOAL_CEILING = 0.90
GOAL_REINGEST = 50.0


def _row(what: str, clock: Clock, chunks: int, tokens: int, **extra: Any) -> dict[str, Any]:
    return {"what": what, "seconds": round(clock.wall, 3), "cpu_seconds": round(clock.cpu, 3),
            "chunks": chunks, "tokens": tokens,
            "chunks_per_s": round(chunks / clock.wall, 2) if clock.wall else 0.0,
            "tokens_per_s": round(tokens / clock.wall, 1) if clock.wall else 0.0,
            "tokens_per_cpu_s": round(tokens / clock.cpu, 1) if clock.cpu else 0.0, **extra}


def chunk_texts(files: list[Path], encoder: Any) -> list[str]:
    """The embed texts the pipeline produces for ``files`` (same loader, same chunker)."""
    from ingest.chunking import chunk_document
    from ingest.document_loader import SkipFile, load_document

    out: list[str] = []
    for f in files:
        try:
            doc = load_document(f)
        except SkipFile:
            continue
        out += [c.embed_text for c in chunk_document(doc, encoder.count_tokens)]
    return out


def bench_pipeline(backend: str, files: list[Path], tmp: Path) -> tuple[list[dict], Any]:
    """First ingest and unchanged re-ingest through the public API, encoder pre-loaded."""
    from app.assistant import Assistant
    from app.settings import Settings
    from ingest.embedding import Encoder

    enc = Encoder(backend=backend)
    enc.encode(["warm up the model before timing"])  # model load is not throughput
    bot = Assistant(Settings.load(index_dir=tmp / f"idx-{backend}", embed_backend=backend),
                    encoder=enc)
    with Clock() as c1:
        first = bot.ingest(files)
    with Clock() as c2:
        again = bot.ingest(files)
    rows = [
        _row(f"opsqa ingest ({backend})", c1, first.embedded, first.tokens),
        _row(f"opsqa re-ingest unchanged ({backend})", c2, again.embedded, again.tokens,
             speedup=round(c1.wall / c2.wall, 1) if c2.wall else 0.0),
    ]
    return rows, enc


def bench_raw(enc: Any, texts: list[str], tokens: int, batch_size: int = 64) -> dict[str, Any]:
    """The encoder alone on the same texts: the ceiling the pipeline is held to."""
    if enc.backend == "torch":  # the model's own sentence-transformers encode
        st = enc._st_model
        with Clock() as c:
            st.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                      convert_to_numpy=True, show_progress_bar=False)
        return _row("raw SentenceTransformer.encode (torch)", c, len(texts), tokens)
    with Clock() as c:
        enc.encode(texts, batch_size=batch_size)
    return _row(f"raw Encoder.encode ({enc.backend})", c, len(texts), tokens)


def bench_llama_index(files: list[Path], tmp: Path, tokenizer: Any) -> dict[str, Any]:
    """Plain llama-index: SimpleDirectoryReader + HuggingFaceEmbedding + ChromaVectorStore."""
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from ingest.embedding import packaged_model_dir

    with Clock() as c:
        embed = HuggingFaceEmbedding(model_name=str(packaged_model_dir()), device="cpu")
        docs = SimpleDirectoryReader(input_files=[str(f) for f in files],
                                     required_exts=[".md"]).load_data()
        client = chromadb.PersistentClient(path=str(tmp / "llama-index"),
                                           settings=chromadb.Settings(anonymized_telemetry=False))
        col = client.get_or_create_collection("reference")
        store = ChromaVectorStore(chroma_collection=col)
        VectorStoreIndex.from_documents(
            docs, storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=embed, show_progress=False)
    got = col.get(include=["documents"])
    limit = 256  # HuggingFaceEmbedding truncates at the model's max length
    tokens = sum(min(len(e.ids), limit) for e in tokenizer.encode_batch(got["documents"] or []))
    return _row("llama-index from_documents (torch, +load)", c,
                col.count(), tokens)


def run(corpus: Path, limit: int | None, backends: list[str], reference: bool,
        ceiling: bool) -> dict[str, Any]:
    from ingest.document_loader import discover
    from ingest.embedding import Encoder

    files, _ = discover([corpus])
    files = sorted(files)[:limit] if limit else sorted(files)
    tok_enc = Encoder(backend="onnx" if "onnx" in backends else "auto")
    texts = chunk_texts(files, tok_enc)
    tokens = sum(tok_enc.count_tokens_batch(texts))
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {"machine": machine(), "corpus": str(corpus), "files": len(files),
                              "chunks": len(texts), "tokens": tokens}
    with tempfile.TemporaryDirectory(prefix="opsqa-bench-ingest-") as t:
        tmp = Path(t)
        for b in backends:
            pipe_rows, enc = bench_pipeline(b, files, tmp)
            rows += pipe_rows
            if ceiling:
                raw = bench_raw(enc, texts, tokens)
                rows.append(raw)
                p = pipe_rows[0]
                result[f"pipeline_vs_raw_{b}"] = round(p["tokens_per_cpu_s"]
                                                       / raw["tokens_per_cpu_s"], 3)
                result[f"pipeline_vs_raw_{b}_wall"] = round(p["tokens_per_s"]
                                                            / raw["tokens_per_s"], 3)
            result[f"reingest_speedup_{b}"] = pipe_rows[1]["speedup"]
            result[f"reingest_embedded_{b}"] = pipe_rows[1]["chunks"]
        if reference:
            rows.append(bench_llama_index(files, tmp, tok_enc.tokenizer))
    result["rows"] = rows
    return result


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench ingest", description=__doc__)
    p.add_argument("--corpus", type=Path, default=ARGO, help="folder of documents (argo-cd-docs)")
    p.add_argument("--limit", type=int, help="only the first N files (sorted by path)")
    p.add_argument("--backends", default="onnx,torch", help="comma list of onnx,torch")
    p.add_argument("--no-reference", action="store_true", help="skip the llama-index row")
    p.add_argument("--no-ceiling", action="store_true", help="skip the raw encoder rows")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench ingest: {args.corpus} is absent; nothing to measure (skipped)")
        return 0
    res = run(args.corpus, args.limit, [b for b in args.backends.split(",") if b],
              not args.no_reference, not args.no_ceiling)
    notes = [f"{res['files']} files, {res['chunks']} chunks, {res['tokens']:,} tokens; "
             f"load avg {res['machine']['load_avg_1m']} on {res['machine']['cores']} cores"]
    for k, v in res.items():
        if k.startswith("pipeline_vs_raw_") and not k.endswith("_wall"):
            notes.append(f"{k}: {v:.2f} of the raw encoder per CPU second "
                         f"({res[k + '_wall']:.2f} wall; goal >= {GOAL_CEILING})")
        if k.startswith("reingest_speedup_"):
            notes.append(f"{k}: {v}x (goal >= {GOAL_REINGEST:.0f}x)")
    show("opsqa bench ingest", res["rows"], notes)
    write_json(args.json, res)
    return 0
