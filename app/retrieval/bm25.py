"""BM25 scores in the layout bm25s searches, and the CSR word-id arrays they are computed from.

Scores are the bm25s "lucene" variant (a test checks the matrix against ``bm25s.BM25.index``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

K1, B = 1.5, 0.75  # bm25s defaults


def bm25_matrix(tok: np.ndarray, ptr: np.ndarray, n_words: int) -> dict[str, Any]:
    """BM25 ("lucene" idf and tf) scores as bm25s's CSC dict: one column per word id."""
    n = len(ptr) - 1
    lengths = np.diff(ptr)
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pair, tf = np.unique(doc * n_words + tok.astype(np.int64), return_counts=True)
    pdoc, pword = pair // n_words, pair % n_words
    df = np.bincount(pword, minlength=n_words)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    avg = lengths.mean() if n else 1.0
    tf32 = tf.astype(np.float32)
    norm = (K1 * ((1 - B) + B * lengths[pdoc] / avg)).astype(np.float32)
    scores = idf[pword] * (tf32 / (norm + tf32))
    order = np.argsort(pword, kind="stable")  # by word, then document (pairs are doc-major)
    indptr = np.concatenate([[0], np.cumsum(df)])
    return {"data": scores[order].astype(np.float32), "indices": pdoc[order].astype(np.int32),
            "indptr": indptr.astype(np.int64), "num_docs": n}


def by_id(ids: list[str], tok: np.ndarray, ptr: np.ndarray, row_of: np.ndarray
           ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The chunks (ids, their word ids in CSR form, their rows) in order of id."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    if order == list(range(len(ids))):
        return ids, tok, ptr, row_of
    at = np.asarray(order, dtype=np.int64)
    new_ptr = np.concatenate([[0], np.cumsum(np.diff(ptr)[at])]).astype(np.int64)
    bounds = ptr.tolist()  # slices, not an index array: no copy beyond the result
    parts = [tok[bounds[i] : bounds[i + 1]] for i in order]
    new_tok = np.concatenate(parts).astype(np.int32) if parts else tok
    return [ids[i] for i in order], new_tok, new_ptr, row_of[at]


def sorted_ids(items: list[Any], refs: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """``items`` sorted, and ``refs`` (indexes into them) pointing at the same items."""
    order = sorted(range(len(items)), key=items.__getitem__)
    if order == list(range(len(items))):
        return items, refs
    remap = np.empty(len(items), dtype=np.int64)
    remap[np.asarray(order, dtype=np.int64)] = np.arange(len(items), dtype=np.int64)
    return [items[i] for i in order], remap[refs].astype(refs.dtype)
