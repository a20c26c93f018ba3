"""Eval output: rich console tables, results.jsonl, summary.json, report.md and report.html."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

ANSWER_COLS = (("n", "n"), ("pass_rate", "pass"), ("key_fact_pass", "key facts"),
               ("key_fact_any_length", "any length"), ("median_words", "words"),
               ("key_fact_recall", "recall"), ("similarity", "sim"),
               ("groundedness", "grounded"), ("citation_validity", "citations"),
               ("oos_refusal", "oos refused"), ("false_refusal", "false refusals"),
               ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"))
RETRIEVAL_COLS = (("n_retrieval", "n"), ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"),
                  ("ndcg@5", "nDCG@5"), ("retrieval_p50_ms", "p50 ms"))


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 10 else f"{v:.3f}"
    return str(v)


def table_rows(summary: dict[str, Any], cols: tuple[tuple[str, str], ...] = ANSWER_COLS
               ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one per kind and the whole run; the retrieval table also gets the
    llama-index reference row."""
    head = ["", *[label for _, label in cols]]
    rows = [[k, *[fmt(a.get(key)) for key, _ in cols]] for k, a in summary["per_kind"].items()
            if cols is ANSWER_COLS or a.get("n_retrieval")]
    rows.append([f"opsqa ({summary['mode']})",
                 *[fmt(summary["headline"].get(key)) for key, _ in cols]])
    ref = summary.get("reference")
    if ref and cols is RETRIEVAL_COLS:
        rows.append([ref["name"], *[fmt(ref.get(key, ref.get("error", "-")))
                                    for key, _ in cols]])
    return head, rows


def scope_lines(summary: dict[str, Any]) -> list[str]:
    sc = summary["scope"]
    lines = []
    for name in ("in_scope", "out_of_scope"):
        d = sc[name]
        lines.append(f"evidence {name.replace('_', '-')}: n={d['n']} min={fmt(d['min'])} "
                     f"median={fmt(d['median'])} max={fmt(d['max'])}")
    b = sc["best"]
    lines.append(f"refusal threshold now {fmt(sc['current_threshold'])} (accuracy "
                 f"{fmt(sc['accuracy_at_current'])}); best {fmt(b['threshold'])} (accuracy "
                 f"{fmt(b['accuracy'])}, gap {fmt(b['gap'])})")
    if sc["term_rule_refusals"]:
        lines.append("refused by the undefined-term rule (not calibrated): "
                     + ", ".join(sc["term_rule_refusals"]))
    return lines


def print_summary(console: Any, summary: dict[str, Any]) -> None:
    """The per-kind and headline table, the scope calibration and the failures."""
    from rich.table import Table

    for cols, what in ((ANSWER_COLS, "answers"), (RETRIEVAL_COLS, "retrieval@5")):
        head, rows = table_rows(summary, cols)
        t = Table(title=f"opsqa eval {summary['dataset']}: {what}")
        for h in head:
            t.add_column(h, justify="left" if not h else "right")
        for r in rows:
            t.add_row(*r, end_section=r[0].startswith("opsqa"))
        console.print(t)
    for line in scope_lines(summary):
        console.print(line, highlight=False)
    for f in summary["failed"]:
        console.print(f"[red]FAIL[/] {f['id']} ({f['kind']}): {'; '.join(f['reasons'])}",
                      highlight=False)


OVERVIEW_COLS = ("corpus", "questions", "pass", "key facts", "any length", "words", "oos refused",
                 "false refusals",
                 "hit@5", "MRR", "starter hit@5", "starter MRR", "p50 ms")


