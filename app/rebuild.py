"""Opening an index to rebuild it, when it may be too damaged to open at all.

``Assistant.rebuild`` first opens the store as it is, so the rebuild can read its manifest
and ingest every file it knew. An embedded store that cannot be opened is removed (under
the ingest lock) and made anew; what it held can then only be guessed from the last lexical
snapshot saved beside it, whose titles the report names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import IndexStoreError
from app.settings import Settings
from ingest.locking import folder_lock
from ingest.store import FileRecord, wipe_embedded


@dataclass
class Lost:
    """A store that could not be opened, and the titles its last snapshot knew."""

    where: str
    reason: str
    titles: list[str]

    def warning(self, now: list[FileRecord]) -> tuple[str, str]:
        """(where, why) for the report: what could not be read, and what may be lost."""
        back = {r.title for r in now}
        gone = sorted(t for t in set(self.titles) if t not in back)
        lost = (f"not back, of the documents the last saved search index knew ({len(gone)}): "
                + ", ".join(gone[:8]) + (", ..." if len(gone) > 8 else "")
                if gone else "the last saved search index knew no other documents")
        return self.where, (f"the index could not be opened ({self.reason}), nor its manifest "
                            f"read: only the paths given were ingested again; {lost}")


def open_for_rebuild(cls: Any, settings: Settings) -> tuple[Any, Lost | None]:
    """An assistant on the store named by ``settings``, made anew first if it cannot be opened
    (an embedded one); with what was lost, or None.

    Raises:
        IndexStoreError: a server store that cannot be opened, or a held ingest lock.
    """
    try:
        return cls(settings, check_model=False), None
    except IndexStoreError as exc:
        if settings.server_mode:
            raise
        reason = str(exc).split(". ")[0]  # what is wrong, without the advice to rebuild
    index_dir = Path(settings.index_dir)
    titles = _snapshot_titles(index_dir / "lexical")

    def busy(holder: str) -> IndexStoreError:
        return IndexStoreError(f"another ingest ({holder}) is writing {index_dir}; try the "
                               "rebuild again when it has finished")

    with folder_lock(index_dir, settings.ingest_lock_timeout, busy):
        wipe_embedded(index_dir)
    return cls(settings, check_model=False), Lost(str(index_dir / "chroma"), reason, titles)


def _snapshot_titles(folder: Path) -> list[str]:
    """The titles of the documents in the newest lexical snapshot in ``folder``, if any."""
    from app.retrieval import snapshots

    try:
        newest = max(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, default=None)
    except OSError:
        return []
    saved = snapshots.read(newest) if newest else None
    if saved is None:
        return []
    rows = saved[5]
    return sorted({title for _, title, *_ in rows if title})
