"""`opsqa bench ui`: N concurrent gradio_client users asking the web UI on loopback.

Each client (one thread, one session) asks questions from a fixed list in turn until the time
is up or its share of the request budget is spent, and every answer is checked: not refused,
carries a ``[n]`` citation, and contains the expected key word. Any wrong answer or error makes
the run fail (exit 1). The server only ever listens on 127.0.0.1.

By default each client asks through ``/follow_up``: one chat per client, every answer stored
as a chat turn (into a temporary chat file, never the index's own). Each server answers every
question once before the clock starts (a warm-up, not counted). ``--baseline DIR`` serves
the same index from another checkout of opsqa (say the main branch) too, in alternating rounds
(``--rounds``), and prints both side by side with the ratio of their latencies.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

QUESTIONS: list[tuple[str, str]] = [
    ("What is GitOps?", "Git"),
    ("What is DevOps?", "DevOps"),
    ("What is DevSecOps?", "security"),
    ("What is MLOps?", "model"),
    ("What is DataOps?", "data"),
    ("What is AIOps?", "AIOps"),
    ("What is LLMOps?", "LLMOps"),
    ("Which tools does GitOps use?", "Argo CD"),
]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(args: argparse.Namespace, port: int, code: str = "") -> Callable[[], None]:
    """Start the UI on 127.0.0.1:port (from the checkout ``code``, else this one) and wait
    until it answers; returns a stop function."""
    if args.in_process:
        from app import Assistant
        from app.ui.layout import build_ui
        from app.ui.serving import launch_options

        over = {"index_dir": args.index_dir, "concurrency_limit": args.concurrency,
                "chats_path": args.chats_path}
        bot = Assistant.open(host="127.0.0.1", port=port, **over)
        demo = build_ui(bot)
        opts = {**launch_options(bot), "auth": None}
        demo.launch(**opts, prevent_thread_lock=True, quiet=True)
        return demo.close
    env = {k: v for k, v in os.environ.items() if k != "OPSQA_AUTH"}  # the clients log in as no one
    env["OPSQA_CHATS_PATH"] = args.chats_path
    if code:
        env["PYTHONPATH"] = code
    if args.concurrency:
        env["OPSQA_CONCURRENCY_LIMIT"] = str(args.concurrency)
    cmd = [
        sys.executable,
        "-c",
        "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if args.index_dir:
        cmd += ["--index-dir", args.index_dir]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - not a pipe: a chatty server never blocks
    proc = subprocess.Popen(cmd, env=env, cwd=code or None, stdout=subprocess.DEVNULL, stderr=log)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    import httpx

    end = time.monotonic() + 300  # a first run may build the index
    while time.monotonic() < end:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise SystemExit(f"opsqa bench ui: the server exited:\n{err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return stop
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop()
    raise SystemExit("opsqa bench ui: the server did not come up within 300 s")


def _check(d: dict, expected: str) -> str:
    text = str(d.get("text", ""))
    if d.get("refused"):
        return "refused"
    if not re.search(r"\[\d+\]", text):
        return "no citation"
    if expected.lower() not in text.lower():
        return f"missing {expected!r}"
    return ""


def _client_loop(url: str, n: int, budget: int, deadline: float, tally: Tally,
                 endpoint: str = "follow_up") -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted, reported, fails the run
        with tally.lock:
            tally.errors.append(f"client {n}: connect: {exc}")
        return
    i = n
    for _ in range(budget):
        if time.perf_counter() >= deadline:
            break
        q, expected = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        t0 = time.perf_counter()
        try:
            d = client.predict(q, "", api_name=f"/{endpoint}")
            problem = _check(d, expected)
        except Exception as exc:  # noqa: BLE001
            problem = f"error: {exc}"
        dt = time.perf_counter() - t0
        with tally.lock:
            tally.latencies.append(dt)
            if problem:
                tally.errors.append(f"{q!r}: {problem}")


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _warm_up(url: str) -> None:
    """Each question once, one at a time, not counted: what a server builds on its first
    questions (search indexes, model sessions) is built before the clock starts, not by 16
    clients at once."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    for q, _ in QUESTIONS:
        client.predict(q, "", api_name="/ask")


