"""Settings precedence (defaults < opsqa.toml < OPSQA_* < arguments) and broken configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import ConfigError, Settings
from tests.conftest import ROOT
from tests.test_ingest import opsqa


def test_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.load().top_k == 5
    (tmp_path / "opsqa.toml").write_text('top_k = 7\nmode = "hosted"\nindex_dir = "from-toml"\n')
    s = Settings.load()
    assert (s.top_k, s.mode, s.index_dir) == (7, "hosted", Path("from-toml"))
    monkeypatch.setenv("OPSQA_TOP_K", "9")
    monkeypatch.setenv("OPSQA_CHROMA_HOST", "db.internal")
    s = Settings.load()
    assert (s.top_k, s.mode, s.chroma_host, s.server_mode) == (9, "hosted", "db.internal", True)
    assert Settings.load(top_k=3).top_k == 3


@pytest.mark.parametrize(
    "toml,env,needle",
    [
        ("top_k = [unclosed", {}, "opsqa.toml"),
        ('top_k = "many"', {}, "top_k"),
        ("no_such_setting = 1", {}, "no_such_setting"),
        ("", {"OPSQA_CHROMA_PORT": "99999"}, "chroma_port"),
        ("", {"OPSQA_MODE": "telepathy"}, "mode"),
    ],
)
def test_broken_config_is_a_clear_error(tmp_path, monkeypatch, toml, env, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "opsqa.toml").write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=needle):
        Settings.load()


def test_cli_broken_config_exits_cleanly(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("top_k = [")
    r = opsqa("status", cwd=ROOT, env_extra={"OPSQA_CONFIG": str(cfg)})
    assert r.returncode == 2 and "opsqa: error:" in r.stderr and "Traceback" not in r.stderr


def test_secret_settings_do_not_print(monkeypatch):
    monkeypatch.setenv("OPSQA_HOSTED_API_KEY", "sk-do-not-show")
    s = Settings.load()
    assert "sk-do-not-show" not in repr(s) and "sk-do-not-show" not in str(s.model_dump())


def test_help_lists_commands():
    r = opsqa("--help", cwd=ROOT)
    for cmd in ("ingest", "ask", "chat", "serve", "eval", "bench"):
        assert cmd in r.stdout
