"""opsqa as llama-index components: retriever, query and chat engines, and a llama-index
pipeline (RetrieverQueryEngine, CondensePlusContextChatEngine) on the real local GGUF."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import subprocess
import sys

import pytest
from conftest import ROOT, free_port
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.schema import NodeWithScore, TextNode

from app import QuestionError

HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None


def test_retriever_yields_opsqa_ranking_as_text_nodes(shared_bot):
    q = "How does GitOps detect drift?"
    retriever = shared_bot.as_retriever(k=5)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve(q)
    assert [n.node.node_id for n in nodes] == [s.chunk_id for s in shared_bot.search(q, k=5)]
    assert len(nodes) == 5 and all(isinstance(n, NodeWithScore) for n in nodes)
    for rank, n in enumerate(nodes, 1):
        node, meta = n.node, n.node.metadata
        assert isinstance(node, TextNode)
        assert {"path", "title", "section", "start", "end", "chunk_id"} <= set(meta)
        assert meta["rank"] == rank and node.node_id == meta["chunk_id"]
        # the char span is the passage of the document the citation names, as the index holds it
        held = [p.text for p in shared_bot.document(meta["path"])
                if (p.start, p.end) == (meta["start"], meta["end"])]
        assert held == [node.text]
        assert (node.start_char_idx, node.end_char_idx) == (meta["start"], meta["end"])
        assert node.ref_doc_id == meta["path"]
        # only title and section reach an LLM prompt
        shown = node.get_content(metadata_mode="llm")
        assert meta["title"] in shown and meta["path"] not in shown
    assert [n.node.metadata["hybrid_score"] for n in nodes] == sorted(
        (n.node.metadata["hybrid_score"] for n in nodes), reverse=True)


def test_query_engine_response_is_the_checked_answer(shared_bot):
    engine = shared_bot.as_query_engine()
    resp = engine.query("What is GitOps?")
    ans = shared_bot.ask("What is GitOps?")
    assert isinstance(resp, Response) and str(resp) == ans.text
    assert [n.node.node_id for n in resp.source_nodes] == [s.chunk_id for s in ans.sources]
    assert resp.metadata["refused"] is False and resp.metadata["mode"] == "extractive"
    refused = engine.query("How do I bake sourdough bread?")
    assert refused.metadata["refused"] is True and "do not" in str(refused)


def test_query_engine_streams_and_runs_async(shared_bot):
    ans = shared_bot.ask("What is DevOps?")
    resp = shared_bot.as_query_engine(streaming=True).query("What is DevOps?")
    assert isinstance(resp, StreamingResponse)
    assert [n.node.node_id for n in resp.source_nodes] == [s.chunk_id for s in ans.sources]
    pieces = list(resp.response_gen)
    assert len(pieces) > 3 and "".join(pieces) == ans.text
    assert resp.metadata["mode"] == "extractive" and resp.metadata["refused"] is False
    async_resp = asyncio.run(shared_bot.as_query_engine().aquery("What is DevOps?"))
    assert str(async_resp) == ans.text


def test_chat_engine_resolves_follow_ups_like_a_conversation(shared_bot):
    chat = shared_bot.conversation()
    chat.ask("What is GitOps?")
    expected = chat.ask("Which tools does it use?")
    engine = shared_bot.as_chat_engine()
    engine.chat("What is GitOps?")
    reply = engine.chat("Which tools does it use?")
    assert str(reply) == expected.text and "Argo CD" in reply.response
    assert reply.source_nodes[0].node.metadata["title"] == "GitOps"
    assert [m.role for m in engine.chat_history] == [MessageRole.USER, MessageRole.ASSISTANT] * 2
    # streamed, after a reset, from a history the caller hands over
    engine.reset()
    history = [ChatMessage(role=MessageRole.USER, content="What is GitOps?"),
               ChatMessage(role=MessageRole.ASSISTANT, content="GitOps is ...")]
    streamed = engine.stream_chat("Which tools does it use?", chat_history=history)
    assert "".join(streamed.response_gen) == expected.text
    assert streamed.source_nodes[0].node.metadata["title"] == "GitOps"
    assert streamed.metadata["refused"] is False
    assert len(engine.chat_history) == 4
    engine.reset()
    assert engine.chat_history == [] and "Argo CD" not in engine.chat(
        "Which tools does it use?").response


def test_async_chat_stream(shared_bot):
    engine = shared_bot.as_chat_engine()

    async def run() -> str:
        reply = await engine.astream_chat("What is MLOps?")
        return "".join([p async for p in reply.async_response_gen()])

    assert asyncio.run(run()) == shared_bot.ask("What is MLOps?").text


def test_bad_questions_raise_opsqa_errors(shared_bot):
    with pytest.raises(QuestionError):
        shared_bot.as_retriever().retrieve("   ")
    with pytest.raises(QuestionError):
        shared_bot.as_query_engine().query("x" * 20_000)


# -- a llama-index user's own pipeline on opsqa's retriever, with the real local model ---------
@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.skipif(not HAS_LLAMA, reason="llama_cpp not importable: pip install -e .[local]")
def test_llama_index_pipelines_on_opsqa_retriever(shared_bot, packaged_gguf):
    from llama_index.core.chat_engine import CondensePlusContextChatEngine
    from llama_index.core.query_engine import RetrieverQueryEngine
    from llama_index.llms.llama_cpp import LlamaCPP

    llm = LlamaCPP(model_path=str(packaged_gguf), temperature=0.0,
                   max_new_tokens=48, context_window=2048, verbose=False,
                   generate_kwargs={"seed": 42})
    retriever = shared_bot.as_retriever(k=3)
    engine = RetrieverQueryEngine.from_args(retriever, llm=llm)
    resp = engine.query("What is GitOps?")
    assert str(resp).strip() and str(resp) != "Empty Response"
    assert [n.node.node_id for n in resp.source_nodes] == [
        n.node.node_id for n in retriever.retrieve("What is GitOps?")]
    assert resp.source_nodes[0].node.metadata["title"] == "GitOps"

    chat = CondensePlusContextChatEngine.from_defaults(retriever, llm=llm)
    first = chat.chat("What is GitOps?")
    assert first.response.strip() and first.source_nodes
    second = chat.chat("Which tools does it use?")
    assert second.source_nodes and len(chat.chat_history) == 4


LIGHT = ("llama_index", "llama_cpp", "openai", "docx", "nbformat", "lxml", "torch", "gradio")


def _imported_by_ask(index_dir, *args: str) -> list[str]:
    code = (
        "import sys; from app.cli import main; main(['ask', 'What is GitOps?', '--index-dir', "
        f"{str(index_dir)!r}, *{list(args)!r}]); "
        f"print('LOADED', [m for m in {LIGHT!r} if m in sys.modules])"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    return ast.literal_eval(r.stdout.rsplit("LOADED", 1)[1].strip())


def test_extractive_ask_never_imports_llama_index_but_llm_modes_do(corpus_index):
    """The extractive `opsqa ask` stays light; llama-index loads only once an LLM mode runs."""
    assert _imported_by_ask(corpus_index) == []
    with pytest.MonkeyPatch.context() as mp:  # hosted at a closed port: it falls back
        mp.setenv("OPSQA_HOSTED_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
        loaded = _imported_by_ask(corpus_index, "--mode", "hosted")
    assert "llama_index" in loaded and "openai" in loaded and "llama_cpp" not in loaded
