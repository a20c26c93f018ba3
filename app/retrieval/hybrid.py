"""Hybrid retrieval: Chroma's dense vectors plus bm25s lexical scores, fused by reciprocal rank.

The lexical side and the term index (``app/retrieval/lexical.py``) catch up with the store whenever its
generation changes (after any ingest, by this or another process), so they never drift from
Chroma.
Term-awareness: the corpus's own titles, front-matter aliases and headings form a term index;
a question naming a term (even misspelt) pulls that document's chunks into the candidates.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from app.retrieval.lexical import LexicalIndex, fetch_rows, store_key
from app.retrieval.term_index import TermIndex
from app.retrieval.terms import Vocabulary
from ingest.chroma import StoredChunk
from ingest.chunk_meta import ChunkMeta
from ingest.embedding import Encoder
from ingest.store import IndexStore, file_key

RRF_K = 60
# A chunk whose similarity to the question beats every other's by this much leads, whatever
# words it shares: reciprocal ranks alone would bury it under chunks both rankings hold
# (a question asked in other words than the page's: "who started it?" for "begun by").
DENSE_LEAD = 0.1
CANDIDATES = 30
DEFINING_MAX = 40  # passages defining a subject that are read to rank them
DEFINING_WEIGHT = 2.0  # the defining passages count twice in the fusion
NEIGHBOURS = 3  # chunks each way of a best hit, under its heading, that come along


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused rank score and its dense cosine similarity."""

    id: str
    text: str
    meta: ChunkMeta
    score: float  # fused score, comparable within one query
    dense: float  # cosine similarity to the question, 0..1-ish

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def section(self) -> str:
        return self.meta.section

    @property
    def file(self) -> str:
        return self.meta.file


