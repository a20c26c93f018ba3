"""Hybrid retrieval: Chroma's dense vectors plus bm25s lexical scores, fused by reciprocal rank.

The lexical side and the term index are rebuilt from the store whenever its ``generation``
changes (after any ingest, by this or another process), so they never drift from Chroma.
Term-awareness: the corpus's own titles, front-matter aliases and headings form a term index;
a question naming a term (even misspelt) pulls that document's chunks into the candidates.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.terms import TermIndex, normalize_word
from ingest.embedding import Encoder
from ingest.store import IndexStore

RRF_K = 60
CANDIDATES = 30


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused rank score and its dense cosine similarity."""

    id: str
    text: str
    meta: dict[str, Any]
    score: float  # fused score, comparable within one query
    dense: float  # cosine similarity to the question, 0..1-ish

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))

    @property
    def section(self) -> str:
        return str(self.meta.get("section", ""))

    @property
    def file(self) -> str:
        return str(self.meta.get("file", ""))


_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def lexical_tokens(text: str) -> list[str]:
    """Lower-cased word tokens with light normalisation (shared by BM25 and coverage)."""
    return [normalize_word(t) for t in _TOKEN.findall(text.lower())]


@dataclass(frozen=True)
class _Lexical:
    """One consistent snapshot of the store's chunks with their BM25 index and terms."""

    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    bm25: Any
    vocab: set[str]
    terms: TermIndex

    @classmethod
    def build(cls, rows: list[tuple[str, str, dict[str, Any]]]) -> _Lexical:
        tokens = [lexical_tokens(f"{m.get('title', '')} {m.get('section', '')} {t}")
                  for _, t, m in rows]
        bm = None
        if rows:
            import bm25s

            bm = bm25s.BM25()
            bm.index(tokens, show_progress=False)
        metas = [r[2] for r in rows]
        return cls([r[0] for r in rows], [r[1] for r in rows], metas, bm,
                   {w for toks in tokens for w in toks}, TermIndex(metas))


class Retriever:
    """Searches one ``IndexStore`` with one query ``Encoder``."""

    def __init__(self, store: IndexStore, encoder: Encoder, check_every: float = 1.0):
        self.store = store
        self.encoder = encoder
        self.check_every = check_every
        self._lock = threading.Lock()
        self._gen = -1
        self._checked = 0.0
        self._epoch = 0
        self._snap = _Lexical([], [], [], None, set(), TermIndex([]))

    # -- keeping the lexical side in step ---------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Rebuild BM25 and the term index if the store changed since the last look."""
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        epoch = self._epoch
        with self._lock:
            gen = self.store.generation()
            if gen == self._gen and not force:
                self._seen(now, epoch)
                return
            if self._gen >= 0 and gen not in (self._gen, self.store.written):
                self.store.reopen()  # another process wrote: reload its vectors too
            rows = list(self.store.all_chunks())
            # Build aside and swap in one assignment: concurrent searches see old or new.
            self._snap = _Lexical.build(rows)
            self._gen = gen
            # only now: concurrent callers must wait for the first build, not skip it
            self._seen(now, epoch)

    def _seen(self, now: float, epoch: int) -> None:
        if epoch == self._epoch:  # an invalidate() meanwhile keeps the next look immediate
            self._checked = now

    def invalidate(self) -> None:
        """Make the next search look at the store's generation at once (after a write)."""
        self._epoch += 1
        self._checked = float("-inf")

    @property
    def size(self) -> int:
        return len(self._snap.ids)

    @property
    def terms(self) -> TermIndex:
        return self._snap.terms

    @property
    def vocab(self) -> set[str]:
        return self._snap.vocab

    # -- search -----------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def search(self, query: str, k: int = 5, files: list[str] | None = None,
               qvec: np.ndarray | None = None) -> list[Hit]:
        """Top ``k`` chunks for ``query``; ``files`` restricts to those file keys."""
        self.sync()
        snap = self._snap
        if not snap.ids:
            return []
        if qvec is None:
            qvec = self.embed_query(query)
        n = min(CANDIDATES, len(snap.ids))
        where = None
        if files:
            where = {"file": files[0]} if len(files) == 1 else {"file": {"$in": list(files)}}
        where_: Any = where
        def dense(col: Any) -> Any:
            return col.query(query_embeddings=[qvec.tolist()], n_results=n, where=where_,
                             include=["documents", "metadatas", "distances"])

        res: Any = self._retry(dense)
        dense_ids = res["ids"][0]
        pool: dict[str, tuple[str, dict[str, Any], float]] = {}
        for cid, doc, meta, dist in zip(dense_ids, res["documents"][0], res["metadatas"][0],
                                        res["distances"][0], strict=False):
            pool[cid] = (doc, meta, 1.0 - float(dist))
        fused: dict[str, float] = {cid: 1.0 / (RRF_K + r + 1) for r, cid in enumerate(dense_ids)}
        qtok = lexical_tokens(query)
        if snap.bm25 is not None and qtok:
            allowed = set(files) if files else None
            docs, scores = snap.bm25.retrieve([qtok], k=min(len(snap.ids), n * 3),
                                               show_progress=False, n_threads=1)
            rank = 0
            for idx, sc in zip(docs[0], scores[0], strict=False):
                if sc <= 0 or rank >= n:
                    break
                meta = snap.metas[int(idx)]
                if allowed is not None and meta.get("file") not in allowed:
                    continue
                cid = snap.ids[int(idx)]
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
                if cid not in pool:
                    pool[cid] = (snap.texts[int(idx)], meta, float("nan"))
                rank += 1
        missing = [cid for cid, v in pool.items() if np.isnan(v[2])]
        if missing:  # lexical-only hits: score them densely too, for evidence and display
            got: Any = self._retry(lambda col: col.get(ids=missing, include=["embeddings"]))
            for cid, emb in zip(got["ids"], got["embeddings"], strict=False):
                doc, meta, _ = pool[cid]
                pool[cid] = (doc, meta, float(np.dot(np.asarray(emb, dtype=np.float32), qvec)))
        best = sorted(fused, key=lambda c: fused[c], reverse=True)[:k]
        return [Hit(c, pool[c][0], pool[c][1], fused[c], pool[c][2]) for c in best]

    def _retry(self, call: Any) -> Any:
        """``call(chunk collection)``, once more after a reopen if another process's ingest
        left this process's vectors stale (see ``IndexStore.reopen``)."""
        col = self.store.chunks
        try:
            return call(col)
        except Exception:
            if not self.store.reopen(col):
                raise
        return call(self.store.chunks)
