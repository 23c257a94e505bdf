"""Hybrid retrieval: dense (Chroma) + BM25 over Korean morphemes, fused."""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from contextlib import contextmanager

from .bm25 import BM25
from .config import Settings
from .embeddings import Encoder
from .errors import EmptyQueryError
from .filters import Catalog, Scope, resolve
from .korean import bm25_terms, char_bigrams
from .sentences import SentenceVectors
from .store import Store, StoredChunk
from .tablecache import TableCache
from .types import Filters, Hit


def rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: sum of w / (k + rank) over the rankings an item appears in."""
    out: dict[str, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, cid in enumerate(ranking, start=1):
            out[cid] = out.get(cid, 0.0) + w / (k + rank)
    return out


def score_fusion(scored: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]) -> dict[str, float]:
    """Weighted sum of min-max normalised scores; an item missing from a list gets 0 from it."""
    out: dict[str, float] = {}
    for items, w in zip(scored, weights):
        if not items:
            continue
        vals = [s for _, s in items]
        lo, hi = min(vals), max(vals)
        span = (hi - lo) or 1.0
        for cid, s in items:
            out[cid] = out.get(cid, 0.0) + w * (s - lo) / span
    return out


def chunk_terms(text: str, metadata: dict) -> list[str]:
    """A stored chunk's BM25 terms, taken out of its metadata: version 2 (`terms_v`, see
    bot/indexing.TERMS_VERSION) leaves out the chunk text's character bigrams, derived here."""
    terms = metadata.pop("terms", "").split()
    if metadata.pop("terms_v", 1) >= 2:
        terms += char_bigrams(text)
    return terms


def hit_from(chunk: StoredChunk, score: float, dense: float | None = None) -> Hit:
    m = chunk.metadata
    return Hit(chunk_id=chunk.chunk_id, doc_id=m.get("doc_id", ""), title=m.get("title", ""),
               source=m.get("source", ""), published=m.get("published") or None, text=chunk.text,
               score=float(score), start=int(m.get("start", 0)), end=int(m.get("end", 0)),
               publisher=m.get("publisher") or None, dense=dense, url=link_target(m),
               location=m.get("location") or None, locations=_locations(m.get("locations")))


def _locations(raw: str | None) -> tuple[tuple[int, str], ...]:
    """The chunk's stored location changes (JSON [[offset, location], ...]; bot/indexing.chunk_locations)."""
    if not raw:
        return ()
    import json

    try:
        return tuple((int(a), str(b)) for a, b in json.loads(raw))
    except (ValueError, TypeError):
        return ()


def link_target(meta: dict) -> str | None:
    """The address a citation links to: only for pages kbot fetched itself (they carry `url`), only http(s)."""
    source = meta.get("source") or ""
    if meta.get("url") and source.startswith(("http://", "https://")) and not any(c.isspace() for c in source):
        return source
    return None


