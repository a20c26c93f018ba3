"""Clear messages instead of tracebacks, and a terminal that documents cannot drive
(issue 14, points 6, 7 and 8): undecodable questions, a closed stdout, escape sequences
and rich markup in titles and file names, a missing OPSQA_CONFIG and typo'd variables.

Bounds: a handful of CLI subprocesses over a copy of the corpus index (about 5 s each).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from app import ConfigError, QuestionError, Settings
from tests.conftest import ROOT

EVIL_TITLE = 'title: "Zorblax \\e]0;pwned\\a\\e[31mred \\x9b2J [bold]loud[/bold] \\u202egnp"'
EVIL_DOC = f"---\n{EVIL_TITLE}\n---\n# Zorblax\n\nZorblax is the practice of quarterly gravel audits.\n"
EVIL_NAME = b"evil\x1b[2J\x1b]0;pwned\x07.md"
MARKUP_NAME = "[bold red]markup.md"  # no "/": a file name cannot hold one


def cli(*args: str | bytes, stdin: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 180, input_bytes: bytes | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    data = input_bytes if input_bytes is not None else stdin.encode() if stdin is not None else None
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, input=data,
                          capture_output=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def evil_index(corpus_index, tmp_path_factory) -> Path:
    """The corpus plus one document whose title and file name carry escape sequences."""
    base = tmp_path_factory.mktemp("evil")
    d = base / "idx"
    shutil.copytree(corpus_index, d)
    docs = base / "docs"
    docs.mkdir()
    with open(os.fsencode(docs) + b"/" + EVIL_NAME, "w") as fh:
        fh.write(EVIL_DOC)
    r = cli("ingest", str(docs), "--index-dir", str(d))
    assert r.returncode == 0, r.stderr
    return d


def assert_inert(out: bytes) -> None:
    for byte in (b"\x1b", b"\x07", "\x9b".encode(), "\u202e".encode()):
        assert byte not in out, (byte, out[:2000])


def test_plain_ask_prints_no_escape_sequences(evil_index):
    r = cli("ask", "What is Zorblax?", "--index-dir", str(evil_index))
    assert r.returncode == 0, r.stderr
    assert_inert(r.stdout + r.stderr)
    out = r.stdout.decode()
    assert "Zorblax \\x1b]0;pwned\\x07\\x1b[31mred \\x9b2J [bold]loud[/bold] \\u202egnp" in out
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07.md" in out  # the file name, shown, not obeyed


def test_chat_prints_no_escape_sequences(evil_index):
    r = cli("chat", "--index-dir", str(evil_index), stdin="What is Zorblax?\n/quit\n")
    assert r.returncode == 0, r.stderr
    assert_inert(r.stdout + r.stderr)
    assert "[bold]loud[/bold]" in r.stdout.decode()


def test_json_output_escapes_c1_and_bidi(evil_index):
    r = cli("ask", "What is Zorblax?", "--json", "--index-dir", str(evil_index))
    assert r.returncode == 0, r.stderr
    assert_inert(r.stdout)
    titles = [s["title"] for s in json.loads(r.stdout)["sources"]]
    assert any("\x1b]0;pwned" in t and "\u202e" in t for t in titles)  # JSON keeps the data


def test_ingest_report_shows_names_literally(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / MARKUP_NAME).write_text("")  # empty: skipped, and named in the report
    with open(os.fsencode(docs) + b"/" + EVIL_NAME, "w"):
        pass
    r = cli("ingest", str(docs), "--index-dir", str(tmp_path / "i"), env={"COLUMNS": "500"})
    assert r.returncode == 1, r.stderr  # nothing in the folder could be read
    assert_inert(r.stdout + r.stderr)
    err = r.stderr.decode()  # rich wraps at COLUMNS
    assert f"{MARKUP_NAME}: empty file" in err, err  # rich markup shown, not applied
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07.md: empty file" in err, err


def test_undecodable_question_on_the_cli_is_answered(corpus_index):
    r = cli("ask", b"What is \xff\xfe GitOps?", "--json", "--index-dir", str(corpus_index))
    assert b"Traceback" not in r.stderr, r.stderr.decode()
    assert r.returncode == 0, r.stderr.decode()
    answer = json.loads(r.stdout)
    assert not answer["refused"] and "GitOps" in answer["text"]


def test_undecodable_bytes_typed_into_chat_are_dropped(corpus_index):
    r = cli("chat", "--index-dir", str(corpus_index), env={
        "PYTHONIOENCODING": "utf-8:strict"}, input_bytes=b"What is \xff\xfe GitOps?\n/quit\n")
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
    assert b"opsqa> GitOps" in r.stdout, r.stdout.decode()


@pytest.mark.parametrize("question", ["What is \ud800 GitOps?", "\udcff\udcfe", "\ud83d\ude80 GitOps"])
def test_lone_surrogates_in_the_api(shared_bot, question):
    """The web UI's chat with the same questions: test_ui_api."""
    try:
        answer = shared_bot.ask(question)
    except QuestionError as exc:
        assert "empty" in str(exc)
    else:
        orjson.dumps(answer.to_dict())  # what --json and the UI send must encode


