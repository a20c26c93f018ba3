"""`opsqa bench soak` UI part: N gradio_client users against a real `opsqa serve` on loopback.

Each client (one thread, one session) draws actions until the time is up: ask, stream and
follow-up with fuzzed questions, the document list and status, and uploads of fuzzed files
(each deleted again half of the time). A clear refusal (a ``gr.Error`` message such as "the
question is empty") is a handled input; the server's "Something went wrong" message or a
dead server is a crash; a request unanswered within the hang limit is a hang; anything else
(a transport error, a malformed answer) is an error.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.ui.handlers import INTERNAL
from eval.bench.common import free_port
from eval.bench.soak_fuzz import SUFFIXES, document, question, term_for

ACTIONS = ("ask", "stream", "follow_up", "documents", "status", "upload")
WEIGHTS = (50, 10, 15, 5, 5, 5)


class Tally:
    """Thread-safe counts for the UI phase."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts = {"inputs": 0, "handled": 0, "crashes": 0, "hangs": 0, "errors": 0}
        self.notes: list[str] = []

    def add(self, key: str, note: str = "") -> None:
        with self.lock:
            self.counts["inputs"] += 1
            self.counts[key] += 1
            if note and len(self.notes) < 20:
                self.notes.append(note[:300])


def start_server(index: Path, log: Path, timeout: float = 600) -> tuple[str, subprocess.Popen]:
    """`opsqa serve` on 127.0.0.1 over ``index``, stderr to ``log``; (url, process) once up."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "OPSQA_AUTH"}  # loopback: writes allowed
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                             "--index-dir", str(index)], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"))  # noqa: SIM115 - the child owns it
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"opsqa serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"opsqa serve did not answer in {timeout:.0f} s")


def _check(action: str, result: Any) -> str:
    """"" when a successful result looks right, else what is wrong with it."""
    if action in ("ask", "follow_up"):
        d = result[0] if action == "follow_up" and isinstance(result, (list, tuple)) else result
        text = str(d.get("text", ""))
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        if not text or any(n < 1 or n > len(d.get("sources", [])) for n in cited):
            return f"bad answer: {text[:100]!r}"
    if action == "stream" and not isinstance(result, str):
        return "stream gave no text"
    return ""


def _request(client: Any, rng: random.Random, action: str, tmp: Path, n: int) -> tuple[Any, Any]:
    """Submit one request; returns (job, follow-up) where follow-up deletes an upload."""
    if action in ("ask", "stream", "follow_up"):
        return client.submit(question(rng), "", api_name=f"/{action}"), None
    if action in ("documents", "status"):
        return client.submit(api_name=f"/{action}"), None
    from gradio_client import handle_file

    suffix = rng.choice(SUFFIXES)
    f = tmp / f"c{n}-{rng.randrange(10**9)}{suffix}"
    f.write_bytes(document(rng, suffix, term_for(rng.randrange(10_000))))
    name = rng.choice((f.name, f"../../evil{suffix}", f"\x1b[31m{suffix}", f"über {f.name}"))
    return client.submit(handle_file(str(f)), name, api_name="/upload"), rng.random() < 0.5


def _failed(action: str, exc: Exception) -> tuple[str, str]:
    """(tally key, note) for a request that raised: the server's "Something went wrong" is a
    crash, a transport failure or an empty message an error, a clear message a handled input."""
    text = str(exc)
    if INTERNAL[:30] in text:
        return "crashes", f"{action}: {text}"
    if "Connection" in type(exc).__name__ or not text.strip():
        return "errors", f"{action}: {type(exc).__name__}: {text}"
    return "handled", ""


def client_loop(url: str, n: int, deadline: float, seed: int, hang_s: float, tmp: Path,
                tally: Tally) -> None:
    from gradio_client import Client

    rng = random.Random(seed * 1000 + n)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted and reported
        tally.add("errors", f"client {n}: connect: {exc}")
        return
    while time.monotonic() < deadline:
        action = rng.choices(ACTIONS, WEIGHTS)[0]
        job, delete_after = _request(client, rng, action, tmp, n)
        try:
            result = job.result(timeout=hang_s)
        except TimeoutError:
            job.cancel()
            tally.add("hangs", f"{action}: no answer in {hang_s:.0f} s")
            continue
        except Exception as exc:  # noqa: BLE001 - gr.Error arrives as a plain exception
            tally.add(*_failed(action, exc))
            continue
        problem = _check(action, result)
        tally.add("errors" if problem else "handled", f"{action}: {problem}" if problem else "")
        if delete_after and isinstance(result, dict) and result.get("file"):
            try:
                client.predict(result["file"], api_name="/delete")
                tally.add("handled")
            except Exception as exc:  # noqa: BLE001 - another client may have deleted it
                tally.add(*_failed("delete", exc))


def drive(index: Path, work: Path, clients: int, seconds: float, seed: int, hang_s: float,
          log_line: Callable[[str], None]) -> dict[str, Any]:
    """Serve ``index`` and run ``clients`` users for ``seconds``; the tally."""
    log = work / "serve.log"
    url, proc = start_server(index, log)
    tally = Tally()
    tmp = work / "ui-uploads"
    tmp.mkdir(exist_ok=True)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(url, n, deadline, seed, hang_s, tmp, tally))
               for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + hang_s + 60)
    if proc.poll() is not None:
        tally.add("crashes", f"opsqa serve died with {proc.returncode}")
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    logged = log.read_text(errors="replace").count("unexpected error in a UI handler")
    out = dict(tally.counts, notes=tally.notes, server_tracebacks=logged)
    log_line(f"ui: {out['inputs']} requests from {clients} clients in {seconds:.0f} s, "
             f"{logged} tracebacks in the server log")
    return out
