"""opsqa as llama-index components: a retriever, a query engine and a chat engine.

``Assistant.as_retriever()``, ``as_query_engine()`` and ``as_chat_engine()`` return these, so
a llama-index app can put opsqa's hybrid retrieval under its own pipeline
(``RetrieverQueryEngine``, ``CondensePlusContextChatEngine``, rerankers, evaluators), or take
opsqa's checked, cited answers whole. llama-index types stay in this module: the rest of
opsqa speaks ``Answer`` and ``Source``. This module is imported only by those three methods.

Nodes: a ``TextNode`` per passage, its id the chunk id, its text the passage, its
``start_char_idx``/``end_char_idx`` the passage's span in the cleaned document, and metadata
path, title, section, start, end, chunk_id, rank (1 = best by opsqa's hybrid ranking) and
hybrid_score (the fused rank score). ``NodeWithScore.score`` is the dense cosine similarity,
as in ``Source.score`` and llama-index's own vector retrievers, so similarity cut-offs mean
what they usually do; the order of the list is the hybrid ranking. Only title and section
reach an LLM's prompt or an embedding (``excluded_*_metadata_keys``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from app.answer.streaming import Stream, start_stream
from app.sources import check_k, to_source
from app.types import Answer, Source

_HIDDEN = ["path", "start", "end", "chunk_id", "rank", "hybrid_score"]


def to_node(source: Source, rank: int, hybrid_score: float | None = None) -> NodeWithScore:
    """A ``Source`` as a llama-index ``NodeWithScore`` (see the module docstring)."""
    meta: dict[str, Any] = {"path": source.path, "title": source.title, "section": source.section,
                            "start": source.start, "end": source.end, "chunk_id": source.chunk_id,
                            "rank": rank}
    if hybrid_score is not None:
        meta["hybrid_score"] = hybrid_score
    node = TextNode(text=source.text, metadata=meta, start_char_idx=source.start,
                    end_char_idx=source.end, excluded_llm_metadata_keys=list(_HIDDEN),
                    excluded_embed_metadata_keys=list(_HIDDEN),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=source.path)},
                    **({"id_": source.chunk_id} if source.chunk_id else {}))
    return NodeWithScore(node=node, score=source.score)


def to_nodes(sources: tuple[Source, ...]) -> list[NodeWithScore]:
    return [to_node(s, i) for i, s in enumerate(sources, 1)]


def answer_metadata(answer: Answer) -> dict[str, Any]:
    """What a ``Response``'s metadata carries: refusal, mode, check note, evidence, timings."""
    return {"refused": answer.refused, "mode": answer.mode, "note": answer.note,
            "evidence": answer.evidence, "question": answer.question,
            "timings_ms": dict(answer.timings_ms)}


