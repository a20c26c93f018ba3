"""Finding and reading source files: regular files only, read without blocking, size-checked.

A folder is walked with symlinks followed (a folder reached twice, as in a symlink loop, is
walked once), and each file keeps the path it has in the folder the user named: a symlinked
file is listed under its link, so removing the link removes its document. FIFOs, devices,
sockets, dangling links and unreadable folders are reported with a reason instead of being
read, and a file is opened non-blocking and checked again on the open handle (fstat), so a
path swapped for a FIFO or ``/dev/zero`` after it was listed can neither hang nor spin.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import SkipFile

NOT_A_DOCUMENT = "not a document format opsqa reads"
HIDDEN = "its name starts with a dot"
ABOUT_THE_FOLDER = "describes the folder, not its subject (setting skip_files)"


@dataclass
class Found:
    """What ``scan`` found: files to read, named paths that failed, entries skipped in
    folders, entries not read (other file types, hidden ones, ``skip``'s), and the folder
    each file was found in (a file named on its own: its own folder)."""

    files: list[Path] = field(default_factory=list)
    missing: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    roots: dict[Path, Path] = field(default_factory=dict)


Skip = Callable[[str], bool]  # a path relative to the folder being walked -> leave it out


def scan(paths: Iterable[str | Path], suffixes: Collection[str], skip: Skip | None = None
         ) -> Found:
    """Expand files and folders into the regular files of the given types under them.

    One file reached under several names (links) is listed once: under its own name when the
    walk meets it, else under the first link in sorted order.

    Args:
        paths: Files and folders; folders are walked recursively, hidden ones skipped.
        suffixes: The file types to list (lower case, with the dot), e.g.
            ``ingest.registry.SUPPORTED_SUFFIXES``.
        skip: Files in a walked folder it is true for (given their path relative to that
            folder) are not listed; a file named on its own always is.

    Returns:
        ``files``: sorted unique files (folders resolved, the last component as the user's
        folder holds it); ``missing``: named paths that do not exist or have an unsupported
        type; ``skipped``: non-regular entries and unreadable folders, each with a reason;
        ``ignored``: what a walk left out and why.
    """
    found = Found()
    candidates: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists() and not path.is_symlink():
            found.missing.append((path, "no such file or folder"))
        elif path.is_dir():
            _walk(path.resolve(), suffixes, candidates, found, skip)
        elif path.suffix.lower() in suffixes:
            _add(path.parent.resolve() / path.name, candidates, found)
            found.roots.setdefault(path.parent.resolve() / path.name, path.parent.resolve())
        else:
            found.missing.append((path, f"{NOT_A_DOCUMENT} ({path.suffix or 'no file type'})"))
    found.files = _unique(candidates)
    return found


def _walk(root: Path, suffixes: Collection[str], candidates: list[Path], found: Found,
          skip: Skip | None) -> None:
    seen: set[tuple[int, int]] = set()  # (device, inode) of visited folders: stops symlink loops

    def unreadable(exc: OSError) -> None:
        found.skipped.append((Path(exc.filename or root), f"cannot read folder: {exc.strerror}"))

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=unreadable):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        found.ignored += [(Path(folder, d), HIDDEN) for d in sorted(dirs) if d.startswith(".")]
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            why = _left_out(path, root, suffixes, skip)
            if why:
                found.ignored.append((path, why))
            else:
                _add(path, candidates, found)
                found.roots.setdefault(path, root)


def _left_out(path: Path, root: Path, suffixes: Collection[str], skip: Skip | None) -> str:
    """Why a walk does not read ``path`` ("" when it does)."""
    if path.name.startswith("."):
        return HIDDEN
    if path.suffix.lower() not in suffixes:
        return NOT_A_DOCUMENT
    if skip is not None and skip(path.relative_to(root).as_posix()):
        return ABOUT_THE_FOLDER
    return ""


def _add(path: Path, candidates: list[Path], found: Found) -> None:
    why = not_regular(path)
    if why:
        found.skipped.append((path, why))
    else:
        candidates.append(path)


def _unique(paths: list[Path]) -> list[Path]:
    """One path per file (device, inode): the one that is not a link if any, else the first."""
    best: dict[tuple[int, int], Path] = {}
    for p in sorted(set(paths)):
        try:
            st = os.stat(p)
        except OSError:
            continue  # gone since it was listed: the next ingest sees it as removed
        key = (st.st_dev, st.st_ino)
        if key not in best or (best[key].is_symlink() and not p.is_symlink()):
            best[key] = p
    return sorted(best.values())


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")


def not_regular(path: Path) -> str:
    """Why ``path`` cannot be read as a document ("" for a regular file), without opening it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return "cannot read file: a dangling symbolic link (its target does not exist)"
        return "cannot read file: no such file"
    except OSError as exc:  # a symlink loop, a name too long, no permission on the folder
        return f"cannot read file: {exc.strerror or exc}"
    return "" if stat.S_ISREG(st.st_mode) else _irregular(st.st_mode)


def _irregular(mode: int) -> str:
    return f"cannot read file: it is {_kind(mode)}, not a regular file"


def read_file(path: Path, max_bytes: int) -> bytes:
    """Read a regular file whole: never blocks on a FIFO, never reads past ``max_bytes``.

    Raises:
        SkipFile: not a regular file, over ``max_bytes``, or unreadable.
    """
    why = not_regular(path)  # devices are never even opened (opening some has side effects)
    if why:
        raise SkipFile(why)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise SkipFile(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)  # the file actually opened, whatever the path names by now
        if not stat.S_ISREG(st.st_mode):
            raise SkipFile(_irregular(st.st_mode))
        check_size(st.st_size, max_bytes)
        parts, total = [], 0
        while block := os.read(fd, min(1 << 20, max_bytes + 1 - total)):
            parts.append(block)
            total += len(block)
            check_size(total, max_bytes)  # it grew while being read
        return b"".join(parts)
    except OSError as exc:
        raise SkipFile(f"cannot read file: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def check_size(size: int, max_bytes: int) -> None:
    """Raises SkipFile when ``size`` is over ``max_bytes`` (the ``max_file_mb`` setting)."""
    if size > max_bytes:
        raise SkipFile(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit (max_file_mb)")


def storable(text: str) -> str:
    """``text`` as valid UTF-8 for the index and the terminal: itself when it already is; else
    a file name's undecodable bytes (surrogate escapes) become ``\\xNN`` and any other lone
    surrogate ``\\udNNN``. Never fails."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def path_text(path: str | Path) -> str:
    """How a path is named in the index (manifest, chunk metadata, reports): ``storable``."""
    return storable(os.fspath(path))
