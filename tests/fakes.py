"""Deterministic stand-ins behind kbot's real interfaces."""

from __future__ import annotations

import hashlib

import numpy as np


class FakeEncoder:
    """Hashed character-bigram vectors: similar texts get similar vectors; no model, instant.

    Same interface as `bot.embeddings.Encoder`; counts how many passages it embedded.
    """

    name = "fake-bigram-64"

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.passages_encoded = 0

    @property
    def dim(self) -> int:
        return self._dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        t = "".join(text.split())
        for a, b in zip(t, t[1:]):
            h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
            v[h % self._dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self._dim)

    def encode_passages(self, texts, batch_size=None) -> np.ndarray:
        self.passages_encoded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)

    def encode_sentences(self, texts) -> np.ndarray:  # not counted: `passages_encoded` counts chunks
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)

    def encode_queries(self, texts) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._vec(text)


def reading_chat_model(reply):
    """An in-process LangChain chat model that answers `reply(documents)`, where documents are the numbered chunks
    of the prompt ({number: text}), like a model that read them. For flows built directly, without a server."""
    import re

    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    def answer(messages) -> str:
        user = next(m.content for m in reversed(messages) if m.type == "human")
        return reply({int(n): t for n, t in re.findall(r'<document number="(\d+)"[^>]*>\n(.*?)\n</document>', user,
                                                       re.S)})

    class Reading(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "reading-fake"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer(messages)))])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            for piece in re.findall(r"\S+\s*", answer(messages)):  # word by word, like a streaming service
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    return Reading()


class GatedEncoder:
    """A real encoder whose queries containing `marker` wait until the test opens `gate`: a deliberately slow answer
    (the wait is where an answer's work starts, the query embedding), released when the test is done with it."""

    def __init__(self, encoder, marker: str) -> None:
        import threading

        self.encoder, self.marker, self.gate = encoder, marker, threading.Event()
        self.waiting = 0

    def encode_query(self, text: str) -> np.ndarray:
        if self.marker in text:
            self.waiting += 1
            assert self.gate.wait(120), "the test never opened the gate"
        return self.encoder.encode_query(text)

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)
