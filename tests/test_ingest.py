"""Ingest end to end: seeds cleaned, incremental add/change/delete, bad input, model stamp.

Internal: the encoder's batch cap and ``ChunkMeta`` reading another index's metadata are
store and encoder boundaries no ingest of today's files can show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import Assistant, IndexStoreError
from tests.conftest import CORPUS, ROOT, SEEDS, needs_seeds


def passages_of(bot: Assistant, name: str) -> list:
    """Every passage of the indexed document named ``name`` (``Assistant.document``)."""
    (path,) = [d.path for d in bot.documents() if Path(d.path).name == name]
    return bot.document(path)


@needs_seeds
def test_seeds_are_cleaned(tmp_path):
    bot = Assistant.open(index_dir=tmp_path / "i", corpus_dir=SEEDS)
    assert len(bot.documents()) == 4
    s002 = passages_of(bot, "002_aa2b2bb6419ca605.txt")
    text = "\n".join(p.text for p in s002)
    assert "→" in text and "‚Üí" not in text
    sections = {p.section for p in s002}
    assert any("LLMOps" in s and s.endswith("Typical Tools") for s in sections), sections
    s001 = passages_of(bot, "001_6fa72138d25b2d3d.txt")
    t1 = "\n".join(p.text for p in s001)
    assert "datePublished" not in t1 and "cuid" not in t1 and "substackcdn" not in t1
    assert "Comparing DevOps" in s001[0].title
    # the front matter's tags are kept with each chunk; only the store shows them
    tags = bot.store.chunks.get(ids=[s001[0].chunk_id], include=["metadatas"])["metadatas"][0]
    assert "mlops" in tags["tags"]
    s000 = "\n".join(p.text for p in passages_of(bot, "000_3f5cdc803d25e11d.txt"))
    assert "&#x20;" not in s000 and "DevSecOps" in s000
    s003 = passages_of(bot, "003_d603de128c1a6ee0.txt")
    assert len(s003) >= 2
    for d in bot.documents():
        for p in bot.document(d.path):
            assert p.end - p.start == len(p.text)


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


DOC = "---\ntitle: {t}\n---\n# {t}\n\n## Definition\n\n{t} is a practice of {w} teams.\n"


def test_incremental_add_change_delete(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "a.md", DOC.format(t="Alphaops", w="alpha"))
    write(docs / "b.md", DOC.format(t="Betaops", w="beta"))
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert len(r.added) == 2 and r.embedded >= 2
    gen = bot.status()["generation"]
    r = bot.ingest([docs])  # unchanged: no embedding work, no new generation
    assert len(r.unchanged) == 2 and r.embedded == 0 and not r.changed
    assert bot.status()["generation"] == gen
    write(docs / "a.md", DOC.format(t="Alphaops", w="gamma"))
    (docs / "b.md").unlink()
    write(docs / "sub" / "c.md", DOC.format(t="Cetaops", w="ceta"))
    r = bot.ingest([docs])
    assert [Path(p).name for p in r.updated] == ["a.md"]
    assert [Path(p).name for p in r.removed] == ["b.md"]
    assert [Path(p).name for p in r.added] == ["c.md"]
    names = sorted(Path(d.path).name for d in bot.documents())
    assert names == ["a.md", "c.md"]
    texts = " ".join(s.text for s in bot.search("practice of teams", k=10))
    assert "gamma" in texts and "alpha teams" not in texts and "beta" not in texts


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("bin.md", b"\x00\x01\x02binary\x00" * 50, "binary"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"  \n\n \t\n", "empty"),
        ("big.md", b"word " * 300_000, "limit"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "pdf"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path, name, content, reason):
    docs = tmp_path / "docs"
    write(docs / "good.md", DOC.format(t="Goodops", w="good"))
    (docs / name).write_bytes(content)
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False, max_file_mb=1)
    r = bot.ingest([docs])
    assert [Path(p).name for p in r.added] == ["good.md"]
    skipped = dict((Path(p).name, why) for p, why in r.skipped)
    assert reason in skipped[name].lower()


def test_malformed_front_matter_is_ingested_with_warning(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "fm.md", "---\ntitle: [unclosed\n: : :\n---\n# Fmops\n\nFmops is a thing.\n")
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    r = bot.ingest([docs])
    assert len(r.added) == 1 and r.warnings
    assert "unclosed" not in " ".join(p.text + p.title for p in passages_of(bot, "fm.md"))


def test_model_change_is_detected(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "a.md", DOC.format(t="Alphaops", w="alpha"))
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    bot.ingest([docs])
    bot.store.bump("some/other-model", 768)  # as if another model had built the index
    with pytest.raises(IndexStoreError, match="--rebuild"):
        Assistant.open(index_dir=tmp_path / "i")


def opsqa(*args: str, cwd: Path, env_extra: dict | None = None, timeout: float = 300):
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_missing_path_is_an_error(tmp_path):
    good = write(tmp_path / "docs" / "a.md", DOC.format(t="Alphaops", w="alpha"))
    r = opsqa("ingest", str(good.parent), str(tmp_path / "nope"), "--index-dir",
              str(tmp_path / "i"), cwd=ROOT)
    assert r.returncode == 1, r.stderr
    assert "nope" in r.stderr and "files added" in r.stdout
    assert "Traceback" not in r.stderr


def _index_facts(idx: Path) -> dict:
    """Answer and manifest of an index, read by a fresh process (as a user would see them).

    A fresh process matters: Chroma keeps an opened store's vectors alive per process, so a
    test process that opened the index before another process wrote it would read stale ones.
    """
    code = (
        "import json; from pathlib import Path; from app import Assistant\n"
        f"bot = Assistant.open(index_dir={str(idx)!r}, auto_ingest=False)\n"
        "docs = bot.documents()\n"
        "print(json.dumps({'answer': bot.ask('What is GitOps?').text, "
        "'names': sorted(Path(d.path).name for d in docs), "
        "'chunks': sum(d.chunks for d in docs), 'stored': bot.store.count()}))"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_kill_mid_ingest_keeps_the_index_and_rerun_completes(tmp_path):
    """kill -9 an ingest in the middle; the old index answers, a re-run completes it."""
    import os
    import signal
    import time

    idx = tmp_path / "i"
    r = opsqa("ingest", str(CORPUS), "--index-dir", str(idx), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    before = _index_facts(idx)["answer"]
    big = tmp_path / "big"
    for i in range(60):
        write(big / f"d{i}.md", DOC.format(t=f"Bulk{i}ops", w=f"bulk {i} " * 200))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OPSQA_EMBED_BATCH_SIZE": "4"}
    p = subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", str(big), "--index-dir",
                          str(idx)], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert _index_facts(idx)["answer"] == before
    r = opsqa("ingest", str(big), "--index-dir", str(idx), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    facts = _index_facts(idx)
    assert {f"d{i}.md" for i in range(60)} <= set(facts["names"])
    assert facts["stored"] == facts["chunks"]  # no orphans, no duplicates


def test_second_ingest_waits_or_refuses(tmp_path):
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False, ingest_lock_timeout=0.5)
    with bot.store.ingest_lock(1), pytest.raises(IndexStoreError, match="another ingest"):
        bot.ingest([CORPUS])


def test_ask_json_cli(corpus_index):
    r = opsqa("ask", "What is GitOps?", "--json", "--index-dir", str(corpus_index), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"text", "refused", "mode", "sources", "timings_ms"}
    assert not data["refused"] and "[1]" in data["text"]
    assert {"path", "title", "section", "score", "text"} <= set(data["sources"][0])


def test_encoder_batches_are_capped_in_padded_word_pieces_and_vectors_unchanged(encoder):
    texts = [p for f in sorted(CORPUS.glob("*.md")) for p in f.read_text().split("\n\n") if p]
    lengths = [min(n, encoder.max_seq_length) for n in encoder.count_tokens_batch(texts)]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    batches = encoder._batches(order, lengths, 64)
    assert [i for b in batches for i in b] == order
    for b in batches:
        assert len(b) <= 64
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= encoder.max_batch_tokens
    assert max(len(b) for b in batches) > 2 and min(len(b) for b in batches) <= 2
    capped = encoder.encode(texts)
    budget = encoder.max_batch_tokens
    try:
        encoder.max_batch_tokens = 10**9  # fixed batches of 64, as before the cap
        plain = encoder.encode(texts)
    finally:
        encoder.max_batch_tokens = budget
    assert float((capped * plain).sum(axis=1).min()) > 0.9999


def test_chunk_metadata_is_read_typed_whatever_the_store_holds():
    """The store boundary: an older or foreign index's metadata (missing fields, a number
    stored as text, keys of its own) reads as one typed ``ChunkMeta`` and writes back as it
    came."""
    from ingest.chunk_meta import ChunkMeta

    raw = {"file": "k", "path": "docs/a.md", "start": "12", "end": 40, "index": None,
           "line": "not a number", "tags": "ops", "description": "About A"}
    m = ChunkMeta.of(raw)
    assert (m.file, m.path, m.start, m.end, m.index, m.line, m.title) == (
        "k", "docs/a.md", 12, 40, 0, 0, "")
    assert m.extra == {"tags": "ops", "description": "About A"}
    back = m.as_dict()
    assert back["tags"] == "ops" and back["start"] == 12 and "fence" not in back
    assert ChunkMeta.of(back) == m
