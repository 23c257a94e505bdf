"""The BM25 side's chunk table and matrix on disk, so a restart loads them instead of reading every chunk back.

At 100K chunks, reading the chunks out of Chroma and rebuilding the BM25 matrix took ~40 s of a 48 s start; loading
this file takes a few seconds. A file is used only when its fingerprint (collection id, revision, chunk count,
BM25 parameters, format) equals the collection's now: the indexer bumps the revision after every write, in this
process or another one (server mode), and `--rebuild` makes a new collection id. Anything unreadable, partial or
stale is ignored and the table is rebuilt from Chroma; files are replaced atomically.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from .bm25 import BM25

FORMAT = 1
log = logging.getLogger(__name__)


def _blob(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _unblob(arr: np.ndarray):
    return json.loads(arr.tobytes().decode("utf-8"))


class TableCache:
    """One file per collection under `folder`: chunk ids, texts, metadata (without terms) and the BM25 matrix."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = Path(folder) / f"{name}.npz"

    def load(self, fingerprint: dict) -> tuple[list[tuple[str, str, dict]], BM25] | None:
        """(id, text, metadata) rows and the BM25 index if the file matches `fingerprint`, else None."""
        if not self.path.exists():
            return None
        try:
            from scipy import sparse

            with np.load(self.path, allow_pickle=False) as z:
                header = _unblob(z["header"])
                if header.get("format") != FORMAT or header.get("fingerprint") != fingerprint:
                    return None
                ids, texts, metas = _unblob(z["ids"]), _unblob(z["texts"]), _unblob(z["metas"])
                vocab_terms = _unblob(z["vocab"])
                n, width = (int(x) for x in z["shape"])
                matrix = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=(n, width))
                df = np.asarray(z["df"], dtype=np.float32)
            if not (len(ids) == len(texts) == len(metas) == n == header.get("n")) or len(df) != len(vocab_terms):
                raise ValueError("inconsistent lengths")
            matrix.check_format(full_check=False)
            bm25 = BM25.restore({t: i for i, t in enumerate(vocab_terms)}, df, matrix)
            return list(zip(ids, texts, metas)), bm25
        except Exception as e:  # a corrupt or foreign file only costs a rebuild
            log.warning("Ignoring the BM25 table cache %s (%s: %s); rebuilding it", self.path, type(e).__name__, e)
            return None

    def save(self, fingerprint: dict, rows: list[tuple[str, str, dict]], bm25: BM25) -> None:
        """Write atomically (temporary file + rename); failure to write only costs the next start a rebuild."""
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            m = bm25.matrix.tocsc()
            vocab_terms = [""] * len(bm25.vocab)
            for t, i in bm25.vocab.items():
                vocab_terms[i] = t
            fd, tmp = tempfile.mkstemp(prefix=self.path.stem + ".", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, header=_blob({"format": FORMAT, "fingerprint": fingerprint, "n": len(rows)}),
                         ids=_blob([r[0] for r in rows]), texts=_blob([r[1] for r in rows]),
                         metas=_blob([r[2] for r in rows]), vocab=_blob(vocab_terms),
                         shape=np.asarray(m.shape, dtype=np.int64), data=m.data, indices=m.indices,
                         indptr=m.indptr, df=np.asarray(bm25.df, dtype=np.float32))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            tmp = None
        except Exception as e:
            log.warning("Could not write the BM25 table cache %s (%s: %s)", self.path, type(e).__name__, e)
        finally:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
