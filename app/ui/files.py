"""Upload safety for the web UI: type and size limits, safe file names, storage under uploads/.

A browser-supplied name is never trusted: only its last path component survives, reduced to
``[A-Za-z0-9._-]``, and the final path is checked to sit directly in the uploads folder. The
size is read from the file system (``os.path.getsize``) before anything reads the content.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

from app import DOCUMENT_TYPES, NOT_A_DOCUMENT, UnreadableType, UploadError

ALLOWED_SUFFIXES = DOCUMENT_TYPES  # what ingest reads, from its one list (ingest/registry.py)
MAX_NAME = 100
__all__ = ["ALLOWED_SUFFIXES", "NOT_A_DOCUMENT", "UnreadableType", "UploadError", "display_names",
           "is_upload", "safe_name", "store_upload", "uploads_dir"]


def uploads_dir(index_dir: str | Path) -> Path:
    """``<index_dir>/uploads``, created on demand."""
    d = Path(index_dir).expanduser().resolve() / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder: basename only, safe characters, no dot prefix.

    Raises:
        UploadError: nothing usable is left, or the type is not allowed.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._-")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in ALLOWED_SUFFIXES:
        raise UnreadableType(f"{name!r}: {NOT_A_DOCUMENT} ({suffix or 'no file type'}); "
                             f"only {', '.join(ALLOWED_SUFFIXES)} files can be uploaded")
    stem = stem[: MAX_NAME - len(suffix)].rstrip("._-") or "upload"
    return stem + suffix


def store_upload(tmp_path: str | Path, name: str, index_dir: str | Path, max_mb: float) -> Path:
    """Check an uploaded temp file and copy it to ``<index_dir>/uploads/<safe name>``.

    Args:
        tmp_path: the file the web server wrote. name: the name the user gave it.
        max_mb: ``settings.upload_max_mb``.

    Returns:
        The stored path (an existing upload of the same name is replaced: a new version).

    Raises:
        UploadError: wrong type, too large, or unreadable.
    """
    clean = safe_name(name)
    try:
        size = os.path.getsize(tmp_path)  # before reading a byte of it
    except OSError as exc:
        raise UploadError(f"{clean}: the upload could not be read ({exc.strerror})") from None
    limit = int(max_mb * 1_000_000)
    if size > limit:
        raise UploadError(
            f"{clean} is {size / 1e6:.1f} MB; uploads are limited to {max_mb:g} MB (upload_max_mb)"
        )
    folder = uploads_dir(index_dir)
    dest = (folder / clean).resolve()
    if dest.parent != folder:  # belt and braces: safe_name already removed separators
        raise UploadError(f"{name!r}: not a usable file name")
    tmp = dest.with_name(f".{clean}.part")
    shutil.copyfile(tmp_path, tmp)
    os.replace(tmp, dest)
    return dest


def is_upload(path: str | Path, index_dir: str | Path) -> bool:
    """True when ``path`` is a file the UI stored (so deleting it may remove the copy too)."""
    folder = uploads_dir(index_dir)
    try:
        return Path(path).resolve().parent == folder
    except OSError:
        return False


def display_names(records: list[Any], corpus_dir: str | Path, index_dir: str | Path
                  ) -> dict[str, str]:
    """How the page names each indexed document, never by its server path: ``built-in:``
    and the path inside the default corpus, ``uploaded:`` and the name, else the file name."""
    corpus = Path(corpus_dir).expanduser().resolve()
    folder = uploads_dir(index_dir)
    out = {}
    for r in records:
        p = Path(r.path)
        if p.parent == folder:
            out[r.path] = f"uploaded: {p.name}"
        elif p.is_relative_to(corpus):
            out[r.path] = f"built-in: {p.relative_to(corpus).as_posix()}"
        else:
            out[r.path] = p.name
    return out
