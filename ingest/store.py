"""The Chroma index: chunk vectors, a per-file manifest, the model stamp and the ingest lock.

Everything lives in Chroma itself (two collections), so an embedded store and a Chroma server
behave alike and several opsqa processes on one server see the same manifest. A ``generation``
counter in the chunk collection's metadata changes after every ingest that wrote something;
readers compare it to rebuild their lexical (BM25) side only when needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexStoreError

FILES_SUFFIX = "-files"
# The manifest collection needs vectors too; one constant dimension is enough.
_FILE_VEC = [[1.0]]


@dataclass(frozen=True)
class FileRecord:
    """What the manifest knows about one ingested file."""

    path: str
    sha256: str
    chunks: int
    title: str
    ingested_at: float
    size: int = 0


def _chroma_settings() -> Any:
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False, allow_reset=False)


class IndexStore:
    """Open (or create) the opsqa collections in an embedded or remote Chroma.

    Args:
        index_dir: folder for the embedded store, the lock file and uploads.
        collection: base collection name.
        chroma_host/chroma_port: a Chroma server; empty host = embedded ``PersistentClient``.

    Raises:
        IndexStoreError: the store cannot be opened (damaged files, server unreachable).
    """

    def __init__(self, index_dir: Path, collection: str = "opsqa", chroma_host: str = "",
                 chroma_port: int = 8000):
        self.index_dir = Path(index_dir)
        self.name = collection
        self.remote = bool(chroma_host)
        # chromadb's own types are stricter than its runtime; we hold its objects as Any.
        self.client: Any
        self.chunks: Any
        self.files: Any
        self.where = f"chroma server {chroma_host}:{chroma_port}" if self.remote else str(
            self.index_dir / "chroma")
        try:
            import chromadb

            if self.remote:
                self.client = chromadb.HttpClient(
                    host=chroma_host, port=chroma_port, settings=_chroma_settings())
            else:
                (self.index_dir / "chroma").mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(
                    path=str(self.index_dir / "chroma"), settings=_chroma_settings())
            self.chunks = self.client.get_or_create_collection(
                collection, configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None)
            self.files = self.client.get_or_create_collection(
                collection + FILES_SUFFIX, embedding_function=None)
        except IndexStoreError:
            raise
        except Exception as exc:
            raise IndexStoreError(
                f"cannot open the index at {self.where}: {type(exc).__name__}: {exc}. "
                + ("Is `chroma run` up and reachable?" if self.remote else
                   "If the folder is damaged, run `opsqa ingest --rebuild PATH...` to rebuild it.")
            ) from None
        self.max_batch = int(self.client.get_max_batch_size())

    # -- model stamp and generation -------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """The chunk collection's metadata, fresh from the store (model, dim, generation)."""
        col = self.client.get_collection(self.name, embedding_function=None)
        return dict(col.metadata or {})

    def generation(self) -> int:
        return int(self.meta().get("generation", 0))

    def check_model(self, model_id: str, dim: int) -> None:
        """Refuse to mix vectors of two models in one index.

        Raises:
            IndexStoreError: the index was built with another model or dimension.
        """
        meta = self.meta()
        stored, stored_dim = meta.get("embed_model"), meta.get("embed_dim")
        if stored is None or self.chunks.count() == 0:
            return
        if stored != model_id or int(stored_dim or 0) != dim:
            raise IndexStoreError(
                f"the index at {self.where} was built with embedding model {stored} "
                f"({stored_dim} dimensions) but the settings name {model_id} ({dim}). "
                "Run `opsqa ingest --rebuild PATH...` to re-embed everything with the new model, "
                "or set embed_model back."
            )

    def bump(self, model_id: str, dim: int) -> None:
        """Stamp the model and advance the generation after a write."""
        meta = self.meta()
        meta.update(embed_model=model_id, embed_dim=dim,
                    generation=int(meta.get("generation", 0)) + 1, updated_at=time.time())
        meta.pop("hnsw:space", None)
        self.chunks.modify(metadata=meta)

    # -- manifest ---------------------------------------------------------------------------
    def file_records(self) -> dict[str, FileRecord]:
        got = self.files.get(include=["metadatas"])
        out = {}
        for m in got["metadatas"] or []:
            rec = FileRecord(path=str(m["path"]), sha256=str(m["sha256"]), chunks=int(m["chunks"]),
                             title=str(m.get("title", "")), ingested_at=float(m["ingested_at"]),
                             size=int(m.get("size", 0)))
            out[rec.path] = rec
        return out

    def put_file(self, rec: FileRecord) -> None:
        self.files.upsert(ids=[file_key(rec.path)], embeddings=_FILE_VEC,
                          metadatas=[rec.__dict__.copy()])

    def drop_file(self, path: str) -> int:
        """Delete a file's chunks, then its manifest record; returns chunks removed."""
        ids = self.chunk_ids(path)
        for b in range(0, len(ids), self.max_batch):
            self.chunks.delete(ids=ids[b : b + self.max_batch])
        self.files.delete(ids=[file_key(path)])
        return len(ids)

    # -- chunks -----------------------------------------------------------------------------
    def chunk_ids(self, path: str) -> list[str]:
        return list(self.chunks.get(where={"file": file_key(path)}, include=[])["ids"])

    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str],
               metas: list[dict[str, Any]]) -> None:
        for b in range(0, len(ids), self.max_batch):
            s = slice(b, b + self.max_batch)
            self.chunks.upsert(ids=ids[s], embeddings=vectors[s], documents=texts[s],
                               metadatas=metas[s])

    def update_meta(self, ids: list[str], metas: list[dict[str, Any]]) -> None:
        for b in range(0, len(ids), self.max_batch):
            s = slice(b, b + self.max_batch)
            self.chunks.update(ids=ids[s], metadatas=metas[s])

    def delete_chunks(self, ids: list[str]) -> None:
        for b in range(0, len(ids), self.max_batch):
            self.chunks.delete(ids=ids[b : b + self.max_batch])

    def count(self) -> int:
        return int(self.chunks.count())

    def all_chunks(self, page: int = 5000) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every (id, text, metadata) in pages, for building the lexical index."""
        total = self.count()
        for off in range(0, total, page):
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=off)
            yield from zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)

    # -- lock and rebuild -------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self, timeout: float, on_wait: Any = None) -> Iterator[None]:
        """One ingest at a time per index folder: wait up to ``timeout`` s, then refuse.

        Raises:
            IndexStoreError: another ingest still holds the lock after ``timeout``.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        path = self.index_dir / "ingest.lock"
        with open(path, "a+") as fh:
            deadline = time.monotonic() + timeout
            told = False
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        fh.seek(0)
                        holder = fh.read().strip() or "another process"
                        raise IndexStoreError(
                            f"another ingest ({holder}) is writing the index at {self.where}; "
                            f"waited {timeout:.0f} s. Try again when it has finished."
                        ) from None
                    if on_wait and not told:
                        on_wait()
                        told = True
                    time.sleep(0.2)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)

    def reset(self) -> None:
        """Drop both collections (used by --rebuild) and create them empty."""
        for name in (self.name, self.name + FILES_SUFFIX):
            with contextlib.suppress(Exception):
                self.client.delete_collection(name)
        self.chunks = self.client.get_or_create_collection(
            self.name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        self.files = self.client.get_or_create_collection(
            self.name + FILES_SUFFIX, embedding_function=None)


def wipe_embedded(index_dir: Path) -> None:
    """Remove a (possibly damaged) embedded store folder so it can be rebuilt from scratch."""
    shutil.rmtree(Path(index_dir) / "chroma", ignore_errors=True)


def file_key(path: str) -> str:
    """A stable short key for a source path (chunk ids and manifest ids derive from it)."""
    import hashlib

    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:20]
