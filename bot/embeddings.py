"""The passage and query encoder: ONNX Runtime (int8 or fp32) or sentence-transformers. Heavy imports on first use.

Two variants encode passages (`KBOT_EMBEDDING_VARIANT`):
- `int8`: the model's ONNX export with dynamically quantised int8 matrix products, run by ONNX Runtime one text
  per run, one run per core side by side. Needs a model folder with `onnx/model.onnx` (the default model has one).
- `fp32`: sentence-transformers (PyTorch), the reference.
The collection records the variant; an index is only ever searched with vectors of the variant that built it.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .config import DEFAULT_EMBEDDING_MODEL, Settings
from .errors import ConfigError

QUERY_CACHE = 2048  # query vectors remembered (1.5 KB each)

ONNX_FP32 = "model.onnx"


def onnx_ready(folder: Path) -> bool:
    """True when `folder` is a sentence-transformers folder that ONNX Runtime can run exactly as the PyTorch path
    does: Transformer -> mean Pooling (prompt included) -> Normalize, with `onnx/model.onnx` beside it."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text()) if len(modules) > 1 else {}
    except (OSError, ValueError, KeyError, IndexError):
        return False
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    return ((folder / "onnx" / ONNX_FP32).exists() and (folder / "tokenizer.json").exists()
            and kinds == ["Transformer", "Pooling", "Normalize"] and modes == ["pooling_mode_mean_tokens"]
            and pooling.get("include_prompt", True))


class Encoder:
    """Encodes passages and queries with the configured model, in the configured variant."""

    def __init__(self, settings: Settings, model=None) -> None:
        self.settings = settings
        self.name = settings.embedding_model
        self._model = model
        self._sessions: dict[tuple[str, int], object] = {}
        self._tokenizer = None
        self._onnx = None  # the query session: None = not tried yet, False = not available
        self._lock = threading.RLock()
        # Recent query vectors: an open question is encoded for retrieval and again beside its candidate passages,
        # and the passages of one document come back for the next question about it.
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def _resolve(self) -> str:
        if self.name == DEFAULT_EMBEDDING_MODEL:
            from .e5convert import ensure_folder

            return str(ensure_folder(self.settings.model_cache_dir))
        return self.name

    def _onnx_capable(self) -> bool:
        if self._model is not None:  # a model object passed in: its own (PyTorch) code encodes
            return False
        if self.name == DEFAULT_EMBEDDING_MODEL:
            return True  # the converter writes the ONNX export
        return onnx_ready(Path(self.name).expanduser())

    @property
    def variant(self) -> str:
        """What encodes passages: 'int8' (ONNX Runtime, quantised) or 'fp32' (sentence-transformers). Known without
        loading the model, so opening an index can check it."""
        if self.settings.embedding_variant == "int8" and self._onnx_capable():
            return "int8"
        return "fp32"

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
        if self._onnx_capable():
            return int(json.loads((Path(self._resolve()) / "config.json").read_text())["hidden_size"])
        return int(self.model.get_sentence_embedding_dimension())

    # -- ONNX Runtime ---------------------------------------------------------------------------------------
    def _session(self, kind: str, threads: int):
        """An ONNX Runtime session on the fp32 export or its int8 version (built once, beside it)."""
        key = (kind, threads)
        with self._lock:
            if key not in self._sessions:
                import onnxruntime as ort

                folder = Path(self._resolve())
                if kind == "int8":
                    from .e5convert import export_int8

                    path = export_int8(folder)
                else:
                    path = folder / "onnx" / ONNX_FP32
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                self._sessions[key] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            return self._sessions[key]

    def _tok(self):
        """The fast tokenizer from tokenizer.json, as sentence-transformers configures it (no PyTorch needed)."""
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                folder = Path(self._resolve())
                tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
                cfg = json.loads((folder / "tokenizer_config.json").read_text())
                try:
                    limit = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
                except (OSError, KeyError, ValueError):
                    limit = cfg.get("model_max_length", 512)
                pad = cfg.get("pad_token") or "<pad>"
                tok.enable_truncation(max_length=int(limit))
                tok.enable_padding(pad_id=tok.token_to_id(pad) or 0, pad_token=pad)
                self._tokenizer = tok
            return self._tokenizer

    def _encode_ort(self, session, prompt: str, texts: list[str], batch: int) -> np.ndarray:
        """Mean-pooled, normalised vectors. Length-sorted mini-batches: little padding, bounded memory."""
        tok = self._tok()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            enc = tok.encode_batch([prompt + texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            states = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            m = mask[..., None].astype(np.float32)
            vecs = (states * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return out if out is not None else np.zeros((0, self.dim), dtype=np.float32)

    def _encode_parallel(self, session, prompt: str, texts: list[str], workers: int) -> np.ndarray:
        """`_encode_ort` one text per run, `workers` runs at a time (each text's vector is the same as alone)."""
        if workers <= 1 or len(texts) <= 1:
            return self._encode_ort(session, prompt, texts, 1)
        from concurrent.futures import ThreadPoolExecutor

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        shares = [order[w::workers] for w in range(workers)]  # dealt in length order: equal work per worker
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda idx: (idx, self._encode_ort(session, prompt, [texts[i] for i in idx], 1)),
                                  shares))
        out = np.zeros((len(texts), parts[0][1].shape[1]), dtype=np.float32)
        for idx, vecs in parts:
            out[idx] = vecs
        return out

    # -- passages -------------------------------------------------------------------------------------------
    def encode_passages(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        threads = self.settings.embedding_threads or os.cpu_count() or 1
        if self.variant == "int8":
            # One text per run: dynamic quantisation scales each run's activations together (padding included),
            # so batching would make a chunk's vector depend on its neighbours; alone it is the same every time
            # (a resumed ingest equals a clean one). One text is too small a job to split across cores, so the
            # cores take a text each: one-thread runs side by side (ONNX Runtime releases the GIL while it runs).
            session = self._session("int8", 1)
            return self._encode_parallel(session, self.settings.passage_prompt, list(texts), threads)
        import torch

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

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Passage vectors of single sentences (the answerability model's semantic match, `bot/sentences.py`)."""
        return self.encode_passages(texts)

    # -- queries --------------------------------------------------------------------------------------------
    def _onnx_session(self):
        """The ONNX Runtime session for queries (one thread), or None when queries go through PyTorch.

        Queries use the same weights as the passages of the variant: int8 passages get int8 queries.
        """
        if self._onnx is None:
            self._onnx = False
            if self.variant == "int8":
                self._onnx = self._session("int8", 1)
            elif self.settings.onnx_queries and self._onnx_capable():
                self._onnx = self._session("fp32", 1)
        return self._onnx or None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors, the last `QUERY_CACHE` texts remembered (a text's vector does not depend on the others
        of its call)."""
        texts = list(texts)
        with self._lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            vecs = self._encode_queries(todo)
            with self._lock:
                for t, v in zip(todo, vecs):
                    self._queries[t] = known[t] = v
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        session = self._onnx_session()
        if session is not None:
            if self.variant == "int8":  # one per run, as for passages; several (a re-rank's passages) side by side
                workers = min(2, self.settings.embedding_threads or os.cpu_count() or 1)
                return self._encode_parallel(session, self.settings.query_prompt, texts, workers)
            return self._encode_ort(session, self.settings.query_prompt, texts, 32)
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
