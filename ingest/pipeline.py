"""Incremental ingest: discover files, skip unchanged ones by content hash, chunk, embed, store.

Write order per file keeps a killed ingest harmless: new chunks are upserted first, then the
file's stale chunks are deleted, and only then is its manifest record written. Killed at any
point, the index still answers (with the old chunks, or old and new side by side for one
file), and the next run sees the stale record and finishes the job. Chunk ids are derived
from the file and the chunk's content, so an edited file re-embeds only the chunks that changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chromadb.errors import ChromaError

from ingest.budget import BoundedReader
from ingest.chunk_meta import ChunkMeta
from ingest.chunking import Chunk, chunk_document
from ingest.document_loader import Document, SkipFile, load_document
from ingest.embedding import Encoder
from ingest.errors import IndexStoreError
from ingest.files import Skip, path_text, read_file, scan, storable
from ingest.registry import SUPPORTED_SUFFIXES
from ingest.report import IngestReport
from ingest.store import FileRecord, IndexStore, file_key
from ingest.writer import Pending, Writer

Progress = Callable[[int, int, str], None]  # (files done, files to do, what is happening)
# How files are read and chunked. A file ingested by an older version is read again even when
# its bytes are unchanged; chunks whose text did not change keep their vectors.
VERSION = 12  # 2: Markdown parsed with markdown-it-py, plain-text headings; 3: table rows;
# 4: front matter prose; 5: a heading inside a list item labels it; 6: code cut across chunks;
# 7: MDX in .md files, PDF headings, source line ranges for every format; 8: no chunk without
# a letter or digit, long headings cut before they are counted; 9: MDX children dedented to
# their tag, never past it; 10: one sentence rule (ingest/text.py: an abbreviation ends no
# sentence where a long paragraph is cut) and one fence rule (a fence indented any depth);
# 11: a table's header row is kept, as its first item; 12: a bold run ending in its own colon
# or a full stop takes no colon after it


def _meta_value(v: Any) -> str | int | float | bool:
    if isinstance(v, (list, tuple, set)):
        return storable(", ".join(str(x) for x in v))
    if isinstance(v, (int, float, bool)):
        return v
    return storable(str(v))


def _scan(roots: list[Path], skip_files: Sequence[str], report: IngestReport
          ) -> tuple[list[tuple[Path, str]], dict[Path, Path]]:
    """The files to read under ``roots``, each with its path text, and the folder each was
    found in; what is missing, skipped or left out goes into ``report``."""
    found = scan(roots, SUPPORTED_SUFFIXES, skip_matcher(skip_files))
    report.missing = [(path_text(p), why) for p, why in found.missing]
    report.skipped += [(path_text(p), why) for p, why in found.skipped]
    report.ignored = [(path_text(p), why) for p, why in found.ignored]
    return _named(found.files, report), found.roots


def _named(files: list[Path], report: IngestReport) -> list[tuple[Path, str]]:
    """Each file with the path text the index knows it by; a second file whose name reads
    the same (its undecodable bytes written as \\xNN) is skipped, never merged."""
    out, taken = [], set()
    for f in files:
        text = path_text(f)
        if text in taken:
            report.skipped.append((text, "another file's name reads the same once undecodable "
                                   "bytes are written as \\xNN; rename one of them"))
            continue
        taken.add(text)
        out.append((f, text))
    return out


def run_ingest(paths: Iterable[str | Path], store: IndexStore, encoder: Encoder, *,
               max_file_bytes: int = 20_000_000, read_budget: tuple[float, float] = (60.0, 768.0),
               max_file_chunks: int = 5000, chunk_max_tokens: int = 256,
               chunk_target_tokens: int = 160, batch_size: int = 64, lock_timeout: float = 600.0,
               progress: Progress | None = None, on_wait: Callable[[], None] | None = None,
               rebuild: bool = False, skip_files: Sequence[str] = ()) -> IngestReport:
    """Bring the index in step with ``paths`` (files and folders, recursively).

    Args:
        read_budget: seconds and MB of memory to read (decode, parse, clean) one file; a
            file over either is skipped with the reason (``ingest.budget``).
        max_file_chunks: a file cut into more chunks is skipped (its embedding would take
            minutes: a 2 MB table of 5,000 columns makes 6,578 chunks).
        rebuild: make the index anew (under the ingest lock), e.g. after a model change or
            damage: every file its manifest knew is ingested again with ``paths``; if the
            manifest cannot be read, a warning says only ``paths`` are.
        skip_files: gitignore-style patterns, relative to each folder in ``paths``, of files
            not to read there (a file named in ``paths`` itself is always read).

    Returns:
        IngestReport with per-file outcomes and throughput.

    Raises:
        IndexStoreError: another model's index, another ingest holds the lock too long, or
            the store cannot be written (a full disk said as such, in one line).
    """
    t0 = time.perf_counter()
    report = IngestReport()
    roots = [Path(p).expanduser() for p in paths]
    with store.ingest_lock(lock_timeout, on_wait), BoundedReader(load_document, *read_budget) as reader:
        try:
            if rebuild:
                roots += _rebuild(store, report)
            files, found_in = _scan(roots, skip_files, report)
            store.check_model(encoder.model_id, encoder.dim, encoder.model_digest)
            records = store.file_records()
            # Chunks without a manifest record exist only after a killed ingest; look for
            # them per new file only then (a where-filtered get costs O(index size) per file).
            orphans = store.count() != sum(r.chunks for r in records.values())
            _drop_gone(store, records, roots, {text for _, text in files}, orphans, report)
            job = _Job(store, encoder, Writer(store, encoder, batch_size, report), report,
                       orphans, max_file_bytes, min(chunk_max_tokens, encoder.max_seq_length),
                       chunk_target_tokens, reader, max_file_chunks, found_in)
            _ingest_all(job, files, records, progress)
            if report.changed:
                store.bump(encoder.model_id, encoder.dim, encoder.model_digest)
        except (ChromaError, OSError, sqlite3.Error) as exc:  # a full disk, a damaged store
            raise store.damaged("write", exc) from None
    report.seconds = time.perf_counter() - t0
    return report


def _rebuild(store: IndexStore, report: IngestReport) -> list[Path]:
    """Empty the index; the files its manifest knew that still exist, to ingest again (the
    ones gone are reported removed). An unreadable manifest is a warning saying so."""
    try:
        known = sorted(store.file_records())
    except IndexStoreError as exc:
        known = []
        report.warnings.append((store.where, f"its manifest cannot be read ({exc}); only the "
                                "paths given are ingested again: any other document it held "
                                "is lost"))
    store.reset()
    again = [Path(p) for p in known if os.path.lexists(p)]
    report.removed += [p for p in known if not os.path.lexists(p)]
    return again


@dataclass
class _Job:
    """One ingest's collaborators and limits, shared by every file it reads."""

    store: IndexStore
    encoder: Encoder
    writer: Writer
    report: IngestReport
    orphans: bool  # chunks without a manifest record may exist (a killed ingest)
    max_file_bytes: int
    max_tokens: int
    target_tokens: int
    read: BoundedReader  # load_document within the reading budget
    max_chunks: int
    roots: dict[Path, Path] = field(default_factory=dict)  # file -> the folder it was found in


