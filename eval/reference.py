"""Reference row: a plain llama-index retriever over the same Chroma collection and model.

It shows what opsqa's retrieval adds (hybrid search, term and section awareness) over the
stock dense retriever. llama-index is imported here only, lazily, with the embedding model
passed explicitly and hub look-ups off.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app import Assistant
from eval import metrics as M


def build_retriever(bot: Assistant, k: int = 5) -> Any:
    """A llama-index ``VectorIndexRetriever`` on ``bot``'s collection and embedding model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed = HuggingFaceEmbedding(model_name=str(bot.encoder.model_dir), device="cpu")
    store = ChromaVectorStore(chroma_collection=bot.store.chunks)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    return index.as_retriever(similarity_top_k=k)


def reference_scores(bot: Assistant, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Retrieval metrics of the llama-index retriever on the questions opsqa's retrieval
    is scored on (answerable, expected sources, no history).

    Returns:
        {"name", "n_retrieval", "hit@1", "hit@5", "mrr", "ndcg@5", "retrieval_p50_ms"}, or
        {"name", "error"} when llama-index cannot run.
    """
    try:
        retriever = build_retriever(bot)
    except Exception as exc:  # an optional comparison must not sink the eval
        return {"name": "llama-index retriever", "error": f"{type(exc).__name__}: {exc}"}
    rows, lat = [], []
    for q in questions:
        if not q["sources"] or q["history"] or q["expect_refusal"]:
            continue
        t0 = time.perf_counter()
        nodes = retriever.retrieve(q["question"])
        lat.append((time.perf_counter() - t0) * 1000)
        paths = [str((n.node.metadata or {}).get("path", "")) for n in nodes]
        rows.append(M.retrieval_scores(paths, q["sources"]))
    out: dict[str, Any] = {"name": "llama-index retriever", "n_retrieval": len(rows),
                           "retrieval_p50_ms": M.percentile(lat, 50)}
    for k in ("hit@1", "hit@5", "mrr", "ndcg@5"):
        out[k] = M.mean(r[k] for r in rows)
    return out
