"""`opsqa eval`: ask every golden question through the public API, score it, report, gate."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from app import Answer, Assistant, OpsqaError
from app.settings import PROJECT_ROOT
from eval import metrics as M
from eval.corpora import CORPORA, EVAL_DIR, Corpus, available

INDEX_ROOT = Path(PROJECT_ROOT) / ".opsqa"
BASELINE = EVAL_DIR / "baseline.json"
HEADLINE = ("pass_rate", "key_fact_pass", "key_fact_any_length", "median_words", "oos_refusal",
            "false_refusal", "groundedness", "citation_validity", "hit@5", "mrr")
GATED = ("key_fact_pass", "oos_refusal", "false_refusal", "groundedness", "citation_validity",
         "hit@5", "mrr")
LOWER_IS_BETTER = {"false_refusal"}
TOLERANCE = 0.02


def load_dataset(dataset: str | Path) -> tuple[Path, list[dict[str, Any]]]:
    """Read a question set (a corpus name from ``eval.corpora`` or a YAML path) and fill in
    defaults.

    Raises:
        OpsqaError: missing file, bad YAML, or a question without id/question/kind.
    """
    known = CORPORA.get(str(dataset))
    path = known.questions if known else Path(dataset)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OpsqaError(f"cannot read the eval dataset {path}: {exc}") from None
    qs = data.get("questions", data) if isinstance(data, dict) else data
    out = []
    for q in qs or []:
        if not all(k in q for k in ("id", "question", "kind")):
            raise OpsqaError(f"{path}: every question needs id, question and kind: {q!r}")
        q = {"reference": "", "key_facts": [], "sources": [], "tags": [], "history": [],
             "forbid": [], **q}
        q["expect_refusal"] = bool(q.get("expect_refusal", q["kind"] == "out-of-scope"))
        q.setdefault("need_facts", len(q["key_facts"]))
        out.append(q)
    return Path(path), out


def fingerprint(path: Path, bot: Assistant) -> dict[str, Any]:
    s = bot.settings
    return {"dataset_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "model": bot.encoder.model_id, "top_k": s.top_k,
            "refusal_threshold": s.refusal_threshold, "chunk_max_tokens": s.chunk_max_tokens,
            "chunk_target_tokens": s.chunk_target_tokens}


def _open_bot(corpus: Corpus | None, index_dir: Path | None, docs: list[Path],
              settings: dict[str, Any]) -> Assistant:
    """Open the question set's own index and bring it in step with its documents.

    A registered corpus indexes its own folders into ``.opsqa/eval-<name>``; a YAML file of
    one's own is asked against ``docs`` (default: the default corpus).
    """
    if corpus is not None:
        docs = list(corpus.docs)
        missing = [str(p) for p in docs if not p.exists()]
        if missing:
            raise OpsqaError(f"the {corpus.name} documents are not here: {', '.join(missing)}")
    name = corpus.name if corpus is not None else ("golden" if not docs else "custom")
    bot = Assistant.open(index_dir=index_dir or INDEX_ROOT / f"eval-{name}", auto_ingest=False,
                         **settings)
    targets: list[str | Path] = [*docs] or [bot.settings.corpus_dir]
    report = bot.ingest(targets)
    if report.missing:
        raise OpsqaError("cannot read " + ", ".join(f"{p} ({why})" for p, why in report.missing))
    return bot


def ask(bot: Assistant, q: dict[str, Any], mode: str) -> tuple[Answer, float]:
    """Ask one question (replaying its history in a conversation); returns answer, ms."""
    if q["history"]:
        chat = bot.conversation()
        for h in q["history"]:
            chat.ask(h, mode=mode)
        t0 = time.perf_counter()
        a = chat.ask(q["question"], mode=mode)
    else:
        t0 = time.perf_counter()
        a = bot.ask(q["question"], mode=mode)
    return a, (time.perf_counter() - t0) * 1000


def score(bot: Assistant, q: dict[str, Any], mode: str) -> dict[str, Any]:
    """Ask and score one question: the results.jsonl row."""
    row: dict[str, Any] = {"id": q["id"], "question": q["question"], "kind": q["kind"],
                           "history": q["history"], "expect_refusal": q["expect_refusal"],
                           "critical": "critical" in q["tags"]}
    try:
        a, ms = ask(bot, q, mode)
    except OpsqaError as exc:
        return {**row, "answer": "", "refused": False, "passed": False, "metrics": {},
                "reasons": [f"error: {exc}"], "sources": [], "latency_ms": None}
    m: dict[str, Any] = {"evidence": round(a.evidence, 4)}
    if not a.refused:
        m["words"] = M.answer_words(a.text)
    reasons = []
    bad = M.forbidden(a.text, q["forbid"])
    if bad:
        reasons.append(f"forbidden text: {', '.join(bad)}")
    if q["sources"] and not q["history"]:
        t0 = time.perf_counter()
        found = bot.search(q["question"], k=5)
        row["search_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        m.update(M.retrieval_scores([s.path for s in found], q["sources"]))
        row["retrieved"] = [s.path for s in found]
    if q["expect_refusal"]:
        if not a.refused:
            reasons.append("answered an out-of-scope question")
    elif a.refused:
        reasons.append(f"refused: {a.note}")
        m.update(key_fact_recall=0.0, key_facts_passed=False)
    else:
        # What a reader gets: the key facts must stand within the words a reader accepts.
        cap = M.cap_for(q["kind"])
        kf = M.key_facts(M.within(a.text, cap), q["key_facts"], q["need_facts"])
        anywhere = M.key_facts(a.text, q["key_facts"], q["need_facts"])
        m.update(key_fact_recall=kf["recall"], key_facts_passed=kf["passed"],
                 key_facts_anywhere=anywhere["passed"])
        if not kf["passed"]:
            late = f" within {cap} words" if anywhere["passed"] else ""
            reasons.append(f"key facts {kf['matched']}/{q['need_facts']} needed{late}; missing: "
                           + ", ".join(kf["missing"]))
        m["similarity"] = round(M.similarity(bot.encoder.encode, a.text, q["reference"]), 4)
        if q["sources"]:
            cited = [a.sources[n].path for n, _ in a.used if n < len(a.sources)]
            m["cited_expected"] = any(M.same_file(p, e) for p in cited for e in q["sources"]) \
                if cited else None
    if not a.refused:
        g, c = M.groundedness(a), M.citation_validity(a)
        m.update(groundedness=g["score"], citations_valid=c["valid"], citation_share=c["share"])
        if g["unsupported"]:
            m["unsupported"] = g["unsupported"]
        if not c["valid"]:
            m["citation_problems"] = c["problems"]
            if not q["expect_refusal"]:
                reasons.append("citations: " + "; ".join(c["problems"][:3]))
    return {**row, "answer": a.text, "refused": a.refused, "note": a.note, "mode": a.mode,
            "passed": not reasons, "reasons": reasons, "metrics": m,
            "latency_ms": round(ms, 1),
            "sources": [{"title": s.title, "path": s.path, "section": s.section,
                         "score": s.score} for s in a.sources]}


def run_eval(dataset: str | Path = "golden", mode: str = "extractive",
             out: str | Path | None = None, bot: Assistant | None = None,
             index_dir: str | Path | None = None, reference: bool = True,
             docs: list[str | Path] | None = None, **settings: Any) -> dict[str, Any]:
    """Run one question set end to end and return its summary.

    Args:
        dataset: a corpus name from ``eval.corpora`` (its own documents and index) or a
            YAML file path (asked against ``docs``, default the default corpus).
        mode: answer mode for every question.
        out: folder for results.jsonl, summary.json, report.md and report.html.
        bot: an opened assistant to use as is (no ingest); else one is opened on the
            dataset's own index (``index_dir``, default ``.opsqa/eval-<name>``).
        reference: also score the llama-index starter (its own reader, splitter and index
            over the same documents, the same packaged model) for retrieval.
        docs: documents for a YAML question set of one's own.
        settings: any Settings field for the assistant (e.g. ``refusal_threshold``).

    Raises:
        OpsqaError: unreadable dataset, bad settings, or a broken index.
    """
    path, questions = load_dataset(dataset)
    corpus = CORPORA.get(str(dataset))
    out_dir = Path(out) if out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    doc_paths = [Path(p) for p in docs or []]
    if bot is None:
        bot = _open_bot(corpus, Path(index_dir) if index_dir else None, doc_paths,
                        {"mode": mode, **settings})
    if corpus is not None:
        doc_paths = list(corpus.docs)
    rows = [score(bot, q, mode) for q in questions]
    kinds = sorted({r["kind"] for r in rows})
    summary: dict[str, Any] = {
        "dataset": str(dataset), "path": str(path), "mode": mode,
        "held_out": bool(corpus and corpus.held_out),
        "about": corpus.about if corpus else str(path),
        "fingerprint": fingerprint(path, bot), "headline": M.aggregate(rows),
        "per_kind": {k: M.aggregate([r for r in rows if r["kind"] == k]) for k in kinds},
        "scope": M.scope(rows, bot.settings.refusal_threshold),
        "critical_passing": sorted(r["id"] for r in rows if r["critical"] and r["passed"]),
        "failed": [{"id": r["id"], "kind": r["kind"], "reasons": r["reasons"]}
                   for r in rows if not r["passed"]]}
    summary["latency"] = {mode: {"p50_ms": summary["headline"]["latency_p50_ms"],
                                 "p95_ms": summary["headline"]["latency_p95_ms"]}}
    if reference:
        from eval.reference import reference_scores

        summary["reference"] = reference_scores(
            doc_paths or [Path(bot.settings.corpus_dir)], bot.encoder.model_dir, questions,
            Path(bot.settings.index_dir) / "starter")
    if out_dir:
        from eval.report import write_outputs

        write_outputs(out_dir, summary, rows)
    return summary


def compare(summary: dict[str, Any], base: dict[str, Any]) -> tuple[list[list[Any]], list[str]]:
    """Compare a run with its baseline: table rows and the list of failures."""
    table, fails = [], []
    now_h, base_h = summary["headline"], base.get("headline", {})
    for k in GATED:
        b, n = base_h.get(k), now_h.get(k)
        if b is None or n is None:
            table.append([k, b, n, None, "n/a"])
            continue
        delta = n - b
        worse = delta > TOLERANCE if k in LOWER_IS_BETTER else delta < -TOLERANCE
        table.append([k, b, n, delta, "FAIL" if worse else "ok"])
        if worse:
            fails.append(f"{k}: {b:.3f} -> {n:.3f}")
    for qid in sorted(set(base.get("critical_passing", [])) - set(summary["critical_passing"])):
        fails.append(f"critical question now failing: {qid}")
    return table, fails


def baseline_entry(summary: dict[str, Any]) -> dict[str, Any]:
    return {"fingerprint": summary["fingerprint"],
            "headline": {k: summary["headline"].get(k) for k in HEADLINE},
            "critical_passing": summary["critical_passing"]}


def main(argv: Sequence[str] | None = None) -> int:
    """`opsqa eval`: returns 0, or 1 when --check finds a regression."""
    from rich.console import Console

    from eval import report

    names = ", ".join(f"{c.name} ({c.about})" for c in CORPORA.values())
    p = argparse.ArgumentParser(
        prog="opsqa eval", description="Ask every question of each evaluation corpus through the "
        "public API, score the answers and retrieval, report, and (with --check) gate on the "
        f"baseline. Corpora: {names}. Without --corpus or --dataset, every corpus whose "
        "documents are present runs, each in its own index under .opsqa/eval-<name>.")
    p.add_argument("--corpus", action="append", choices=list(CORPORA), metavar="NAME",
                   help="run this corpus (repeatable): " + ", ".join(CORPORA))
    p.add_argument("--dataset", help="a question YAML file of your own (or a corpus name)")
    p.add_argument("--docs", nargs="+", metavar="PATH",
                   help="documents a --dataset file is asked against (default: corpus_dir)")
    p.add_argument("--mode", default="extractive", choices=["extractive", "local", "hosted"])
    p.add_argument("--out", help="write results.jsonl, summary.json, report.md/html here "
                   "(one folder per corpus, and a report.md over all of them)")
    p.add_argument("--check", action="store_true",
                   help="compare each corpus with its baseline; exit 1 on a regression")
    p.add_argument("--update-baseline", action="store_true", help="store this run as baseline")
    p.add_argument("--baseline", default=str(BASELINE), help="baseline file (eval/baseline.json)")
    p.add_argument("--index-dir", help="index folder (several corpora: one subfolder each)")
    p.add_argument("--no-reference", action="store_true", help="skip the llama-index starter row")
    args = p.parse_args(list(argv or []))
    console = Console()
    console.width = max(console.width, 150)  # the tables are wide; let a pipe or CI keep them
    runs = _runs(args)
    base_path = Path(args.baseline)
    baseline = json.loads(base_path.read_text()) if base_path.is_file() else {}
    failed_check = False
    summaries: dict[str, dict[str, Any]] = {}
    try:
        for key, dataset in runs:
            out = Path(args.out) / key if args.out and len(runs) > 1 else args.out
            idx = args.index_dir and (Path(args.index_dir) / key if len(runs) > 1
                                      else Path(args.index_dir))
            s = run_eval(dataset, args.mode, out=out, index_dir=idx, docs=args.docs,
                         reference=not args.no_reference)
            report.print_summary(console, s)
            summaries[key] = s
            if args.check:
                failed_check |= _check(console, s, baseline.get(key), key)
            if args.update_baseline:
                baseline[key] = baseline_entry(s)
    except OpsqaError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    calibration = M.calibrate(summaries) if len(summaries) > 1 else None
    if len(summaries) > 1:
        report.print_overview(console, summaries, calibration)
        if args.out:
            report.write_overview(Path(args.out), summaries, calibration)
    if args.update_baseline:
        base_path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
        console.print(f"baseline written: {base_path}")
    passed = sum(s["headline"]["passed"] for s in summaries.values())
    total = sum(s["headline"]["n"] for s in summaries.values())
    print(f"{passed} passed, {total - passed} failed")
    return 1 if failed_check else 0


def _runs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(baseline key, dataset) pairs this invocation runs."""
    if args.dataset:
        return [(Path(args.dataset).stem if args.dataset not in CORPORA else args.dataset,
                 args.dataset)]
    names = args.corpus or [c.name for c in available()]
    return [(n, n) for n in names]


def _check(console: Any, s: dict[str, Any], base: dict[str, Any] | None, key: str) -> bool:
    from eval import report

    if not base:
        console.print(f"[yellow]no baseline for {key!r}: run with --update-baseline[/]")
        return False
    if base.get("fingerprint") != s["fingerprint"]:
        diff = [k for k in s["fingerprint"] if base.get("fingerprint", {}).get(k)
                != s["fingerprint"][k]]
        console.print(f"[yellow]warning: {key} baseline fingerprint differs ({', '.join(diff)});"
                      " comparing anyway[/]")
    table, fails = compare(s, base)
    report.print_check(console, key, table, fails)
    return bool(fails)