class Retriever:
    """Searches one ``IndexStore`` with one query ``Encoder``."""

    def __init__(self, store: IndexStore, encoder: Encoder, check_every: float = 1.0):
        self.store = store
        self.encoder = encoder
        self.check_every = check_every
        self._lock = threading.Lock()
        self._gen = -1
        self._checked = float("-inf")  # the first search looks, however long the host has been up
        self._epoch = 0
        self._snap = LexicalIndex.empty()
        self.saved = store.index_dir / "lexical"  # snapshots shared by processes on this host

    # -- keeping the lexical side in step ---------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Bring BM25 and the term index up to date if the generation moved since the last look."""
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        epoch = self._epoch
        with self._lock:
            gen = self.store.generation()
            # Only a new generation triggers a catch-up: mid-ingest (chunks written, no bump
            # yet) readers keep their snapshot instead of catching up with every batch.
            if gen == self._gen and not force:
                self._seen(now, epoch)
                return
            if self._gen >= 0 and gen not in (self._gen, self.store.written):
                self.store.reopen()  # another process wrote: reload its vectors too
            # Build aside and swap in one assignment: concurrent searches see old or new.
            self._snap = self._catch_up(gen)
            self._gen = gen
            # only now: concurrent callers must wait for the first build, not skip it
            self._seen(now, epoch)

    def _key(self, gen: int) -> str:
        return store_key(self.store.collection_id, gen, self.store.count())

    def _catch_up(self, gen: int) -> LexicalIndex:
        """The lexical snapshot for the store as it is now: this process's, one saved by any
        process, or the closest of those updated with what changed since."""
        records = self.store.file_records()  # before the chunks: a later hash change refetches
        shas = {file_key(p): r.sha256 for p, r in records.items()}
        key = self._key(gen)
        snap = self._snap if self._snap.key == key else LexicalIndex.load(
            self.saved / f"{key}.npz")
        if snap is not None and not snap.changed(shas):
            return snap
        base = snap or self._snap
        if base.collection != self.store.collection_id:
            newest = LexicalIndex.newest(self.saved, self.store.collection_id)
            base = (LexicalIndex.load(newest) if newest else None) or LexicalIndex.empty()
        ids = self.store.all_ids()  # the key counts what was read, should a write run now
        snap = base.update(store_key(self.store.collection_id, gen, len(ids)), ids, shas,
                           lambda want: fetch_rows(self.store, want))
        snap.save(self.saved)
        return snap

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
    def lexical(self) -> LexicalIndex:
        return self._snap

    @property
    def terms(self) -> TermIndex:
        return self._snap.terms

    @property
    def vocab(self) -> Vocabulary:
        return self._snap.vocab

    # -- search -----------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def search(self, query: str, k: int = 5, files: list[str] | None = None,
               qvec: np.ndarray | None = None, subject: str | tuple[str, ...] = ""
               ) -> list[Hit]:
        """Top ``k`` chunks for ``query``; ``files`` restricts to those file keys; the chunks
        that define ``subject`` (what a definition asks about, or each side a comparison
        compares) join the fused ranking."""
        self.sync()
        snap = self._snap
        if not snap.ids:
            return []
        if qvec is None:
            qvec = self.embed_query(query)
        n = min(CANDIDATES, len(snap.ids))
        found = self.store.nearest(qvec, n, files, snap.in_files(files) if files else None)
        sims = dict(found)
        fused: dict[str, float] = {cid: 1.0 / (RRF_K + r + 1) for r, (cid, _) in enumerate(found)}
        allowed = set(files) if files else None
        self._fuse_lexical(fused, snap, query, n, allowed)
        for what in (subject,) if isinstance(subject, str) else subject:
            if what:  # a third ranking: the passages that define the subject, by similarity
                self._fuse_defining(fused, sims, snap, what, n, allowed, qvec)
        if len(found) > 1 and found[0][1] - found[1][1] >= DENSE_LEAD:
            fused[found[0][0]] = max(fused.values()) + 1e-6  # the encoder is sure: it leads
        ranked = sorted(fused, key=lambda c: (-fused[c], c))
        hits: list[Hit] = []
        at = 0
        while len(hits) < k and at < len(ranked):  # the text of the best only; once more
            best = ranked[at : at + k - len(hits)]  # if one was deleted meanwhile
            at += len(best)
            hits += [Hit(c.id, c.text, c.meta, fused[c.id], sims.get(c.id, c.similarity))
                     for c in self._ordered(best, qvec)]
        return hits

    @staticmethod
    def _fuse_lexical(fused: dict[str, float], snap: LexicalIndex, query: str, n: int,
                      allowed: set[str] | None) -> None:
        """Add BM25's top ``n`` (within ``allowed`` files) to the reciprocal-rank fusion."""
        qtok = snap.query_stems(query)
        if snap.bm25 is None or not qtok:
            return
        docs, scores = snap.bm25.retrieve([qtok], k=min(len(snap.ids), n * 3),
                                           show_progress=False, n_threads=1)
        rank = 0
        # Equal scores rank by chunk id, so the order never depends on how the index grew.
        ordered = sorted(zip(docs[0].tolist(), scores[0].tolist(), strict=False),
                         key=lambda p: (-p[1], snap.ids[int(p[0])]))
        for idx, sc in ordered:
            if sc <= 0 or rank >= n:
                break
            if allowed is not None and snap.file_of(int(idx)) not in allowed:
                continue
            cid = snap.ids[int(idx)]
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rank += 1

    def _fuse_defining(self, fused: dict[str, float], sims: dict[str, float],
                       snap: LexicalIndex, subject: str, n: int, allowed: set[str] | None,
                       qvec: np.ndarray) -> None:
        """Add the passages that define ``subject``, ranked by similarity, to the fusion."""
        defining = [snap.ids[i] for i in snap.defining(subject)
                    if allowed is None or snap.file_of(i) in allowed][:DEFINING_MAX]
        self._similar(sims, defining, qvec)
        ranked = sorted((cid for cid in defining if cid in sims), key=lambda c: (-sims[c], c))
        for rank, cid in enumerate(ranked[:n]):  # a definition is what was asked for
            fused[cid] = fused.get(cid, 0.0) + DEFINING_WEIGHT / (RRF_K + rank + 1)

    def _similar(self, sims: dict[str, float], ids: list[str], qvec: np.ndarray) -> None:
        """Add the similarity to ``qvec`` of the chunks among ``ids`` not yet in ``sims``
        (their vectors only: the text of most of them is never quoted)."""
        sims.update((c.id, c.similarity) for c in self.store.scored(
            [c for c in ids if c not in sims], qvec, text=False))

    def _ordered(self, ids: list[str], qvec: np.ndarray) -> list[StoredChunk]:
        """These chunks (those still stored), in the order given."""
        got = {c.id: c for c in self.store.scored(ids, qvec)}
        return [got[cid] for cid in ids if cid in got]

    def neighbours(self, hits: list[Hit], qvec: np.ndarray, reach: int = NEIGHBOURS
                   ) -> list[Hit]:
        """The chunks around ``hits`` under the same heading, up to ``reach`` each way (a list
        or table that chunking cut off from its lead-in)."""
        have = {h.id for h in hits}
        if not hits:
            return []
        got = self.store.scored(self._snap.in_sections([(h.file, h.section) for h in hits]), qvec)
        near: dict[tuple[str, str], list[int]] = {}
        for h in hits:
            near.setdefault((h.file, h.section), []).append(h.meta.index)
        out = []
        for c in got:
            at = (c.meta.file, c.meta.section)
            index = c.meta.index
            if c.id in have or not any(abs(index - i) <= reach for i in near.get(at, [])):
                continue
            out.append(Hit(c.id, c.text, c.meta, 0.0, c.similarity))
        return out
