"""Shared helpers for the benchmarks: timers, percentiles, tables, JSON, a `chroma run` server."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARGO = ROOT.parent / "shared" / "corpora" / "argo-cd-docs"
CORPUS = ROOT / "corpus"
PY = sys.executable

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the benchmarks never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@dataclass
class Clock:
    """Wall and process-CPU seconds of a ``with`` block (CPU is steadier on a busy machine)."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Clock:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_binary() -> str:
    """The ``chroma`` console script next to this interpreter (the installed chromadb)."""
    own = Path(PY).parent / "chroma"
    return str(own) if own.exists() else (shutil.which("chroma") or "chroma")


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 60.0) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run ``chroma run`` on 127.0.0.1 with data in ``path``; yields (port, process).

    Raises:
        RuntimeError: the server did not answer its heartbeat within ``timeout`` seconds.
    """
    import httpx

    port = free_port()
    Path(path).mkdir(parents=True, exist_ok=True)
    log = open(Path(path).parent / f"chroma-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [chroma_binary(), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}; see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer on port {port} in {timeout:.0f} s")
            time.sleep(0.2)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def proc_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a live process in MB, from /proc; 0 when unavailable."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def self_peak_rss_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` is not used where /proc is readable: Linux
    carries the parent's peak into a (v)forked-then-exec'd child's ``ru_maxrss``, so a child
    of a big process would report the parent's figure."""
    return proc_rss_mb(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_mb(path: Path) -> float:
    """Bytes on disk under ``path`` in MB (allocated blocks, like ``du``)."""
    total = 0
    for p in Path(path).rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_blocks * 512
    return total / 1e6


def run_child(args: list[str], env: dict[str, str] | None = None,
              timeout: float = 7200) -> dict[str, Any]:
    """Run ``python <args>`` that prints one JSON object last (with its own peak RSS).

    Raises:
        RuntimeError: the child failed; its stderr tail is in the message.
    """
    proc = subprocess.run([PY, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # The child reports its own ru_maxrss: RUSAGE_CHILDREN here is a max over all children.
    return dict(out)


def show(title: str, rows: list[dict[str, Any]], notes: list[str] | None = None) -> None:
    """Print rows (dicts with the same keys) as a rich table, then notes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    keys = list(rows[0]) if rows else []
    for k in keys:
        table.add_column(k, justify="left" if k in ("what", "mode", "corpus") else "right")
    for r in rows:
        table.add_row(*[_fmt(r.get(k)) for k in keys])
    console = Console(width=max(160, Console().width))
    console.print(table)
    for n in notes or []:
        console.print(f"  {n}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}"
    return "" if v is None else str(v)


def write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")


def machine() -> dict[str, Any]:
    """Where the figures came from: cores, load at start, Python and key library versions."""
    import platform
    from importlib.metadata import version

    libs = {}
    for name in ("chromadb", "onnxruntime", "torch", "sentence-transformers", "llama-index-core"):
        with contextlib.suppress(Exception):
            libs[name] = version(name)
    return {"cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "libs": libs}