@contextmanager
def _gc_paused():
    """The cyclic collector off while millions of short-lived token strings are made: it found nothing to free and
    took half of a 100K-chunk table rebuild (nothing here makes reference cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class SparseIndex:
    """BM25 over the morphemes stored with every chunk; rebuilt when the collection's revision changes.

    With a `cache`, a start loads the table written after the last rebuild when the collection has not changed
    since (see tablecache.py) instead of reading every chunk back from Chroma."""

    def __init__(self, store: Store, k1: float = 0.9, b: float = 0.4, cache: TableCache | None = None) -> None:
        self.store = store
        self.k1, self.b = k1, b
        self.cache = cache
        self.revision = None
        self.loaded_from: str | None = None  # "cache" or "store": which one the current table came from
        self.chunks: list[StoredChunk] = []
        self.by_id: dict[str, StoredChunk] = {}
        self.bm25 = BM25([])
        self.catalog = Catalog([])
        self._scopes: dict[Filters, Scope] = {}
        self._lock = threading.Lock()

    def _fingerprint(self) -> dict:
        return self.store.fingerprint() | {"k1": self.k1, "b": self.b}

    def sync(self) -> None:
        rev = self.store.revision()
        if rev == self.revision:
            return
        with self._lock:
            if rev == self.revision:
                return
            fp = self._fingerprint()
            loaded = self.cache.load(fp) if self.cache and fp.get("collection") else None
            if loaded is not None:
                rows, self.bm25 = loaded
                chunks = [StoredChunk(cid, text, meta) for cid, text, meta in rows]
                self.loaded_from = "cache"
            else:
                chunks = []

                def terms():  # each chunk's terms go into the matrix as it is read, then out of its metadata
                    for c in self.store.iter_all(include_documents=True, read_ahead=True):
                        chunks.append(c)
                        yield chunk_terms(c.text, c.metadata)

                with _gc_paused():
                    bm25 = BM25(terms(), k1=self.k1, b=self.b)
                    order = sorted(range(len(chunks)), key=lambda i: chunks[i].chunk_id)
                    chunks = [chunks[i] for i in order]
                    self.bm25 = bm25.reordered(order)
                self.loaded_from = "store"
                # saved only if nothing changed while reading: the file must hold exactly that revision
                if self.cache and fp.get("collection") and self._fingerprint() == fp:
                    self.cache.save(fp, [(c.chunk_id, c.text, c.metadata) for c in chunks], self.bm25)
            self.catalog = Catalog([c.metadata for c in chunks])
            self._scopes = {}
            self.chunks = chunks
            self.by_id = {c.chunk_id: c for c in chunks}
            self.revision = fp.get("revision", rev)

    def scope(self, filters: Filters) -> Scope:
        """`filters` resolved against the current table (FilterError / NoMatchError as `bot.filters.resolve`)."""
        self.sync()
        scopes = self._scopes
        scope = scopes.get(filters)
        if scope is None:
            if len(scopes) > 64:
                scopes.clear()
            scope = scopes[filters] = resolve(filters, self.catalog)
        return scope

    def top(self, tokens: list[str], n: int, scope: Scope | None = None) -> list[tuple[StoredChunk, float]]:
        self.sync()
        chunks, bm25, catalog = self.chunks, self.bm25, self.catalog
        mask = scope.mask(catalog) if scope is not None else None
        return [(chunks[i], s) for i, s in bm25.top(tokens, n, mask)]


class HybridRetriever:
    """Dense + sparse retrieval over one `Store`, fused as the settings say."""

    def __init__(self, settings: Settings, store: Store, encoder: Encoder, cache: TableCache | None = None,
                 sentences: SentenceVectors | None = None) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder
        # the sentence vectors the answerability model compares a question with (bot/sentences.py)
        self.sentences = sentences or SentenceVectors(encoder, settings.data_dir / "sentences.sqlite3")
        cache = cache or TableCache(settings.data_dir / "bm25", store.name)
        self.sparse_index = SparseIndex(store, settings.bm25_k1, settings.bm25_b, cache)

    def clean_query(self, query: str) -> str:
        if query is None or not str(query).strip():
            raise EmptyQueryError()
        return " ".join(str(query).split())[: self.settings.max_query_chars]

    def scope(self, filters: Filters | None) -> Scope | None:
        """The filter resolved against the index, or None for no filter. Raises FilterError (an unknown publisher
        or document: the message lists the valid ones) or NoMatchError (nothing passes it)."""
        if filters is None or filters.empty:
            return None
        return self.sparse_index.scope(filters)

    def dense(self, query: str, n: int, scope: Scope | None = None) -> list[tuple[StoredChunk, float]]:
        vec = self.encoder.encode_query(query)
        # Chroma returns ids and distances only; text and metadata come from the in-memory table that the
        # BM25 side keeps in sync anyway (5 ms -> 1 ms per query).
        self.sparse_index.sync()
        table = self.sparse_index.by_id
        if scope is not None:
            n = min(n, scope.count)
        hits = self.store.query(vec, n, with_data=False, where=scope.where() if scope is not None else None)
        missing = [c.chunk_id for c in hits if c.chunk_id not in table]
        fetched = self.store.get(missing) if missing else {}
        out = []
        for c in hits:
            full = table.get(c.chunk_id) or fetched.get(c.chunk_id)
            if full is not None:
                out.append((full, 1.0 - c.distance))
        return out

    def sparse(self, query: str, n: int, scope: Scope | None = None) -> list[tuple[StoredChunk, float]]:
        return self.sparse_index.top(bm25_terms(query), n, scope)

    def fuse(self, dense: list[tuple[str, float]], sparse: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Chunk ids best first, from the dense and sparse candidate lists, as the settings say."""
        s = self.settings
        if not sparse:
            return list(dense)
        if not dense:
            return list(sparse)
        weights = [s.dense_weight, s.sparse_weight]
        if s.fusion == "rrf":
            fused = rrf([[cid for cid, _ in dense], [cid for cid, _ in sparse]], weights, s.rrf_k)
        else:
            fused = score_fusion([dense, sparse], weights)
        return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))

    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: Filters | None = None) -> list[Hit]:
        """Top-k chunks for `query`. mode: hybrid | dense | sparse. `filters` restricts both sides before their
        top candidates are taken (see bot/filters.py)."""
        if mode not in ("hybrid", "dense", "sparse"):
            raise ValueError(f"search mode must be hybrid, dense or sparse, not {mode!r}")
        query = self.clean_query(query)
        scope = self.scope(filters)
        n = max(self.settings.candidates, k)
        dense = self.dense(query, n, scope) if mode in ("hybrid", "dense") else []
        sparse = self.sparse(query, n, scope) if mode in ("hybrid", "sparse") else []
        by_id = {c.chunk_id: c for c, _ in dense + sparse}
        ranked = self.fuse([(c.chunk_id, sc) for c, sc in dense], [(c.chunk_id, sc) for c, sc in sparse])
        cosine = {c.chunk_id: sc for c, sc in dense}
        return [hit_from(by_id[cid], sc, cosine.get(cid)) for cid, sc in ranked[:k]]