def overview_rows(summaries: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per corpus: answers, retrieval and the llama-index starter side by side."""
    rows = []
    for key, s in summaries.items():
        h, ref = s["headline"], s.get("reference") or {}
        n_oos = sum(a["n"] for k, a in s["per_kind"].items() if k == "out-of-scope")
        rows.append([key + (" (held out)" if s.get("held_out") else ""),
                     f"{h['n'] - n_oos} + {n_oos}", fmt(h["pass_rate"]), fmt(h["key_fact_pass"]),
                     fmt(h.get("key_fact_any_length")), fmt(h.get("median_words")),
                     fmt(h["oos_refusal"]), fmt(h["false_refusal"]), fmt(h["hit@5"]),
                     fmt(h["mrr"]), fmt(ref.get("hit@5")), fmt(ref.get("mrr")),
                     fmt(h["latency_p50_ms"])])
    return rows


def calibration_lines(cal: dict[str, Any] | None) -> list[str]:
    if not cal:
        return []
    b = cal["best"]
    lines = [f"refusal threshold fitted over {' + '.join(cal['fitted_on'])}: best {fmt(b['threshold'])}"
             f" (accuracy {fmt(b['accuracy'])}); now {fmt(cal['current'])}"]
    for k, c in cal["per_corpus"].items():
        lines.append(f"  {k}: accuracy now {fmt(c['accuracy_now'])}, at best "
                     f"{fmt(c['accuracy_at_best'])} (false refusals {fmt(c['false_refusal_at_best'])}"
                     f", oos refused {fmt(c['oos_refusal_at_best'])})")
    return lines


def print_overview(console: Any, summaries: dict[str, dict[str, Any]],
                   cal: dict[str, Any] | None) -> None:
    """The cross-corpus table and the refusal calibration over all corpora."""
    from rich.table import Table

    t = Table(title=f"opsqa eval across corpora ({next(iter(summaries.values()))['mode']})")
    for h in OVERVIEW_COLS:
        t.add_column(h, justify="left" if h == "corpus" else "right")
    for r in overview_rows(summaries):
        t.add_row(*r)
    console.print(t)
    for line in calibration_lines(cal):
        console.print(line, highlight=False)


def write_overview(out: Path, summaries: dict[str, dict[str, Any]],
                   cal: dict[str, Any] | None) -> None:
    """``out/report.md``: the cross-corpus table, calibration, then a section per corpus."""
    lines = ["# opsqa eval across corpora", "", "| " + " | ".join(OVERVIEW_COLS) + " |",
             "|" + "---|" * len(OVERVIEW_COLS)]
    lines += ["| " + " | ".join(r) + " |" for r in overview_rows(summaries)]
    lines += ["", *[f"    {x}" for x in calibration_lines(cal)]]
    for key, s in summaries.items():
        lines += ["", f"## {key}: {s.get('about', '')}", "", f"Details: [{key}/report.md]({key}/report.md)"]
        for cols, what in ((ANSWER_COLS, "Answers"), (RETRIEVAL_COLS, "Retrieval (top 5)")):
            head, trs = table_rows(s, cols)
            lines += ["", f"### {what}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(r) + " |" for r in trs]
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def print_check(console: Any, key: str, table: list[list[Any]], fails: list[str]) -> None:
    from rich.table import Table

    t = Table(title=f"baseline check: {key}")
    for h in ("metric", "baseline", "now", "delta", ""):
        t.add_column(h)
    for name, b, n, d, verdict in table:
        t.add_row(name, fmt(b), fmt(n), "-" if d is None else f"{d:+.3f}", verdict)
    console.print(t)
    for f in fails:
        console.print(f"[red]regression:[/] {f}", highlight=False)


# -- files -----------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(summary: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, str]:
    """Base64 PNGs: pass rate and key facts per kind, latency, evidence in vs out of scope."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    kinds = list(summary["per_kind"])
    fig, ax = plt.subplots(figsize=(7, 3))
    x = range(len(kinds))
    ax.bar([i - 0.2 for i in x], [summary["per_kind"][k]["pass_rate"] or 0 for k in kinds],
           0.4, label="pass")
    ax.bar([i + 0.2 for i in x], [summary["per_kind"][k]["key_fact_recall"] or 0
                                  for k in kinds], 0.4, label="key-fact recall")
    ax.set_xticks(list(x), kinds, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title("score per kind")
    ax.legend(fontsize=8)
    out["per_kind"] = _png(fig)
    plt.close(fig)
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist(lat, bins=20, color="tab:gray")
    ax.set_xlabel("ms per question")
    ax.set_title(f"latency ({summary['mode']})")
    out["latency"] = _png(fig)
    plt.close(fig)
    sc = summary["scope"]
    fig, ax = plt.subplots(figsize=(7, 3))
    bins = [i / 40 for i in range(41)]
    ax.hist(sc["in_values"], bins=bins, alpha=0.6, label="in scope")
    ax.hist(sc["out_values"], bins=bins, alpha=0.6, label="out of scope")
    ax.axvline(sc["current_threshold"], color="k", ls="--", label="threshold")
    if sc["best"]["threshold"] is not None:
        ax.axvline(sc["best"]["threshold"], color="tab:red", ls=":", label="best")
    ax.set_xlabel("retrieval evidence")
    ax.set_title("evidence: in vs out of scope")
    ax.legend(fontsize=8)
    out["evidence"] = _png(fig)
    plt.close(fig)
    return out


def markdown(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [f"# opsqa eval: {summary['dataset']} ({summary['mode']})"]
    for cols, what in ((ANSWER_COLS, "Answers"), (RETRIEVAL_COLS, "Retrieval (top 5)")):
        head, trs = table_rows(summary, cols)
        lines += ["", f"## {what}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in trs]
    lines += ["", "## Scope", ""] + [f"- {s}" for s in scope_lines(summary)]
    lines += ["", "## Failures", ""]
    for r in rows:
        if not r["passed"]:
            ans = r["answer"].replace("\n", " ")[:300]
            lines.append(f"- **{r['id']}** ({r['kind']}) {r['question']!r}: "
                         f"{'; '.join(r['reasons'])}. Answer: {ans}")
    if all(r["passed"] for r in rows):
        lines.append("none")
    return "\n".join(lines) + "\n"


def html_report(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    e = html.escape
    imgs = charts(summary, rows)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>opsqa eval "
             f"{e(summary['dataset'])}</title><style>body{{font-family:sans-serif;margin:2em}}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
             "text-align:right}td:first-child{text-align:left}.fail{color:#b00}</style>"
             f"</head><body><h1>opsqa eval: {e(summary['dataset'])} ({e(summary['mode'])})</h1>"]
    for cols, what in ((ANSWER_COLS, "Answers"), (RETRIEVAL_COLS, "Retrieval (top 5)")):
        head, trs = table_rows(summary, cols)
        parts.append(f"<h2>{what}</h2><table><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in trs]
        parts.append("</table>")
    parts.append("<h2>Scope</h2><ul>")
    parts += [f"<li>{e(s)}</li>" for s in scope_lines(summary)]
    parts.append("</ul>")
    parts += [f"<img alt='{k}' src='data:image/png;base64,{v}'>" for k, v in imgs.items()]
    parts.append("<h2>Questions</h2><table><tr><th>id</th><th>kind</th><th>result</th>"
                 "<th>answer</th></tr>")
    for r in rows:
        verdict = "pass" if r["passed"] else "FAIL: " + "; ".join(r["reasons"])
        cls = "" if r["passed"] else " class='fail'"
        parts.append(f"<tr><td>{e(r['id'])}</td><td>{e(r['kind'])}</td><td{cls}>{e(verdict)}"
                     f"</td><td style='text-align:left'>{e(r['answer'][:400])}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_outputs(out: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Write results.jsonl, summary.json, report.md and report.html into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(summary, rows), encoding="utf-8")
    (out / "report.html").write_text(html_report(summary, rows), encoding="utf-8")
