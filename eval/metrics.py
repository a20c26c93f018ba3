"""Scoring without an LLM judge: retrieval ranks, key facts, grounding, citations, scope."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np

from app import Answer
from app.answer.grounding import supported

MARKS = re.compile(r"((?:\s*(?<!\\)\[\d+\])+)")
MARK = re.compile(r"(?<!\\)\[(\d+)\]")  # "\[0]" is quoted text, not a citation
SENT_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
RETRIEVAL = ("hit@1", "hit@5", "mrr", "ndcg@5")


def clean_text(text: str) -> str:
    """Answer text for matching: no [n] markers or markdown emphasis, one space, lower case."""
    text = MARK.sub(" ", text).replace("\\[", "[")
    text = re.sub(r"[*_`#]+", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _norm(text: str) -> str:
    return re.sub(r"[\s*_`#]+", " ", text.replace("\\[", "[")).strip().lower()


# -- retrieval -------------------------------------------------------------------------------
def same_file(path: str, expected: str) -> bool:
    """Whether ``path`` is the ``expected`` file: equal, or ending in it at a folder boundary
    (``expected`` is a file name or a path relative to the corpus, e.g. ``docs/faq.md``)."""
    p, e = PurePath(str(path)).as_posix(), PurePath(str(expected)).as_posix().lstrip("./")
    return p == e or p.endswith("/" + e)


def retrieval_scores(paths: Sequence[str], expected: Iterable[str], k: int = 5) -> dict[str, float]:
    """hit@1, hit@k, MRR and nDCG@k of ranked ``paths`` against the ``expected`` files
    (see ``same_file``).

    nDCG counts each expected file once (its best rank), so a file split into many chunks
    does not inflate the score; the ideal ranking puts min(#expected, k) files first.
    """
    want = list(dict.fromkeys(str(e) for e in expected))
    found = [next((e for e in want if same_file(p, e)), None) for p in paths[:k]]
    hits = [f is not None for f in found]
    first = next((i for i, h in enumerate(hits) if h), None)
    seen: set[str] = set()
    dcg = 0.0
    for i, f in enumerate(found):
        if f is not None and f not in seen:
            seen.add(f)
            dcg += 1 / math.log2(i + 2)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(want), k)))
    return {"hit@1": float(bool(hits and hits[0])), "hit@5": float(first is not None),
            "mrr": 0.0 if first is None else 1 / (first + 1),
            "ndcg@5": dcg / ideal if ideal else 0.0}


# -- key facts -------------------------------------------------------------------------------
def key_facts(text: str, groups: Sequence[dict[str, Any]], need: int | None = None
              ) -> dict[str, Any]:
    """Match key-fact groups (``{any: [...], need: 1}``) against the answer ``text``.

    Returns:
        matched / total groups, recall, ``passed`` (matched >= need, default all) and the
        first alternative of each missing group.
    """
    t = clean_text(text)
    matched, missing = 0, []
    for g in groups:
        # An alternative is cleaned like the answer: `scrape_interval` matches either way.
        alts = [clean_text(str(a)) for a in g.get("any", [])]
        if sum(a in t for a in alts) >= int(g.get("need", 1)):
            matched += 1
        else:
            missing.append(alts[0] if alts else "?")
    total = len(groups)
    need = total if need is None else need
    return {"matched": matched, "total": total, "recall": matched / total if total else 1.0,
            "passed": matched >= need, "missing": missing}


# -- what a reader gets: the answer within a length a reader accepts ---------------------------
WORD_CAP = 120  # words a reader accepts for an answer ...
LONG_CAP = 200  # ... and for a list or a comparison
LONG_KINDS = ("list", "comparison")
_WORD = re.compile(r"\S*[^\W_]\S*")  # a run with a letter or digit ("-" and "|" are not words)
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def cap_for(kind: str) -> int:
    """The words a reader accepts for an answer to a question of ``kind``."""
    return LONG_CAP if kind in LONG_KINDS else WORD_CAP


def _reader_tokens(text: str) -> list[tuple[str, bool]]:
    """The answer's pieces in order, each with whether a reader counts it as a word: a run of
    prose with a letter or digit in it, or a non-empty line of a fenced code block (whole).
    Citation marks are left out; a dash or a bar is kept but not counted."""
    out: list[tuple[str, bool]] = []
    fence = ""
    for line in text.splitlines():
        m = _FENCE_LINE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = ""
            elif line.strip():
                out.append((line.strip(), True))
            continue
        if m:
            fence = m.group(1)
            continue
        out += [(t, bool(_WORD.fullmatch(t))) for t in MARK.sub(" ", line).split()]
    return out


def reader_words(text: str) -> list[str]:
    """The answer as a reader counts it, a word at a time: citation marks are not words, and a
    fenced code block counts one word per non-empty line (its lines, whole)."""
    return [t for t, word in _reader_tokens(text) if word]


def answer_words(text: str) -> int:
    """The answer's length in words, as ``reader_words`` counts them."""
    return len(reader_words(text))


def within(text: str, cap: int) -> str:
    """The answer up to its ``cap``-th word (``reader_words``): what a reader takes in, with
    the dashes and bars between its words ("time() - start")."""
    out: list[str] = []
    n = 0
    for t, word in _reader_tokens(text):
        if word:
            if n == cap:
                break
            n += 1
        out.append(t)
    return " ".join(out)


def forbidden(text: str, words: Iterable[str]) -> list[str]:
    """The forbidden strings that occur in ``text`` (case-insensitive)."""
    low = text.lower()
    return [w for w in words if w.lower() in low]


# -- grounding and citations -----------------------------------------------------------------
FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[ \t]*$", re.M | re.S)


def code_blocks(text: str) -> list[str]:
    """The bodies of the answer's fenced code blocks."""
    return [m.group(2).strip("\n") for m in FENCED.finditer(text)]


def claims(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with the citation numbers each carries.

    Lines are split at citation markers and sentence ends; a marker belongs to the sentence
    it follows. Bullets, markers and blank lines are stripped. Fenced code blocks are quotes,
    not sentences: they are checked whole (``code_blocks``), and a "[0000]" inside code is
    not a citation.
    """
    out: list[tuple[str, list[int]]] = []
    for line in FENCED.sub("", text).splitlines():
        line = BULLET.sub("", line).strip()
        if not line:
            continue
        parts = MARKS.split(line)
        # parts: text, markers, text, markers, ..., trailing text
        for i in range(0, len(parts), 2):
            seg = parts[i].strip()
            nums = [int(n) for n in MARK.findall(parts[i + 1])] if i + 1 < len(parts) else []
            sents = [s.strip() for s in SENT_END.split(seg) if s.strip()]
            for j, s in enumerate(sents):
                out.append((s, nums if j == len(sents) - 1 else []))
    return [(s, n) for s, n in out if re.search(r"[A-Za-z0-9]", s)]


def shown_text(source: Any) -> str:
    """What a source shows a reader: its heading path, then its passage."""
    return f"{source.section}\n{source.text}" if source.section else source.text


def _stands_in(sentence: str, passage: str) -> bool:
    s = BULLET.sub("", sentence).strip()
    return _norm(s) in _norm(passage) or supported(s, passage)


def groundedness(answer: Answer) -> dict[str, Any]:
    """Share of answer sentences that stand in (or are supported by) a cited source.

    A sentence is checked against the sources it cites; an uncited sentence against every
    source the answer cites (or all its sources when it cites none).
    """
    if answer.refused or not answer.text.strip():
        return {"score": None, "unsupported": []}
    cs = claims(answer.text)
    srcs = answer.sources
    shown = [shown_text(s) for s in srcs]
    cited_all = sorted({n for _, ns in cs for n in ns if 1 <= n <= len(srcs)})
    fallback = [shown[n - 1] for n in cited_all] or shown
    bad = []
    for s, ns in cs:
        passages = [shown[n - 1] for n in ns if 1 <= n <= len(srcs)] or fallback
        if not any(_stands_in(s, p) for p in passages) and not _stands_in(s, " ".join(passages)):
            bad.append(s)
    code = code_blocks(answer.text)
    bad += [c for c in code if not any(_norm(c) in _norm(p.text) for p in srcs)]
    n = len(cs) + len(code)
    return {"score": (n - len(bad)) / n if n else 0.0, "unsupported": bad}


def citation_validity(answer: Answer) -> dict[str, Any]:
    """Every [n] is in 1..len(sources) and its sentence stands in / is supported by source n.

    An answer (not a refusal) that cites nothing is invalid: grounded answers must cite.
    """
    if answer.refused:
        return {"valid": None, "share": None, "problems": []}
    srcs = answer.sources
    shown = [shown_text(s) for s in srcs]
    problems, total, good = [], 0, 0
    for s, ns in claims(answer.text):
        joined = " ".join(shown[n - 1] for n in ns if 1 <= n <= len(srcs))
        for n in ns:
            total += 1
            if not 1 <= n <= len(srcs):
                problems.append(f"[{n}] out of range 1..{len(srcs)}")
            elif not (_stands_in(s, shown[n - 1]) or _stands_in(s, joined)):
                problems.append(f"[{n}] does not support: {s[:80]}")
            else:
                good += 1
    if total == 0:
        problems.append("no citation markers")
    return {"valid": not problems, "share": good / total if total else 0.0,
            "problems": problems}


def similarity(encode: Callable[[list[str]], np.ndarray], text: str, reference: str) -> float:
    """Cosine of the answer (markers removed) and the reference, with the project's encoder."""
    if not text.strip() or not reference.strip():
        return 0.0
    v = np.asarray(encode([MARK.sub("", text), reference]), dtype=float)
    a, b = v[0], v[1]
    den = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return float(a @ b / den)


# -- scope and aggregates --------------------------------------------------------------------
def spread(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, min, median, max, mean of ``values`` (None when empty)."""
    v = [float(x) for x in values]
    if not v:
        return {"n": 0, "min": None, "median": None, "max": None, "mean": None}
    return {"n": len(v), "min": min(v), "median": statistics.median(v), "max": max(v),
            "mean": statistics.fmean(v)}


def best_threshold(inside: Sequence[float], outside: Sequence[float]) -> dict[str, Any]:
    """The refusal threshold (refuse when evidence < t) that classifies best.

    Maximizes accuracy over in-scope (should answer) and out-of-scope (should refuse)
    evidence scores; ties go to the better balanced accuracy (out-of-scope questions are
    few, so plain accuracy would trade them away), then to the midpoint of the widest gap.
    """
    vals = sorted({float(x) for x in [*inside, *outside]})
    if not vals:
        return {"threshold": None, "accuracy": None, "gap": None}
    cuts = [(vals[0] - 0.01, vals[0])] + list(zip(vals, vals[1:], strict=False)) \
        + [(vals[-1], vals[-1] + 0.01)]
    n = len(inside) + len(outside)
    best: tuple[float, float, float, float] | None = None  # (accuracy, balanced, gap, t)
    for lo, hi in cuts:
        t = (lo + hi) / 2
        ok_in, ok_out = sum(x >= t for x in inside), sum(x < t for x in outside)
        rates = [ok / len(xs) for ok, xs in ((ok_in, inside), (ok_out, outside)) if xs]
        cand = ((ok_in + ok_out) / n, sum(rates) / len(rates), hi - lo, t)
        if best is None or cand[:3] > best[:3]:
            best = cand
    assert best is not None
    return {"threshold": round(best[3], 4), "accuracy": best[0], "balanced": best[1],
            "gap": round(best[2], 4)}


def threshold_accuracy(inside: Sequence[float], outside: Sequence[float], t: float) -> float:
    n = len(inside) + len(outside)
    return (sum(x >= t for x in inside) + sum(x < t for x in outside)) / n if n else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None when empty."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def mean(values: Iterable[float | None]) -> float | None:
    v = [float(x) for x in values if x is not None]
    return statistics.fmean(v) if v else None


# -- a run's rows ----------------------------------------------------------------------------
def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline metrics over ``rows`` (a whole run or one kind)."""
    ans = [r for r in rows if not r["expect_refusal"]]
    oos = [r for r in rows if r["expect_refusal"]]
    said = [r for r in rows if not r["refused"] and r["metrics"]]
    ret = [r for r in rows if "mrr" in r["metrics"]]
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    agg: dict[str, Any] = {
        "n": len(rows), "passed": sum(r["passed"] for r in rows),
        "pass_rate": mean(r["passed"] for r in rows),
        # capped: the key facts stand within the words a reader accepts (``cap_for``)
        "key_fact_pass": mean(r["metrics"].get("key_facts_passed", False) for r in ans),
        "key_fact_any_length": mean(r["metrics"].get("key_facts_anywhere", False) for r in ans),
        "median_words": percentile([r["metrics"]["words"] for r in ans if "words" in r["metrics"]],
                                   50),
        "key_fact_recall": mean(r["metrics"].get("key_fact_recall", 0.0) for r in ans),
        "similarity": mean(r["metrics"].get("similarity") for r in ans),
        "groundedness": mean(r["metrics"].get("groundedness") for r in said),
        "citation_validity": mean(r["metrics"].get("citations_valid") for r in said),
        "oos_refusal": mean(r["refused"] for r in oos),
        "false_refusal": mean(r["refused"] for r in ans),
        "latency_p50_ms": percentile(lat, 50), "latency_p95_ms": percentile(lat, 95)}
    agg["n_retrieval"] = len(ret)
    for k in RETRIEVAL:
        agg[k] = mean(r["metrics"][k] for r in ret)
    agg["retrieval_p50_ms"] = percentile([r["search_ms"] for r in ret], 50)
    return agg


def scope(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Evidence distributions in vs out of scope and the best separating threshold.

    Out-of-scope questions refused by the undefined-term rule (or because no passage holds the
    fact asked) are left out of calibration: the threshold does not decide them.
    """
    ok = [r for r in rows if "evidence" in r["metrics"]]
    inside = [r["metrics"]["evidence"] for r in ok if not r["expect_refusal"]]
    rule = [r for r in ok if r["expect_refusal"] and r["refused"]
            and str(r.get("note", "")).startswith(("not in the documents", "not defined",
                                                   "not stated"))]
    outside = [r["metrics"]["evidence"] for r in ok if r["expect_refusal"] and r not in rule]
    return {"in_scope": spread(inside), "out_of_scope": spread(outside),
            "term_rule_refusals": [r["id"] for r in rule], "current_threshold": threshold,
            "accuracy_at_current": threshold_accuracy(inside, outside, threshold),
            "best": best_threshold(inside, outside), "in_values": inside,
            "out_values": outside}


def calibrate(summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The refusal threshold fitted over every corpus's in- and out-of-scope evidence together,
    held-out corpora excepted (they are scored at it, never fitted on).

    Returns:
        {"fitted_on", "best", "current", "per_corpus": {name: {"accuracy_now",
        "accuracy_at_best", "false_refusal_at_best", "oos_refusal_at_best"}}}.
    """
    fit = [k for k, s in summaries.items() if not s.get("held_out")]
    inside = [x for k in fit for x in summaries[k]["scope"]["in_values"]]
    outside = [x for k in fit for x in summaries[k]["scope"]["out_values"]]
    best = best_threshold(inside, outside)
    current = next(iter(summaries.values()))["scope"]["current_threshold"]
    per: dict[str, Any] = {}
    for k, s in summaries.items():
        i, o = s["scope"]["in_values"], s["scope"]["out_values"]
        t = best["threshold"]
        per[k] = {"accuracy_now": threshold_accuracy(i, o, current),
                  "accuracy_at_best": None if t is None else threshold_accuracy(i, o, t),
                  "false_refusal_at_best": None if t is None or not i else
                  sum(x < t for x in i) / len(i),
                  "oos_refusal_at_best": None if t is None or not o else
                  sum(x < t for x in o) / len(o)}
    return {"fitted_on": fit, "best": best, "current": current, "per_corpus": per}
