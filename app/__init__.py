"""opsqa: grounded, cited answers from your documents."""

from app.assistant import Assistant
from app.conversation import Conversation
from app.errors import (
    ConfigError,
    IndexStoreError,
    LLMError,
    OpsqaError,
    QuestionError,
    UnreadableType,
    UploadError,
)
from app.settings import Settings
from app.types import Answer, Source
from ingest.registry import NOT_A_DOCUMENT, suffixes

DOCUMENT_TYPES: tuple[str, ...] = suffixes()  # every file type opsqa reads (ingest.registry)
# NOT_A_DOCUMENT: the reason given for a file of any other type

__all__ = [
    "Answer",
    "Assistant",
    "ConfigError",
    "DOCUMENT_TYPES",
    "Conversation",
    "IndexStoreError",
    "LLMError",
    "NOT_A_DOCUMENT",
    "OpsqaError",
    "QuestionError",
    "Settings",
    "Source",
    "UnreadableType",
    "UploadError",
]
