"""The Chroma index: chunk vectors, a per-file manifest, the model stamp and the ingest lock.

Everything lives in Chroma itself (two collections), so an embedded store and a Chroma server
behave alike and several opsqa processes on one server see the same manifest. A ``generation``
counter in the chunk collection's metadata changes after every ingest that wrote something;
readers compare it to update their lexical (BM25) side only when needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexStoreError
from ingest.files import path_text

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
    version: int = 1  # the reading/chunking version it was ingested with (pipeline.VERSION)


def _chroma_settings() -> Any:
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False, allow_reset=False)


class IndexStore:
    """Open (or create) the opsqa collections in an embedded or remote Chroma.

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
            import chromadb

            if self.remote:
                from ingest.chroma_http import http_client

                self.client = http_client(chroma_host, chroma_port, chroma_timeout)
            else:
                (self.index_dir / "chroma").mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(
                    path=str(self.index_dir / "chroma"), settings=_chroma_settings())
            self.chunks = self.client.get_or_create_collection(
                collection, configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None)
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
        if isinstance(exc, IndexStoreError):  # already says what happened, in one line
            return exc
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        return IndexStoreError(
            f"cannot {what} the index at {self.where}: {type(exc).__name__}: {reason}. "
            + ("Is `chroma run` up and reachable?" if self.remote else
               "If the folder is damaged, run `opsqa ingest --rebuild PATH...` to rebuild it."))

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
        self.written = int(meta["generation"])  # readers here need not reopen for this one

    # -- manifest ---------------------------------------------------------------------------
    def file_records(self) -> dict[str, FileRecord]:
        try:
            got = self.files.get(include=["metadatas"])
        except Exception as exc:
            raise self.damaged("read", exc) from None
        out = {}
        for m in got["metadatas"] or []:
            if m.get("lease"):  # the server-mode ingest lease, not a file
                continue
            rec = FileRecord(path=str(m["path"]), sha256=str(m["sha256"]), chunks=int(m["chunks"]),
                             title=str(m.get("title", "")), ingested_at=float(m["ingested_at"]),
                             size=int(m.get("size", 0)), version=int(m.get("version", 1)))
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
            try:  # the one full read of the store: where damaged pages show up
                got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=off)
            except Exception as exc:
                raise self.damaged("read", exc) from None
            yield from zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)

    def chunk_files(self, page: int = 20000) -> dict[str, str]:
        """``{file key: path}`` of every file that has chunks stored (metadata only)."""
        out: dict[str, str] = {}
        for off in range(0, self.count(), page):
            try:
                got = self.chunks.get(include=["metadatas"], limit=page, offset=off)
            except Exception as exc:
                raise self.damaged("read", exc) from None
            out.update((str(m.get("file", "")), str(m.get("path", "")))
                       for m in got["metadatas"] or [])
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

    def chunks_by_id(self, ids: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) of these chunks; ids no longer stored are left out."""
        for b in range(0, len(ids), self.max_batch):
            try:
                got = self.chunks.get(ids=ids[b : b + self.max_batch],
                                      include=["documents", "metadatas"])
            except Exception as exc:
                raise self.damaged("read", exc) from None
            yield from zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                           strict=False)

    @property
    def collection_id(self) -> str:
        """The chunk collection's id: a new one after every ``reset``."""
        return str(self.chunks.id)

    # -- lock and rebuild -------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self, timeout: float, on_wait: Any = None) -> Iterator[None]:
        """One ingest at a time per index folder, and per server collection in server mode.

        Raises:
            IndexStoreError: another ingest still holds the lock after ``timeout``.
        """
        with self._file_lock(timeout, on_wait):
            if not self.remote:
                yield
                return
            deadline = time.monotonic() + timeout
            with _Lease(self, timeout=max(0.0, deadline - time.monotonic()), on_wait=on_wait):
                yield

    @contextlib.contextmanager
    def _file_lock(self, timeout: float, on_wait: Any = None) -> Iterator[None]:
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
            import chromadb

            with contextlib.suppress(Exception):
                self.client.close()
            self.client = chromadb.PersistentClient(
                path=str(self.index_dir / "chroma"), settings=_chroma_settings())
            self.files = self.client.get_collection(self.name + FILES_SUFFIX,
                                                    embedding_function=None)
            self.chunks = self.client.get_collection(self.name, embedding_function=None)
            return True


class _Lease:
    """A best-effort ingest lease in the manifest collection, for hosts sharing one server.

    Chroma has no compare-and-set, so a taker writes its token, waits a moment and reads it
    back; two takers racing inside that moment are the one case it cannot rule out. A daemon
    thread renews the lease; a crashed holder's lease expires after ``ttl`` seconds.
    """

    ID = "__ingest_lease__"

    def __init__(self, store: IndexStore, timeout: float, on_wait: Any = None,
                 ttl: float = 60.0, settle: float = 0.3):
        self.store, self.timeout, self.on_wait, self.ttl, self.settle = (
            store, timeout, on_wait, ttl, settle)
        self.token = f"{os.uname().nodename} pid {os.getpid()} {os.urandom(4).hex()}"
        self._stop = threading.Event()

    def _read(self) -> dict[str, Any] | None:
        got = self.store.files.get(ids=[self.ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return dict(metas[0]) if metas else None

    def _write(self) -> None:
        self.store.files.upsert(ids=[self.ID], embeddings=_FILE_VEC, metadatas=[
            {"lease": True, "holder": self.token, "expires": time.time() + self.ttl}])

    def __enter__(self) -> _Lease:
        deadline = time.monotonic() + self.timeout
        told = False
        while True:
            cur = self._read()
            if cur is None or cur.get("holder") == self.token or float(cur["expires"]) < time.time():
                self._write()
                time.sleep(self.settle)
                cur = self._read()
                if cur is not None and cur.get("holder") == self.token:
                    break
            if time.monotonic() >= deadline:
                holder = (cur or {}).get("holder", "another process")
                raise IndexStoreError(
                    f"another ingest ({holder}) is writing the index at {self.store.where}; "
                    f"waited {self.timeout:.0f} s. Try again when it has finished.")
            if self.on_wait and not told:
                self.on_wait()
                told = True
            time.sleep(0.5)
        self._thread = threading.Thread(target=self._renew, daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with contextlib.suppress(Exception):
                self._write()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        with contextlib.suppress(Exception):
            cur = self._read()
            if cur is not None and cur.get("holder") == self.token:
                self.store.files.delete(ids=[self.ID])


def wipe_embedded(index_dir: Path) -> None:
    """Remove a (possibly damaged) embedded store folder so it can be rebuilt from scratch."""
    shutil.rmtree(Path(index_dir) / "chroma", ignore_errors=True)


def file_key(path: str) -> str:
    """A stable short key for a source path (chunk ids and manifest ids derive from it).

    The path is taken as the index names it (``path_text``: undecodable bytes of a file name
    as ``\\xNN``), so any name the file system allows has a key, and the raw name and its
    stored text have the same one.
    """
    import hashlib

    return hashlib.sha1(path_text(path).encode("utf-8")).hexdigest()[:20]
