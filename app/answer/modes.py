"""Answer modes: one object per mode behind one small interface, chosen here and nowhere else.

Every mode starts from the extractive answer (its passages, refusal and evidence are decided
before a mode is asked): ``extractive`` returns it as it is; ``local``, ``hosted`` and ``llm``
(a llama-index LLM handed to ``Assistant.open(llm=...)``) have their model write the text and
keep only the sentences the passages support (``app/answer/llm.py``). A new mode is one entry
in ``MODES``: a name and a function building it from the settings.

This module imports nothing heavy: an LLM mode's code and its model load on first use.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from app.answer.llm_models import CUSTOM, INSTALL_HINT, model_resolvable
from app.errors import ConfigError, LLMError
from app.types import Answer

if TYPE_CHECKING:
    from app.answer.llm_models import Model


class AnswerMode(Protocol):
    """What every answer mode does with the extractive answer ``base`` (not refused)."""

    name: str

    def answer(self, base: Answer) -> Answer:
        """This mode's answer, checked against ``base.sources``."""
        ...

    def stream(self, base: Answer) -> tuple[Iterator[str], Callable[[], Answer]]:
        """The answer's text in pieces, and a call giving the final ``Answer`` once read."""
        ...


def pieces(text: str) -> Iterator[str]:
    """Split text into word-sized pieces (whitespace kept) for streaming."""
    buf = ""
    for ch in text:
        buf += ch
        if ch in " \n":
            yield buf
            buf = ""
    if buf:
        yield buf


class Extractive:
    """The default mode: the quoted, cited passage units are the answer."""

    name = "extractive"

    def answer(self, base: Answer) -> Answer:
        return base

    def stream(self, base: Answer) -> tuple[Iterator[str], Callable[[], Answer]]:
        return pieces(base.text), lambda: base


def _local(settings: Any, llm: Any) -> AnswerMode:
    from app.answer.llm import LLMAnswerer
    from app.answer.llm_models import load_local

    def ready() -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMError(f"local mode needs llama-cpp-python, an optional extra: `{INSTALL_HINT}`")

    return LLMAnswerer("local", settings, lambda: load_local(settings), ready)


def _hosted(settings: Any, llm: Any) -> AnswerMode:
    from app.answer.llm import LLMAnswerer, hosted_failure
    from app.answer.llm_models import load_hosted

    def ready() -> None:
        if not settings.hosted_base_url:
            raise LLMError("hosted mode needs hosted_base_url in opsqa.toml or OPSQA_HOSTED_BASE_URL")

    return LLMAnswerer("hosted", settings, lambda: load_hosted(settings), ready,
                       explain=lambda exc: hosted_failure(exc, settings))


def _custom(settings: Any, llm: Any) -> AnswerMode:
    from app.answer.llm import LLMAnswerer
    from app.answer.llm_models import Model

    def ready() -> None:
        if llm is None:
            raise LLMError("mode 'llm' needs an LLM: Assistant.open(llm=<a llama-index LLM>)")

    return LLMAnswerer(CUSTOM, settings, lambda: Model(llm), ready)


# name: (build from settings and a caller's LLM, can it run with these settings)
MODES: dict[str, tuple[Callable[[Any, Any], AnswerMode], Callable[[Any], bool]]] = {
    "extractive": (lambda settings, llm: Extractive(), lambda settings: True),
    "local": (_local, lambda s: importlib.util.find_spec("llama_cpp") is not None
              and model_resolvable(s)),
    "hosted": (_hosted, lambda s: bool(s.hosted_base_url)),
}
NAMES = tuple(MODES)  # the modes settings may name


def available_modes(settings: Any) -> list[str]:
    """The answer modes that can run with ``settings`` (nothing is imported or loaded)."""
    return [name for name, (_, can_run) in MODES.items() if can_run(settings)]


class Modes:
    """The answer modes of one ``Assistant``, each built once, on first use.

    Args:
        settings: the settings the modes read (model paths, endpoint, limits).
        llm: a llama-index LLM for mode ``llm``, or None.
    """

    def __init__(self, settings: Any, llm: Any = None):
        self.settings, self.llm = settings, llm
        self._built: dict[str, AnswerMode] = {}
        self._lock = threading.Lock()

    def names(self) -> tuple[str, ...]:
        """Every mode this assistant knows, available here or not."""
        return (*NAMES, CUSTOM) if self.llm is not None else NAMES

    def available(self) -> list[str]:
        """The modes that are configured and can run here."""
        return available_modes(self.settings) + [CUSTOM] * (self.llm is not None)

    def get(self, name: str) -> AnswerMode:
        """The ``name`` mode.

        Raises:
            ConfigError: no such mode (``llm`` exists only with an LLM given).
        """
        known = self.names()
        if name not in known:
            raise ConfigError(f"unknown mode {name!r}; choose one of {', '.join(known)}")
        with self._lock:
            if name not in self._built:
                build = _custom if name == CUSTOM else MODES[name][0]
                self._built[name] = build(self.settings, self.llm)
            return self._built[name]

    def model(self, name: str) -> Model:
        """The llama-index model behind an LLM mode, loaded on first use.

        Raises:
            LLMError: ``name`` is not an LLM mode here, or its model fails to load.
        """
        from app.answer.llm import LLMAnswerer

        mode = self.get(name) if name in self.names() else None
        if not isinstance(mode, LLMAnswerer):
            raise LLMError(f"unknown LLM mode {name!r}; choose local or hosted, or pass "
                           "llm=<a llama-index LLM> to Assistant.open for mode 'llm'")
        return mode.model()
