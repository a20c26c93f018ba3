"""The ingest lock: one writer per index folder (a ``filelock`` file lock), and a lease for a shared server.

The lock file holds "pid N" of its holder while held, so a waiting process can name it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ingest.errors import IndexStoreError

LOCK_FILE = "ingest.lock"
POLL = 0.2  # seconds between attempts on a held lock


@contextlib.contextmanager
def folder_lock(index_dir: Path, timeout: float, busy: Callable[[str], IndexStoreError],
                on_wait: Callable[[], Any] | None = None) -> Iterator[None]:
    """Hold the ingest lock of ``index_dir``, waiting up to ``timeout`` seconds for it.

    Args:
        busy: builds the error raised when the lock stays held, from the holder's name.
        on_wait: called once, when the lock is found held and waiting begins.

    Raises:
        IndexStoreError: from ``busy``, when another process still holds the lock.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    lock = FileLock(path)
    deadline = time.monotonic() + timeout
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if time.monotonic() >= deadline:
            raise busy(_holder(path)) from None
        if on_wait:
            on_wait()
        try:
            lock.acquire(timeout=max(0.0, deadline - time.monotonic()), poll_interval=POLL)
        except Timeout:
            raise busy(_holder(path)) from None
    try:
        _note(path, f"pid {os.getpid()}")
        yield
    finally:
        _note(path, "")
        lock.release()


def _note(path: Path, text: str) -> None:
    with contextlib.suppress(OSError):  # the name is a courtesy; the lock is what counts
        path.write_text(text)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"


class Lease:
    """A best-effort ingest lease in the manifest collection, for hosts sharing one server.

    Chroma has no compare-and-set, so a taker writes its token, waits a moment and reads it
    back; two takers racing inside that moment are the one case it cannot rule out. A daemon
    thread renews the lease; a crashed holder's lease expires after ``ttl`` seconds.

    Args:
        store: the ``IndexStore`` (its ``files`` collection is read afresh each time: a
            rebuild replaces it); ``store.where`` names it in the error message.
    """

    ID = "__ingest_lease__"
    VECTOR = [[1.0]]  # the manifest collection needs vectors too; one dimension is enough

    def __init__(self, store: Any, timeout: float, on_wait: Any = None,
                 ttl: float = 60.0, settle: float = 0.3):
        self.store, self.timeout, self.on_wait, self.ttl, self.settle = (
            store, timeout, on_wait, ttl, settle)
        self.token = f"{platform.node()} pid {os.getpid()} {os.urandom(4).hex()}"
        self._stop = threading.Event()

    def _read(self) -> dict[str, Any] | None:
        got = self.store.files.get(ids=[self.ID], include=["metadatas"])
        metas = got["metadatas"] or []
        return dict(metas[0]) if metas else None

    def _write(self) -> None:
        self.store.files.upsert(ids=[self.ID], embeddings=self.VECTOR, metadatas=[
            {"lease": True, "holder": self.token, "expires": time.time() + self.ttl}])

    def __enter__(self) -> Lease:
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
