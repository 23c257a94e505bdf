"""The answer engine: one flow per backend over a shared base. `KnowledgeBase` picks one with `make_flow`.

- base.py: AnswerFlow (route / judge / verify, no-answer, cost answers) and Corpus (statistics, constants' chunks,
  footnotes)
- extractive.py: ExtractiveFlow, no generator
- generative.py: GenerativeFlow, and OpenAIFlow / LocalFlow over it
"""

from __future__ import annotations

from .base import AnswerFlow, Corpus
from .extractive import ExtractiveFlow
from .generative import GenerativeFlow, LocalFlow, OpenAIFlow

FLOWS: dict[str, type[AnswerFlow]] = {"extractive": ExtractiveFlow, "openai": OpenAIFlow, "local": LocalFlow}

__all__ = ["FLOWS", "AnswerFlow", "Corpus", "ExtractiveFlow", "GenerativeFlow", "LocalFlow", "OpenAIFlow"]
