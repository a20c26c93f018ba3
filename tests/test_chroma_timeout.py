"""Chroma server connections time out with one line naming the server (issue 14, point 2).

A real listener socket that accepts connections and never replies stands in for a stuck
server; a stdlib HTTP server stands in for a wrong one; a real `chroma run` is stopped with
SIGSTOP after opening, so calls after the first also have to time out. Bounds: each CLI case
is one subprocess (about 5-10 s, 90 s timeout); the SIGSTOP case starts one `chroma run`.

Internal: ``eval.bench.common.chroma_server`` starts and stops the `chroma run` (a test helper
shared with the benchmarks, not opsqa code under test).
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT

TIMEOUT_S = 2


@pytest.fixture()
def silent() -> Iterator[int]:
    """A port whose listener accepts every connection and never sends a byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    for c in held:
        c.close()
    srv.close()


@pytest.fixture()
def trickle() -> Iterator[int]:
    """A fake server (a real socket): it answers every request with a status line, then one
    more header line every half second, for ever. Each read gets bytes well within the
    timeout, so only a deadline for the whole answer ends the wait."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                n = 0
                while not stop.wait(0.5):
                    n += 1
                    conn.sendall(f"X-Trickle-{n}: still coming\r\n".encode())
            except OSError:
                return

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = srv.accept()[0]
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    srv.close()


@pytest.fixture()
def not_chroma(tmp_path) -> Iterator[int]:
    """A plain HTTP file server: HTML 404 pages for every Chroma route."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def cli(port: int, tmp_path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "OPSQA_CHROMA_TIMEOUT": str(TIMEOUT_S)}
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "app.cli", *args, "--index-dir", str(tmp_path / "i"),
                        "--chroma-host", "127.0.0.1", "--chroma-port", str(port)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    return r, time.monotonic() - t0


COMMANDS = (("status",), ("ask", "What is GitOps?"), ("ingest", "corpus"), ("serve", "--port", "0"))


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_server_that_never_answers_times_out_with_one_line(silent, tmp_path, args):
    r, took = cli(silent, tmp_path, *args)  # today: hangs until the 90 s timeout
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsqa: error:"), r.stderr
    assert f"127.0.0.1:{silent}" in lines[0] and f"within {TIMEOUT_S} s (chroma_timeout)" in lines[0]
    assert took < 60


@pytest.mark.parametrize("args", COMMANDS[:2], ids=lambda a: a[0])
def test_a_server_that_trickles_its_answer_times_out_with_one_line(trickle, tmp_path, args):
    """One deadline per answer: bytes arriving every half second do not extend it."""
    r, took = cli(trickle, tmp_path, *args)  # before: hung until the 90 s limit
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsqa: error:"), r.stderr
    assert f"127.0.0.1:{trickle}" in lines[0] and f"within {TIMEOUT_S} s (chroma_timeout)" in lines[0]
    assert took < 30


def test_a_server_that_is_not_chroma_gives_one_line(not_chroma, tmp_path):
    r, _ = cli(not_chroma, tmp_path, "status")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsqa: error:"), r.stderr
    assert f"127.0.0.1:{not_chroma}" in lines[0] and "HTTP 404" in lines[0]
    assert "<" not in lines[0], "no HTML in the message"


@pytest.mark.slow
def test_every_call_after_opening_times_out_too(tmp_path):
    """Open against a real server, then freeze it: ask and ingest fail within the timeout."""
    from app import Assistant, IndexStoreError
    from eval.bench.common import chroma_server
    from tests.conftest import CORPUS

    with chroma_server(tmp_path / "data") as (port, proc):
        bot = Assistant.open(index_dir=tmp_path / "i", chroma_host="127.0.0.1",
                             chroma_port=port, chroma_timeout=TIMEOUT_S, corpus_dir=CORPUS)
        assert not bot.ask("What is GitOps?").refused
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            for call in (lambda: bot.status(), lambda: bot.ingest([CORPUS]),
                         lambda: bot.documents()):
                t0 = time.monotonic()
                with pytest.raises(IndexStoreError, match=rf"127\.0\.0\.1:{port} did not answer"):
                    call()
                assert time.monotonic() - t0 < 30
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert bot.status()["documents"] == 9  # answers again (corpus/README.md is not read)
