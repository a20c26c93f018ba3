"""One settings object: defaults < opsqa.toml < OPSQA_* environment < explicit arguments.

Nothing else in opsqa reads the environment. The settings are read once (``Settings.load``)
and passed down; a broken opsqa.toml, an ``OPSQA_CONFIG`` that names no file, or a bad value
becomes a ``ConfigError`` that names it, and an ``OPSQA_*`` variable that is no setting (a
typo such as ``OPSQA_TOPK``) is reported with the closest real one.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from app.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"


# Files about a folder rather than its subject: a README at the top of an ingested folder
# (inside a documentation set a folder's README is often its page, so only the top one), and
# the repository files that by convention are named in capitals at any level (a lower-case
# changelog.md or contributing.md is a page of the documentation, so it is read).
SKIP_FILES = ("/README*", "/readme*", "/Readme*", "CONTRIBUTING*", "LICENSE*", "LICENCE*",
              "COPYING*", "NOTICE*", "AUTHORS*", "CHANGELOG*", "CHANGES*", "HISTORY*",
              "CODE_OF_CONDUCT*")

log = logging.getLogger("opsqa.settings")
_WARNED: set[str] = set()  # unknown variables already reported by this process


def _config_file() -> Path:
    # The one environment read outside pydantic: where the config file lives.
    return Path(os.environ.get("OPSQA_CONFIG") or "opsqa.toml")


def _check_config_file() -> None:
    """An ``OPSQA_CONFIG`` that names no file is an error, not a silent fallback to defaults.

    Raises:
        ConfigError: the named path does not exist or is not a file.
    """
    named = os.environ.get("OPSQA_CONFIG")
    if not named:
        return
    path = Path(named)
    if not path.exists():
        raise ConfigError(f"OPSQA_CONFIG names {path}, which does not exist")
    if not path.is_file():
        raise ConfigError(f"OPSQA_CONFIG names {path}, which is not a file (a TOML file is needed)")


def _warn_unknown_env(fields: list[str]) -> None:
    """Report each ``OPSQA_*`` variable that is no setting once, naming the closest setting."""
    known = {f"OPSQA_{f.upper()}" for f in fields} | {"OPSQA_CONFIG"}
    for key in sorted(os.environ):
        name = key.upper()
        if not name.startswith("OPSQA_") or name in known or key in _WARNED:
            continue
        _WARNED.add(key)
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "`opsqa --help` lists the settings"
        log.warning("opsqa: warning: %s is not a setting and is ignored; %s", key, hint)


class Settings(BaseSettings):
    """Every knob of opsqa; each is also ``OPSQA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="OPSQA_", extra="forbid", validate_default=True, frozen=True
    )

    # Where things are
    corpus_dir: Path = Field(DEFAULT_CORPUS, description="Default documents, ingested on first open")
    index_dir: Path = Field(Path(".opsqa"), description="Embedded index, uploads and models")
    chroma_host: str = Field("", description="Chroma server host; empty = embedded store")
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_timeout: float = Field(30.0, gt=0, description="Seconds for each answer from a Chroma "
                                  "server, connecting included, however it trickles in")
    collection: str = Field("opsqa", min_length=3, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")

    # Embedding and chunking
    embed_model: str = Field("", description="sentence-transformers folder; empty = packaged MiniLM")
    embed_backend: Literal["auto", "onnx", "torch"] = "auto"
    embed_batch_size: int = Field(64, ge=1, le=1024)
    chunk_max_tokens: int = Field(256, ge=32, le=8192)
    chunk_target_tokens: int = Field(160, ge=16, le=8192)
    max_file_mb: float = Field(20.0, gt=0)
    skip_files: list[str] = Field(
        default_factory=lambda: list(SKIP_FILES),
        description="gitignore-style patterns of files in an ingested folder that are not "
        "read: what describes the folder rather than its subject")
    max_read_seconds: float = Field(60.0, gt=0, description="Seconds to read (parse) one file")
    max_read_mb: float = Field(768.0, ge=64, description="Memory to read (parse) one file, MB")
    max_file_chunks: int = Field(5000, ge=1, description="Chunks one file may be cut into")
    ingest_lock_timeout: float = Field(600.0, ge=0, description="Seconds to wait for another ingest")

    # Retrieval and answering
    mode: str = "extractive"  # one of app.answer.modes.NAMES
    top_k: int = Field(5, ge=1, le=50)
    refusal_threshold: float = Field(0.30, ge=0.0, le=1.0, description="Fitted by `opsqa eval`")
    max_question_chars: int = Field(2000, ge=10)

    # LLM answerers
    llm_model_path: str = Field("", description="GGUF file; empty = packaged Gemma 3 270M")
    llm_max_tokens: int = Field(256, ge=16, le=4096)
    llm_timeout: float = Field(30.0, gt=0)
    hosted_base_url: str = ""
    hosted_model: str = ""
    hosted_api_key: SecretStr = SecretStr("")

    # Web UI
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    auth: SecretStr = Field(SecretStr(""), description="user:password for basic auth; empty = none")
    concurrency_limit: int = Field(4, ge=1, le=64)
    upload_max_mb: float = Field(10.0, gt=0)
    chats_path: str = Field("", description="SQLite file of the stored chats and feedback; "
                            "empty = <index_dir>/chats.sqlite3")

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, v: str) -> str:
        from app.answer.modes import NAMES

        if v not in NAMES:
            expected = ", ".join(repr(n) for n in NAMES[:-1]) + f" or {NAMES[-1]!r}"
            raise PydanticCustomError("literal_error", "Input should be {expected}",
                                      {"expected": expected})
        return v

    @field_validator("chunk_target_tokens")
    @classmethod
    def _target_below_max(cls, v: int, info: Any) -> int:
        limit = info.data.get("chunk_max_tokens", 256)
        return min(v, limit)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from all sources; explicit ``overrides`` win.

        Raises:
            ConfigError: unknown setting, bad value, an unreadable opsqa.toml, or an
                OPSQA_CONFIG that names no file.
        """
        _check_config_file()
        _warn_unknown_env(list(cls.model_fields))
        overrides = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(
                f"invalid settings ({problems}). Check opsqa.toml, OPSQA_* variables "
                "and arguments; `opsqa --help` lists them."
            ) from None
        except Exception as exc:  # tomllib errors and friends
            raise ConfigError(f"cannot read {_config_file()}: {exc}") from None

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)
