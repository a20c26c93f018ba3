"""The public API: ``Assistant.open()`` builds everything from settings; ask, stream, search, ingest.

This is the one place that turns settings into collaborators (store, encoders, retriever,
LLM clients); the CLI, the UI and the eval only call these methods. Heavy parts are loaded
on first use: an extractive question never imports torch, llama-index or gradio. LLM modes
reach their models through llama-index (``app/answer/llm_models.py``), and ``as_retriever``,
``as_query_engine`` and ``as_chat_engine`` offer opsqa to llama-index apps
(``app/llamaindex.py``); both import llama-index only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.answer.modes import CUSTOM, AnswerMode, Modes
from app.answer.plan import Plan
from app.answer.questions import plan_question
from app.answer.sections import distinct
from app.answering import answer_turn, checked_question
from app.chats import ChatStore
from app.retrieval.hybrid import Hit, Retriever
from app.settings import Settings
from app.sources import check_k, stored_source, to_source
from app.types import Answer, Source
from ingest.embedding import Encoder
from ingest.store import FileRecord, IndexStore

if TYPE_CHECKING:
    from app.conversation import Conversation
    from ingest.pipeline import Progress
    from ingest.report import IngestReport


class Assistant:
    """Grounded Q&A over one index.

    Args:
        settings: the settings object (``Assistant.open`` builds it from all sources).
        store: an opened ``IndexStore``; built from settings when omitted.
        encoder: the query encoder; built from settings when omitted.
        llm: any llama-index LLM, answering as mode "llm" (the default mode when given).
    """

    def __init__(self, settings: Settings, *, store: IndexStore | None = None,
                 encoder: Encoder | None = None, check_model: bool = True, llm: Any = None):
        self.settings = settings
        self.store = store or self._open_store()
        self.encoder = encoder or self._query_encoder()
        if check_model:  # skipped only to rebuild an index made with another model
            self.store.check_model(self.encoder.model_id, self.encoder.dim,
                                   self.encoder.model_digest)
        self.retriever = Retriever(self.store, self.encoder)
        self.answerers = Modes(settings, llm)
        self.mode: str = settings.mode if llm is None else CUSTOM  # when ask names none
        self._chats: ChatStore | None = None

    @classmethod
    def open(cls, *, auto_ingest: bool = True, progress: Progress | None = None,
             llm: Any = None, **overrides: Any) -> Assistant:
        """Open the index named by settings (any settings field may be passed as a keyword).

        On an empty index, ingests ``corpus_dir`` first (unless ``auto_ingest=False``).
        ``llm`` (any llama-index LLM: Ollama, Anthropic, Bedrock ...) answers as mode "llm",
        the default unless ``mode`` is given too, with the same checks as local and hosted.

        Raises:
            ConfigError: bad settings. IndexStoreError: damaged or mismatched index.
        """
        bot = cls(Settings.load(**overrides), llm=llm)
        if llm is not None and overrides.get("mode"):
            bot.mode = bot.settings.mode
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
    @classmethod
    def rebuild(cls, paths: list[str | Path] | None = None, *, progress: Progress | None = None,
                on_wait: Callable[[], None] | None = None, **overrides: Any) -> IngestReport:
        """Make the index named by settings anew, even one too damaged to open: every file
        its manifest knew, and ``paths``, read and embedded again (with the model the
        settings name). When the manifest cannot be read, the report's first warning says
        so, and which documents the last saved search index knew that are not back.

        Raises:
            ConfigError: bad settings. IndexStoreError: a held ingest lock, a Chroma server
                that cannot be reached, a full disk.
        """
        from app.rebuild import open_for_rebuild

        bot, lost = open_for_rebuild(cls, Settings.load(**overrides))
        report = bot.ingest(list(paths or []), rebuild=True, progress=progress, on_wait=on_wait)
        if lost is not None:
            report.warnings.insert(0, lost.warning(bot.documents()))
        return report

    def ingest(self, paths: list[str | Path], *, rebuild: bool = False,
               progress: Progress | None = None,
               on_wait: Callable[[], None] | None = None) -> IngestReport:
        """Bring the index in step with ``paths``: new and changed files in, deleted ones out.

        Args:
            rebuild: make the index anew (after a model change or damage): every file its
                manifest knew is read and embedded again, with ``paths``. For a store too
                damaged to open, use ``Assistant.rebuild``.

        Raises:
            IndexStoreError: another model's index (use rebuild), a held ingest lock, or a
                store that cannot be written (a full disk).
        """
        from ingest.pipeline import run_ingest

        s = self.settings
        report = run_ingest(
            paths, self.store, self._ingest_encoder(), max_file_bytes=s.max_file_bytes,
            read_budget=(s.max_read_seconds, s.max_read_mb), max_file_chunks=s.max_file_chunks,
            chunk_max_tokens=s.chunk_max_tokens, chunk_target_tokens=s.chunk_target_tokens,
            batch_size=s.embed_batch_size, lock_timeout=s.ingest_lock_timeout,
            progress=progress, on_wait=on_wait, rebuild=rebuild, skip_files=s.skip_files)
        # The lexical side catches up on the next search, not here: a CLI ingest never
        # searches, and building BM25 over the whole corpus would dominate its peak memory.
        self.retriever.invalidate()
        return report

    def remove(self, path: str) -> int:
        """Delete one document from the index; returns the number of chunks removed."""
        with self.store.ingest_lock(self.settings.ingest_lock_timeout):
            n = self.store.drop_file(path)
            self.store.bump(self.encoder.model_id, self.encoder.dim, self.encoder.model_digest)
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
        """Retrieval only: the ``k`` best passages for ``query`` (read as a question is:
        misspellings fixed, a definition's subject looked up among the terms defined), one
        chunk for each passage: a chunk continuing a better-ranked one is left out.

        Raises:
            QuestionError: ``k`` is not a whole number of at least 1, or as ``ask``.
        """
        return [to_source(h) for h in self.search_hits(query, k)]

    def search_hits(self, query: str, k: int = 5) -> list[Hit]:
        """``search`` as the retriever's hits, each with its fused rank score (``Hit.score``):
        what the llama-index retriever (``as_retriever``) yields.

        Raises:
            QuestionError: as ``search``.
        """
        k = check_k(k)
        r = self.retriever
        r.sync()
        plan = plan_question(self._fix(self.check_question(query)), r.terms)
        hits = r.search(plan.query, k=2 * k, subject=plan.seeks)
        return distinct(hits, k)

    def ask(self, question: str, *, mode: str | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the documents, citing them, or refuse (``top_k``: passages
        to keep, ``settings.top_k`` when None)."""
        return self.answer_with_plan(question, None, mode, top_k)[0]

    def stream(self, question: str, *, mode: str | None = None,
               top_k: int | None = None) -> Iterator[str]:
        """Yield the answer text in pieces as it is produced (joined, they are the answer)."""
        from app.answer.streaming import start_stream

        yield from start_stream(self, question, None, mode, top_k)

    def conversation(self) -> Conversation:
        """A chat that keeps history, so follow-ups ("which tools does it use?") resolve."""
        from app.conversation import Conversation

        return Conversation(self)

    def modes(self) -> list[str]:
        """The answer modes that are configured and can run here."""
        return self.answerers.available()

    def document(self, path: str) -> list[Source]:
        """Every passage of one indexed document, in document order (none when not indexed):
        the whole document as the index holds it, for showing a cited passage in place."""
        from ingest.store import file_key

        chunks = self.store.in_file(file_key(path))
        chunks.sort(key=lambda c: (c.meta.start, c.meta.end))
        return [stored_source(path, c) for c in chunks]

    @property
    def chats(self) -> ChatStore:
        """The stored chats and feedback (``settings.chats_path``, by default
        ``<index_dir>/chats.sqlite3``), opened on first use."""
        if self._chats is None:
            s = self.settings
            self._chats = ChatStore(s.chats_path or Path(s.index_dir) / "chats.sqlite3")
        return self._chats

    # -- llama-index components (app/llamaindex.py) -------------------------------------------
    def as_retriever(self, k: int = 5) -> Any:
        """A llama-index ``BaseRetriever`` yielding opsqa's hybrid top ``k`` as ``TextNode``s."""
        from app.llamaindex import OpsqaRetriever

        return OpsqaRetriever(self, k=k)

    def as_query_engine(self, *, mode: str | None = None, streaming: bool = False) -> Any:
        """A llama-index query engine whose ``Response`` is opsqa's checked answer."""
        from app.llamaindex import OpsqaQueryEngine

        return OpsqaQueryEngine(self, mode=mode, streaming=streaming)

    def as_chat_engine(self, *, mode: str | None = None) -> Any:
        """A llama-index chat engine over ``conversation()``: follow-ups resolve as in opsqa."""
        from app.llamaindex import OpsqaChatEngine

        return OpsqaChatEngine(self, mode=mode)

    def question_kind(self, question: str) -> str:
        """The kind of question ``question`` is read as (definition, list, howto, comparison,
        fact, general); nothing is retrieved."""
        r = self.retriever
        r.sync()
        return plan_question(self._fix(self.check_question(question)), r.terms).kind.name

    def _fix(self, question: str) -> str:
        """The question with misspelt words as the documents spell them (a common word of
        the language, one piece of the embedding model's vocabulary, is never a typo) and
        run-together term names as the documents name them."""
        fixed = self.retriever.vocab.fix(question, lambda w: self.encoder.count_pieces(w) == 1)
        return self.retriever.terms.split_names(fixed)

    def check_question(self, question: str) -> str:
        """``question`` cleaned (control characters, tags and stray bytes dropped).

        Raises:
            QuestionError: not text, empty, or over ``max_question_chars``.
        """
        return checked_question(question, self.settings.max_question_chars)

    # -- one answer, step by step: plan and retrieve, decide, compose, check ------------------
    def answer_mode(self, mode: str | None = None) -> AnswerMode:
        """The answer mode named (this assistant's default when None).

        Raises:
            ConfigError: no such mode.
        """
        return self.answerers.get(mode or self.mode)

    def answer_with_plan(self, question: str, previous: Plan | None = None,
                         mode: str | None = None, top_k: int | None = None
                         ) -> tuple[Answer, Plan]:
        """Answer ``question`` as one turn of a chat: ``previous`` is the plan of the turn a
        follow-up builds on; returns the answer and this question's plan. ``top_k``: the
        passages to keep (``settings.top_k`` when None).

        Raises:
            QuestionError, ConfigError, IndexStoreError: as ``ask``; LLMError: the mode
            cannot run here.
        """
        return answer_turn(self, question, previous, mode, top_k)


__all__ = ["Assistant", "to_source"]