def skip_matcher(patterns: Sequence[str]) -> Skip | None:
    """A test for relative paths from gitignore-style ``patterns`` (None: skip nothing)."""
    if not patterns:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(list(patterns))
    return lambda rel: bool(spec.match_file(rel))


def _ingest_all(job: _Job, files: list[tuple[Path, str]], records: dict[str, FileRecord],
                progress: Progress | None) -> None:
    for n, (f, text) in enumerate(files):
        if progress:
            progress(n, len(files), Path(text).name)
        _ingest_one(job, f, text, records.get(text))
    job.writer.flush()
    if progress:
        progress(len(files), len(files), "done")


def _drop_gone(store: IndexStore, records: dict[str, FileRecord], roots: list[Path],
               seen: set[str], orphans: bool, report: IngestReport) -> None:
    """Files deleted from an ingested folder leave the index; so do chunks a killed ingest
    left without a manifest record (``orphans``) whose file is gone or not ingested now."""
    prefixes = tuple(path_text(r.resolve()) + "/" for r in roots if r.is_dir())
    for path in records:
        if path.startswith(prefixes) and path not in seen:
            store.drop_file(path)
            report.removed.append(path)
    if not orphans:
        return
    keys = {file_key(p) for p in records}
    for key, path in store.chunk_files().items():
        if key not in keys and path not in seen and (
                path.startswith(prefixes) or not os.path.lexists(path)):
            store.drop_file(path)
            report.removed.append(path)


