"""An incremental ingest ends where a clean ingest of the same files would (found by the soak):
a file that can no longer be ingested loses its old document, and chunks a killed ingest left
without a manifest record leave once their file is gone.

Bounds: in-process ingests of a few small files (seconds).

Internal: ``file_key`` names the manifest record a killed ingest never wrote; removing it is
the only way to make that state without killing a process.
"""

from __future__ import annotations

from pathlib import Path

from app import Assistant

DOC = "---\ntitle: {t}\n---\n# {t}\n\n{t} is the practice of {w} in operations teams.\n"


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def state(bot: Assistant) -> tuple[dict[str, int], int]:
    return {Path(d.path).name: d.chunks for d in bot.documents()}, bot.status()["chunks"]


def test_a_file_that_turns_binary_loses_its_old_document(tmp_path):
    docs = tmp_path / "docs"
    write(docs / "good.md", DOC.format(t="Goodops", w="good things"))
    zorb = write(docs / "zorb.md", DOC.format(t="Zorblaxops", w="quarterly gravel audits"))
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    bot.ingest([docs])
    zorb.write_bytes(b"\x00\x01\x02 binary now \x00" * 50)
    r = bot.ingest([docs])
    assert [Path(p).name for p in r.removed] == ["zorb.md"]
    (why,) = [w for p, w in r.skipped if p.endswith("zorb.md")]
    assert "binary" in why and "earlier version was removed" in why
    assert not any("Zorblaxops" in s.text for s in bot.search("quarterly gravel audits", k=5))
    clean = Assistant.open(index_dir=tmp_path / "clean", auto_ingest=False)
    clean.ingest([docs])
    assert state(bot) == state(clean) == ({"good.md": 1}, 1)


def test_chunks_without_a_record_leave_with_their_file(tmp_path):
    """What a kill between a new file's chunk upsert and its manifest record leaves behind,
    followed by the file's deletion before the next ingest."""
    docs = tmp_path / "docs"
    write(docs / "good.md", DOC.format(t="Goodops", w="good things"))
    bot = Assistant.open(index_dir=tmp_path / "i", auto_ingest=False)
    bot.ingest([docs])
    zorb = write(docs / "zorb.md", DOC.format(t="Zorblaxops", w="quarterly gravel audits"))
    bot.ingest([docs])
    bot.store.files.delete(ids=[_key(bot, zorb)])  # the record a kill never let be written
    assert bot.status()["chunks"] == 2 and len(bot.documents()) == 1
    zorb.unlink()
    r = bot.ingest([docs])
    assert [Path(p).name for p in r.removed] == ["zorb.md"]
    assert state(bot) == ({"good.md": 1}, 1)
    assert not any("Zorblaxops" in s.text for s in bot.search("quarterly gravel audits", k=5))


def _key(bot: Assistant, path: Path) -> str:
    from ingest.store import file_key

    return file_key(str(path.resolve()))
