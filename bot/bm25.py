"""Okapi BM25 over pre-tokenised documents, scored with a sparse matrix (fast at tens of thousands of chunks)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import sparse


class _Vocabulary(dict):
    """Term -> id, numbering a term the first time it is looked up."""

    def __missing__(self, term: str) -> int:
        self[term] = n = len(self)
        return n


class BM25:
    """BM25 (Lucene idf). `docs` are token lists; search takes query tokens."""

    def __init__(self, docs: Iterable[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        # One pass over the documents (a generator is fine), keeping per document only the ids of its distinct
        # terms and their counts: at 100K chunks the token strings themselves would be over a gigabyte.
        vocab = _Vocabulary()
        term_id = vocab.__getitem__  # mapped in C; only a new term calls back into Python
        rows_parts: list[np.ndarray] = []
        cols_parts: list[np.ndarray] = []
        tf_parts: list[np.ndarray] = []
        lengths: list[int] = []
        block: list[np.ndarray] = []

        def count_block() -> None:  # distinct terms and counts of a block of documents in one sort, not one each
            ids = np.concatenate(block).astype(np.int64)
            rows = np.repeat(np.arange(len(block), dtype=np.int64), [len(a) for a in block])
            keys, counts = np.unique(rows << 32 | ids, return_counts=True)
            rows_parts.append((keys >> 32).astype(np.int32) + (len(lengths) - len(block)))
            cols_parts.append((keys & 0xFFFFFFFF).astype(np.int32))
            tf_parts.append(counts.astype(np.float32))
            block.clear()

        for toks in docs:
            block.append(np.fromiter(map(term_id, toks), dtype=np.int32, count=len(toks)))
            lengths.append(len(toks))
            if len(block) == 2048:
                count_block()
        if block:
            count_block()
        self.vocab = dict(vocab)  # a plain dict from here: looking up a query's unknown term must not add it
        n = len(lengths)
        self.n_docs = n
        cols_a = np.concatenate(cols_parts) if cols_parts else np.zeros(0, dtype=np.int32)
        tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, dtype=np.float32)
        rows_a = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int32)
        for parts in (cols_parts, tf_parts, rows_parts):
            parts.clear()
        length = np.asarray(lengths, dtype=np.float32)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float32)
        self.df = df  # documents holding each vocabulary term (the answerability features' idf)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(length.mean()) if n else 1.0
        norm = k1 * (1 - b + b * length[rows_a] / max(avgdl, 1e-9)) if n else np.zeros(0)
        weights = idf[cols_a] * tf * (k1 + 1) / (tf + norm)
        self.matrix = sparse.csc_matrix((weights, (rows_a, cols_a)), shape=(n, max(len(vocab), 1)))

    def reordered(self, order: list[int]) -> BM25:
        """The same index with its documents in `order` (row i of the result is document order[i])."""
        return BM25.restore(self.vocab, self.df, self.matrix.tocsr()[order].tocsc())

    @classmethod
    def restore(cls, vocab: dict[str, int], df: np.ndarray, matrix: sparse.csc_matrix) -> BM25:
        """An index from the parts a previous one saved (see tablecache.py), without re-counting terms."""
        self = cls.__new__(cls)
        self.vocab, self.df, self.matrix, self.n_docs = vocab, df, matrix, matrix.shape[0]
        return self

    def scores(self, query: list[str]) -> np.ndarray:
        cols = sorted({self.vocab[t] for t in query if t in self.vocab})
        if not cols or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()

    def top(self, query: list[str], n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Indices and scores of the best `n` documents with a positive score, best first. With `mask` (a bool per
        document) only documents it keeps compete: filtered before the cut, so a filter never starves the top."""
        s = self.scores(query)
        if mask is not None and len(s):
            s = np.where(mask, s, 0.0)
        if not len(s):
            return []
        n = min(n, len(s))
        idx = np.argpartition(-s, n - 1)[:n]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(int(i), float(s[i])) for i in idx if s[i] > 0]
