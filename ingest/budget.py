"""Reading one file within a budget of time and memory.

A parser given a hostile file can run for minutes or take gigabytes in ways no check on the
input foresees. So files are read (decoded, parsed and cleaned: ``load_document``) in a
forked child process whose memory may grow by ``memory_mb`` at most (the pages it writes,
watched from the ingest, and its address space under ``RLIMIT_AS``) and which is killed when
one file takes more than ``seconds``; the Document comes back through a pipe, or the
one-line reason it could not.
Time is counted as the child's CPU time (``RLIMIT_CPU``, raised before each file), so a
machine busy with other work does not cut a file short; a wall clock of three times as long,
and half a minute, ends a child that stalls without using any. A fork shares the ingest's
memory (nothing is imported or loaded again); one child reads file after file until one goes
over, so an ingest pays for a fork or two, not one per file (a fork of a 280 MB ingest took
165 ms on a loaded machine). Where ``os.fork`` is unsafe or missing (not Linux), files are
read in-process, without the budget.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ingest.errors import SkipFile, first_line

T = TypeVar("T")


def can_fork() -> bool:
    """Whether files are read in a bounded child (Linux: fork is safe beside threads that
    the child never touches; macOS's frameworks are not)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class BoundedReader:
    """Calls ``fn`` file after file in one forked child, each call within ``seconds`` of CPU
    and the child within ``memory_mb`` more memory than this process mapped when it forked.

    One child serves a whole ingest (a fork costs tens of milliseconds on a loaded machine,
    more than reading a small file); a child that goes over a budget or dies is replaced for
    the next file, and a call that ran out of memory in a child that had read other files
    first is tried once more in a fresh one. Use as a context manager; ``close`` ends it.
    """

    def __init__(self, fn: Callable[..., T], seconds: float, memory_mb: float) -> None:
        self.fn, self.seconds, self.memory_mb = fn, seconds, memory_mb
        self._child: tuple[int, int, int] | None = None  # pid, request fd, reply fd
        self._served = 0
        self._budget = 0  # bytes of its own the child may hold

    def __enter__(self) -> BoundedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, read in the child.

        Raises:
            SkipFile: ``fn`` raised it, or went over the time or memory budget, or crashed.
        """
        if not can_fork():
            return self.fn(*args, **kwargs)
        for attempt in range(2):
            fresh = self._served == 0
            kind, value = self._ask(args, kwargs)
            if kind in ("ok", "skip"):
                self._served += 1
                return value if kind == "ok" else _raise(value)
            self.close()
            if kind == "memory" and not fresh and attempt == 0:
                continue  # its heap held earlier files: a fresh child may manage
            raise SkipFile(self._why(kind, value))
        raise AssertionError("unreachable")

    def _why(self, kind: str, value: str) -> str:
        over = f"reading it needed more than {self.memory_mb:g} MB of memory (max_read_mb)"
        if kind == "time":
            return f"reading it took longer than {self.seconds:g} s (max_read_seconds)"
        return over if kind == "memory" else f"its reader crashed ({value}); {over}?"

    def _ask(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
        pid, request, reply = self._start()
        try:
            _send(request, (args, kwargs))
            payload = _receive(reply, 3 * self.seconds + 30, lambda: _private(pid) > self._budget)
        except OSError:  # the child died while it read the request
            payload = None
        if not payload:  # no answer in time, too big, or the pipe closed: how did it end?
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            self._child = None
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            if payload == b"":
                return "memory", ""
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                return "time", ""
            return "crash", f"signal {signal.Signals(sig).name}" if sig else "exit"
        return pickle.loads(payload)

    def _start(self) -> tuple[int, int, int]:
        if self._child is None:
            req_r, req_w = os.pipe()
            rep_r, rep_w = os.pipe()
            # Two bounds: the child's own memory (what it has written since the fork, watched
            # from here: memory this process holds but has freed is reused by the child
            # without growing its address space or its resident size), and its address
            # space (RLIMIT_AS), against an allocation too quick for the watch.
            self._budget = int(self.memory_mb * (1 << 20))
            limit = _mapped_bytes() + self._budget
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(req_w)
                os.close(rep_r)
                _serve(req_r, rep_w, limit, self.seconds, self.fn)
            os.close(req_r)
            os.close(rep_w)
            self._child, self._served = (pid, req_w, rep_r), 0
        return self._child

    def close(self) -> None:
        """End the child (it exits when its request pipe closes)."""
        if self._child is not None:
            pid, request, reply = self._child
            self._child = None
            for fd in (request, reply):
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def run_bounded(fn: Callable[..., T], *args: Any, seconds: float, memory_mb: float,
                **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` once, in a child of its own (see ``BoundedReader``).

    Raises:
        SkipFile: ``fn`` raised it, or went over the time or memory budget, or crashed.
    """
    with BoundedReader(fn, seconds, memory_mb) as read:
        return read(*args, **kwargs)


def _raise(reason: str) -> Any:
    raise SkipFile(reason)


def _serve(request: int, reply: int, limit: int, seconds: float, fn: Callable[..., Any]) -> None:
    """The child's loop: one call per request until the request pipe closes."""
    code = 0
    # Everything inherited stays untouched: the garbage collector would otherwise free dead
    # objects of the ingest's (a closed Chroma client), whose destructors wait on threads
    # that do not exist in a forked child, and hang it.
    gc.freeze()
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child with the ingest
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        while (got := _read_message(request)) is not None:
            used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
            resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(used + seconds), hard))
            args, kwargs = pickle.loads(got)
            _send(reply, _call(fn, args, kwargs))
    except BaseException:  # noqa: BLE001 - the parent reads the closed pipe as a crash
        code = 70
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the ingest's buffers


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> tuple[str, Any]:
    try:
        return "ok", fn(*args, **kwargs)
    except SkipFile as exc:
        return "skip", str(exc)
    except MemoryError:
        return "memory", ""
    except RecursionError:
        return "skip", "nested too deeply to read"
    except Exception as exc:  # a parser's own bug: one line, not a lost ingest
        return "skip", f"unreadable: {type(exc).__name__}: {first_line(exc)}"


