"""`opsqa bench soak`: fuzzed documents and questions, kill -9 ingests and UI clients at scale.

Not part of CI (it runs for an hour or more at full size; the suite runs a smoke-size one).
Phases, all on indexes under a work folder, starting from an index of the project corpus:
1. ingest: ``--docs`` fuzzed files (see ``soak_fuzz``) in folders of ``--batch``, each
   ingested by a child process with a hang limit; every file must be added or skipped with
   a reason (FIFOs, device and dangling links skipped), the manifest must account for every
   chunk, and a second ingest of everything must change nothing.
2. ask: ``--questions`` fuzzed questions through the API (each with a hang limit), of which
   ``--cli-questions`` also through `opsqa ask --json`; an answer (cited within its sources,
   JSON-encodable) or a clear QuestionError is right, anything else is a crash.
3. kill: ``--kills`` SIGKILLs of an ingest spread over its phases (see ``soak_kill``), each
   followed by a recovery that must equal a clean ingest of the same files.
4. ui: ``--clients`` gradio_client users for ``--ui-seconds`` against `opsqa serve`.
It prints one table (inputs tried, crashes, hangs, kills survived, mismatches, errors) and
exits 1 if anything crashed, hung, mismatched or failed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from eval.bench.common import CORPUS, show, write_json

COLUMNS = ("inputs", "crashes", "hangs", "kills_survived", "mismatches", "errors", "seconds")


def _say(line: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {line}", flush=True)


def _row(what: str, t0: float, **counts: Any) -> dict[str, Any]:
    row = {"what": what, **{k: counts.get(k, 0) for k in COLUMNS}}
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def ingest_phase(args: argparse.Namespace, work: Path, index: Path, rng: random.Random
                 ) -> tuple[dict[str, Any], list[str]]:
    from eval.bench.soak_fuzz import make_folder
    from eval.bench.soak_kill import run_child
    from ingest.files import path_text

    t0, notes = time.monotonic(), []
    c = {"inputs": 0, "crashes": 0, "hangs": 0, "mismatches": 0, "errors": 0}
    added = 0
    for b, start in enumerate(range(0, args.docs, args.batch)):
        n = min(args.batch, args.docs - start)
        folder = make_folder(work / "docs" / f"b{b:03d}", n, rng, start=start)
        c["inputs"] += n + len(folder.special) + len(folder.aliases)
        rc, out, err = run_child(["ingest", str(index), str(folder.root)], args.hang_seconds * 4)
        if rc is None or rc != 0:
            c["hangs" if rc is None else "crashes"] += 1
            notes.append(f"ingest batch {b}: {'hang' if rc is None else err[-500:]}")
            continue
        r = json.loads(out.strip().splitlines()[-1])
        skipped = {p: why for p, why in r["skipped"]}
        done = set(r["added"]) | set(skipped)
        lost = [p for p in map(path_text, folder.regular) if p not in done]
        special = [p for p in map(path_text, folder.special) if not skipped.get(p)]
        if lost or special or r["missing"] or any(not w.strip() for w in skipped.values()):
            c["mismatches"] += 1
            notes.append(f"ingest batch {b}: lost {lost[:3]} special {special[:3]}")
        if r["count"] != r["manifest_chunks"]:
            c["mismatches"] += 1
            notes.append(f"ingest batch {b}: {r['count']} chunks, manifest says {r['manifest_chunks']}")
        added += len(r["added"])
        _say(f"ingest batch {b}: {n} files, {len(r['added'])} added, {len(skipped)} skipped, "
             f"{r['embedded']} chunks embedded, {r['count']} in the index")
    rc, out, err = run_child(["ingest", str(index), str(work / "docs")], args.hang_seconds * 4)
    again = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    c["inputs"] += 1
    if again is None or again["added"] or again["updated"] or again["removed"] or len(
            again["unchanged"]) != added:
        c["mismatches"] += 1
        notes.append(f"unchanged re-ingest changed the index: {str(again)[:300] or err[-300:]}")
    return _row("ingest fuzzed documents", t0, **c), notes


def _valid(answer: Any) -> str:
    import orjson

    from app.terminal import for_terminal

    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    if not answer.text or any(n < 1 or n > len(answer.sources) for n in cited):
        return f"bad answer {answer.text[:80]!r}"
    orjson.dumps(answer.to_dict())  # what the UI sends must encode
    for_terminal(answer.text)
    return ""


def ask_phase(args: argparse.Namespace, index: Path, rng: random.Random
              ) -> tuple[dict[str, Any], list[str]]:
    from app import Assistant, QuestionError
    from eval.bench.soak_fuzz import question

    t0, notes = time.monotonic(), []
    c = {"inputs": 0, "crashes": 0, "hangs": 0, "errors": 0}
    bot = Assistant.open(index_dir=index, auto_ingest=False)
    for i in range(args.questions):
        q, box = question(rng), {}

        def one(q: str = q, box: dict[str, Any] = box) -> None:
            try:
                box["problem"] = _valid(bot.ask(q))
            except QuestionError:
                box["problem"] = ""
            except Exception as exc:  # noqa: BLE001 - a crash, counted
                box["crash"] = f"{type(exc).__name__}: {exc}"

        t = threading.Thread(target=one, daemon=True)
        t.start()
        t.join(args.hang_seconds)
        c["inputs"] += 1
        key = "hangs" if t.is_alive() else "crashes" if "crash" in box else (
            "errors" if box.get("problem") else "")
        if key:
            c[key] += 1
            notes.append(f"ask {q[:60]!r}: {box.get('crash') or box.get('problem') or key}")
        if (i + 1) % 1000 == 0:
            _say(f"ask: {i + 1} questions, {c['crashes']} crashes, {c['hangs']} hangs")
    for _ in range(args.cli_questions):
        q = question(rng)
        c["inputs"] += 1
        try:
            r = subprocess.run([sys.executable, "-m", "app.cli", "ask", q, "--json",
                                "--index-dir", str(index)], capture_output=True, timeout=args.hang_seconds)
        except subprocess.TimeoutExpired:
            c["hangs"] += 1
            continue
        except ValueError:  # a NUL cannot be an argument: nothing to ask the CLI
            continue
        if r.returncode not in (0, 2) or b"Traceback" in r.stderr:
            c["crashes"] += 1
            notes.append(f"cli ask {q[:60]!r}: {r.stderr.decode(errors='replace')[-300:]}")
        elif r.returncode == 0:
            json.loads(r.stdout)
    return _row("ask fuzzed questions", t0, **c), notes


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench soak", description=__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=10_000, help="fuzzed documents (default 10000)")
    p.add_argument("--batch", type=int, default=1000, help="documents per ingest (default 1000)")
    p.add_argument("--questions", type=int, default=5000, help="fuzzed questions (default 5000)")
    p.add_argument("--cli-questions", type=int, default=50,
                   help="more questions, through `opsqa ask --json` (default 50)")
    p.add_argument("--kills", type=int, default=50, help="SIGKILLed ingests (default 50)")
    p.add_argument("--clients", type=int, default=16, help="UI clients (default 16)")
    p.add_argument("--ui-seconds", type=float, default=300, help="UI run time (default 300)")
    p.add_argument("--hang-seconds", type=float, default=120, help="one call longer is a hang")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--workdir", help="where indexes and files go (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--json", help="write the table and notes here")
    args = p.parse_args(argv)
    if min(args.docs, args.batch, args.kills, args.clients) < 1 or args.ui_seconds <= 0:
        p.error("--docs, --batch, --kills, --clients and --ui-seconds must be positive")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="opsqa-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    from eval.bench.soak_kill import kill_rounds, run_child
    from eval.bench.soak_ui import drive

    t_all, rng = time.monotonic(), random.Random(args.seed)
    base, index = work / "base-index", work / "soak-index"
    rc, _, err = run_child(["ingest", str(base), str(CORPUS)], args.hang_seconds * 4)
    if rc != 0:
        raise SystemExit(f"opsqa bench soak: cannot build the corpus index: {err[-2000:]}")
    shutil.copytree(base, index)
    _say(f"work folder {work}")
    rows, notes = [], []
    for phase in ("ingest", "ask"):
        row, more = (ingest_phase(args, work, index, rng) if phase == "ingest"
                     else ask_phase(args, index, rng))
        rows.append(row)
        notes += more
        _say(f"{row['what']}: {row}")
    t0 = time.monotonic()
    k = kill_rounds(work, base, args.kills, rng, args.hang_seconds * 4, _say)
    rows.append(_row("kill -9 ingests", t0, inputs=k["inputs"], crashes=k["crashes"],
                     hangs=k["hangs"], kills_survived=k["survived"], mismatches=k["mismatches"]))
    notes += k["notes"] + [f"kills aimed at: {dict(k['targeted'])}",
                           f"kills landed: {dict(k['landed'])}", f"after kills, {k['ties']} "
                           "answers equal to the clean ingest's listed other uncited sources "
                           "(BM25 tie order; not counted as mismatches)"]
    t0 = time.monotonic()
    ui_index = work / "ui-index"
    shutil.copytree(index, ui_index)
    u = drive(ui_index, work, args.clients, args.ui_seconds, args.seed, args.hang_seconds, _say)
    rows.append(_row(f"UI: {args.clients} clients, {args.ui_seconds:.0f} s", t0, **u))
    notes += u["notes"] + [f"UI server tracebacks logged: {u['server_tracebacks']}"]
    total = {"what": "total", **{k: sum(r[k] for r in rows) for k in COLUMNS}}
    total["seconds"] = round(time.monotonic() - t_all, 1)
    rows.append(total)
    show("opsqa bench soak", rows, notes)
    write_json(args.json, {"rows": rows, "notes": notes, "args": vars(args)})
    bad = sum(total[k] for k in ("crashes", "hangs", "mismatches", "errors"))
    return 1 if bad or total["kills_survived"] < args.kills else 0
