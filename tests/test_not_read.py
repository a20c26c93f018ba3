"""Never silent: every file ingest does not read is named, grouped by type with a count and
the reason; a folder with nothing readable fails; files about a folder (README, LICENSE ...)
stay out by default, as the setting ``skip_files`` says; one list of types everywhere.

Internal: the upload panel's message (``Handlers.upload``) is a private endpoint only a browser
reaches; the HTTP upload's refusal of other types is in test_ui_api."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app import DOCUMENT_TYPES, Assistant
from app.cli import main
from tests.conftest import ROOT


def _flat(text: str) -> str:
    return " ".join(text.split())  # the terminal wraps long lines


def _unreadable(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    for n in range(3):
        (folder / f"conf{n}.yaml").write_text(f"n: {n}\n")
    (folder / "sub" / "data.json").write_text("{}\n")
    (folder / ".env").write_text("X=1\n")
    return folder


def test_a_folder_of_unreadable_types_fails_naming_them(tmp_path, capsys):
    folder = _unreadable(tmp_path / "configs")
    rc = main(["ingest", str(folder), "--index-dir", str(tmp_path / "idx")])
    err = _flat(capsys.readouterr().err)
    assert rc == 1
    assert "not read: 3 × .yaml: not a document format opsqa reads" in err, err
    assert "conf0.yaml" in err and "conf2.yaml" in err
    assert "not read: 1 × .json: not a document format opsqa reads" in err
    assert "not read: 1 × hidden: its name starts with a dot" in err
    assert "nothing to read in" in err and "found 3 × .yaml, 1 × .json, 1 × hidden" in err
    assert ".rst" in err.split("opsqa reads")[-1]  # and says what it would read


def test_ingest_json_carries_the_same(tmp_path, capsys):
    folder = _unreadable(tmp_path / "configs")
    (folder / "notes.md").write_text("# Notes\n\nThe quay gate opens at dawn.\n")
    rc = main(["ingest", str(folder), "--index-dir", str(tmp_path / "idx"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["ok"] and [Path(p).name for p in out["added"]] == ["notes.md"]
    groups = {g["type"]: (g["count"], g["reason"], [Path(f).name for f in g["files"]])
              for g in out["not_read"]}
    assert groups[".yaml"] == (3, "not a document format opsqa reads",
                               ["conf0.yaml", "conf1.yaml", "conf2.yaml"])
    assert groups[".json"][0] == 1 and groups["hidden"][2] == [".env"]


def test_files_about_the_folder_are_not_read_by_default(tmp_path):
    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    page = "# {0}\n\nThe {0} page says the tide turns at noon.\n"
    for rel in ("README.md", "LICENSE.md", "guide/CONTRIBUTING.md", "guide/README.md",
                "guide/changelog.md", "guide/contributing.md", "guide/tides.md"):
        (docs / rel).write_text(page.format(Path(rel).stem))
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False, skip_files=[])
    assert len(bot.ingest([docs]).added) == 7  # the setting empty: everything is read
    bot = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False)
    report = bot.ingest([docs])
    gone = sorted(Path(p).relative_to(docs).as_posix() for p in report.removed)
    assert gone == ["LICENSE.md", "README.md", "guide/CONTRIBUTING.md"]
    (group,) = report.not_read()
    assert group["count"] == 3 and "describes the folder" in group["reason"]
    kept = sorted(Path(r.path).relative_to(docs.resolve()).as_posix() for r in bot.documents())
    # a README inside a documentation set is a page; lower-case pages are pages
    assert kept == ["guide/README.md", "guide/changelog.md", "guide/contributing.md",
                    "guide/tides.md"]
    assert bot.ingest([docs / "README.md"]).added  # a file named on its own is always read


def test_skip_files_setting_lists_what_to_skip(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    (docs / "drafts").mkdir(parents=True)
    (docs / "drafts" / "a.md").write_text("# Draft\n\nNot ready.\n")
    (docs / "b.md").write_text("# Ready\n\nThe harbour opens at six.\n")
    monkeypatch.setenv("OPSQA_SKIP_FILES", '["drafts/"]')
    report = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False).ingest([docs])
    assert [Path(p).name for p in report.added] == ["b.md"]
    assert [Path(p).name for p, _ in report.ignored] == ["a.md"]


def test_the_default_corpus_readme_is_not_knowledge(shared_bot):
    names = [Path(r.path).name for r in shared_bot.documents()]
    assert "README.md" not in names and len(names) == len(list((ROOT / "corpus").glob("*.md"))) - 1
    ans = shared_bot.ask("How should a corpus document's front matter be written?")
    assert all(Path(s.path).name != "README.md" for s in ans.sources)


def test_one_list_of_types_everywhere(capsys, tmp_path):
    """``DOCUMENT_TYPES``, what ingest reads, ``opsqa ingest --help`` and the README name the
    same types (the web upload's list: test_ui_api's refusal of other types)."""
    listed = DOCUMENT_TYPES
    assert len(set(listed)) == len(listed) and all(s.startswith(".") for s in listed)
    assert {".md", ".rst", ".adoc", ".pdf", ".docx", ".ipynb", ".html", ".txt"} <= set(listed)
    docs = tmp_path / "docs"
    docs.mkdir()
    others = (".yaml", ".json", ".pptx", ".rtf", ".xml")
    for n, suffix in enumerate(listed + others):
        (docs / f"f{n}{suffix}").write_text("# Title\n\nSome words.\n")
    report = Assistant.open(index_dir=tmp_path / "idx", auto_ingest=False).ingest([docs])
    assert sorted(Path(p).suffix for p, _ in report.ignored) == sorted(others)
    looked_at = report.added + [p for p, _ in report.skipped]
    assert sorted(Path(p).suffix for p in looked_at) == sorted(listed)
    with pytest.raises(SystemExit) as done:
        main(["ingest", "--help"])
    assert done.value.code == 0
    shown = _flat(capsys.readouterr().out)
    assert all(s in shown for s in listed)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    formats = readme.split("## Document formats", 1)[1].split("\n## ", 1)[0]
    assert sorted(set(re.findall(r"`(\.\w+)`", formats))) == sorted(listed)


def test_the_ui_upload_says_what_it_did_not_read(bot, tmp_path):
    from app.ui.handlers import Handlers

    files = []
    for name, text in (("a.yaml", "a: 1\n"), ("b.yaml", "b: 2\n"), ("c.json", "{}\n"),
                       ("quay.md", "# Quay\n\nThe quay gate opens at dawn.\n")):
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    message = Handlers(bot).upload(files, progress=lambda *a, **k: None)[0]
    assert "**Indexed** quay.md" in message, message
    assert "2 × .yaml (a.yaml, b.yaml)" in message and "1 × .json (c.json)" in message
    assert "not a document format opsqa reads" in message
