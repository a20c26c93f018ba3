"""What the store keeps beside a chunk's text, typed: ``ChunkMeta``.

Chroma stores metadata as a flat dict of strings, numbers and booleans. Everything the
project reads or writes goes through this one frozen type, so a field has one name, one
type and one default: the ingest writes ``ChunkMeta(...).as_dict()``, the store's reads
return ``ChunkMeta.of(raw)``. What a document's front matter adds beyond these fields
(a description, tags, ...) is kept in ``extra``, written back as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ChunkMeta"]


@dataclass(frozen=True)
class ChunkMeta:
    """One chunk's metadata.

    Attributes:
        file: the file key (its manifest entry) the chunk came from.
        path: the file's path as ingested.
        title: the document's title; ``aliases`` other names it goes by, comma-separated.
        section: the heading path above the chunk ("Install > Helm").
        start, end: the chunk's character span in the document's text.
        index: the chunk's position in its document (0, 1, ...).
        line, end_line: the source lines the chunk spans (0 when unknown).
        fence: the code fence the chunk starts inside, when it was cut within one.
        extra: the document's other metadata, as stored.
    """

    file: str = ""
    path: str = ""
    title: str = ""
    section: str = ""
    start: int = 0
    end: int = 0
    index: int = 0
    line: int = 0
    end_line: int = 0
    fence: str = ""
    aliases: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> ChunkMeta:
        """The metadata the store returned (missing fields take their defaults; a value of
        the wrong type, from an older or foreign index, is read as the field's type)."""
        raw = raw or {}
        known: dict[str, Any] = {}
        for f in _FIELDS:
            if f.name in raw and raw[f.name] is not None:
                v = raw[f.name]
                known[f.name] = _as_int(v) if f.type == "int" else str(v)
        extra = {k: v for k, v in raw.items() if k not in _NAMES}
        return cls(**known, extra=extra)

    def as_dict(self) -> dict[str, Any]:
        """The flat dict Chroma stores (an empty fence or alias list is left out)."""
        out: dict[str, Any] = dict(self.extra)
        for f in _FIELDS:
            v = getattr(self, f.name)
            if f.name in ("fence", "aliases") and not v:
                continue
            out[f.name] = v
        return out

def _as_int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


_FIELDS = [f for f in fields(ChunkMeta) if f.name != "extra"]
_NAMES = frozenset(f.name for f in _FIELDS)
