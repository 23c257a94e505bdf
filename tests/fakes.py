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

    def encode_queries(self, texts) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._vec(text)
