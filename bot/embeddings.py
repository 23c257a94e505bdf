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
        self._onnx = None  # None: not tried yet; False: not available
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
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # no "Loading weights" bar in the CLI output

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

    def _onnx_session(self):
        """An ONNX Runtime session for query encoding when the model folder ships `onnx/model.onnx` and its
        modules are Transformer -> mean Pooling -> Normalize (so the result equals the PyTorch path)."""
        if self._onnx is None:
            self._onnx = False
            if not self.settings.onnx_queries:
                return None
            model = self.model
            folder = Path(self._resolve())
            onnx_file = folder / "onnx" / "model.onnx"
            names = [type(m).__name__ for m in model]
            pooling = model[1] if len(model) > 1 else None
            if (onnx_file.exists() and names == ["Transformer", "Pooling", "Normalize"]
                    and getattr(pooling, "pooling_mode", None) in ("mean", ("mean",), ["mean"])
                    and getattr(pooling, "include_prompt", True)):
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                self._onnx = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        return self._onnx or None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self.model
        session = self._onnx_session()
        if session is not None:
            return self._encode_onnx(session, model, list(texts))
        with self._lock:
            # One thread: on 2 cores a query encode with 2 threads under load is ~30x slower.
            torch.set_num_threads(1)
            vecs = model.encode(list(texts), prompt=self.settings.query_prompt, batch_size=32,
                                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def _encode_onnx(self, session, model, texts: list[str], batch: int = 32) -> np.ndarray:
        # length-sorted mini-batches: little padding, bounded memory for thousands of questions
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            with self._lock:
                enc = model.tokenizer([self.settings.query_prompt + texts[i] for i in idx], padding=True,
                                      truncation=True, max_length=model.max_seq_length, return_tensors="np")
                mask = enc["attention_mask"].astype(np.int64)
                states = session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                            "attention_mask": mask})[0]
            m = mask[..., None].astype(np.float32)
            vecs = (states * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        return out if out is not None else np.zeros((0, self.dim), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]
