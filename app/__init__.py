"""opsqa: grounded, cited answers from your documents."""

from app.assistant import Assistant
from app.conversation import Conversation
from app.errors import ConfigError, IndexStoreError, LLMError, OpsqaError, QuestionError
from app.settings import Settings
from app.types import Answer, Source

__all__ = [
    "Answer",
    "Assistant",
    "ConfigError",
    "Conversation",
    "IndexStoreError",
    "LLMError",
    "OpsqaError",
    "QuestionError",
    "Settings",
    "Source",
]