def _ingest_one(job: _Job, f: Path, path: str, old: FileRecord | None) -> None:
    """Ingest file ``f``, named ``path`` in the index (``path_text``)."""
    store, report = job.store, job.report
    read = _read(job, f, path, old)
    if read is None:
        return
    doc, digest, size = read
    for w in doc.warnings:
        report.warnings.append((path, w))
    chunks = chunk_document(doc, job.encoder.count_tokens, max_tokens=job.max_tokens,
                            target_tokens=job.target_tokens)
    if not chunks:
        _skip(path, "no text to index", old, store, report)
        return
    if len(chunks) > job.max_chunks:
        _skip(path, f"it cuts into {len(chunks):,} chunks, over the {job.max_chunks:,} limit "
              "(max_file_chunks): embedding them would take too long", old, store, report)
        return
    key = file_key(path)
    existing = set(store.chunk_ids(path)) if old is not None or job.orphans else set()
    title = storable(str(doc.metadata.get("title") or Path(path).stem))
    base = {k: _meta_value(v) for k, v in doc.metadata.items() if v not in (None, "", [])}
    ids = _chunk_ids(key, chunks)
    metas = [
        replace(ChunkMeta.of(base), file=key, path=path, title=title, section=c.section,
                start=c.start, end=c.end, index=c.index, line=span[0], end_line=span[1],
                fence=c.fence).as_dict()
        for c, span in ((c, doc.line_span(c.start, c.end)) for c in chunks)
    ]
    reuse = [i for i, cid in enumerate(ids) if cid in existing]
    if reuse:  # same text as before: refresh positions, skip the encoder
        store.update_meta([ids[i] for i in reuse], [metas[i] for i in reuse])
    new = [i for i, cid in enumerate(ids) if cid not in existing]
    pending = Pending(
        record=FileRecord(path=path, sha256=digest, chunks=len(chunks), title=title,
                          ingested_at=time.time(), size=size, version=VERSION),
        stale=sorted(existing - set(ids)),
        is_new=old is None,
    )
    report.chunks += len(chunks)
    job.writer.add([ids[i] for i in new], [chunks[i].text for i in new],
                   [chunks[i].embed_text for i in new], [metas[i] for i in new], pending)


def _read(job: _Job, f: Path, path: str, old: FileRecord | None
          ) -> tuple[Document, str, int] | None:
    """The document, its bytes' sha256 and size; None when the file is unchanged since
    ``old`` (reported so) or cannot be ingested (skipped, its earlier version dropped)."""
    try:
        data = read_file(f, job.max_file_bytes)  # once: the hash and the text see the same bytes
        digest = hashlib.sha256(data).hexdigest()
        if old is not None and old.sha256 == digest and old.version == VERSION:
            job.report.unchanged.append(path)
            return None
        doc = job.read(f, max_bytes=job.max_file_bytes, data=data, root=job.roots.get(f))
        return dataclasses.replace(doc, path=path, text=storable(doc.text)), digest, len(data)
    except SkipFile as exc:
        _skip(path, str(exc), old, job.store, job.report)
    except OSError as exc:
        _skip(path, f"unreadable: {exc.strerror or exc}", old, job.store, job.report)
    return None


def _chunk_ids(key: str, chunks: list[Chunk]) -> list[str]:
    """Ids from the file key and each chunk's content, so unchanged chunks keep theirs."""
    ids, seen_ids = [], set()
    for c in chunks:
        cid = f"{key}-{hashlib.sha1(c.embed_text.encode()).hexdigest()[:16]}"
        while cid in seen_ids:  # the same text twice in one file
            cid += "+"
        seen_ids.add(cid)
        ids.append(cid)
    return ids


def _skip(path: str, why: str, old: FileRecord | None, store: IndexStore,
          report: IngestReport) -> None:
    """A file that cannot be ingested; an indexed earlier version leaves the index with it
    (the folder no longer holds that text, and a clean ingest would not have it)."""
    if old is not None:
        store.drop_file(path)
        report.removed.append(path)
        why += "; its earlier version was removed from the index"
    report.skipped.append((path, why))
