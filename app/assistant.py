"""The public API: ``Assistant.open()`` builds everything from settings; ask, stream, search, ingest.

This is the one place that turns settings into collaborators (store, encoders, retriever,
LLM clients); the CLI, the UI and the eval only call these methods. Heavy parts are loaded
on first use: asking a question never imports torch, llama-index or gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import ConfigError, IndexStoreError, QuestionError
from app.extractive import compose
from app.grounding import refusal_text, weigh_evidence
from app.questions import Plan, clean_question, plan_question
from app.retrieval import Hit, Retriever
from app.settings import Settings
from app.types import Answer, Source
from ingest.embedding import Encoder
from ingest.store import FileRecord, IndexStore

if TYPE_CHECKING:
    from app.conversation import Conversation
    from ingest.pipeline import IngestReport, Progress

MODES = ("extractive", "local", "hosted")


def to_source(hit: Hit) -> Source:
    m = hit.meta
    return Source(path=str(m.get("path", "")), title=hit.title, section=hit.section,
                  text=hit.text, score=round(float(hit.dense), 4), start=int(m.get("start", 0)),
                  end=int(m.get("end", 0)), chunk_id=hit.id)


class Assistant:
    """Grounded Q&A over one index.

    Args:
        settings: the settings object (``Assistant.open`` builds it from all sources).
        store: an opened ``IndexStore``; built from settings when omitted.
        encoder: the query encoder; built from settings when omitted.
    """

    def __init__(self, settings: Settings, *, store: IndexStore | None = None,
                 encoder: Encoder | None = None, check_model: bool = True):
        self.settings = settings
        self.store = store or self._open_store()
        self.encoder = encoder or self._query_encoder()
        if check_model:  # skipped only to rebuild an index made with another model
            self.store.check_model(self.encoder.model_id, self.encoder.dim)
        self.retriever = Retriever(self.store, self.encoder)
        self._llms: dict[str, Any] = {}

    @classmethod
    def open(cls, *, auto_ingest: bool = True, progress: Progress | None = None,
             **overrides: Any) -> Assistant:
        """Open the index named by settings (any settings field may be passed as a keyword).

        On an empty index, ingests ``corpus_dir`` first (unless ``auto_ingest=False``).

        Raises:
            ConfigError: bad settings. IndexStoreError: damaged or mismatched index.
        """
        bot = cls(Settings.load(**overrides))
        if auto_ingest and bot.store.count() == 0 and not bot.store.file_records():
            corpus = Path(bot.settings.corpus_dir)
            if corpus.is_dir():
                bot.ingest([corpus], progress=progress)
        return bot

    # -- collaborators ----------------------------------------------------------------------
    def _open_store(self) -> IndexStore:
        s = self.settings
        return IndexStore(Path(s.index_dir), s.collection, s.chroma_host, s.chroma_port,
                          s.chroma_timeout)

    def _query_encoder(self) -> Encoder:
        # Queries always take the fast-loading backend when one exists: vectors are compatible.
        backend = "auto" if self.settings.embed_backend != "torch" else "torch"
        return Encoder(self.settings.embed_model, backend)

    def _ingest_encoder(self) -> Encoder:
        s = self.settings
        if s.embed_backend in ("auto", self.encoder.backend):
            return self.encoder
        return Encoder(s.embed_model, s.embed_backend)

    # -- write side -------------------------------------------------------------------------
    def ingest(self, paths: list[str | Path], *, rebuild: bool = False,
               progress: Progress | None = None,
               on_wait: Callable[[], None] | None = None) -> IngestReport:
        """Bring the index in step with ``paths``: new and changed files in, deleted ones out.

        Args:
            rebuild: drop the whole index first (after a model change or damage).

        Raises:
            IndexStoreError: another model's index (use rebuild) or a held ingest lock.
        """
        from ingest.pipeline import run_ingest

        s = self.settings
        report = run_ingest(
            paths, self.store, self._ingest_encoder(), max_file_bytes=s.max_file_bytes,
            chunk_max_tokens=s.chunk_max_tokens, chunk_target_tokens=s.chunk_target_tokens,
            batch_size=s.embed_batch_size, lock_timeout=s.ingest_lock_timeout,
            progress=progress, on_wait=on_wait, rebuild=rebuild)
        # The lexical side catches up on the next search, not here: a CLI ingest never
        # searches, and building BM25 over the whole corpus would dominate its peak memory.
        self.retriever.invalidate()
        return report

    def remove(self, path: str) -> int:
        """Delete one document from the index; returns the number of chunks removed."""
        with self.store.ingest_lock(self.settings.ingest_lock_timeout):
            n = self.store.drop_file(path)
            self.store.bump(self.encoder.model_id, self.encoder.dim)
        self.retriever.invalidate()
        return n

    def documents(self) -> list[FileRecord]:
        """What is indexed, one record per file, sorted by path."""
        return sorted(self.store.file_records().values(), key=lambda r: r.path)

    def status(self) -> dict[str, Any]:
        """Index status: model, chunk count, documents, store kind and location."""
        return {"model": self.encoder.model_id, "backend": self.encoder.backend,
                "dim": self.encoder.dim, "chunks": self.store.count(),
                "documents": len(self.store.file_records()),
                "store": "server" if self.store.remote else "embedded",
                "location": self.store.where, "generation": self.store.generation()}

    # -- read side --------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> list[Source]:
        """Retrieval only: the ``k`` best passages for ``query``."""
        q = self._check(query)
        return [to_source(h) for h in self.retriever.search(q, k=k)]

    def ask(self, question: str, *, mode: str | None = None) -> Answer:
        """Answer ``question`` from the documents, citing them, or refuse."""
        return self._answer(question, None, mode)[0]

    def stream(self, question: str, *, mode: str | None = None) -> Iterator[str]:
        """Yield the answer text in pieces as it is produced (joined, they are the answer)."""
        mode = mode or self.settings.mode
        if mode == "extractive":
            yield from _pieces(self.ask(question, mode=mode).text)
            return
        base, plan = self._answer(question, None, "extractive")
        if base.refused:
            yield from _pieces(base.text)
            return
        from app.llm import llm_stream

        yield from llm_stream(self, mode, plan, base)

    def conversation(self) -> Conversation:
        """A chat that keeps history, so follow-ups ("which tools does it use?") resolve."""
        from app.conversation import Conversation

        return Conversation(self)

    def modes(self) -> list[str]:
        """The answer modes that are configured and can run here."""
        from app.llm import available_modes

        return available_modes(self.settings)

    def _check(self, question: str) -> str:
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        from app.term import without_surrogates

        # Undecodable bytes (a terminal's \xff, a lone surrogate in JSON) are not words.
        q = clean_question(without_surrogates(question))
        if not q:
            raise QuestionError("the question is empty: type a question about the documents")
        limit = self.settings.max_question_chars
        if len(q) > limit:
            raise QuestionError(
                f"the question is {len(q):,} characters long; the limit is {limit:,} "
                "(max_question_chars). Ask a shorter question.")
        return q

    def _answer(self, question: str, previous: Plan | None,
                mode: str | None) -> tuple[Answer, Plan]:
        t0 = time.perf_counter()
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        q = self._check(question)
        r = self.retriever
        r.sync()
        if r.size == 0:
            raise IndexStoreError("the index is empty: run `opsqa ingest PATH...` first")
        plan = plan_question(q, r.terms, previous)
        qvec = r.embed_query(plan.query)
        k = max(self.settings.top_k, 8)
        hits = r.search(plan.query, k=k, qvec=qvec)
        ev = weigh_evidence(plan, hits, r)  # decided on the main retrieval alone
        timings = {"retrieve_ms": (time.perf_counter() - t0) * 1000}
        if ev.refuse(self.settings.refusal_threshold):
            text = refusal_text(ev, hits, r.terms, q)
            sources = tuple(to_source(h) for h in hits[: self.settings.top_k])
            timings["total_ms"] = (time.perf_counter() - t0) * 1000
            return Answer(text=text, sources=sources, refused=True, mode=mode, question=q,
                          evidence=ev.score, note=ev.reason, timings_ms=timings), plan
        facet_hits: list[Hit] = []
        side_hits: dict[str, list[Hit]] = {}
        if plan.terms and plan.kind in ("definition", "list"):
            fq = f"{plan.terms[0].label} {plan.facet.replace('_', ' ')}"
            fvec = r.embed_query(fq)
            facet_hits = r.search(fq, k=12, files=list(plan.terms[0].files), qvec=fvec)
            # Other documents may cover the term in a section of their own.
            seen = {h.id for h in facet_hits}
            facet_hits += [h for h in r.search(fq, k=8, qvec=fvec) if h.id not in seen]
        if plan.kind in ("comparison", "boundary"):
            for t in plan.terms[:2]:
                side_hits[t.label] = r.search(f"What is {t.label}?", k=6, files=list(t.files))
            a, b = (t.label for t in plan.terms[:2])
            side_hits[""] = r.search(f"How does {a} differ from {b}?", k=6)  # linking passages
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        comp = compose(plan, hits, facet_hits, side_hits, qvec, r.encoder.encode)
        cited = list(comp.sources)
        extra = [h for h in hits if all(h.id != c.id for c in cited)]
        sources = tuple(to_source(h) for h in (cited + extra)[: max(len(cited),
                                                                    self.settings.top_k)])
        answer = Answer(text=comp.text(), sources=sources, refused=False, mode="extractive",
                        question=q, used=tuple(comp.used), evidence=ev.score,
                        timings_ms=timings)
        if mode != "extractive":
            from app.llm import llm_answer

            answer = llm_answer(self, mode, plan, answer)
        answer.timings_ms["total_ms"] = (time.perf_counter() - t0) * 1000
        return answer, plan


def _pieces(text: str) -> Iterator[str]:
    """Split text into word-sized pieces (whitespace kept) for streaming."""
    buf = ""
    for ch in text:
        buf += ch
        if ch in " \n":
            yield buf
            buf = ""
    if buf:
        yield buf


__all__ = ["Assistant", "to_source"]
