"""e5 vectors of single sentences, for the answerability model's semantic match (`bot/answerability.py`).

A sentence's vector depends on its text alone (the int8 encoder runs one text per run), so vectors are remembered
by content: in memory for recent sentences and on disk in `data_dir/sentences.sqlite3`, filled when chunks are
ingested and, for an index built before this existed (or shared through a Chroma server), when a question first
retrieves them. A failed disk cache (read-only folder, locked file) costs speed, never an answer.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MEMORY = 20_000  # sentences kept in memory (1.5 KB each at 384 dimensions)
BATCH = 500  # keys per SELECT (SQLite's bound-parameter limit is 999 on older builds)


def mean_cosine(rows: np.ndarray, query: np.ndarray) -> float:
    """The cosine between `query` (unit length) and the mean of `rows` (a passage's sentence vectors)."""
    m = np.mean(rows, axis=0)
    return float(m @ query) / (float(np.linalg.norm(m)) + 1e-9)


class SentenceVectors:
    """Unit-length passage vectors of sentences, computed once per text and model."""

    def __init__(self, encoder, path: Path | None = None) -> None:
        self.encoder = encoder
        self.path = path
        self._memory: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._db_failed = path is None
        # int8 and fp32 vectors of one model differ a little: each variant has its own entries
        self._model = f"{encoder.name}\0{getattr(encoder, 'variant', '')}"

    def _key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self._model}\0{text}".encode()).digest()

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._db_failed:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS v (k BLOB PRIMARY KEY, vec BLOB NOT NULL)")
                self._db = db
            except (OSError, sqlite3.Error) as e:
                log.warning("sentence vector cache %s unavailable (%s); keeping them in memory only", self.path, e)
                self._db_failed = True
        return self._db

    def get(self, texts: list[str]) -> np.ndarray:
        """One row per text (unit length, float32), computing what neither cache holds."""
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for k in keys:
                v = self._memory.get(k)
                if v is not None:
                    self._memory.move_to_end(k)
                    found[k] = v
            todo = [k for k in dict.fromkeys(keys) if k not in found]
            for k, blob in self._stored(todo, "k, vec"):
                found[k] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        missing = {k: t for k, t in zip(keys, texts) if k not in found}
        if missing:
            self._compute(missing, found)
        with self._lock:
            for k in keys:
                self._memory[k] = found[k]
                self._memory.move_to_end(k)
            while len(self._memory) > MEMORY:
                self._memory.popitem(last=False)
        if not texts:
            return np.zeros((0, getattr(self.encoder, "dim", 0)), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def fill(self, texts: list[str]) -> int:
        """Compute and store the vectors of `texts` the disk cache lacks (at ingest); how many were computed."""
        texts = list(dict.fromkeys(t for t in texts if t.strip()))
        if not texts:
            return 0
        keys = {self._key(t): t for t in texts}
        with self._lock:
            have = {k for (k,) in self._stored(list(keys), "k")}
        missing = {k: t for k, t in keys.items() if k not in have}
        if missing:
            self._compute(missing, {})
        return len(missing)

    def _stored(self, keys: list[bytes], columns: str) -> list[tuple]:
        """`columns` of the rows the disk cache holds for `keys` (none when it is unavailable). Call under the lock."""
        db = self._conn() if keys else None
        if db is None:
            return []
        out: list[tuple] = []
        try:
            for i in range(0, len(keys), BATCH):
                part = keys[i:i + BATCH]
                out += db.execute(f"SELECT {columns} FROM v WHERE k IN ({','.join('?' * len(part))})", part)
        except sqlite3.Error as e:
            log.warning("reading sentence vectors failed (%s)", e)
        return out

    def _compute(self, missing: dict[bytes, str], into: dict[bytes, np.ndarray]) -> None:
        vecs = np.asarray(self.encoder.encode_sentences(list(missing.values())), dtype=np.float32)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
        # stored as float16, and used as read back, so a vector computed now equals one read from disk later
        half = vecs.astype(np.float16)
        for k, v in zip(missing, half):
            into[k] = v.astype(np.float32)
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.executemany("INSERT OR IGNORE INTO v (k, vec) VALUES (?, ?)",
                               [(k, v.tobytes()) for k, v in zip(missing, half)])
            except sqlite3.Error as e:
                log.warning("storing sentence vectors failed (%s)", e)
