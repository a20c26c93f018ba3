"""Reference row: the llama-index starter over the same documents, for retrieval.

What a llama-index user gets out of the box: ``SimpleDirectoryReader`` over the folders, the
default splitter, ``VectorStoreIndex`` with the same packaged MiniLM, top 5. It has its own
reader, chunks and in-memory index, so the row shows what opsqa's reading, chunking and
hybrid retrieval add. The index is saved under ``<index_dir>/starter/<key>`` and reused while
the documents are unchanged. llama-index is imported here only, lazily, with the embedding
model passed explicitly and hub look-ups off.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from app import DOCUMENT_TYPES
from eval import metrics as M

NAME = "llama-index starter"
# The files opsqa reads (its one list): the starter reads them too, as its reader sees them.
SUFFIXES = frozenset(DOCUMENT_TYPES)


def _files(docs: list[Path]) -> list[Path]:
    out: list[Path] = []
    for d in docs:
        if d.is_file():
            out.append(d)
        else:
            out += [p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(d).parts)]
    return sorted(out)


def _key(files: list[Path]) -> str:
    import llama_index.core

    h = hashlib.sha1(llama_index.core.__version__.encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def build_starter(docs: list[Path], model_dir: Path, cache: Path | None = None, k: int = 5) -> Any:
    """The starter's retriever over ``docs`` (folders or files) with the sentence-transformers
    model in ``model_dir``, built or loaded from ``cache``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.core import (
        SimpleDirectoryReader,
        StorageContext,
        VectorStoreIndex,
        load_index_from_storage,
    )
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    embed = HuggingFaceEmbedding(model_name=str(model_dir), device="cpu")
    files = _files(docs)
    where = cache / _key(files) if cache else None
    if where is not None and (where / "docstore.json").is_file():
        index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(where)),
                                        embed_model=embed)
    else:
        documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
        index = VectorStoreIndex.from_documents(documents, embed_model=embed)
        if where is not None:
            index.storage_context.persist(persist_dir=str(where))
    return index.as_retriever(similarity_top_k=k)


def reference_scores(docs: list[Path], model_dir: Path, questions: list[dict[str, Any]],
                     cache: Path | None = None) -> dict[str, Any]:
    """Retrieval metrics of the llama-index starter on the questions opsqa's retrieval is
    scored on (answerable, expected sources, no history).

    Returns:
        {"name", "n_retrieval", "hit@1", "hit@5", "mrr", "ndcg@5", "retrieval_p50_ms"}, or
        {"name", "error"} when llama-index cannot run.
    """
    try:
        retriever = build_starter(docs, model_dir, cache)
    except Exception as exc:  # an optional comparison must not sink the eval
        return {"name": NAME, "error": f"{type(exc).__name__}: {exc}"}
    rows, lat = [], []
    for q in questions:
        if not q["sources"] or q["history"] or q["expect_refusal"]:
            continue
        t0 = time.perf_counter()
        nodes = retriever.retrieve(q["question"])
        lat.append((time.perf_counter() - t0) * 1000)
        paths = [str((n.node.metadata or {}).get("file_path", "")) for n in nodes]
        rows.append(M.retrieval_scores(paths, q["sources"]))
    out: dict[str, Any] = {"name": NAME, "n_retrieval": len(rows),
                           "retrieval_p50_ms": M.percentile(lat, 50)}
    for key in ("hit@1", "hit@5", "mrr", "ndcg@5"):
        out[key] = M.mean(r[key] for r in rows)
    return out
