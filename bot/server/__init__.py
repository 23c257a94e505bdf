"""`kbot serve`: the HTTP surfaces of one KnowledgeBase (app, REST, OpenAI-compatible chat, MCP, keys)."""

from .app import create_app

__all__ = ["create_app"]
