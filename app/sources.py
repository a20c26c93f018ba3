"""Passages as callers see them: a retrieval ``Hit`` or a stored chunk as a ``Source``, and
``k`` checked as a number of passages. Shared by ``Assistant`` and the llama-index adapters
(``app.llamaindex``), so neither imports the other for them."""

from __future__ import annotations

from app.errors import QuestionError
from app.retrieval.hybrid import Hit
from app.types import Answer, Source
from ingest.chroma import StoredChunk
from ingest.store import file_key

__all__ = ["check_k", "quoted_files", "stored_source", "to_source"]


def to_source(hit: Hit) -> Source:
    m = hit.meta
    return Source(path=m.path, title=m.title, section=m.section, text=hit.text,
                  score=round(float(hit.dense), 4), start=m.start, end=m.end, chunk_id=hit.id,
                  line=m.line, end_line=m.end_line)


def stored_source(path: str, chunk: StoredChunk) -> Source:
    """One chunk of the document at ``path`` as read from the store (no query: score 0)."""
    m = chunk.meta
    return Source(path=path, title=m.title, section=m.section, text=chunk.text, score=0.0,
                  start=m.start, end=m.end, chunk_id=chunk.id, line=m.line, end_line=m.end_line)


def quoted_files(answer: Answer) -> tuple[str, ...]:
    """The file keys of the passages ``answer`` quotes, in order of first quotation (what a
    follow-up reads first)."""
    return tuple(dict.fromkeys(file_key(answer.sources[n].path) for n, _ in answer.used
                               if n < len(answer.sources)))


def check_k(k: object) -> int:
    """``k`` as a number of passages.

    Raises:
        QuestionError: not a whole number (a bool, a float, a string) or under 1.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise QuestionError(f"k must be a whole number of passages, 1 or more; got {k!r}")
    return k
