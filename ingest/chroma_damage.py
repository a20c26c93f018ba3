"""A store that fails: an embedded store's files checked before Chroma opens them, a failed
open, read or write said in one line (a full disk as such), and the files wiped for a rebuild.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from ingest.errors import IndexStoreError


def check_files(index_dir: Path) -> None:
    """Refuse an embedded store whose database is empty, not SQLite, or gone while its
    vector files remain: Chroma would start a new, empty store in its place, and the
    first open would fill it from ``corpus_dir``, silently losing what was indexed.

    Raises:
        IndexStoreError: the store's files are damaged (rebuild it).
    """
    folder = Path(index_dir) / "chroma"
    db = folder / "chroma.sqlite3"
    why = ""
    if db.is_file():
        with open(db, "rb") as fh:
            head = fh.read(16)
        if not head:
            why = "its database chroma.sqlite3 is empty (0 bytes)"
        elif head != b"SQLite format 3\x00":
            why = "its database chroma.sqlite3 is not an SQLite file"
    elif folder.is_dir() and any(folder.iterdir()):
        why = "its database chroma.sqlite3 is missing beside its vector files"
    if why:
        raise IndexStoreError(
            f"the index at {folder} is damaged: {why}; nothing was changed. Run "
            "`opsqa ingest --rebuild` to rebuild it from the files it knew.")


def failure(what: str, exc: Exception, where: str, index_dir: Path | None) -> IndexStoreError:
    """The one-line error for a failed open, read or write of the store at ``where`` (a full
    disk said as such); ``index_dir``: an embedded store's folder, None for a server."""
    if isinstance(exc, IndexStoreError):  # already says what happened, in one line
        return exc
    reason = (str(exc).strip().splitlines() or [""])[0][:300]
    full = disk_full(index_dir, exc) if index_dir is not None else None
    if full:
        return IndexStoreError(
            f"cannot {what} the index at {where}: the disk holding it is full ({full}). "
            "What was stored before stays, and the index opens again once there is room: "
            "free some space and run the command again (an ingest skips files it has).")
    return IndexStoreError(
        f"cannot {what} the index at {where}: {type(exc).__name__}: {reason}. "
        + ("Is `chroma run` up and reachable?" if index_dir is None else
           "If the folder is damaged, run `opsqa ingest --rebuild` to rebuild it."))


def wipe_files(index_dir: Path) -> None:
    """Remove an embedded store's folder (damaged, or about to be rebuilt), and forget any
    client this process made for it (chromadb keeps one per path)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    shutil.rmtree(Path(index_dir) / "chroma", ignore_errors=True)
    SharedSystemClient.clear_system_cache()


def disk_full(folder: Path, exc: BaseException) -> str:
    """Why the failure ``exc`` of a store in ``folder`` is a full disk ("" if it is not): an
    ENOSPC anywhere in its chain, or less free space than Chroma needs to write (chromadb
    reports a full disk as "Failed to apply logs to the metadata segment")."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return seen.strerror or "no space left on device"
        if "no space left" in str(seen).lower() or "disk is full" in str(seen).lower():
            return "no space left on device"
        seen = seen.__cause__ or seen.__context__
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return ""
    if usage.free < max(8 << 20, usage.total // 100):
        return f"{usage.free / 1e6:,.1f} MB free of {usage.total / 1e6:,.0f} MB"
    return ""
