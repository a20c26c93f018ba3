"""One index, one answer: every process that opens an index finds the same nearest chunks.

Chroma used to keep up to 1,000 vectors unsaved and insert them into its graph again on every
load, on several threads, so two processes over one index could rank different passages. A
unit test of the store: thousands of passages through the public ingest would take minutes
to embed, and random vectors show the difference at once.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from ingest.chroma import ChromaIndex
from tests.conftest import ROOT

NEAREST = """
import sys
import numpy as np
from pathlib import Path
from ingest.chroma import ChromaIndex
store = ChromaIndex(Path(sys.argv[1]))
qs = np.random.default_rng(1).standard_normal((40, 384)).astype(np.float32)
print([[cid for cid, _ in store.nearest(q / np.linalg.norm(q), 10)] for q in qs])
"""


def _store(tmp_path):
    vecs = np.random.default_rng(0).standard_normal((1700, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store = ChromaIndex(tmp_path)
    for b in range(0, len(vecs), 500):  # written as an ingest writes: batch by batch
        ids = [f"c{i}" for i in range(b, min(b + 500, len(vecs)))]
        store.upsert(ids, vecs[b:b + 500], ids, [{"file": "f"} for _ in ids])
    return store, vecs


def test_the_nearest_chunks_are_the_nearest(tmp_path):
    """The graph search finds (nearly) the exact nearest chunks, not a rough neighbourhood."""
    store, vecs = _store(tmp_path)
    qs = np.random.default_rng(1).standard_normal((40, 384)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    found = 0
    for q in qs:
        exact = {f"c{i}" for i in np.argsort(-(vecs @ q))[:10]}
        found += len(exact & {cid for cid, _ in store.nearest(q, 10)})
    assert found / (10 * len(qs)) >= 0.98


def test_every_process_opening_an_index_finds_the_same_chunks(tmp_path):
    store, _ = _store(tmp_path)
    del store
    found = [subprocess.run([sys.executable, "-c", NEAREST, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, check=True, timeout=300).stdout
             for _ in range(3)]
    assert found[0].startswith("[[") and found[0] == found[1] == found[2]