def _send(fd: int, obj: Any) -> None:
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        data = pickle.dumps(("memory", ""))
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def _read_message(fd: int) -> bytes | None:
    """One length-prefixed message, or None at the end of the pipe."""
    head = _read_exactly(fd, 8)
    return None if head is None else _read_exactly(fd, int.from_bytes(head, "little"))


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        block = os.read(fd, min(left, 1 << 20))
        if not block:
            return None
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def _receive(fd: int, seconds: float, too_big: Callable[[], bool]) -> bytes | None:
    """The child's next message; None when it has not come within ``seconds`` (wall) or the
    pipe closed, b"" when ``too_big()`` (looked at ten times a second) said so first."""
    deadline = time.monotonic() + seconds
    buf = bytearray()
    need = 8
    ready = select.poll()  # not select.select: it cannot watch a descriptor numbered 1024 or more
    ready.register(fd, select.POLLIN)
    while len(buf) < need:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not ready.poll(max(1, int(min(left, 0.1) * 1000))):
            if too_big():
                return b""
            continue
        block = os.read(fd, min(need - len(buf), 1 << 20))
        if not block:
            return None
        buf += block
        if need == 8 and len(buf) == 8:
            need = 8 + int.from_bytes(bytes(buf), "little")
    return bytes(buf[8:])


def _private(pid: int) -> int:
    """Bytes process ``pid`` holds alone (pages it wrote since it was forked, and its own),
    from /proc/PID/smaps_rollup; 0 once it is gone."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return total


def _mapped_bytes() -> int:
    """This process's virtual size (what RLIMIT_AS counts), from /proc."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()
