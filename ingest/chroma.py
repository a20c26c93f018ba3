"""Chroma access: open the chunk and manifest collections, read and write them in batches.

An embedded ``PersistentClient`` or a Chroma server behave alike here. Reads that serve a
search return ``StoredChunk``s, so callers never see Chroma's result dicts or its ``where``
syntax; a read that fails is retried once after ``reopen`` (another process's ingest can
leave this process's in-memory vectors stale).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ingest.chroma_damage import check_files, failure, wipe_files
from ingest.chunk_meta import ChunkMeta
from ingest.errors import IndexStoreError

FILES_SUFFIX = "-files"
# Chroma saves its vector graph to disk every ``sync_threshold`` writes and, on every load,
# inserts the writes made since into the graph again; past 100 of them (its exact-search
# buffer) it does so on several threads, so two processes opening one index got different
# graphs and different nearest chunks. Saving every 100 writes keeps that tail in the exact
# buffer: an index gives the same answers in every process that opens it.
SYNC = 100
# Chroma's graph search looks at ``ef_search`` candidates. On a documentation set of 7,490
# chunks, the 30 nearest it returned held 0.981 of the true 30 nearest at its default of 100
# (all 30 for 0.75 of the questions) and 0.9994 at 400 (0.98), for about 3 ms more a search.
EF_SEARCH = 400
HNSW = {"hnsw": {"space": "cosine", "sync_threshold": SYNC, "ef_search": EF_SEARCH}}
T = TypeVar("T")


@dataclass(frozen=True)
class StoredChunk:
    """One stored chunk: its id, text and metadata, and its cosine similarity to the query
    vector it was read for (0.0 when read without one)."""

    id: str
    text: str
    meta: ChunkMeta
    similarity: float = 0.0


def _persistent(index_dir: Path) -> Any:
    """An embedded client on ``<index_dir>/chroma`` (no telemetry, no reset)."""
    import chromadb

    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chromadb.Settings(
        anonymized_telemetry=False, allow_reset=False))


class ChromaIndex:
    """The opsqa collections (chunks and manifest) in an embedded or remote Chroma.

    Args:
        index_dir: folder for the embedded store, the lock file and uploads.
        collection: base collection name.
        chroma_host/chroma_port: a Chroma server; empty host = embedded ``PersistentClient``.
        chroma_timeout: seconds to connect to, and wait for each answer from, the server.

    Raises:
        IndexStoreError: the store cannot be opened (damaged files, server unreachable).
    """

    def __init__(self, index_dir: Path, collection: str = "opsqa", chroma_host: str = "",
                 chroma_port: int = 8000, chroma_timeout: float = 30.0):
        self.index_dir = Path(index_dir)
        self.name = collection
        self.remote = bool(chroma_host)
        self.written = -1  # the last generation this object wrote (see bump)
        self._reopen_lock = threading.Lock()
        # chromadb's own types are stricter than its runtime; we hold its objects as Any.
        self.client: Any
        self.chunks: Any
        self.files: Any
        self.where = f"chroma server {chroma_host}:{chroma_port}" if self.remote else str(
            self.index_dir / "chroma")
        try:
            if self.remote:
                from ingest.chroma_http import http_client

                self.client = http_client(chroma_host, chroma_port, chroma_timeout)
            else:
                check_files(self.index_dir)
                (self.index_dir / "chroma").mkdir(parents=True, exist_ok=True)
                self.client = _persistent(self.index_dir)
            self.chunks = self.client.get_or_create_collection(
                collection, configuration=HNSW, embedding_function=None)
            self.files = self.client.get_or_create_collection(
                collection + FILES_SUFFIX, embedding_function=None)
            # Read both once: a damaged store fails here, with the hint below, and not as a
            # raw Chroma error on the first query.
            self.chunks.count()
            self.files.count()
        except IndexStoreError:
            raise
        except Exception as exc:
            raise self.damaged("open", exc) from None
        self.max_batch = int(self.client.get_max_batch_size())

    def damaged(self, what: str, exc: Exception) -> IndexStoreError:
        """The one-line error for a failed open, read or write (a full disk said as such)."""
        return failure(what, exc, self.where, None if self.remote else self.index_dir)

    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str],
               metas: list[dict[str, Any]]) -> None:
        self._saves_often()
        for b in range(0, len(ids), self.max_batch):
            s = slice(b, b + self.max_batch)
            self.chunks.upsert(ids=ids[s], embeddings=vectors[s], documents=texts[s],
                               metadatas=metas[s])

    def _saves_often(self) -> None:
        """An index made before ``SYNC`` and ``EF_SEARCH`` takes them at its next write."""
        hnsw = (self.chunks.configuration or {}).get("hnsw") or {}
        want = {"sync_threshold": SYNC, "ef_search": EF_SEARCH}
        if any(hnsw.get(k, v) != v for k, v in want.items()):
            self.chunks.modify(configuration={"hnsw": want})

    def update_meta(self, ids: list[str], metas: list[dict[str, Any]]) -> None:
        for b in range(0, len(ids), self.max_batch):
            s = slice(b, b + self.max_batch)
            self.chunks.update(ids=ids[s], metadatas=metas[s])

    def delete_chunks(self, ids: list[str]) -> None:
        for b in range(0, len(ids), self.max_batch):
            self.chunks.delete(ids=ids[b : b + self.max_batch])

    def count(self) -> int:
        return int(self.chunks.count())

    def all_chunks(self, page: int = 5000) -> Iterator[tuple[str, str, ChunkMeta]]:
        """Every (id, text, metadata) in pages, for building the lexical index."""
        total = self.count()
        for off in range(0, total, page):
            try:  # the one full read of the store: where damaged pages show up
                got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=off)
            except Exception as exc:
                raise self.damaged("read", exc) from None
            yield from zip(got["ids"], got["documents"] or [],
                           map(ChunkMeta.of, got["metadatas"] or []), strict=False)

    def chunk_files(self, page: int = 20000) -> dict[str, str]:
        """``{file key: path}`` of every file that has chunks stored (metadata only)."""
        out: dict[str, str] = {}
        for off in range(0, self.count(), page):
            try:
                got = self.chunks.get(include=["metadatas"], limit=page, offset=off)
            except Exception as exc:
                raise self.damaged("read", exc) from None
            out.update((m.file, m.path) for m in map(ChunkMeta.of, got["metadatas"] or []))
        return out

    def all_ids(self, page: int = 50000) -> list[str]:
        """Every chunk id (no text, metadata or vectors: cheap even at 100k chunks)."""
        out: list[str] = []
        for off in range(0, self.count(), page):
            try:
                out += self.chunks.get(include=[], limit=page, offset=off)["ids"]
            except Exception as exc:
                raise self.damaged("read", exc) from None
        return list(dict.fromkeys(out))  # a write between pages can shift one id into two

    def chunks_by_id(self, ids: list[str]) -> Iterator[tuple[str, str, ChunkMeta]]:
        """(id, text, metadata) of these chunks; ids no longer stored are left out."""
        for b in range(0, len(ids), self.max_batch):
            try:
                got = self.chunks.get(ids=ids[b : b + self.max_batch],
                                      include=["documents", "metadatas"])
            except Exception as exc:
                raise self.damaged("read", exc) from None
            yield from zip(got["ids"], got["documents"] or [],
                           map(ChunkMeta.of, got["metadatas"] or []), strict=False)

    @property
    def collection_id(self) -> str:
        """The chunk collection's id: a new one after every ``reset``."""
        return str(self.chunks.id)

    def reset(self) -> None:
        """Drop both collections (used by --rebuild) and create them empty. An embedded
        store is made anew, files and all: dropping collections from a damaged database
        could leave its damage in place."""
        if not self.remote:
            with contextlib.suppress(Exception):
                self.client.close()
            wipe_files(self.index_dir)
            (self.index_dir / "chroma").mkdir(parents=True, exist_ok=True)
            self.client = _persistent(self.index_dir)
        for name in (self.name, self.name + FILES_SUFFIX):
            with contextlib.suppress(Exception):
                self.client.delete_collection(name)
        self.chunks = self.client.get_or_create_collection(
            self.name, configuration=HNSW, embedding_function=None)
        self.files = self.client.get_or_create_collection(
            self.name + FILES_SUFFIX, embedding_function=None)

    def reopen(self, stale: Any = None) -> bool:
        """Reload this process's view of an embedded store after another process wrote it.

        Another process's ingest compacts and purges the shared write log, so the vectors
        this process holds in memory miss the new ids ("Error finding id") until they are
        reloaded from disk. ``stale``: the chunk collection a failed call used; when it was
        already replaced (by another thread), nothing is done. Returns False for a server.
        """
        if self.remote:
            return False
        with self._reopen_lock:
            if stale is not None and stale is not self.chunks:
                return True
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = _persistent(self.index_dir)
            self.files = self.client.get_collection(self.name + FILES_SUFFIX,
                                                    embedding_function=None)
            self.chunks = self.client.get_collection(self.name, embedding_function=None)
            return True

    # -- typed reads for search ---------------------------------------------------------------
    def nearest(self, vector: np.ndarray, n: int, files: list[str] | None = None,
                among: list[str] | None = None) -> list[tuple[str, float]]:
        """The ids of the ``n`` chunks nearest ``vector`` with their similarity (best first),
        within ``files`` (file keys) if given. Only ids: reading text and metadata costs as
        much again, and few of the ``n`` are quoted (``scored`` reads those). ``among``: the
        chunk ids of ``files`` as the caller last saw them, searched among (cheaper than a
        filter by file) unless one is gone since (another process's ingest).

        Raises:
            IndexStoreError: the store cannot be read, even once reopened.
        """
        where: Any = None
        if files:
            where = {"file": files[0]} if len(files) == 1 else {"file": {"$in": list(files)}}

        def run(col: Any, **within: Any) -> list[tuple[str, float]]:
            res = col.query(query_embeddings=[vector.tolist()], n_results=n, **within,
                            include=["distances"])
            return [(cid, 1.0 - float(dist))
                    for cid, dist in zip(res["ids"][0], res["distances"][0], strict=False)]

        def query(col: Any) -> list[tuple[str, float]]:
            if files and among:
                with contextlib.suppress(Exception):
                    return run(col, ids=among)
            return run(col, where=where)

        return self.searching(query)

    def scored(self, ids: list[str], vector: np.ndarray, text: bool = True
               ) -> list[StoredChunk]:
        """These chunks (those still stored), each with its similarity to ``vector``;
        ``text=False`` reads their vectors alone (no text, default metadata)."""
        if not ids:
            return []
        include = ["documents", "metadatas", "embeddings"] if text else ["embeddings"]
        return self.searching(lambda col: _with_similarity(col.get(ids=ids, include=include),
                                                           vector))

    def in_file(self, file: str, ids: list[str] | None = None) -> list[StoredChunk]:
        """Every chunk of one file (by file key), in no particular order. ``ids``: its chunk
        ids as the caller last saw them, read by id (cheaper than a read filtered by file)."""
        def get(col: Any) -> list[StoredChunk]:
            got = col.get(ids=ids, include=["documents", "metadatas"]) if ids else col.get(
                where={"file": file}, include=["documents", "metadatas"])
            return [StoredChunk(cid, doc, ChunkMeta.of(meta)) for cid, doc, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=False)]

        return self.searching(get)

    def searching(self, call: Callable[[Any], T]) -> T:
        """``call(chunk collection)``, once more after a reopen if another process's ingest
        left this process's vectors stale (see ``reopen``).

        Raises:
            IndexStoreError: still failing once reloaded: the files are damaged.
        """
        col = self.chunks
        try:
            return call(col)
        except Exception as exc:
            first = exc
        try:
            if self.reopen(col):
                return call(self.chunks)
        except Exception as exc:  # still failing once reloaded: the files are damaged
            first = exc
        raise self.damaged("search", first) from None


def _with_similarity(got: Any, vector: np.ndarray) -> list[StoredChunk]:
    blank = [None] * len(got["ids"])
    return [StoredChunk(cid, doc or "", ChunkMeta.of(meta),
                        float(np.dot(np.asarray(emb, dtype=np.float32), vector)))
            for cid, doc, meta, emb in zip(got["ids"], got["documents"] or blank,
                                           got["metadatas"] or blank, got["embeddings"],
                                           strict=False)]