class OpsqaRetriever(BaseRetriever):
    """opsqa's hybrid retrieval (dense + BM25, term-aware) as a llama-index retriever: the
    passages ``Assistant.search`` finds (misspellings fixed, the question planned, one chunk
    per passage), in its order."""

    def __init__(self, bot: Any, k: int = 5, **kwargs: Any):
        super().__init__(**kwargs)
        self._bot, self.k = bot, check_k(k)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._bot.search_hits(query_bundle.query_str, self.k)  # as Assistant.search
        return [to_node(to_source(h), i, h.score) for i, h in enumerate(hits, 1)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


def _streamed(stream: Stream, meta: dict[str, Any]) -> Generator[str, None, None]:
    """The stream's pieces; ``meta`` takes the final answer's metadata at the end."""
    yield from stream
    meta.update(answer_metadata(stream.answer()))


async def _async_pieces(pieces: Iterator[str]) -> AsyncGenerator[str, None]:
    """A blocking iterator read in a worker thread, piece by piece."""
    done = object()
    while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
        yield str(piece)


class OpsqaQueryEngine(BaseQueryEngine):
    """``query`` returns opsqa's answer: checked, cited text; the passages as ``source_nodes``;
    refused, mode, note, evidence and timings in ``metadata``. With ``streaming=True`` the text
    comes as ``response_gen`` (the sources and refusal at once, mode's note at the end)."""

    def __init__(self, bot: Any, *, mode: str | None = None, streaming: bool = False,
                 k: int = 5, **kwargs: Any):
        super().__init__(callback_manager=kwargs.get("callback_manager"))
        self._bot, self._mode, self._streaming = bot, mode, streaming
        self._retriever = OpsqaRetriever(bot, k=k)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._retriever.retrieve(query_bundle)

    def _query(self, query_bundle: QueryBundle) -> Response | StreamingResponse:
        if self._streaming:
            stream = start_stream(self._bot, query_bundle.query_str, None, self._mode)
            meta = answer_metadata(stream.base) | {"mode": stream.mode}
            return StreamingResponse(response_gen=_streamed(stream, meta),
                                     source_nodes=to_nodes(stream.base.sources), metadata=meta)
        answer = self._bot.ask(query_bundle.query_str, mode=self._mode)
        return Response(response=answer.text, source_nodes=to_nodes(answer.sources),
                        metadata=answer_metadata(answer))

    async def _aquery(self, query_bundle: QueryBundle) -> Any:
        result = await asyncio.to_thread(self._query, query_bundle)
        if isinstance(result, StreamingResponse):
            return AsyncStreamingResponse(response_gen=_async_pieces(result.response_gen),
                                          source_nodes=result.source_nodes,
                                          metadata=result.metadata)
        return result


class OpsqaChatEngine(BaseChatEngine):
    """A llama-index chat engine over an opsqa ``Conversation``: follow-ups ("which tools does
    it use?") take their topic from earlier turns, and every reply is a checked answer.

    ``chat_history``, when passed, replaces the engine's history: its user messages are
    re-planned (not re-answered) so follow-ups resolve against them. Streaming replies carry
    ``source_nodes`` at once and a ``metadata`` attribute that is complete once read.
    """

    def __init__(self, bot: Any, *, mode: str | None = None):
        self._bot, self._mode = bot, mode
        self._conversation = bot.conversation()
        self._history: list[ChatMessage] = []

    def reset(self) -> None:
        self._conversation.clear()
        self._history.clear()

    @property
    def chat_history(self) -> list[ChatMessage]:
        return list(self._history)

    def _take_history(self, chat_history: list[ChatMessage] | None) -> None:
        if chat_history is None:
            return
        self._history = list(chat_history)
        self._conversation.resume([m.content or "" for m in chat_history
                                   if m.role == MessageRole.USER])

    def _record(self, message: str, answer: Answer) -> None:
        self._history += [ChatMessage(role=MessageRole.USER, content=message),
                          ChatMessage(role=MessageRole.ASSISTANT, content=answer.text)]

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        self._take_history(chat_history)
        answer = self._conversation.ask(message, mode=self._mode)
        self._record(message, answer)
        return AgentChatResponse(response=answer.text, source_nodes=to_nodes(answer.sources),
                                 metadata=answer_metadata(answer))

    def stream_chat(self, message: str,
                    chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        self._take_history(chat_history)
        stream = self._conversation.stream(message, mode=self._mode)
        meta = answer_metadata(stream.base) | {"mode": stream.mode}
        stream.done.append(lambda answer: self._record(message, answer))

        def replies() -> Generator[ChatResponse, None, None]:
            text = ""
            for piece in _streamed(stream, meta):
                text += piece
                yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                                   delta=piece)

        reply = StreamingAgentChatResponse(chat_stream=replies(), is_writing_to_memory=False,
                                           source_nodes=to_nodes(stream.base.sources))
        reply.metadata = meta  # type: ignore[attr-defined]  # as AgentChatResponse has
        return reply

    async def achat(self, message: str,
                    chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(self, message: str, chat_history: list[ChatMessage] | None = None
                           ) -> StreamingAgentChatResponse:
        reply = await asyncio.to_thread(self.stream_chat, message, chat_history)
        sync = reply.chat_stream
        assert sync is not None

        async def replies() -> AsyncGenerator[ChatResponse, None]:
            done = object()
            while (r := await asyncio.to_thread(next, sync, done)) is not done:
                yield r  # type: ignore[misc]

        reply.chat_stream, reply.achat_stream = None, replies()
        return reply
