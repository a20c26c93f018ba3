"""`opsqa bench soak` child processes and kill rounds: SIGKILL an ingest in a phase, compare.

Each round edits, adds and deletes files of a fuzzed folder, then runs `opsqa ingest` in a
child whose pipeline calls are observed (not changed): every call of a phase - reading
(``read_file``), embedding (``Encoder.encode``), writing (chunk upserts, metadata updates,
deletes) and manifest (``put_file``, the generation ``bump``) - is logged to a file, and at
the chosen call the parent sends SIGKILL at once or after a random 0-20 ms, aiming the
kills at the four phases in turn. The log then tells where
the kill landed (inside a call, or just after it). The killed index must still open and
answer; then a plain re-ingest (recovery) must leave it equal to a clean ingest of the same
files into a copy of the same base index: chunk ids, texts and metadata, counts, manifest
(paths, hashes, chunk counts, titles, sizes) and answers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PHASES = ("reading", "embedding", "writing", "manifest")
HOOKS = {"reading": [("ingest.pipeline", "read_file")],
         "embedding": [("ingest.embedding", "Encoder.encode")],
         "writing": [("ingest.store", "IndexStore.upsert"), ("ingest.store", "IndexStore.update_meta"),
                     ("ingest.store", "IndexStore.delete_chunks"), ("ingest.store", "IndexStore.drop_file")],
         "manifest": [("ingest.store", "IndexStore.put_file"), ("ingest.store", "IndexStore.bump")]}
BASE_QUESTION = "What is GitOps?"
CHILD_ENV = {"OPSQA_EMBED_BATCH_SIZE": "2", "HF_HUB_OFFLINE": "1"}  # a flush every 32 chunks


def child(argv: list[str]) -> int:
    """The soak's child processes: ``kill INDEX FOLDER PHASE NTH LOG``, ``ingest INDEX
    FOLDER`` (prints the report as JSON) or ``facts INDEX [--ingest FOLDER] [--ask Q]...``."""
    if argv[0] == "kill":
        index, folder, phase, nth, log = argv[1:6]
        _install_hooks(open(log, "a", buffering=1), (phase, int(nth)))  # noqa: SIM115
        from app.cli import main

        return main(["ingest", folder, "--index-dir", index])
    if argv[0] == "ingest":
        from app import Assistant

        bot = Assistant.open(index_dir=argv[1], auto_ingest=False)
        r = bot.ingest([argv[2]])
        out = {k: getattr(r, k) for k in ("added", "updated", "unchanged", "removed", "skipped",
                                          "missing", "embedded")}
        out.update(count=bot.store.count(), manifest_chunks=sum(d.chunks for d in bot.documents()))
        print(json.dumps(out))
        return 0
    print(json.dumps(facts(argv[1:])))
    return 0


def _install_hooks(log: Any, target: tuple[str, int]) -> None:
    import importlib

    counts: Counter[str] = Counter()
    for phase, names in HOOKS.items():
        for module, dotted in names:
            owner: Any = importlib.import_module(module)
            *path, attr = dotted.split(".")
            for p in path:
                owner = getattr(owner, p)
            setattr(owner, attr, _observed(getattr(owner, attr), phase, counts, log, target))


def _observed(real: Any, phase: str, counts: Counter[str], log: Any, target: tuple[str, int]):
    @functools.wraps(real)
    def call(*args: Any, **kwargs: Any) -> Any:
        counts[phase] += 1
        n = counts[phase]
        log.write(f"start {phase} {n}\n")
        if (phase, n) == target:
            log.write("target\n")
        out = real(*args, **kwargs)
        log.write(f"end {phase} {n}\n")
        return out

    return call


def facts(args: list[str]) -> dict[str, Any]:
    """What a fresh process sees in an index (after an optional ingest): for comparisons."""
    from app import Assistant
    from app.cli import main

    index, questions, pre = args[0], [], None
    it = iter(args[1:])
    for flag in it:
        if flag == "--ingest":
            folder = next(it)
            bot = Assistant.open(index_dir=index, auto_ingest=False)
            a = bot.ask(BASE_QUESTION)  # the killed index must open and answer, before recovery
            pre = [a.refused, Path(a.sources[0].path).name if a.sources else ""]
            del bot
            if main(["ingest", folder, "--index-dir", index]) not in (0, 1):
                raise SystemExit("recovery ingest failed")
        elif flag == "--ask":
            questions.append(next(it))
    bot = Assistant.open(index_dir=index, auto_ingest=False)
    store = bot.store
    rows = sorted((i, t, json.dumps(m.as_dict(), sort_keys=True)) for i, t, m in store.all_chunks())
    ids = [r[0] for r in rows]
    manifest = {p: [r.sha256, r.chunks, r.title, r.size] for p, r in store.file_records().items()}
    answers = {q: _answer(bot, q) for q in questions}
    return {"count": store.count(), "ids": len(ids), "unique_ids": len(set(ids)),
            "ids_sha": _sha([r[0] for r in rows]), "chunks_sha": _sha(rows),
            "manifest": manifest, "answers": answers, "pre": pre}


def _answer(bot: Any, q: str) -> dict[str, Any]:
    """An answer as compared: its text, refusal and cited sources; and all sources in order.

    The uncited sources are kept apart: BM25 breaks equal scores by a chunk's position in
    the lexical index, which depends on the order chunks were added, so two indexes with
    the same chunks may list equally relevant uncited passages in another order (measured:
    two fresh lexical builds over identical chunk sets did).
    """
    a = bot.ask(q)
    cited = sorted({a.sources[n - 1].path for n in map(int, re.findall(r"\[(\d+)\]", a.text))
                    if 0 < n <= len(a.sources)})
    return {"answer": [a.text, a.refused, cited], "sources": [s.path for s in a.sources]}


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj).encode()).hexdigest()


def run_child(args: list[str], timeout: float) -> tuple[int | None, str, str]:
    """(returncode or None on timeout, stdout, stderr) of ``python -m eval.bench.soak_kill``."""
    proc = subprocess.Popen([sys.executable, "-m", "eval.bench.soak_kill", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **CHILD_ENV}, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err


def kill_ingest(index: Path, folder: Path, phase: str, nth: int, log: Path,
                rng: Any, timeout: float) -> dict[str, Any]:
    """Run a watched ingest and SIGKILL it at call ``nth`` of ``phase``; where it landed."""
    log.write_text("")
    proc = subprocess.Popen([sys.executable, "-m", "eval.bench.soak_kill", "kill", str(index),
                             str(folder), phase, str(nth), str(log)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **CHILD_ENV},
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and "target" not in log.read_text():
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"outcome": "hang"}
        time.sleep(0.001)
    if proc.poll() is not None:  # finished before the chosen call: no kill this round
        err = proc.communicate()[1]
        return {"outcome": "finished" if proc.returncode in (0, 1) else "crash", "stderr": err}
    time.sleep(0 if rng.random() < 0.5 else rng.uniform(0, 0.02))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    last = [x.split() for x in log.read_text().splitlines() if x.startswith(("start", "end"))][-1]
    return {"outcome": "killed", "landed": f"{'inside' if last[0] == 'start' else 'after'} "
            f"{last[1]} #{last[2]}"}


def mutate(folder: Any, rng: Any, rnd: int, make_folder: Any, words: Any) -> None:
    """Edit a few files, delete two, add three: work for every phase of the next ingest."""
    live = [p for p in folder.regular if os.path.lexists(p)]
    for p in rng.sample(live, min(6, len(live))):
        with open(p, "ab") as fh:
            fh.write(f"\n\n## Revision {rnd}\n\n{words(rng, rng.randint(5, 40))}\n".encode())
    for p in rng.sample(live, min(2, len(live))):
        os.unlink(p)
    added = make_folder(folder.root, 3, rng, start=100_000 + rnd * 3, specials=False)
    folder.regular += added.regular


def compare(rec: dict[str, Any], ref: dict[str, Any], ties: list[str]) -> list[str]:
    """What differs between a recovered index and a clean ingest of the same files; questions
    with the same answer but other uncited sources go to ``ties`` (see ``_answer``)."""
    problems = [k for k in ("count", "ids", "ids_sha", "chunks_sha", "manifest")
                if rec.get(k) != ref.get(k)]
    for q, got in rec["answers"].items():
        want = ref["answers"][q]
        if got["answer"] != want["answer"]:
            problems.append(f"answer to {q!r}: {str(got)[:400]} vs clean {str(want)[:400]}")
        elif got["sources"] != want["sources"]:
            ties.append(q)
    if not rec["ids"] == rec["unique_ids"] == rec["count"] == sum(
            v[1] for v in rec["manifest"].values()):
        problems.append("orphan or duplicate chunks")
    return problems


def kill_rounds(work: Path, base_index: Path, kills: int, rng: Any, timeout: float,
                log_line: Any) -> dict[str, Any]:
    """Run rounds until ``kills`` kills landed (at most 3x as many rounds); the tally."""
    from eval.bench.soak_fuzz import make_folder, words

    index, folder_root, log = work / "kill-index", work / "kill-docs", work / "kill.log"
    shutil.copytree(base_index, index)
    folder = make_folder(folder_root, 24, rng, start=50_000)
    tally: dict[str, Any] = {"inputs": 0, "crashes": 0, "hangs": 0, "survived": 0,
                             "mismatches": 0, "errors": 0, "ties": 0, "landed": Counter(),
                             "targeted": Counter(), "notes": []}
    rounds, missed = 0, False
    while tally["survived"] + tally["mismatches"] < kills and rounds < 3 * kills:
        # phases in turn; a round that ended before its call retries the phase at call 1
        phase = PHASES[(tally["survived"] + tally["mismatches"]) % len(PHASES)]
        tally["targeted"][phase] += 1
        nth = 1 if missed else 1 + rng.randrange(
            {"reading": 20, "embedding": 2, "writing": 4, "manifest": 6}[phase])
        rounds += 1
        mutate(folder, rng, rounds, make_folder, words)
        res = kill_ingest(index, folder_root, phase, nth, log, rng, timeout)
        tally["inputs"] += 1
        missed = res["outcome"] == "finished"
        if res["outcome"] != "killed":  # "finished" (before the chosen call), "hang", "crash"
            if res["outcome"] in ("hang", "crash"):
                tally[{"hang": "hangs", "crash": "crashes"}[res["outcome"]]] += 1
                tally["notes"].append(f"round {rounds}: {res['outcome']} {res.get('stderr', '')[-300:]}")
            log_line(f"round {rounds}: {phase} #{nth}: {res['outcome']}")
            continue
        tally["landed"][res["landed"].rsplit(" #", 1)[0]] += 1
        problems = _recover_and_compare(work, base_index, index, folder_root, rounds, timeout,
                                        tally)
        if problems is None:
            continue  # a hang or crash, counted
        tally["mismatches" if problems else "survived"] += 1
        if problems:
            tally["notes"].append(f"round {rounds} ({res['landed']}): {', '.join(problems)}")
        log_line(f"round {rounds}: killed {res['landed']}: "
                 f"{'MISMATCH ' + ', '.join(problems) if problems else 'equal to a clean ingest'}")
    return tally


def _recover_and_compare(work: Path, base_index: Path, index: Path, folder: Path, rnd: int,
                         timeout: float, tally: dict[str, Any]) -> list[str] | None:
    """Recover the killed index and ingest the same files cleanly into a copy of the base,
    side by side; what differs (None after a hang or crash, which ``tally`` counts)."""
    from eval.bench.soak_fuzz import term_for

    ref = work / "kill-ref"
    shutil.rmtree(ref, ignore_errors=True)
    shutil.copytree(base_index, ref)
    qs = [BASE_QUESTION] + [f"What is {term_for(100_000 + rnd * 3 + k)}?" for k in range(2)]
    ask = [a for q in qs for a in ("--ask", q)]
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda d: run_child(
            ["facts", str(d), "--ingest", str(folder), *ask], timeout), (index, ref)))
    if any(rc is None for rc, _, _ in procs):
        tally["hangs"] += 1
        return None
    if any(rc != 0 for rc, _, _ in procs):
        tally["crashes"] += 1
        tally["notes"].append(next(e for rc, _, e in procs if rc)[-500:])
        return None
    rec, clean = (json.loads(out.strip().splitlines()[-1]) for _, out, _ in procs)
    ties: list[str] = []
    problems = compare(rec, clean, ties)
    tally["ties"] += len(ties)
    if rec["pre"] != [False, "gitops.md"]:
        problems.append(f"killed index answered {rec['pre']}")
    if any(p.startswith("answer to") for p in problems):
        problems.insert(0, _fresh_lexical_verdict(work, index, rec, clean, timeout))
    return problems


def _fresh_lexical_verdict(work: Path, index: Path, rec: dict[str, Any], clean: dict[str, Any],
                           timeout: float) -> str:
    """Ask the differing questions again on a copy of the recovered index whose lexical side
    is built afresh: tells a lexical snapshot's history from a difference in the store."""
    fresh = work / "kill-fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(index, fresh, ignore=shutil.ignore_patterns("lexical"))
    qs = [q for q in rec["answers"] if rec["answers"][q]["answer"] != clean["answers"][q]["answer"]]
    rc, out, _ = run_child(["facts", str(fresh), *[a for q in qs for a in ("--ask", q)]], timeout)
    if rc != 0:
        return "(no verdict: the fresh-lexical check failed)"
    again = json.loads(out.strip().splitlines()[-1])["answers"]
    same = sum(again[q]["answer"] == clean["answers"][q]["answer"] for q in qs)
    return (f"[same store, lexical side rebuilt: {same} of {len(qs)} differing answers then "
            "equal the clean ingest's]")


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
