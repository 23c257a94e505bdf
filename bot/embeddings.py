"""The sentence-transformers encoder. Heavy imports (torch) happen on first use."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .config import DEFAULT_EMBEDDING_MODEL, Settings
from .errors import ConfigError


class Encoder:
    """Encodes passages and queries with the configured sentence-transformers model."""

    def __init__(self, settings: Settings, model=None) -> None:
        self.settings = settings
        self.name = settings.embedding_model
        self._model = model
        self._lock = threading.RLock()

    def _resolve(self) -> str:
        if self.name == DEFAULT_EMBEDDING_MODEL:
            from .e5convert import ensure_folder

            return str(ensure_folder(self.settings.model_cache_dir))
        return self.name

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
                    from sentence_transformers import SentenceTransformer

                    target = self._resolve()
                    try:
                        self._model = SentenceTransformer(target, device="cpu")
                    except Exception as e:
                        where = "folder" if Path(target).exists() else "model name"
                        raise ConfigError(
                            f"Cannot load the embedding model {self.name!r} ({where}): {type(e).__name__}. "
                            f"Check KBOT_EMBEDDING_MODEL, or unset it to use the built-in "
                            f"{DEFAULT_EMBEDDING_MODEL}.") from e
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode_passages(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        import torch

        threads = self.settings.embedding_threads or os.cpu_count() or 1
        with self._lock:
            torch.set_num_threads(threads)
            try:
                vecs = self.model.encode(list(texts), prompt=self.settings.passage_prompt,
                                         batch_size=batch_size or self.settings.embedding_batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
            finally:
                torch.set_num_threads(1)
        return np.asarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self.model
        with self._lock:
            # One thread: on 2 cores a query encode with 2 threads under load is ~30x slower.
            torch.set_num_threads(1)
            vecs = model.encode(list(texts), prompt=self.settings.query_prompt, batch_size=32,
                                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]
