"""Chroma: the one place chunks and their vectors live (embedded PersistentClient or a `chroma run` server)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .errors import ModelMismatchError, StoreUnavailableError

PAGE = 2000


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict
    distance: float = 0.0


def make_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.server_mode:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        except Exception as e:
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"({type(e).__name__}). Start it with `chroma run --path DIR --host 127.0.0.1 --port "
                f"{settings.chroma_port}` or unset KBOT_CHROMA_HOST to use the embedded index.") from e
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


class Store:
    """One Chroma collection of chunks, cosine space, with the embedding model recorded in its metadata."""

    def __init__(self, settings: Settings, client=None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self.name = settings.collection
        self._col = None

    # -- collection lifecycle -------------------------------------------------------------------------
    def _get(self):
        if self._col is None:
            from chromadb.errors import NotFoundError

            try:
                self._col = self.client.get_collection(self.name, embedding_function=None)
            except (NotFoundError, ValueError):
                return None
        return self._col

    def exists(self) -> bool:
        return self._get() is not None

    def open_for(self, model_name: str, dim: int | None = None, variant: str | None = None):
        """Get or create the collection for `model_name` (and encoder `variant`); another one's is an error."""
        col = self._get()
        if col is None:
            from .filters import DATE_FIELDS_VERSION

            # a new collection's chunks all get date_lo / date_hi at ingest: nothing to backfill
            meta = {"embedding_model": model_name, "revision": 0, "date_fields": DATE_FIELDS_VERSION}
            if variant:
                meta["embedding_variant"] = variant
            if dim:
                meta["dim"] = dim
            self._col = self.client.get_or_create_collection(
                self.name, configuration={"hnsw": {"space": "cosine"}}, metadata=meta, embedding_function=None)
            return self._col
        self.check_model(model_name, variant)
        self.ensure_date_fields()
        return col

    def check_model(self, model_name: str, variant: str | None = None) -> None:
        """Refuse to mix vectors: the configured model and encoder variant must be the ones that built the index.

        An index from before variants were recorded was built by the fp32 encoder."""
        col = self._get()
        if col is None:
            return
        meta = col.metadata or {}
        built = meta.get("embedding_model")
        if built and built != model_name:
            raise ModelMismatchError(
                f"The index '{self.name}' was built with the embedding model {built!r}, but "
                f"KBOT_EMBEDDING_MODEL is {model_name!r}. Set KBOT_EMBEDDING_MODEL={built} to use it, or "
                f"rebuild it with the new model: kbot ingest --rebuild PATH...")
        built_variant = meta.get("embedding_variant", "fp32") if built else None
        if variant and built_variant and built_variant != variant:
            raise ModelMismatchError(
                f"The index '{self.name}' was built with the {built_variant} encoder of {model_name!r}, but this "
                f"process encodes with the {variant} one (KBOT_EMBEDDING_VARIANT). Set "
                f"KBOT_EMBEDDING_VARIANT={built_variant} to use it, or rebuild it with the new variant: "
                f"kbot ingest --rebuild PATH...")

    @property
    def metadata(self) -> dict:
        col = self._get()
        return dict(col.metadata or {}) if col is not None else {}

    def revision(self) -> int:
        """A counter bumped after every change, so other processes (and server clients) notice updates."""
        col = self._get()
        if col is None:
            return -1
        if self.settings.server_mode:  # another client may have changed it: read it fresh
            col = self.client.get_collection(self.name, embedding_function=None)
            self._col = col
        return int((col.metadata or {}).get("revision", 0))

    def fingerprint(self) -> dict:
        """What identifies the collection's content for caches: its id (new after --rebuild), revision, count."""
        col = self._get()
        if col is None:
            return {}
        if self.settings.server_mode:
            col = self._col = self.client.get_collection(self.name, embedding_function=None)
        return {"collection": str(col.id), "revision": int((col.metadata or {}).get("revision", 0)),
                "count": col.count()}

    def bump_revision(self) -> None:
        col = self._get()
        if col is None:
            return
        col = self.client.get_collection(self.name, embedding_function=None)
        meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        meta["revision"] = int(meta.get("revision", 0)) + 1
        col.modify(metadata=meta)
        self._col = self.client.get_collection(self.name, embedding_function=None)

    def needs_date_fields(self) -> bool:
        """Whether the collection is from before date filters (its chunks may lack date_lo / date_hi)."""
        from .filters import DATE_FIELDS_VERSION

        col = self._get()
        return col is not None and int((col.metadata or {}).get("date_fields", 0)) < DATE_FIELDS_VERSION

    def ensure_date_fields(self) -> int:
        """Give every chunk of an index from before date filters its `date_lo` / `date_hi` (from its `published`),
        updating metadata only (nothing re-embedded); then mark the collection so later opens skip it at once.
        Returns how many chunks were updated."""
        from .filters import DATE_FIELDS_VERSION, date_fields

        col = self._get()
        if col is None or not self.needs_date_fields():
            return 0
        ids, metas = [], []
        for c in self.iter_all():
            fields = date_fields(c.metadata.get("published") or None)
            if any(c.metadata.get(k) != v for k, v in fields.items()):
                ids.append(c.chunk_id)
                metas.append(fields)
        for i in range(0, len(ids), PAGE):  # Chroma merges the keys into each chunk's metadata
            col.update(ids=ids[i:i + PAGE], metadatas=metas[i:i + PAGE])
        col = self.client.get_collection(self.name, embedding_function=None)
        meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        meta["date_fields"] = DATE_FIELDS_VERSION
        if ids:  # the chunk table cached for restarts (tablecache.py) holds the old metadata: make it stale
            meta["revision"] = int(meta.get("revision", 0)) + 1
        col.modify(metadata=meta)
        self._col = self.client.get_collection(self.name, embedding_function=None)
        return len(ids)

    def reset(self) -> None:
        """Drop the collection (used by --rebuild)."""
        from chromadb.errors import NotFoundError

        try:
            self.client.delete_collection(self.name)
        except (NotFoundError, ValueError):
            pass
        self._col = None

    # -- data -----------------------------------------------------------------------------------------
    def count(self) -> int:
        col = self._get()
        return col.count() if col is not None else 0

    def upsert(self, ids: list[str], embeddings: np.ndarray, texts: list[str], metadatas: list[dict]) -> None:
        col = self._get()
        for i in range(0, len(ids), PAGE):
            col.upsert(ids=ids[i:i + PAGE], embeddings=embeddings[i:i + PAGE], documents=texts[i:i + PAGE],
                       metadatas=metadatas[i:i + PAGE])

    def update_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        """Set some metadata keys of existing chunks (Chroma merges them; vectors and texts stay)."""
        col = self._get()
        for i in range(0, len(ids), PAGE):
            col.update(ids=ids[i:i + PAGE], metadatas=metadatas[i:i + PAGE])

    def delete(self, ids: list[str]) -> None:
        col = self._get()
        for i in range(0, len(ids), PAGE):
            col.delete(ids=ids[i:i + PAGE])

    def iter_all(self, include_documents: bool = False, include_embeddings: bool = False,
                 read_ahead: bool = False) -> Iterator[StoredChunk]:
        """Every chunk, a page at a time. `read_ahead` reads the next page on a thread while the caller works on
        this one: Chroma releases the GIL while it reads, so a 100K-chunk table rebuild overlaps its reading
        (about a third of it) with the term counting."""
        col = self._get()
        if col is None:
            return
        include = ["metadatas"] + (["documents"] if include_documents else []) + \
                  (["embeddings"] if include_embeddings else [])

        def read(offset: int) -> dict:
            return col.get(include=include, limit=PAGE, offset=offset)

        pool = None
        if read_ahead:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(1, thread_name_prefix="kbot-read")
        try:
            offset = 0
            upcoming = pool.submit(read, 0) if pool else None
            while True:
                page = upcoming.result() if upcoming else read(offset)
                ids = page["ids"]
                if not ids:
                    break
                offset += len(ids)
                if pool:
                    upcoming = pool.submit(read, offset)
                docs = page.get("documents") or [""] * len(ids)
                embs = page.get("embeddings")
                for j, cid in enumerate(ids):
                    meta = dict(page["metadatas"][j] or {})
                    if include_embeddings and embs is not None:
                        meta["_embedding"] = np.asarray(embs[j], dtype=np.float32)
                    yield StoredChunk(cid, docs[j] or "", meta)
        finally:
            if pool:
                pool.shutdown(wait=True, cancel_futures=True)

    def get(self, ids: list[str]) -> dict[str, StoredChunk]:
        col = self._get()
        if col is None or not ids:
            return {}
        page = col.get(ids=list(ids), include=["metadatas", "documents"])
        return {cid: StoredChunk(cid, page["documents"][j] or "", dict(page["metadatas"][j] or {}))
                for j, cid in enumerate(page["ids"])}

    def query(self, vector: np.ndarray, n: int, with_data: bool = True, where: dict | None = None
              ) -> list[StoredChunk]:
        """Nearest chunks by cosine distance; `with_data=False` returns ids and distances only (much faster).
        `where` restricts them by metadata (Chroma's filter; see bot/filters.py)."""
        col = self._get()
        if col is None:
            return []
        n = min(n, col.count())
        if n <= 0:
            return []
        include = ["metadatas", "documents", "distances"] if with_data else ["distances"]
        res = col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n, include=include,
                        **({"where": where} if where else {}))
        docs = res["documents"][0] if with_data else [""] * len(res["ids"][0])
        metas = res["metadatas"][0] if with_data else [{}] * len(res["ids"][0])
        return [StoredChunk(cid, docs[j] or "", dict(metas[j] or {}), float(res["distances"][0][j]))
                for j, cid in enumerate(res["ids"][0])]
