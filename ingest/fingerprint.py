"""A model folder's fingerprint: one hash of the bytes of its files, cached by their stat.

The index records which embedding model wrote its vectors. A folder's name says little (two
fine-tunes of one model may sit in folders of the same name), so the record is a SHA-256
over every file of the folder (its path in the folder and its bytes; hidden files and
Markdown notes left out). Hashing the weights takes a fraction of a second; each file's hash
is then kept in ``~/.cache/opsqa/model-digests.json`` under its path, size, times and inode,
so later opens only stat the files. A file rewritten in place changes its ctime, which no
copy or touch can set back, so a stale entry is never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

CACHE = Path.home() / ".cache" / "opsqa" / "model-digests.json"


def folder_digest(folder: Path, cache: Path = CACHE) -> str:
    """The SHA-256 (hex) of ``folder``'s files: their relative paths and contents, in order."""
    saved = _load(cache)
    fresh: dict[str, list[object]] = {}
    total = hashlib.sha256()
    root = folder.resolve()
    for path in _files(root):
        st = path.stat()
        key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        entry = saved.get(str(path))
        digest = entry[-1] if isinstance(entry, list) and entry[:-1] == key else _hash(path)
        fresh[str(path)] = [*key, digest]
        total.update(f"{path.relative_to(root).as_posix()}\0{digest}\n".encode())
    if any(saved.get(p) != v for p, v in fresh.items()):
        _save(cache, {**saved, **fresh})
    return total.hexdigest()


def _files(root: Path) -> list[Path]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(folder, n) for n in sorted(names)
                if not n.startswith(".") and not n.lower().endswith(".md")]
    return out


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _load(cache: Path) -> dict[str, object]:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(cache: Path, data: dict[str, object]) -> None:
    """Write the cache atomically; a cache that cannot be written only costs a re-hash."""
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data))
        os.replace(tmp, cache)
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
