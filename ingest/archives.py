"""Unpacking archives (a .docx is a zip) by what is read: in steps, counting the bytes that
come out, never trusting the sizes the archive's directory declares."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from ingest.errors import SkipFile, first_line

_STEP = 1 << 16  # bytes unpacked per read of a zip member


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
        raise SkipFile(f"not a {what}: {first_line(exc)}") from exc
    return out
