"""Bookkeeping over Chroma: the per-file manifest, the model stamp, the generation, the ingest lock.

Everything lives in Chroma itself (two collections, see ``ingest/chroma.py``), so an embedded
store and a Chroma server behave alike and several opsqa processes on one server see the same
manifest. A ``generation`` counter in the chunk collection's metadata changes after every
ingest that wrote something; readers compare it to update their lexical (BM25) side only when
needed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.chroma import FILES_SUFFIX, ChromaIndex, StoredChunk
from ingest.chroma_damage import wipe_files
from ingest.embedding import DEFAULT_MODEL_ID
from ingest.errors import IndexStoreError
from ingest.files import path_text
from ingest.locking import Lease, folder_lock

__all__ = ["FILES_SUFFIX", "FileRecord", "IndexStore", "StoredChunk", "file_key", "wipe_embedded"]

# The manifest collection needs vectors too; one constant dimension is enough.
_FILE_VEC = Lease.VECTOR


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


class IndexStore(ChromaIndex):
    """Open (or create) the opsqa collections in an embedded or remote Chroma, with their
    manifest, model stamp and ingest lock (arguments as ``ChromaIndex``).

    Raises:
        IndexStoreError: the store cannot be opened (damaged files, server unreachable).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.loaded = -1 if self.remote else self.generation()  # when its view was read

    def reopen(self, stale: Any = None) -> bool:
        done = super().reopen(stale)
        if done and not self.remote:
            self.loaded = self.generation()
        return done

    # -- model stamp and generation -------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """The chunk collection's metadata, fresh from the store (model, dim, generation)."""
        col = self.client.get_collection(self.name, embedding_function=None)
        return dict(col.metadata or {})

    def generation(self) -> int:
        return int(self.meta().get("generation", 0))

    def check_model(self, model_id: str, dim: int, digest: str = "") -> None:
        """Refuse to mix vectors of two models in one index: the stamp names the model, its
        dimensions and the hash of its files (``ingest.fingerprint``), so a different model
        in a folder of the same name is refused too.

        Raises:
            IndexStoreError: the index was built with another model, dimension or files.
        """
        meta = self.meta()
        stored, stored_dim = meta.get("embed_model"), meta.get("embed_dim")
        if stored is None or self.chunks.count() == 0:
            return
        stamp = meta.get("embed_digest")
        if stamp is None and stored == DEFAULT_MODEL_ID:
            stamp = digest  # an older stamp of the packaged model: its wheel pins its files
        if stored == model_id and int(stored_dim or 0) == dim and stamp == digest:
            return
        was = f"{stored} ({stored_dim} dimensions, files {str(stamp or 'not recorded')[:12]})"
        now = f"{model_id} ({dim}, files {digest[:12]})"
        raise IndexStoreError(
            f"the index at {self.where} was built with embedding model {was} but the settings "
            f"name {now}. Run `opsqa ingest --rebuild` to re-embed everything with the new "
            "model, or set embed_model back.")

    def bump(self, model_id: str, dim: int, digest: str = "") -> None:
        """Stamp the model and advance the generation after a write."""
        meta = self.meta()
        meta.update(embed_model=model_id, embed_dim=dim, embed_digest=digest,
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

    def chunk_ids(self, path: str) -> list[str]:
        return list(self.chunks.get(where={"file": file_key(path)}, include=[])["ids"])

    # -- lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self, timeout: float, on_wait: Any = None) -> Iterator[None]:
        """One ingest at a time per index folder, and per server collection in server mode.

        Raises:
            IndexStoreError: another ingest still holds the lock after ``timeout``.
        """
        with folder_lock(self.index_dir, timeout, self._busy(timeout), on_wait):
            if not self.remote:
                # Read what another process wrote before writing: a view opened before then
                # lacks its vectors, and Chroma saving that view would lose them. (This
                # process's own writes need no reload, and its readers keep their client.)
                if self.generation() not in (self.loaded, self.written):
                    self.reopen()
                yield
                return
            with Lease(self, timeout=timeout, on_wait=on_wait):
                yield

    def _busy(self, timeout: float) -> Callable[[str], IndexStoreError]:
        def error(holder: str) -> IndexStoreError:
            return IndexStoreError(
                f"another ingest ({holder}) is writing the index at {self.where}; "
                f"waited {timeout:.0f} s. Try again when it has finished.")

        return error


def wipe_embedded(index_dir: Path) -> None:
    """Remove a (possibly damaged) embedded store folder so it can be rebuilt from scratch."""
    wipe_files(index_dir)


def file_key(path: str) -> str:
    """A stable short key for a source path (chunk ids and manifest ids derive from it).

    The path is taken as the index names it (``path_text``: undecodable bytes of a file name
    as ``\\xNN``), so any name the file system allows has a key, and the raw name and its
    stored text have the same one.
    """
    import hashlib

    return hashlib.sha1(path_text(path).encode("utf-8")).hexdigest()[:20]
