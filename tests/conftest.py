"""Shared fixtures: real encoder, real Chroma, the project's corpus and the shared seeds."""

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
