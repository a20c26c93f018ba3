"""Lexical snapshots on disk: one ``.npz`` per store state under ``<index_dir>/lexical/``.

A snapshot is written atomically (a temporary file, then a rename) and the newest few are
kept; one that is missing, damaged, inconsistent or of another format reads as None, so the
next process rebuilds it rather than trusting it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("app.retrieval.lexical")

FORMAT = 8  # 2: surface words, stemmed for BM25, headers weighted; 3, 4: camelCase parts;
# 5: the terms each chunk defines; 6: full heading paths; 7: acronyms spelt out; 8: glossary
# paragraphs ("Checkpoint: An object that ...")
KEEP_SAVED = 2  # snapshots kept on disk per index folder

TermRow = tuple[str, str, str, str, str]  # (file key, title, aliases, heading path, defines)


def write(folder: Path, key: str, ids: list[str], words: list[str], rows: list[TermRow],
          shas: dict[str, str], tok: np.ndarray, ptr: np.ndarray, row_of: np.ndarray) -> None:
    """Write a snapshot as ``folder/<key>.npz``, keeping the newest few; a folder that cannot
    be written is logged, not raised."""
    head = json.dumps({"format": FORMAT, "key": key, "ids": ids,
                       "words": words, "rows": rows, "shas": shas})
    target = folder / f"{key}.npz"
    tmp = folder / f".{key}.{os.getpid()}.tmp.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.savez(fh, head=np.frombuffer(head.encode(), np.uint8), tok=tok,
                     ptr=ptr, row_of=row_of)
        os.replace(tmp, target)
    except OSError as exc:
        log.warning("could not save the lexical index to %s: %s", folder, exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return
    with contextlib.suppress(OSError):  # another process may be pruning too
        others = sorted((p for p in folder.glob("*.npz")
                         if p != target and not p.name.startswith(".")),
                        key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in others[KEEP_SAVED - 1:]:
            old.unlink(missing_ok=True)


def read(path: Path) -> tuple[Any, ...] | None:
    """``(key, ids, tok, ptr, words, rows, row_of, shas)`` saved at ``path`` (the arguments of
    ``LexicalIndex.assemble``), or None if missing, damaged, inconsistent or of another format."""
    try:
        with np.load(path, allow_pickle=False) as z:
            head = json.loads(bytes(z["head"]).decode())
            tok, ptr, row_of = z["tok"], z["ptr"], z["row_of"]
        ids, words = head["ids"], head["words"]
        rows = [tuple(str(x) for x in r) for r in head["rows"]]
        if head.get("format") != FORMAT:  # written by another opsqa version: rebuild
            return None
        ok = (head["key"] == path.stem
              and isinstance(ids, list) and isinstance(words, list)
              and all(len(r) == 5 for r in rows)
              and tok.dtype == np.int32 and ptr.dtype == np.int64
              and row_of.dtype == np.int32
              and len(ptr) == len(ids) + 1 and len(row_of) == len(ids)
              and ptr[0] == 0 and ptr[-1] == len(tok) and bool(np.all(np.diff(ptr) >= 0))
              and (not len(tok) or (tok.min() >= 0 and tok.max() < len(words)))
              and (not len(row_of) or (row_of.min() >= 0 and row_of.max() < len(rows))))
        if not ok:
            raise ValueError("inconsistent arrays")
        return (head["key"], [str(i) for i in ids], tok, ptr, [str(w) for w in words], rows,
                row_of, {str(k): str(v) for k, v in head["shas"].items()})
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or foreign file: rebuild rather than trust it
        log.warning("ignoring the saved lexical index %s: %s", path, exc)
        return None


def newest(folder: Path, collection: str) -> Path | None:
    """The most recent saved snapshot of ``collection``, if any."""
    try:
        saved = [p for p in folder.glob(f"{collection}-g*.npz")]
        return max(saved, key=lambda p: p.stat().st_mtime) if saved else None
    except OSError:
        return None
