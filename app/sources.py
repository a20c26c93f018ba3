"""Passages as callers see them: a retrieval ``Hit`` or a stored chunk as a ``Source``, and
``k`` checked as a number of passages. Shared by ``Assistant`` and the llama-index adapters
(``app.llamaindex``), so neither imports the other for them."""

from __future__ import annotations

from app.errors import QuestionError
from app.retrieval.hybrid import Hit
from app.types import Source
from ingest.chroma import StoredChunk

__all__ = ["check_k", "stored_source", "to_source"]


def to_source(hit: Hit) -> Source:
    m = hit.meta
    return Source(path=str(m.get("path", "")), title=hit.title, section=hit.section,
                  text=hit.text, score=round(float(hit.dense), 4), start=int(m.get("start", 0)),
                  end=int(m.get("end", 0)), chunk_id=hit.id, line=int(m.get("line", 0)),
                  end_line=int(m.get("end_line", 0)))


def stored_source(path: str, chunk: StoredChunk) -> Source:
    """One chunk of the document at ``path`` as read from the store (no query: score 0)."""
    m = chunk.meta
    return Source(path=path, title=str(m.get("title", "")), section=str(m.get("section", "")),
                  text=chunk.text, score=0.0, start=int(m.get("start", 0)),
                  end=int(m.get("end", 0)), chunk_id=chunk.id, line=int(m.get("line", 0)))


def check_k(k: object) -> int:
    """``k`` as a number of passages.

    Raises:
        QuestionError: not a whole number (a bool, a float, a string) or under 1.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise QuestionError(f"k must be a whole number of passages, 1 or more; got {k!r}")
    return k
