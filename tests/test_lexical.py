"""The lexical snapshot: BM25 equal to bm25s's own, incremental updates equal to a rebuild,
saved snapshots reused by the next process, and damaged ones ignored.

Internal: BM25 scores, incremental updates and snapshot files are the lexical index's own;
search results rank them together with dense scores and would hide a wrong number."""

from __future__ import annotations

import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest

from app.retrieval.bm25 import bm25_matrix
from app.retrieval.lexical import LexicalIndex
from app.retrieval.terms import tokens
from app.retrieval.terms import words as lexical_tokens
from ingest.chunk_meta import ChunkMeta
from tests.conftest import CORPUS


def _rows(files: dict[str, list[str]], aliases: str = "") -> list[tuple[str, str, ChunkMeta]]:
    out = []
    for f, texts in files.items():
        for i, t in enumerate(texts):
            out.append((f"{f}-{i}", t, ChunkMeta(file=f, title=f.upper(), aliases=aliases,
                                                 section=f"Part {i % 2} > sub")))
    return out


def _corpus_texts() -> list[str]:
    return [p for f in sorted(CORPUS.glob("*.md")) for p in f.read_text().split("\n\n") if p]


def _build(rows, shas, key="c-g1-n0"):
    by_id = {r[0]: r for r in rows}
    return LexicalIndex.empty().update(key, [r[0] for r in rows], shas,
                                       lambda ids: [by_id[i] for i in ids])


def _scores(snap: LexicalIndex, query: str) -> dict[str, float]:
    q = snap.query_stems(query)
    docs, sc = snap.bm25.retrieve([q], k=len(snap.ids), show_progress=False, n_threads=1)
    return {snap.ids[int(d)]: round(float(s), 4) for d, s in zip(docs[0], sc[0], strict=True)}


def test_bm25_matrix_matches_bm25s_index():
    texts = _corpus_texts()
    toks = [lexical_tokens(t) for t in texts]
    vocab: dict[str, int] = {}
    flat = [vocab.setdefault(w, len(vocab)) for d in toks for w in d]
    ptr = np.concatenate([[0], np.cumsum([len(d) for d in toks])]).astype(np.int64)
    ours = bm25_matrix(np.asarray(flat, np.int32), ptr, len(vocab))
    ref = bm25s.BM25()
    ref.index(bm25s.tokenization.Tokenized(
        ids=[[vocab[w] for w in d] for d in toks], vocab=vocab), show_progress=False)
    assert ours["num_docs"] == ref.scores["num_docs"] == len(texts)
    assert np.array_equal(ours["indptr"], ref.scores["indptr"])
    assert np.array_equal(ours["indices"], ref.scores["indices"])
    assert np.allclose(ours["data"], ref.scores["data"], rtol=1e-5)


def test_incremental_update_equals_a_fresh_build():
    texts = _corpus_texts()
    before = _rows({"a": texts[:40], "b": texts[40:80], "c": texts[80:120]})
    shas0 = {"a": "1", "b": "1", "c": "1"}
    old = _build(before, shas0)
    # b removed, c edited (same ids, new aliases and text), d added
    after = (_rows({"a": texts[:40]}) + _rows({"c": texts[120:160]}, aliases="Cee Ops")
             + _rows({"d": texts[160:200]}))
    shas1 = {"a": "1", "c": "2", "d": "1"}
    by_id = {r[0]: r for r in after}
    fetched: list[str] = []

    def fetch(ids):
        fetched.extend(ids)
        return [by_id[i] for i in ids]

    inc = old.update("c-g2-n0", [r[0] for r in after], shas1, fetch)
    fresh = _build(after, shas1, "c-g2-n0")
    assert not {i for i in fetched if i.startswith("a-")}, "unchanged file was read again"
    assert {i for i in fetched if i.startswith(("c-", "d-"))} == {
        r[0] for r in after if r[0][0] in "cd"}
    assert sorted(inc.ids) == sorted(fresh.ids)
    assert inc.vocab == fresh.vocab
    assert inc.shas == fresh.shas == shas1
    assert inc.terms.labels(1) == fresh.terms.labels(1)
    assert "Cee Ops" in inc.terms.labels()
    only_b = set(tokens(" ".join(texts[40:80]), parts=True)) - set(
        tokens(" ".join(texts[:40] + texts[120:200]), parts=True)) - {"a", "b", "c", "d"}  # titles
    assert only_b and not only_b & inc.vocab.words, "words only the removed file had are still known"
    for q in ("What is MLOps?", "model drift monitoring", "pipeline security scanning"):
        assert _scores(inc, q) == _scores(fresh, q)
    for i, cid in enumerate(inc.ids):
        assert inc.file_of(i) == cid.split("-")[0]