@pytest.mark.parametrize("args", [("ask", "What is GitOps?", "--json"), ("ask", "What is GitOps?"),
                                  ("status",)], ids=" ".join)
def test_closed_stdout_ends_quietly(corpus_index, args):
    """The reader is gone before opsqa writes a byte: every write meets EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args, "--index-dir",
                             str(corpus_index)], cwd=ROOT, stdout=write_end,
                            stderr=subprocess.PIPE)
    os.close(write_end)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode in (0, 141), (proc.returncode, err.decode())
    assert err.strip() == b"", err.decode()


@pytest.mark.parametrize("where", ["closed", "full"])
def test_stdout_closed_or_full_is_one_line(corpus_index, where):
    """`opsqa ask ... >&-` and `> /dev/full`: one line on stderr, no traceback."""
    shell = {"closed": ">&-", "full": "> /dev/full"}[where]
    cmd = (f"exec {sys.executable} -m app.cli ask 'What is GitOps?' --index-dir "
           f"'{corpus_index}' {shell}")
    r = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, timeout=180)
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsqa: error:"), err
    assert "standard output" in lines[0], err


@pytest.mark.parametrize("k", [1.5, -1, 0, True, "3"])
def test_search_k_must_be_a_positive_whole_number(shared_bot, k):
    with pytest.raises(QuestionError, match="k must be a whole number"):
        shared_bot.search("What is GitOps?", k=k)


def test_missing_or_folder_config_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSQA_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"OPSQA_CONFIG names .*nope\.toml, which does not exist"):
        Settings.load()
    monkeypatch.setenv("OPSQA_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="OPSQA_CONFIG names .*, which is not a file"):
        Settings.load()
    r = cli("status", env={"OPSQA_CONFIG": str(tmp_path / "nope.toml")})
    assert r.returncode == 2 and r.stderr.decode().startswith("opsqa: error: OPSQA_CONFIG names")


def test_unknown_variable_is_named_with_the_closest_setting(monkeypatch, caplog):
    monkeypatch.setenv("OPSQA_TOPK", "3")
    monkeypatch.setenv("OPSQA_NO_SUCH_KNOB_AT_ALL", "1")
    with caplog.at_level(logging.WARNING, logger="opsqa.settings"):
        s = Settings.load()
    assert s.top_k == 5  # ignored, as before, but no longer silently
    assert "OPSQA_TOPK is not a setting and is ignored; did you mean OPSQA_TOP_K?" in caplog.text
    assert "OPSQA_NO_SUCH_KNOB_AT_ALL is not a setting" in caplog.text


def test_unknown_variable_warning_reaches_the_cli(corpus_index):
    r = cli("status", "--index-dir", str(corpus_index), env={"OPSQA_REFUSAL_TRESHOLD": "0.5"})
    assert r.returncode == 0, r.stderr
    assert "OPSQA_REFUSAL_TRESHOLD is not a setting" in r.stderr.decode()
    assert "did you mean OPSQA_REFUSAL_THRESHOLD?" in r.stderr.decode()
