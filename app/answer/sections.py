"""A document's structure around retrieved chunks: its sections, their children, runs of chunks.

These serve the question kinds: a list question reads the subsections under its best hit and
the sections beside it named with its words; every answer reads consecutive chunks of one
section as one passage; a ranking of passages gives a chunk that continues a better one no place
of its own. Retrieval (``app/retrieval/hybrid.py``) only finds chunks; this module reads their
neighbourhood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from app.retrieval.hybrid import Hit
from app.retrieval.lexical import LexicalIndex
from ingest.chroma import StoredChunk
from ingest.store import IndexStore

Stems = Callable[[str], list[str]]


def _parent(section: str) -> str:
    """The heading path above a section's own heading ("A > B" for "A > B > C")."""
    return section.rsplit(" > ", 1)[0] if " > " in section else ""


def _index(h: Hit | StoredChunk) -> int:
    return h.meta.index


def pages(store: IndexStore, files: list[str], lexical: LexicalIndex
          ) -> dict[str, list[StoredChunk]]:
    """Every chunk of each of ``files`` (file keys), in document order: one read a file, by
    the chunk ids ``lexical`` knows."""
    return {f: sorted(store.in_file(f, lexical.in_files([f])), key=_index)
            for f in dict.fromkeys(files)}


def children(hit: Hit, page: list[StoredChunk]) -> list[Hit]:
    """The first chunk of each section one level under ``hit``'s heading, in document order
    (a reference page's "Parameters" and its "capacity", "max_shards" ...); ``page`` is the
    chunks of ``hit``'s file (``pages``)."""
    prefix = hit.section + " > " if hit.section else ""  # a page's opening: its sections
    depth = hit.section.count(" > ") + 1 if hit.section else 0
    first: dict[str, Hit] = {}
    for c in page:
        sec = c.meta.section
        if sec and sec.startswith(prefix) and sec.count(" > ") == depth:
            first.setdefault(sec, Hit(c.id, c.text, c.meta, 0.0, hit.dense))
    return list(first.values())


def named_sections(hits: list[Hit], question: str, page_of: dict[str, list[StoredChunk]],
                   stems: Stems) -> list[Hit]:
    """The first chunk of each section beside or under one of ``hits`` whose own heading is
    made only of the question's words (a page's "Triggers" next to its "Getting started",
    asked "which triggers ...?"): a list is often the section named for what the question
    asks of. ``page_of`` holds the chunks of the hits' files (``pages``); ``stems`` reads a
    text as the lexical index does."""
    asked = set(stems(question))
    seen = {(h.file, h.section) for h in hits}
    near: dict[str, set[str]] = {}  # per file: the parents a named section may have
    for h in hits:
        near.setdefault(h.file, set()).update({_parent(h.section), h.section})
    out: list[Hit] = []
    for file, parents in near.items():
        for c in page_of[file]:
            sec = c.meta.section
            if (file, sec) in seen:
                continue
            seen.add((file, sec))
            own = set(stems(sec.rsplit(" > ", 1)[-1]))
            if own and own <= asked and _parent(sec) in parents:
                out.append(Hit(c.id, c.text, c.meta, 0.0, hits[0].dense))
    return out


def distinct(hits: list[Hit], k: int) -> list[Hit]:
    """The first ``k`` of ``hits`` that each start a passage of their own: a chunk next to a
    better-ranked chunk of the same section continues that passage, so it does not take a
    place of its own in a ranking of passages."""
    out: list[Hit] = []
    taken: set[tuple[str, str, int]] = set()
    for h in hits:
        at, index = (h.file, h.section), _index(h)
        if (*at, index - 1) not in taken and (*at, index + 1) not in taken:
            if len(out) == k:
                break
            out.append(h)
        taken.add((*at, index))
    return out


def _join(run: list[Hit]) -> Hit:
    """One passage from consecutive chunks: their texts with the line breaks between them.

    One character apart, a line break. A chunk that starts on the source line after the one
    before it ends goes on from it too: clean text indents only nested items and what stands
    in them (two spaces a level), so the rest of the gap is the next line's indent (a list
    cut after an item goes on in its nested items)."""
    text = run[0].text
    for prev, h in zip(run, run[1:], strict=False):
        gap = h.meta.start - prev.meta.end
        if gap == 1 or gap % 2 and 0 < h.meta.line == prev.meta.end_line + 1:
            text += "\n" + " " * (gap - 1) + h.text
        else:
            text += "\n\n" + h.text
    best = max(run, key=lambda h: h.score)
    first, last = run[0].meta, run[-1].meta
    meta = replace(best.meta, start=first.start, end=last.end, index=first.index, line=first.line,
                   end_line=last.end_line, fence=first.fence)
    return Hit("+".join(h.id for h in run), text, meta, best.score, max(h.dense for h in run))


def join_adjacent(hits: list[Hit]) -> list[Hit]:
    """``hits`` with runs of consecutive chunks of one section joined into one passage
    (ranked where its best part ranked), so a list split across chunks reads whole."""
    groups: dict[tuple[str, str], list[Hit]] = {}
    for h in hits:
        groups.setdefault((h.file, h.section), []).append(h)
    joined: dict[str, Hit] = {}
    for parts in groups.values():
        parts.sort(key=_index)
        runs = [[parts[0]]]
        for h in parts[1:]:
            if _index(h) == _index(runs[-1][-1]) + 1:
                runs[-1].append(h)
            else:
                runs.append([h])
        for run in runs:
            merged = run[0] if len(run) == 1 else _join(run)
            for part in run:
                joined[part.id] = merged
    out: dict[str, Hit] = {}
    for h in hits:
        m = joined[h.id]
        out.setdefault(m.id, m)
    return list(out.values())
