"""The lexical side of retrieval: BM25 over every chunk, the vocabulary and the term index.

A ``LexicalIndex`` is one immutable snapshot of the store, keyed by the chunk collection's id,
its generation and its chunk count. It keeps no chunk text or metadata, only each chunk's id,
its word ids (one flat array, CSR style) and which (file, title, aliases, heading) row it came
from. That makes three things cheap at large corpus sizes:

* catching up after an ingest (by any process): the store is asked for its chunk ids only, and
  only chunks that are new, or belong to a file whose manifest hash changed, are read and
  tokenised; BM25 is then recomputed from the word-id arrays in numpy;
* opening: the snapshot is saved under ``<index_dir>/lexical/`` and loaded by the next process
  that sees the same store state, instead of reading and tokenising every chunk again;
* memory: a few arrays instead of every chunk's text and metadata as Python objects.

Scores are the bm25s "lucene" variant, computed here from the arrays in the layout bm25s uses,
and searched by bm25s itself (a test checks the matrix against ``bm25s.BM25.index``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from app.retrieval import snapshots
from app.retrieval.bm25 import bm25_matrix, by_id, sorted_ids
from app.retrieval.definitions import defined_by, definienda
from app.retrieval.term_index import TermIndex
from app.retrieval.terms import FUNCTION_WORDS, Vocabulary, content_words, stems, tokens
from ingest.chunk_meta import ChunkMeta

PHRASE_SCAN = 5000  # chunks a phrase look-up reads at most

Row = tuple[str, str, ChunkMeta]  # (chunk id, text, metadata), as the store gives them
TermRow = snapshots.TermRow  # (file key, title, aliases, heading path, defines)


# A chunk's title and heading path count this many times in BM25 (a field weight, as in
# BM25F): the words a section is named by say more about it than a word in its body.
HEADER_WEIGHT = 3


def _row_tokens(text: str, meta: ChunkMeta) -> list[str]:
    head = tokens(f"{meta.title} {meta.section}", parts=True)
    return head * HEADER_WEIGHT + tokens(text, parts=True)


def _term_row(text: str, meta: ChunkMeta) -> TermRow:
    return (meta.file, meta.title, meta.aliases, meta.section, "|".join(definienda(text)))


@dataclass(frozen=True)
class LexicalIndex:
    """One consistent view of the store for lexical search; build with ``update``/``load``."""

    key: str
    ids: list[str]
    tok: np.ndarray  # int32 word ids of every chunk, concatenated
    ptr: np.ndarray  # int64, len(ids) + 1: chunk i is tok[ptr[i]:ptr[i + 1]]
    words: list[str]  # word id -> surface word (lower case); BM25 runs on their stems
    rows: list[TermRow]  # distinct (file, title, aliases, heading path, terms defined)
    row_of: np.ndarray  # int32 per chunk -> rows
    shas: dict[str, str]  # file key -> manifest sha256 when its chunks were read
    bm25: Any
    vocab: Vocabulary  # surface words, for typo correction
    stem_ids: dict[str, int]  # stem -> BM25 column
    stem_of: np.ndarray  # int32 per word id -> its stem's column
    df: np.ndarray  # chunks containing each stem
    terms: TermIndex

    @classmethod
    def empty(cls) -> LexicalIndex:
        return cls.assemble("", [], np.zeros(0, np.int32), np.zeros(1, np.int64), [], [],
                            np.zeros(0, np.int32), {})

    @property
    def collection(self) -> str:
        return self.key.split("-g")[0]

    def changed(self, shas: dict[str, str]) -> set[str]:
        """Files with chunks here whose manifest hash is not the one they were read with
        (a record that appeared or vanished counts: chunks can precede their record)."""
        return {f for f in {r[0] for r in self.rows} if self.shas.get(f) != shas.get(f)}

    def file_of(self, i: int) -> str:
        return self.rows[int(self.row_of[i])][0]

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def assemble(cls, key: str, ids: list[str], tok: np.ndarray, ptr: np.ndarray,
                 words: list[str], rows: list[TermRow], row_of: np.ndarray,
                 shas: dict[str, str]) -> LexicalIndex:
        """Put chunks, words and rows in one canonical order, drop the unused ones, then
        build BM25, the vocabulary and the term index.

        The order is canonical (chunks by id, words and rows sorted) because ties are broken
        by it: BM25's top-n cut, the defining passages read first, a term's label and which
        of two terms a question names. Built from the store (a cold process, in the store's
        order), caught up after ingests (a warm one: changed files last) or loaded from a
        snapshot, the same chunks make the same index and so the same answers.
        """
        ids, tok, ptr, row_of = by_id(ids, tok, ptr, row_of)
        words, tok = sorted_ids(words, tok)
        rows, row_of = sorted_ids(rows, row_of)
        used = np.bincount(tok, minlength=len(words)) > 0 if len(words) else np.zeros(0, bool)
        if not used.all():
            remap = np.cumsum(used, dtype=np.int64) - 1
            tok = remap[tok].astype(np.int32)
            words = [w for w, u in zip(words, used, strict=True) if u]
        rused = np.bincount(row_of, minlength=len(rows)) > 0 if rows else np.zeros(0, bool)
        if not rused.all():
            rmap = np.cumsum(rused, dtype=np.int64) - 1
            row_of = rmap[row_of].astype(np.int32)
            rows = [r for r, u in zip(rows, rused, strict=True) if u]
        bm = None
        stem_ids: dict[str, int] = {}
        stem_of = np.asarray([stem_ids.setdefault(x, len(stem_ids)) for x in stems(words)],
                             dtype=np.int32)
        df = np.zeros(len(stem_ids), np.int64)
        if ids and words:
            import bm25s

            bm = bm25s.BM25()
            bm.scores = bm25_matrix(stem_of[tok], ptr, len(stem_ids))
            bm.vocab_dict = stem_ids
            bm.unique_token_ids_set = set(range(len(stem_ids)))
            bm.nonoccurrence_array = None
            df = np.diff(bm.scores["indptr"])
        terms = TermIndex({"file": f, "title": t, "aliases": a, "section": h, "defines": d}
                          for f, t, a, h, d in rows)
        return cls(key, ids, tok, ptr, words, rows, row_of, shas, bm, Vocabulary(words),
                   stem_ids, stem_of, df, terms)

    def defining(self, subject: str) -> list[int]:
        """Chunks that define ``subject``: a glossary item or "X is a ..." naming it, or the
        section headed by it."""
        rows = self._defined.get(tuple(content_words(subject)), []) if subject else []
        if not rows:
            return []
        return [int(i) for i in np.flatnonzero(np.isin(self.row_of, rows))]

    @cached_property
    def _defined(self) -> dict[tuple[str, ...], list[int]]:
        """``defined_by`` of the rows, read once per index rather than once per question."""
        return defined_by(self.rows)

    def in_sections(self, sections: list[tuple[str, str]]) -> list[str]:
        """The ids of every chunk under these (file key, heading path) pairs."""
        return [cid for f, h in dict.fromkeys(sections) for cid in self._pages.get(f, {}).get(h, [])]

    def in_files(self, files: list[str]) -> list[str]:
        """The ids of every chunk of these files (file keys)."""
        return [cid for f in dict.fromkeys(files) for ids in self._pages.get(f, {}).values()
                for cid in ids]

    @cached_property
    def _pages(self) -> dict[str, dict[str, list[str]]]:
        """Chunk ids by file key, then heading path: a file's or a section's chunks without
        a filtered read of the store, which costs several times a read by id."""
        out: dict[str, dict[str, list[str]]] = {}
        for cid, row in zip(self.ids, self.row_of.tolist(), strict=True):
            file, _, _, section, _ = self.rows[row]
            out.setdefault(file, {}).setdefault(section, []).append(cid)
        return out

    def query_stems(self, text: str) -> list[str]:
        """The stems of ``text``'s words that BM25 knows, misspelt words corrected first and
        function words ("how", "do", "I") left out: they only match headings that ask."""
        fixed = [self.vocab.correct(w) or w for w in tokens(text, parts=True)
                 if w not in FUNCTION_WORDS]
        return [x for x in stems(fixed) if x in self.stem_ids]

    def has_phrase(self, phrase: list[str]) -> bool:
        """Whether some chunk holds these stems side by side, in this order."""
        found = [self.stem_ids.get(x) for x in phrase]
        cols = [c for c in found if c is not None]
        if not phrase or len(cols) < len(found) or self.bm25 is None:
            return False
        if len(cols) == 1:
            return True
        sc = self.bm25.scores
        docs = None
        for c in cols:
            posting = sc["indices"][sc["indptr"][c] : sc["indptr"][c + 1]]
            docs = posting if docs is None else np.intersect1d(docs, posting)
        want = np.asarray(cols, dtype=np.int64)
        if docs is not None and len(docs) > PHRASE_SCAN:
            return True  # words this common side by side somewhere: not worth proving
        for d in docs if docs is not None else ():
            seq = self.stem_of[self.tok[self.ptr[d] : self.ptr[d + 1]]]
            if len(seq) < len(want):
                continue
            windows = np.lib.stride_tricks.sliding_window_view(seq, len(want))
            if bool((windows == want).all(axis=1).any()):
                return True
        return False

    def idf(self, stem: str) -> float:
        """BM25's idf of a stem here (an unknown stem gets the idf of a word seen once)."""
        n = len(self.ids)
        i = self.stem_ids.get(stem)
        d = int(self.df[i]) if i is not None else 1
        return float(np.log(1 + (n - d + 0.5) / (d + 0.5)))

    def update(self, key: str, ids_now: list[str], shas_now: dict[str, str],
               fetch: Any) -> LexicalIndex:
        """The snapshot for a store now holding ``ids_now``.

        Chunks still present whose file's manifest hash is unchanged are kept as they are;
        every other chunk is read with ``fetch(ids) -> rows`` and tokenised.
        """
        present = set(ids_now)
        changed = self.changed(shas_now)
        keep = np.fromiter(
            (cid in present and self.rows[r][0] not in changed
             for cid, r in zip(self.ids, self.row_of.tolist(), strict=True)),
            dtype=bool, count=len(self.ids))
        kept_ids = [cid for cid, k in zip(self.ids, keep.tolist(), strict=True) if k]
        kept = set(kept_ids)
        lengths = np.diff(self.ptr)
        tok_parts = [self.tok[np.repeat(keep, lengths)]]
        len_parts = [lengths[keep]]
        words = list(self.words)
        wid = {w: i for i, w in enumerate(words)}
        rows = list(self.rows)
        rid = {r: i for i, r in enumerate(rows)}
        new_tok: list[int] = []
        new_len: list[int] = []
        new_row: list[int] = []
        new_ids: list[str] = []
        for cid, text, meta in fetch([cid for cid in ids_now if cid not in kept]):
            new_ids.append(cid)  # rows are consumed as they come: a page at a time in memory
            toks = _row_tokens(text, meta)
            new_tok += [wid.setdefault(w, len(wid)) for w in toks]
            new_len.append(len(toks))
            new_row.append(rid.setdefault(_term_row(text, meta), len(rid)))
        words += list(wid)[len(words):]
        rows += list(rid)[len(rows):]
        tok_parts.append(np.asarray(new_tok, dtype=np.int32))
        len_parts.append(np.asarray(new_len, dtype=np.int64))
        tok = np.concatenate(tok_parts).astype(np.int32)
        ptr = np.concatenate([[0], np.cumsum(np.concatenate(len_parts))]).astype(np.int64)
        row_of = np.concatenate([self.row_of[keep], np.asarray(new_row, dtype=np.int32)])
        ids = kept_ids + new_ids
        in_index = {r[0] for r in rows}
        shas = {f: s for f, s in shas_now.items() if f in in_index}
        return LexicalIndex.assemble(key, ids, tok, ptr, words, rows, row_of.astype(np.int32),
                                     shas)

    # -- on disk (app/retrieval/snapshots.py) ------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write this snapshot as ``folder/<key>.npz`` (atomically), keeping the newest few.

        A folder that cannot be written only costs the next process a rebuild.
        """
        if self.key:
            snapshots.write(folder, self.key, self.ids, self.words, self.rows, self.shas,
                            self.tok, self.ptr, self.row_of)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex | None:
        """The snapshot saved at ``path``, or None if it is missing, damaged or inconsistent."""
        saved = snapshots.read(path)
        if saved is None:
            return None
        try:
            return cls.assemble(*saved)
        except Exception as exc:  # a damaged or foreign file: rebuild rather than trust it
            snapshots.log.warning("ignoring the saved lexical index %s: %s", path, exc)
            return None

    @staticmethod
    def newest(folder: Path, collection: str) -> Path | None:
        """The most recent saved snapshot of ``collection``, if any."""
        return snapshots.newest(folder, collection)


def store_key(collection: str, generation: int, count: int) -> str:
    return f"{collection}-g{generation}-n{count}"


def fetch_rows(store: Any, ids: Iterable[str]) -> Iterator[Row]:
    """Chunks by id, or every chunk when that is most of the store (paged reads are faster)."""
    want = list(ids)
    if not want:
        return iter(())
    if len(want) > store.count() // 2:
        wanted = set(want)
        return (r for r in store.all_chunks() if r[0] in wanted)
    return iter(store.chunks_by_id(want))
