"""kbot: a Korean knowledge-base chatbot. `from bot import KnowledgeBase, Settings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["KnowledgeBase", "Settings", "Answer", "Citation", "Hit", "IngestReport", "SourceDoc", "KbotError",
           "Filters"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import KnowledgeBase
    from .config import Settings
    from .errors import KbotError
    from .types import Answer, Citation, Filters, Hit, IngestReport, SourceDoc

_WHERE = {"KnowledgeBase": "api", "Settings": "config", "KbotError": "errors", "Answer": "types",
          "Citation": "types", "Hit": "types", "IngestReport": "types", "SourceDoc": "types",
          "Filters": "types"}


def __getattr__(name: str):
    # Lazy, so `import bot` stays fast and pulls in neither torch nor chromadb.
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
