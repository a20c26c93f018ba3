"""Batched writes of one ingest: chunks embedded in large groups and stored a step at a time,
each file's stale chunks and manifest record written once all its new chunks are stored (so a
kill leaves no gap, and keeps what was stored: the next ingest finds those chunks by their
ids and embeds only the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingest.embedding import Encoder
from ingest.store import FileRecord, IndexStore

if TYPE_CHECKING:
    from ingest.report import IngestReport

STEP = 64  # chunks embedded and stored at a time: what a kill can lose


@dataclass
class Pending:
    """A file whose chunks are buffered: its manifest record waits until they are stored."""

    record: FileRecord
    stale: list[str]
    is_new: bool
    waiting: int = 0  # its chunks not stored yet


class Writer:
    """Buffers chunks across files and writes them in encoder-sized steps."""

    def __init__(self, store: IndexStore, encoder: Encoder, batch_size: int, report: IngestReport):
        self.store, self.encoder, self.batch_size, self.report = store, encoder, batch_size, report
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.embed_texts: list[str] = []
        self.metas: list[dict[str, Any]] = []
        self.owner: list[int] = []  # per buffered chunk: its file in ``files``
        self.files: list[Pending] = []

    def add(self, ids: list[str], texts: list[str], embed_texts: list[str],
            metas: list[dict[str, Any]], pending: Pending) -> None:
        pending.waiting = len(ids)
        self.ids += ids
        self.texts += texts
        self.embed_texts += embed_texts
        self.metas += metas
        self.owner += [len(self.files)] * len(ids)
        self.files.append(pending)
        # Large groups: the encoder sorts a group by length, so bigger groups pad less
        # (measured: 256 -> 1024 chunks per group, +18% tokens per CPU second with ONNX).
        if len(self.ids) >= self.batch_size * 16:
            self.flush()

    def flush(self) -> None:
        """Embed and store everything buffered, shortest first, ``STEP`` chunks at a time;
        each file's record is written as soon as its last chunk is stored."""
        self._commit_done()  # files with nothing new to embed
        lengths = self.encoder.count_tokens_batch(self.embed_texts) if self.ids else []
        self.report.tokens += sum(lengths)
        order = sorted(range(len(self.ids)), key=lengths.__getitem__)
        for at in range(0, len(order), STEP):
            step = order[at : at + STEP]
            vectors = self.encoder.encode([self.embed_texts[i] for i in step],
                                          batch_size=self.batch_size)
            self.store.upsert([self.ids[i] for i in step], vectors,
                              [self.texts[i] for i in step], [self.metas[i] for i in step])
            self.report.embedded += len(step)
            for i in step:
                self.files[self.owner[i]].waiting -= 1
            self._commit_done()
        for p in self.files:  # reported in the order the files were read
            (self.report.added if p.is_new else self.report.updated).append(p.record.path)
        self.ids, self.texts, self.embed_texts, self.metas, self.owner = [], [], [], [], []
        self.files = []

    def _commit_done(self) -> None:
        for p in self.files:
            if p.waiting == 0:  # every chunk of this file is stored now
                if p.stale:
                    self.store.delete_chunks(p.stale)
                self.store.put_file(p.record)
                p.waiting = -1  # written
