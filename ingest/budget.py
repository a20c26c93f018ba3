"""Reading one file within a budget of time and memory, and unpacking archives by what is read.

A parser given a hostile file can run for minutes or take gigabytes in ways no check on the
input foresees. So each file is read (decoded, parsed and cleaned: ``load_document``) in a
forked child process whose address space may grow by ``memory_mb`` at most (``RLIMIT_AS``
over what the ingest maps already) and which is killed after ``seconds``; the Document comes
back through a pipe, or the one-line reason it could not. Time is counted as the child's CPU
time (``RLIMIT_CPU``), so a machine busy with other work does not cut a file short; a wall
clock of three times as long, and half a minute, ends a child that stalls without using any.
A fork shares the ingest's memory (nothing is imported or loaded again) and costs
milliseconds per file. Where ``os.fork`` is unsafe or missing (not Linux), files are read
in-process, without the budget.

Archives (a .docx is a zip) are unpacked by ``unzip_counted``: in steps, counting the bytes
that come out, never trusting the sizes the archive's directory declares.
"""

from __future__ import annotations

import gc
import io
import math
import os
import pickle
import resource
import select
import signal
import sys
import time
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

from ingest.errors import SkipFile

T = TypeVar("T")
_STEP = 1 << 16  # bytes unpacked per read of a zip member


def can_fork() -> bool:
    """Whether files are read in a bounded child (Linux: fork is safe beside threads that
    the child never touches; macOS's frameworks are not)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def run_bounded(fn: Callable[..., T], *args: Any, seconds: float, memory_mb: float,
                **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a forked child limited to ``seconds`` of CPU (whole seconds,
    at least one) and ``memory_mb`` more memory than this process maps now; its result is
    pickled back.

    Raises:
        SkipFile: ``fn`` raised it, or went over the time or memory budget, or crashed.
    """
    if not can_fork():
        return fn(*args, **kwargs)
    read_end, write_end = os.pipe()
    limits = (_mapped_bytes() + int(memory_mb * (1 << 20)), max(1, math.ceil(seconds)))
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(write_end, limits, fn, args, kwargs)
    os.close(write_end)
    try:
        payload, stalled = _collect(read_end, pid, 3 * seconds + 30)
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if stalled or os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        raise SkipFile(f"reading it took longer than {seconds:g} s (max_read_seconds)")
    return _outcome(payload, status, memory_mb)


def _child(fd: int, limits: tuple[int, int], fn: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> None:
    code = 0
    # Everything inherited stays untouched: the garbage collector would otherwise free dead
    # objects of the ingest's (a closed Chroma client), whose destructors wait on threads
    # that do not exist in a forked child, and hang it.
    gc.freeze()
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child with the ingest
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)
        memory, cpu = limits
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        try:
            result: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except SkipFile as exc:
            result = ("skip", str(exc))
        except MemoryError:
            result = ("memory", "")
        except RecursionError:
            result = ("skip", "nested too deeply to read")
        except Exception as exc:  # a parser's own bug: one line, not a lost ingest
            result = ("skip", f"unreadable: {type(exc).__name__}: {_first_line(exc)}")
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory", ""))
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001 - the parent reads the missing result as a crash
        code = 70
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the ingest's buffers


def _collect(fd: int, pid: int, seconds: float) -> tuple[bytes, bool]:
    """Everything the child writes before it closes the pipe, or (b"", True) once it has run
    ``seconds`` (it is killed then)."""
    parts: list[bytes] = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
        if not ready:
            os.kill(pid, signal.SIGKILL)
            return b"", True
        block = os.read(fd, 1 << 20)
        if not block:
            return b"".join(parts), False
        parts.append(block)


def _outcome(payload: bytes, status: int, memory_mb: float) -> Any:
    over = f"reading it needed more than {memory_mb:g} MB of memory (max_read_mb)"
    if not payload:
        sig = -os.waitstatus_to_exitcode(status)
        how = f"signal {signal.Signals(sig).name}" if sig > 0 else f"exit {-sig}"
        raise SkipFile(f"its reader crashed ({how}); {over}?")
    kind, value = pickle.loads(payload)
    if kind == "ok":
        return value
    raise SkipFile(over if kind == "memory" else value)


def _mapped_bytes() -> int:
    """This process's virtual size (what RLIMIT_AS counts), from /proc."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]


def unzip_counted(data: bytes, keep: Callable[[str], bool], limit: int,
                  what: str) -> dict[str, bytes]:
    """The members of the zip archive ``data`` for which ``keep(name)`` holds, unpacked in
    steps; the bytes that come out are counted, whatever sizes the directory declares.

    Raises:
        SkipFile: not a zip archive, damaged, or more than ``limit`` bytes unpacked in all.
    """
    out: dict[str, bytes] = {}
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.is_dir() or not keep(info.filename):
                    continue
                parts = []
                with zf.open(info) as member:
                    while block := member.read(_STEP):
                        total += len(block)
                        if total > limit:
                            raise SkipFile(
                                f"{what} unpacks to more than {limit / 1e6:,.0f} MB (counted "
                                f"while unpacking; its directory declares "
                                f"{sum(i.file_size for i in zf.infolist()) / 1e6:,.1f} MB)")
                        parts.append(block)
                out[info.filename] = b"".join(parts)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            NotImplementedError, RuntimeError) as exc:
        raise SkipFile(f"not a {what}: {_first_line(exc)}") from exc
    return out
