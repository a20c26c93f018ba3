"""The one error family users see: each message says what happened and what to do."""

from ingest.errors import IndexStoreError, OpsqaError

__all__ = ["OpsqaError", "IndexStoreError", "ConfigError", "QuestionError", "LLMError", "UploadError",
           "UnreadableType"]


class ConfigError(OpsqaError):
    """Settings, opsqa.toml or OPSQA_* values that cannot be used."""


class QuestionError(OpsqaError):
    """A question that cannot be answered as asked (empty, too long)."""


class LLMError(OpsqaError):
    """A local or hosted language model that is unavailable, slow or failing."""


class UploadError(OpsqaError):
    """An upload refused by the UI's limits (type, size, name)."""


class UnreadableType(UploadError):
    """An upload of a file type opsqa does not read."""
