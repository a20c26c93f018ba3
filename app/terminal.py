"""Untrusted text made safe for the terminal and the encoder; a closed stdout ends quietly.

Titles, file names, passages and answers come from documents anyone may have written. A
terminal obeys the control characters in them (ESC sequences set the window title, colours,
clear the screen; a carriage return overwrites a line; bidi overrides reorder it), and rich
obeys ``[markup]``. ``for_terminal`` is the one place the CLI makes such text printable: C0
and C1 controls (except tab and newline) and bidi overrides are shown as ``\\xNN`` /
``\\uNNNN`` escapes instead of acting, lone surrogates (undecodable bytes of a file name)
as ``\\xNN``, and markup is escaped when the text goes through rich.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from ingest.errors import OpsqaError
from ingest.files import storable

_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
_CONTROLS_ONE_LINE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
_JSON_UNSAFE = re.compile(f"[\\x7f-\\x9f{_BIDI}\ud800-\udfff]")  # json.dumps escapes C0
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def for_terminal(text: object, *, one_line: bool = False, markup: bool = False) -> str:
    """``text`` safe to print: controls escaped, valid UTF-8, optionally one line and rich-safe.

    Args:
        one_line: escape newlines and tabs too (titles, names, reasons in a list).
        markup: also escape rich markup (``[red]``) for text printed through rich.
    """
    out = (_CONTROLS_ONE_LINE if one_line else _CONTROLS).sub(_escape, storable(str(text)))
    if markup:
        from rich.markup import escape

        out = escape(out)
    return out


def json_for_terminal(dumped: str) -> str:
    """A ``json.dumps(..., ensure_ascii=False)`` string with C1 controls, bidi overrides and
    lone surrogates written as ``\\uNNNN`` escapes (JSON's own escaping covers only C0)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def without_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates (undecodable bytes from a
    terminal, broken JSON) replaced by spaces: what the tokenizer and JSON can take."""
    if not _SURROGATE.search(text):
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return _SURROGATE.sub(" ", joined)


def source_line(source: Any) -> str:
    """``title — section`` of a cited source, one line, safe for the terminal."""
    return for_terminal(f"{source.title} — {source.section or '(top)'}", one_line=True)


class OutputError(OpsqaError):
    """Standard output cannot be written (closed with ``>&-``, a full disk, ``/dev/full``)."""


class GuardedOutput:
    """``sys.stdout`` whose write failures (other than a reader gone: ``BrokenPipeError``)
    are an ``OutputError`` naming standard output, not an ``OSError`` from deep inside."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _output_error(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _output_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _output_error(exc: OSError) -> OutputError:
    return OutputError(f"cannot write to standard output: {exc.strerror or exc}; "
                       "point it at a file or a terminal with room")


def guard_std_streams() -> OutputError | None:
    """Make the standard streams safe before anything is opened.

    A closed descriptor 0, 1 or 2 (``>&-``) would be taken by the next file opened (the
    index's database, say), and any write meant for the terminal would land in that file:
    each is pointed at /dev/null instead. Standard output is wrapped in ``GuardedOutput``.

    Returns:
        An ``OutputError`` when standard output was closed (nothing can be printed), else None.
    """
    closed = None
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if fd == 1:
                closed = OutputError("standard output is closed (>&-): there is nowhere to "
                                     "write to; point it at a file or a terminal")
    if sys.stdout is not None and not isinstance(sys.stdout, GuardedOutput):
        sys.stdout = GuardedOutput(sys.stdout)
    return closed


def stdout_failed() -> None:
    """After an ``OutputError``: point stdout at /dev/null, so that Python's final flush of
    what is still buffered does not fail again with a second message."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    os.close(devnull)


def stdout_closed() -> int:
    """The reader of stdout went away (``opsqa ask ... | head -c 10``): end quietly.

    Python's final flush would fail again, so stdout is pointed at /dev/null. Returns 141,
    the status a shell shows for a process ended by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141
