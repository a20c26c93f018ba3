"""opsqa: grounded, cited answers from your documents."""

from app.assistant import Assistant
from app.conversation import Conversation
from app.errors import ConfigError, IndexStoreError, LLMError, OpsqaError, QuestionError
from app.settings import Settings
from app.types import Answer, Source
from ingest.registry import suffixes

DOCUMENT_TYPES: tuple[str, ...] = suffixes()  # every file type opsqa reads (ingest.registry)

__all__ = [
    "Answer",
    "Assistant",
    "ConfigError",
    "DOCUMENT_TYPES",
    "Conversation",
    "IndexStoreError",
    "LLMError",
    "OpsqaError",
    "QuestionError",
    "Settings",
    "Source",
]
