"""The evaluation harness: metrics on hand-made answers, the runner and the baseline gate.

Internal: ``eval.runner.load_dataset``, ``score`` and ``eval.corpora`` check the datasets and
the scoring on hand-made answers, where a full ``eval.runner.main`` run would take minutes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from app import Answer, Source
from eval import metrics as M
from eval.corpora import CORPORA, Corpus
from eval.runner import load_dataset, main

PASSAGE = ("GitOps is an operational model built on DevOps in which declarative infrastructure "
           "and application code live in Git, the single source of truth. GitOps can be "
           "summarized as DevOps plus Git as the source of truth.")
TOOLS = ("Typical GitOps tools include:\n\n- **Argo CD**: a Kubernetes controller.\n"
         "- **Helm**: charts.")


def src(text: str, path: str = "corpus/gitops.md") -> Source:
    return Source(path=path, title="GitOps", section="GitOps > Definition", text=text, score=0.8)


def answer(text: str, *sources: Source, refused: bool = False) -> Answer:
    return Answer(text=text, sources=sources or (src(PASSAGE),), refused=refused)


# -- metrics on hand-made answers -------------------------------------------------------------
def test_groundedness_accepts_quoted_sentences_and_bullets():
    a = answer("GitOps can be summarized as DevOps plus Git as the source of truth. [1]\n"
               "- **Argo CD**: a Kubernetes controller. [2]", src(PASSAGE), src(TOOLS))
    assert M.groundedness(a)["score"] == 1.0
    assert M.citation_validity(a)["valid"] is True


def test_groundedness_catches_an_invented_sentence():
    a = answer("GitOps can be summarized as DevOps plus Git as the source of truth. [1] "
               "GitOps was invented by Microsoft in 1998 to replace mainframes. [1]")
    g = M.groundedness(a)
    assert g["score"] == 0.5
    assert g["unsupported"] == ["GitOps was invented by Microsoft in 1998 to replace mainframes."]
    assert M.citation_validity(a)["valid"] is False


@pytest.mark.parametrize("text, problem", [
    ("GitOps can be summarized as DevOps plus Git as the source of truth. [9]", "out of range"),
    ("GitOps can be summarized as DevOps plus Git as the source of truth. [2]", "does not support"),
    ("GitOps can be summarized as DevOps plus Git as the source of truth.", "no citation"),
])
def test_citation_validity_catches_bad_markers(text, problem):
    a = answer(text, src(PASSAGE), src(TOOLS))
    c = M.citation_validity(a)
    assert c["valid"] is False
    assert any(problem in p for p in c["problems"]), c["problems"]


def test_refusals_are_not_scored_for_grounding():
    a = answer("The documents do not cover this question.", refused=True)
    assert M.groundedness(a)["score"] is None
    assert M.citation_validity(a)["valid"] is None


GROUPS = [{"any": ["argo cd", "argocd"], "need": 1}, {"any": ["flux"], "need": 1},
          {"any": ["helm", "kustomize"], "need": 2}]


@pytest.mark.parametrize("text, need, matched, passed", [
    ("Use **ArgoCD** and Flux [1].", 2, 2, True),
    ("Argo  CD\nonly [1]", 2, 1, False),          # whitespace collapses; flux is missing
    ("Argo CD, Helm and Kustomize [2]", 2, 2, True),
    ("Helm only", 1, 0, False),                     # group 3 needs both alternatives
    ("nothing relevant", 0, 0, True),
])
def test_key_facts_alternatives_and_need(text, need, matched, passed):
    kf = M.key_facts(text, GROUPS, need)
    assert (kf["matched"], kf["passed"]) == (matched, passed)


def test_key_facts_ignore_markers_and_case():
    kf = M.key_facts("- **FLUX** [1][2]\n- argo\ncd [3]", GROUPS[:2], 2)
    assert kf["passed"] and kf["recall"] == 1.0


def test_a_reader_counts_words_without_citations_and_code_by_the_line():
    text = ("Run the tool [1] [2]:\n\n```bash\nopsqa ingest docs/ --rebuild --json\n\n"
            "opsqa ask \"What is it?\"\n```\n\n- one item [3]\n- | table | row |")
    # "Run the tool:" 3, two code lines 2, "one item" 2, "table row" 2; no [n], "-" or "|"
    assert M.answer_words(text) == 9
    assert M.answer_words("") == 0


def test_key_facts_count_only_within_what_a_reader_accepts():
    text = " ".join(["filler"] * 119) + " flux [1] argo cd"
    assert M.key_facts(M.within(text, 120), GROUPS[:2], 1)["passed"]       # flux: word 120
    assert not M.key_facts(M.within(text, 120), GROUPS[:2], 2)["passed"]   # argo cd: 121
    assert M.key_facts(text, GROUPS[:2], 2)["passed"]                      # at any length
    assert M.cap_for("list") == M.cap_for("comparison") == 200 and M.cap_for("howto") == 120
    # A dash between words is not a word, but the reader still sees it: a fact that holds
    # one ("time() - start") is found within the cap.
    dashed = "Compute `time() - start_time` [1] to get the age."
    assert M.key_facts(M.within(dashed, 120), [{"any": ["time() - start_time"]}], 1)["passed"]


def test_a_long_answer_fails_where_its_facts_come_late(tmp_path):
    from eval.runner import score

    class FakeEncoder:  # similarity to the reference is not what this test checks
        @staticmethod
        def encode(texts):
            return [[1.0, 0.0]] * len(texts)

    class Bot:  # a fake assistant: one fixed long answer
        encoder = FakeEncoder()

        def ask(self, q, mode):
            return answer(" ".join(["Filler words here."] * 50) + " GitOps uses Git [1].")

        def search(self, q, k):
            return []

    q = {"id": "q", "question": "What is GitOps?", "kind": "definition", "history": [],
         "expect_refusal": False, "tags": [], "forbid": [], "sources": [], "reference": "",
         "key_facts": [{"any": ["git"], "need": 1}], "need_facts": 1}
    row = score(Bot(), q, "extractive")
    assert not row["passed"] and row["metrics"]["key_facts_anywhere"]
    assert "within 120 words" in row["reasons"][0] and row["metrics"]["words"] == 153


def test_retrieval_scores():
    s = M.retrieval_scores(["x/devops.md", "x/gitops.md", "x/gitops.md"], ["gitops.md"])
    assert s["hit@1"] == 0.0 and s["hit@5"] == 1.0 and s["mrr"] == 0.5
    assert s["ndcg@5"] == pytest.approx(1 / 1.5849625, rel=1e-4)
    assert M.retrieval_scores(["a.md"], ["b.md"]) == {"hit@1": 0.0, "hit@5": 0.0, "mrr": 0.0,
                                                      "ndcg@5": 0.0}


@pytest.mark.parametrize("inside, outside, expected", [
    ([0.6, 0.7, 0.8], [0.1, 0.3], 0.45),            # clean gap: its midpoint
    ([0.6, 0.7, 0.2], [0.1, 0.3, 0.25], 0.45),      # one in-scope outlier: best accuracy
])
def test_best_threshold(inside, outside, expected):
    assert M.best_threshold(inside, outside)["threshold"] == pytest.approx(expected)


# -- the runner on a small dataset over the real corpus ----------------------------------------
SMALL = {"questions": [
    {"id": "t-def", "question": "What is GitOps?", "kind": "definition", "tags": ["critical"],
     "reference": "GitOps keeps declarative desired state in Git, the single source of truth.",
     "key_facts": [{"any": ["git"], "need": 1}, {"any": ["source of truth"], "need": 1}],
     "need_facts": 2, "sources": ["gitops.md"]},
    {"id": "t-fu", "question": "Which tools does it use?", "kind": "follow-up",
     "history": ["What is GitOps?"], "reference": "Argo CD, Flux CD, Helm, Kustomize.",
     "key_facts": [{"any": ["argo cd"], "need": 1}, {"any": ["flux"], "need": 1}],
     "need_facts": 2, "sources": ["gitops.md"], "tags": []},
    {"id": "t-oos", "question": "What is the capital of France?", "kind": "out-of-scope",
     "expect_refusal": True, "sources": [], "tags": ["critical"], "forbid": ["paris"]},
]}


@pytest.fixture(scope="module")
def eval_index(corpus_index, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("eval") / "idx"
    shutil.copytree(corpus_index, d)
    return d


@pytest.fixture(scope="module")
def small_run(eval_index, tmp_path_factory):
    d = tmp_path_factory.mktemp("eval-run")
    ds = d / "small.yaml"
    ds.write_text(yaml.safe_dump(SMALL))
    base = d / "baseline.json"
    out = d / "out"
    code = main(["--dataset", str(ds), "--out", str(out), "--index-dir", str(eval_index),
                 "--update-baseline", "--baseline", str(base)])
    return code, ds, out, base


def test_runner_writes_every_output(small_run, capsys):
    code, _, out, base = small_run
    assert code == 0
    for name in ("results.jsonl", "summary.json", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0, name
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["t-def", "t-fu", "t-oos"]
    assert {"answer", "refused", "sources", "metrics", "passed", "reasons"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"]["n"] == 3
    assert summary["reference"]["name"] == "llama-index starter"
    assert "hit@5" in summary["reference"], summary["reference"]
    assert "data:image/png;base64," in (out / "report.html").read_text()
    entry = json.loads(base.read_text())["small"]
    assert set(entry) == {"fingerprint", "headline", "critical_passing"}


def test_check_passes_against_its_own_baseline(small_run, eval_index, capsys):
    _, ds, _, base = small_run
    code = main(["--dataset", str(ds), "--index-dir", str(eval_index), "--check",
                 "--baseline", str(base), "--no-reference"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 0
    assert last.endswith("failed") and last.split()[1] == "passed,"


def test_check_fails_when_the_baseline_is_better(small_run, eval_index, tmp_path, capsys):
    _, ds, _, base = small_run
    data = json.loads(base.read_text())
    data["small"]["headline"]["groundedness"] = 2.0      # unreachable: must flag a drop
    data["small"]["critical_passing"].append("t-never")   # a critical question "flipped"
    higher = tmp_path / "higher.json"
    higher.write_text(json.dumps(data))
    code = main(["--dataset", str(ds), "--index-dir", str(eval_index), "--check",
                 "--baseline", str(higher), "--no-reference"])
    out = capsys.readouterr().out
    assert code == 1
    assert "groundedness" in out and "t-never" in out


def test_cli_routes_to_the_runner(small_run, eval_index, capsys):
    from app.cli import main as opsqa

    _, ds, _, _ = small_run
    assert opsqa(["eval", "--dataset", str(ds), "--index-dir", str(eval_index),
                  "--no-reference"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("failed")


@pytest.mark.parametrize("name", list(CORPORA))
def test_datasets_are_well_formed(name):
    path, qs = load_dataset(name)
    ids = [q["id"] for q in qs]
    assert len(ids) == len(set(ids))
    assert len(qs) >= (64 if name == "golden" else 30)
    assert sum(q["expect_refusal"] for q in qs) >= 6
    for q in qs:
        assert q["expect_refusal"] or q["key_facts"], q["id"]
        assert q["need_facts"] <= len(q["key_facts"]) or q["expect_refusal"]


def _source_file(corpus: Corpus, name: str) -> Path:
    hits = [p for d in corpus.docs for p in ([d] if d.is_file() else d.rglob("*"))
            if M.same_file(str(p), name)]
    assert len(hits) == 1, (corpus.name, name, hits)
    return hits[0]


@pytest.mark.parametrize("name", list(CORPORA))
def test_key_facts_stand_in_their_sources(name):
    """Every expected fact is quoted from a file the question names (so an extractive answer
    can hold it), and every named file exists."""
    corpus = CORPORA[name]
    if not corpus.available:
        pytest.skip(f"needs {corpus.docs}")
    for q in load_dataset(name)[1]:
        text = M.clean_text(" ".join(_source_file(corpus, s).read_text(errors="replace")
                                     for s in q["sources"]))
        for g in q["key_facts"]:
            assert any(M.clean_text(a) in text for a in g["any"]), (q["id"], g["any"])


@pytest.mark.slow
def test_full_golden_meets_the_baseline(eval_index, tmp_path):
    """The CI gate: the whole golden set, compared with eval/baseline.json."""
    assert main(["--dataset", "golden", "--index-dir", str(eval_index), "--check",
                 "--out", str(tmp_path)]) == 0


def test_code_blocks_are_quotes_not_citations():
    code = "```\nINFO[0000] Starting node_exporter\n```"
    passage = "You should see output like this:\n\n" + code
    a = answer(f"You should see output like this: [1]\n\n{code}", src(passage))
    assert M.citation_validity(a)["valid"] is True  # "[0000]" is not a citation
    assert M.groundedness(a)["score"] == 1.0
    forged = answer("You should see output like this: [1]\n\n```\nrm -rf /\n```", src(passage))
    assert M.groundedness(forged)["unsupported"] == ["rm -rf /"]
