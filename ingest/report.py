"""What one ingest did: files added, updated, unchanged, removed, skipped, and not read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.files import HIDDEN


@dataclass
class IngestReport:
    """What one ingest did; ``ok`` is False when a named path did not exist."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # not read: type, hidden, rule
    chunks: int = 0  # chunks now stored for the added and updated files
    embedded: int = 0  # chunks that went through the encoder
    tokens: int = 0  # word pieces embedded
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """False when a named path did not exist, or nothing at all could be read."""
        return not self.missing and not self.nothing_read

    @property
    def nothing_read(self) -> bool:
        """True when no file under the given paths is a document opsqa could read."""
        return not (self.added or self.updated or self.unchanged)

    def not_read(self) -> list[dict[str, Any]]:
        """The files left unread (``ignored``), grouped by file type and reason, largest
        group first: ``{"type", "reason", "count", "files"}``."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for path, why in self.ignored:
            kind = "hidden" if why == HIDDEN else (Path(path).suffix.lower() or "no file type")
            groups[(kind, why)].append(path)
        return [{"type": kind, "reason": why, "count": len(files), "files": files}
                for (kind, why), files in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``opsqa ingest --json``)."""
        return {
            "ok": self.ok, "added": self.added, "updated": self.updated,
            "unchanged": self.unchanged, "removed": self.removed,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "missing": [{"path": p, "reason": r} for p, r in self.missing],
            "warnings": [{"path": p, "warning": w} for p, w in self.warnings],
            "not_read": self.not_read(), "chunks": self.chunks, "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
        }

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def chunks_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def rows(self) -> list[tuple[str, str]]:
        """The summary table as (label, value) rows."""
        return [
            ("files added", str(len(self.added))),
            ("files updated", str(len(self.updated))),
            ("files unchanged", str(len(self.unchanged))),
            ("files removed", str(len(self.removed))),
            ("files skipped", str(len(self.skipped) + len(self.missing))),
            ("files not read", str(len(self.ignored))),
            ("chunks embedded", str(self.embedded)),
            ("seconds", f"{self.seconds:.2f}"),
            ("chunks per second", f"{self.chunks_per_second:.1f}"),
        ]