def test_save_load_and_damaged_files(tmp_path: Path):
    snap = _build(_rows({"a": _corpus_texts()[:30]}), {"a": "1"}, "col-g3-n30")
    snap.save(tmp_path)
    got = LexicalIndex.load(tmp_path / "col-g3-n30.npz")
    assert got is not None and got.ids == snap.ids and got.vocab == snap.vocab
    assert _scores(got, "devops culture") == _scores(snap, "devops culture")
    assert LexicalIndex.newest(tmp_path, "col") == tmp_path / "col-g3-n30.npz"
    # damaged, truncated, renamed or inconsistent files are ignored, never trusted
    (tmp_path / "col-g4-n30.npz").write_bytes(b"\x00garbage")
    assert LexicalIndex.load(tmp_path / "col-g4-n30.npz") is None
    data = (tmp_path / "col-g3-n30.npz").read_bytes()
    (tmp_path / "col-g5-n30.npz").write_bytes(data[: len(data) // 2])
    assert LexicalIndex.load(tmp_path / "col-g5-n30.npz") is None
    shutil.copy(tmp_path / "col-g3-n30.npz", tmp_path / "col-g6-n30.npz")
    assert LexicalIndex.load(tmp_path / "col-g6-n30.npz") is None  # key inside differs
    bad = snap.__class__(**{**snap.__dict__, "tok": snap.tok + len(snap.words)})
    bad.save(tmp_path / "bad")
    assert LexicalIndex.load(tmp_path / "bad" / "col-g3-n30.npz") is None
    assert LexicalIndex.load(tmp_path / "missing.npz") is None


def test_save_keeps_the_newest_few_and_survives_an_unwritable_folder(tmp_path: Path):
    for g in range(5):
        _build(_rows({"a": ["some text"]}), {"a": "1"}, f"col-g{g}-n1").save(tmp_path)
    kept = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert len(kept) == 2 and "col-g4-n1.npz" in kept  # the one just written always stays
    # a file where the folder should be (chmod does not stop root, which CI may run as)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me")
    _build(_rows({"a": ["x"]}), {"a": "1"}, "col-g9-n1").save(blocker)  # logs, no exception
    assert blocker.read_text() == "keep me"


def test_a_new_process_reuses_the_saved_snapshot_and_catches_up_by_difference(
        bot, tmp_path, monkeypatch):
    from app import Assistant

    assert bot.search("What is GitOps?")
    key = bot.retriever.lexical.key
    assert (bot.retriever.saved / f"{key}.npz").is_file()
    # another process (a fresh Assistant) opens the same state: no chunk is read
    other = Assistant.open(index_dir=bot.settings.index_dir, auto_ingest=False)
    other.retriever.check_every = 0  # look at the store on every search
    read: list[int] = []
    orig_all, orig_by_id = other.store.all_chunks, other.store.chunks_by_id
    monkeypatch.setattr(other.store, "all_chunks", lambda *a: read.append(-1) or orig_all(*a))
    monkeypatch.setattr(other.store, "chunks_by_id",
                        lambda ids: read.append(len(ids)) or orig_by_id(ids))
    hits = other.search("What is GitOps?")
    assert hits and hits[0].title == "GitOps"
    assert other.retriever.lexical.key == key and read == []
    # an ingest of one new file: only its chunks are read by the other process
    doc = tmp_path / "finops.md"
    doc.write_text("---\ntitle: FinOps\n---\n# FinOps\n\nFinOps brings financial "
                   "accountability to cloud spending through shared cost dashboards.\n")
    rep = bot.ingest([doc])
    assert rep.embedded >= 1
    hits = other.search("financial accountability cloud spending")
    assert read == [rep.embedded], read
    assert hits[0].title == "FinOps"
    assert "finops" in other.retriever.vocab
    # and a removal: nothing is read, the words leave the vocabulary
    bot.remove(str(doc))
    other.search("What is GitOps?")
    assert read == [rep.embedded]
    assert "finops" not in other.retriever.vocab
    assert other.retriever.size == bot.store.count()


@pytest.mark.parametrize("junk", [b"", b"PK\x03\x04junk", b"\x93NUMPY" + b"\x00" * 64])
def test_a_damaged_saved_snapshot_means_a_rebuild_not_an_error(bot, junk):
    bot.search("What is DevOps?")
    key = bot.retriever.lexical.key
    path = bot.retriever.saved / f"{key}.npz"
    path.write_bytes(junk)
    from app import Assistant

    other = Assistant.open(index_dir=bot.settings.index_dir, auto_ingest=False)
    hits = other.search("What is DevOps?")
    assert hits and hits[0].title == "DevOps"
    assert other.retriever.size == bot.store.count()
    assert LexicalIndex.load(path) is not None  # rewritten whole


def test_chunks_read_before_their_manifest_record_are_read_again_once_it_appears():
    # a reader can catch up between an ingest's chunk writes and its manifest record
    early = _build(_rows({"e": ["an early page"]}), {})
    assert early.changed({}) == set()
    later = _rows({"e": ["an early page"]}, aliases="Early Ops")  # same ids, new metadata
    by_id = {r[0]: r for r in later}
    fetched: list[str] = []
    snap = early.update("c-g2-n1", list(by_id), {"e": "1"},
                        lambda ids: fetched.extend(ids) or [by_id[i] for i in ids])
    assert fetched == ["e-0"] and "Early Ops" in snap.terms.labels()
    assert snap.changed({"e": "1"}) == set()


def test_the_same_chunks_make_the_same_index_in_any_order():
    """Cold and warm answers were not the same (issue 21, point 7): a process that built the
    lexical index from the store (the store's order) and one that caught up after ingests
    (changed files last) broke ties differently: BM25's top-n cut, the defining passages read
    first, a term's label, which of two terms a question names. Any order now gives one index."""
    rows = _rows({"a": ["Release trains leave weekly.", "A release train is a cadence."],
                  "b": ["Release trains carry features.", "Trains leave on time."]})
    rows += [("c-0", "A Release Train is a schedule.", ChunkMeta(file="c", title="release train")),
             ("d-0", "Release trains are named so.", ChunkMeta(file="d", title="Release Train"))]
    shas = {r[2].file: "x" for r in rows}
    one, two = _build(rows, shas), _build(rows[::-1], shas)
    assert one.terms.labels() == two.terms.labels()  # before: ['release train'] vs ['Release Train']
    assert [one.ids[i] for i in one.defining("release train")] == [
        two.ids[i] for i in two.defining("release train")]  # before: a-1, c-0 vs c-0, a-1
    assert one.ids == two.ids and one.words == two.words and one.rows == two.rows
    assert np.array_equal(one.tok, two.tok) and np.array_equal(one.row_of, two.row_of)
    q = one.query_stems("release trains leave")
    for snap in (one, two):  # every chunk ties with another: the cut at k=2 must agree
        assert snap.query_stems("release trains leave") == q
    cut = [snap.bm25.retrieve([q], k=2, show_progress=False, n_threads=1)[0][0].tolist()
           for snap in (one, two)]
    assert [one.ids[i] for i in cut[0]] == [two.ids[i] for i in cut[1]]


COLD_WARM = """
import json, sys
from app import Assistant
bot = Assistant.open(index_dir=sys.argv[1], auto_ingest=False)
out = []
for q in sys.argv[2:]:
    a = bot.ask(q)
    out.append([a.text, [s.chunk_id for s in a.sources]])
print(json.dumps(out))
"""
QUESTIONS = ["What is a release train?", "What is GitOps?", "Which tools does MLOps use?",
             "How does DevOps differ from DevSecOps?", "What is the capital of France?"]


@pytest.mark.slow
def test_answers_are_the_same_cold_and_warm(corpus_index, tmp_path):
    """Same index, same questions: the process that ingested (warm), a fresh one that loads the
    saved lexical snapshot, and a fresh one that builds it from the store give one answer."""
    import json
    import subprocess
    import sys

    from app import Assistant
    from tests.conftest import ROOT

    index = tmp_path / "idx"
    shutil.copytree(corpus_index, index)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "trains.md").write_text("---\ntitle: release train\n---\n# Release trains\n\n"
                                    "A release train is a fixed cadence of releases.\n")
    (docs / "more.md").write_text("---\ntitle: Release Train\n---\n# Release Train\n\n"
                                  "A Release Train ships whatever is ready on its date.\n")
    bot = Assistant.open(index_dir=index, auto_ingest=False)
    bot.ingest([docs])
    with open(docs / "trains.md", "a") as fh:
        fh.write("\n\n")  # a new hash, the same chunks: their metadata is refreshed in place
    bot.ingest([docs])
    warm = [[a.text, [s.chunk_id for s in a.sources]] for a in map(bot.ask, QUESTIONS)]

    def fresh() -> list:
        r = subprocess.run([sys.executable, "-c", COLD_WARM, str(index), *QUESTIONS], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert any((index / "lexical").glob("*.npz"))
    with_snapshot = fresh()
    shutil.rmtree(index / "lexical")
    from_store = fresh()
    assert warm == with_snapshot == from_store


def test_a_files_and_a_sections_chunks_are_the_ones_the_store_holds(bot):
    """Neighbours and searches within files take their chunk ids from the snapshot, not from a
    filtered read of the store: the two must name the same chunks."""
    bot.search("What is GitOps?")
    snap = bot.retriever.lexical
    files = sorted({r[0] for r in snap.rows})
    assert len(files) > 3
    for f in files:
        got = bot.store.chunks.get(where={"file": f}, include=["metadatas"])
        assert sorted(snap.in_files([f])) == sorted(got["ids"])
        sections: dict[str, list[str]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
            sections.setdefault(meta["section"], []).append(cid)
        for section, ids in sections.items():
            assert sorted(snap.in_sections([(f, section)])) == sorted(ids)
    assert snap.in_files(["no such file"]) == snap.in_sections([("no such file", "x")]) == []


def test_a_search_skips_the_chunks_another_process_removed_since_its_last_look(bot, tmp_path):
    """A process's lexical snapshot can name chunks another process has just deleted: a
    search within files (by chunk id) and the reading of the best chunks' text skip them and
    still return ``k`` hits."""
    from app import Assistant
    from ingest.store import file_key

    doc = tmp_path / "finops.md"
    doc.write_text("# FinOps\n\n" + "\n\n".join(
        f"## Practice {i}\n\nFinOps practice {i} brings financial accountability to cloud "
        f"spending, step {i} of the cost review." for i in range(6)) + "\n")
    odd = tmp_path / "odd.md"
    odd.write_text("# Zorblatt\n\nA zorblatt is a quarterly review of idle quota.\n")
    bot.ingest([doc, odd])
    key = file_key(str(doc))
    other = Assistant.open(index_dir=bot.settings.index_dir, auto_ingest=False)
    other.retriever.check_every = 3600  # its snapshot stays as it is: stale after the deletes
    r = other.retriever
    before = r.search("financial accountability cost review", k=4, files=[key])
    rare = r.search("zorblatt", k=5)
    assert len(before) == 4 and rare[0].title == "Zorblatt"
    gone = [before[0].id, rare[0].id]
    bot.store.chunks.delete(ids=gone)  # as another process's ingest would
    assert set(gone) <= set(r.lexical.ids)  # the snapshot still names them
    after = r.search("financial accountability cost review", k=4, files=[key])
    assert len(after) == 4 and not set(gone) & {h.id for h in after}
    assert {h.file for h in after} == {key}
    # only BM25 still finds the removed chunk, and ranks it first: the next one takes its place
    rare = r.search("zorblatt", k=5)
    assert len(rare) == 5 and gone[1] not in {h.id for h in rare}


def test_a_heading_defines_its_name_without_the_qualifier_in_brackets_at_its_end():
    rows = [("a-0", "Ship the release as two stacks and switch traffic once checks pass.",
             ChunkMeta(file="a", title="Releases", section="Releases > Blue Green Rollout "
                                                                "(Alternative)")),
            ("b-0", "Move a share of traffic at a time.",
             ChunkMeta(file="b", title="Canary", section="Canary > Steps (v2) and checks"))]
    snap = _build(rows, {})
    assert [snap.ids[i] for i in snap.defining("blue green rollout")] == ["a-0"]
    assert [snap.ids[i] for i in snap.defining("Blue Green Rollout (Alternative)")] == ["a-0"]
    assert snap.defining("steps and checks") == []  # only a qualifier at the end goes


def test_the_first_search_looks_at_the_store_however_rarely_it_checks(bot):
    """A retriever that checks the store for changes rarely still reads it for its first
    search, whatever the host's uptime (the monotonic clock starts at boot)."""
    from app import Assistant

    other = Assistant.open(index_dir=bot.settings.index_dir, auto_ingest=False)
    other.retriever.check_every = 1e12  # longer than any host has been up
    assert other.retriever.search("GitOps", k=3)


def test_a_chunk_the_encoder_is_sure_of_leads_whatever_words_it_shares(tmp_path):
    """A question in other words than its page's: the passage far nearer in meaning than any
    other leads the search, not one that only repeats the question's words."""
    from app import Assistant
    from app.retrieval import hybrid

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in {
        "restart.md": "# Restart policy\n\nWhen the daemon exits with an error, the supervisor "
                      "relaunches it within five seconds.\n",
        "crashes.md": "# Crash reports\n\nCrash reports are files. Make a crash report by hand "
                      "with the report command; reports of crashes come back by mail.\n",
        "itself.md": "# The config file\n\nThe config file itself is plain text. Make changes to "
                     "the file itself and they come back on the next read.\n",
        "back.md": "# Backups\n\nBack up the data before you make changes, so the data can come "
                   "back after a mistake.\n",
    }.items():
        (docs / name).write_text(text, encoding="utf-8")
    bot = Assistant.open(index_dir=tmp_path / "index", auto_ingest=False)
    bot.ingest([docs])
    hits = bot.search_hits("How do I make the daemon come back by itself after it crashes?", k=4)
    assert hits[0].title == "Restart policy", [(h.title, h.dense) for h in hits]
    assert hits[0].dense - max(h.dense for h in hits[1:]) >= hybrid.DENSE_LEAD
