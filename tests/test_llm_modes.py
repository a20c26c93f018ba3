"""LLM modes through llama-index: any llama-index LLM as mode "llm", and a GGUF with a chat
template prompted through it, with the same checks as local and hosted (tests/test_llm.py).

Internal: whether a GGUF's chat template is used shows only in the prompt the model is given
(``get_model``, ``build_messages``); no answer text tells it apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port
from test_llm import KEY, LIMITS, grounded, real_llm

from app import Assistant, ConfigError

# A Gemma-style template that, like Gemma 2's, refuses a system turn.
TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else "
    "m['role'] }}\n{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


@pytest.fixture(scope="module")
def index_copy(corpus_index: Path) -> Path:
    return corpus_index  # these tests only read: the session's index serves them


def test_any_llama_index_llm_is_mode_llm(index_copy):
    """A llama-index LLM handed over (here OpenAILike at a port nobody listens on) answers as
    mode "llm", with the hosted key kept out and the extractive answer as the fallback."""
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model="m", api_base=f"http://127.0.0.1:{free_port()}/v1", api_key=KEY,
                     is_chat_model=True, max_retries=0, timeout=2)
    bot = Assistant.open(index_dir=index_copy, llm=llm, hosted_api_key=KEY)
    assert bot.mode == "llm" and "llm" in bot.modes()
    ans = bot.ask("What is GitOps?")
    assert ans.mode == "llm" and not ans.refused
    assert ans.note == "fell back to extractive: APIConnectionError during generation"
    assert ans.text == bot.ask("What is GitOps?", mode="extractive").text
    assert "".join(bot.stream("What is GitOps?")) == ans.text
    assert KEY not in ans.note + repr(ans)
    explicit = Assistant.open(index_dir=index_copy, llm=llm, mode="extractive")
    assert explicit.mode == "extractive" and explicit.ask("What is GitOps?").mode == "extractive"


def test_mode_llm_needs_an_llm(index_copy):
    bot = Assistant.open(index_dir=index_copy)
    assert "llm" not in bot.modes()
    with pytest.raises(ConfigError, match="unknown mode 'llm'"):
        bot.ask("What is GitOps?", mode="llm")


@real_llm
def test_user_llamacpp_llm_is_checked_like_local(index_copy, packaged_gguf):
    from llama_index.llms.llama_cpp import LlamaCPP

    llm = LlamaCPP(model_path=str(packaged_gguf), temperature=0.0, max_new_tokens=96,
                   context_window=2048, verbose=False, generate_kwargs={"seed": 42})
    custom = Assistant.open(index_dir=index_copy, llm=llm, **LIMITS)
    ans = custom.ask("What is GitOps?")
    assert ans.mode == "llm" and not ans.refused and "llm_ms" in ans.timings_ms
    assert ans.note.startswith(("llm answer checked", "fell back to extractive")), ans.note
    grounded(ans.text, ans.sources)


@pytest.fixture(scope="module")
def templated_gguf(packaged_gguf, tmp_path_factory) -> Path:
    """A copy of the packaged GGUF carrying a chat template, written with the gguf package."""
    pytest.importorskip("gguf", reason="needs the gguf package ([test] extra)")
    src = packaged_gguf
    out = tmp_path_factory.mktemp("gguf") / "templated.gguf"
    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(src), str(out),
                    "--chat-template", TEMPLATE, "--force"], check=True, capture_output=True)
    return out


@real_llm
def test_gguf_chat_template_is_used_and_base_model_keeps_completion(index_copy, templated_gguf):
    from llama_index.core.llms import ChatMessage

    from app.answer.llm import build_messages
    from app.answer.llm_models import get_model

    base = Assistant.open(index_dir=index_copy, **LIMITS)
    assert get_model(base, "local").chat is False  # the packaged base model has no template
    bot = Assistant.open(index_dir=index_copy, llm_model_path=str(templated_gguf), **LIMITS)
    model = get_model(bot, "local")
    assert model.chat is True
    sources = bot.ask("What is GitOps?").sources
    messages = [ChatMessage(role=m["role"], content=m["content"])
                for m in build_messages("What is GitOps?", sources)]
    prompt = model.llm.messages_to_prompt(messages)
    # rendered by the GGUF's template; the system turn the template refuses is folded into the
    # user turn; BOS is left to the tokenizer
    assert prompt.startswith("<start_of_turn>user\nYou answer questions")
    assert prompt.endswith("<end_of_turn>\n<start_of_turn>model\n")
    assert "<start_of_turn>system" not in prompt and "<bos>" not in prompt
    assert "Question: What is GitOps?" in prompt
    ans = bot.ask("What is GitOps?", mode="local")
    assert ans.mode == "local" and not ans.refused
    grounded(ans.text, ans.sources)
