"""No corpus knowledge in the answering and ingest code: what opsqa knows about a body of
documents it learns from the indexed documents, never from words written into the code."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

# The default corpus's disciplines and the evaluation corpora's subjects.
CORPUS_WORDS = re.compile(
    r"dev(?:sec)?ops|gitops|mlops|dataops|aiops|llmops|finops|chatops|argo\s*cd|prometheus|"
    r"\bdvc\b|kubernetes|opengitops|operations\s+disciplines?|ops\s+disciplines?", re.I)


@pytest.mark.parametrize("folder", ["app", "ingest"])
def test_no_corpus_words_in_code(folder):
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if CORPUS_WORDS.search(line)]
    assert not found, "\n".join(found)