def _round(args: argparse.Namespace, code: str = "") -> tuple[Tally, float]:
    """One run of ``args.clients`` clients against a fresh server; (tally, wall seconds)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    stop = _start_server(args, port, code)
    tally = Tally()
    try:
        _warm_up(url)
        budget = max(1, args.max_requests // args.clients)
        t0 = time.perf_counter()
        deadline = t0 + args.seconds
        threads = [
            threading.Thread(target=_client_loop, args=(url, n, budget, deadline, tally,
                                                        args.endpoint), daemon=True)
            for n in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        wall = time.perf_counter() - t0
    finally:
        stop()
    return tally, wall


def _stored_turns(path: Path) -> int:
    """How many chat turns the servers stored in the bench's chat file (0: none, or a
    checkout that stores no chats)."""
    import sqlite3

    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def _report(label: str, tallies: list[tuple[Tally, float]]) -> dict[str, float]:
    lat = [x for t, _ in tallies for x in t.latencies]
    errors = [e for t, _ in tallies for e in t.errors]
    wall = sum(w for _, w in tallies)
    row = {"requests": len(lat), "errors": len(errors), "p50": _pct(lat, 50) * 1000,
           "p95": _pct(lat, 95) * 1000,
           "mean": statistics.fmean(lat) * 1000 if lat else 0.0,
           "throughput": len(lat) / wall if wall else 0.0}
    print(f"{label:10} requests {row['requests']:5}  errors {row['errors']:3}  "
          f"p50 {row['p50']:6.0f} ms  p95 {row['p95']:6.0f} ms  mean {row['mean']:6.0f} ms  "
          f"{row['throughput']:5.1f} answers/s")
    for e in errors[:10]:
        print(f"  ! {e}")
    return row


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench ui", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--seconds", type=float, default=30.0, help="run time of a round (default 30)")
    p.add_argument("--max-requests", type=int, default=5000, help="request budget of a round")
    p.add_argument("--index-dir", help="index to serve (default: settings)")
    p.add_argument("--concurrency", type=int, help="server queue concurrency (default: settings)")
    p.add_argument("--endpoint", choices=["follow_up", "ask"], default="follow_up",
                   help="follow_up: one stored chat per client (default); ask: no history")
    p.add_argument("--baseline", metavar="DIR",
                   help="another opsqa checkout to serve the same index in alternate rounds")
    p.add_argument("--rounds", type=int, default=2, help="rounds of each code (default 2)")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run the server in this process (shares the GIL with the clients)",
    )
    args = p.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.rounds < 1:
        p.error("--clients, --seconds and --rounds must be positive")
    if args.baseline and args.in_process:
        p.error("--baseline serves another checkout: it cannot run in this process")
    from app.settings import Settings

    args.index_dir = str(Path(args.index_dir or Settings.load().index_dir).resolve())
    with tempfile.TemporaryDirectory(prefix="opsqa-bench-ui-") as tmp:
        args.chats_path = str(Path(tmp) / "chats.sqlite3")
        codes = [("this", "")] + ([("baseline", str(Path(args.baseline).resolve()))]
                                  if args.baseline else [])
        runs: dict[str, list[tuple[Tally, float]]] = {label: [] for label, _ in codes}
        for _ in range(args.rounds if args.baseline else 1):
            for label, code in codes:
                runs[label].append(_round(args, code))
        stored = _stored_turns(Path(args.chats_path))
    where = "in-process" if args.in_process else "separate process"
    print(f"clients {args.clients}, endpoint /{args.endpoint}, {where}, queue concurrency "
          f"{args.concurrency or 'default'}, {len(runs['this'])} round(s) of {args.seconds:g} s "
          f"each{', alternating with ' + args.baseline if args.baseline else ''}")
    print(f"chat turns stored: {stored}")
    rows = {label: _report(label, tallies) for label, tallies in runs.items()}
    if args.baseline and rows["baseline"]["p50"]:
        print(f"p50 this/baseline {rows['this']['p50'] / rows['baseline']['p50']:.2f}x, "
              f"p95 {rows['this']['p95'] / max(rows['baseline']['p95'], 1e-9):.2f}x")
    bad = any(r["errors"] or not r["requests"] for r in rows.values())
    return 1 if bad else 0
