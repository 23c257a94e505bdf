"""The `KnowledgeBase` facade: the one API the CLI, UI, Slack bot and users call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .config import Settings
from .embeddings import Encoder
from .errors import NotIndexedError
from .indexing import Indexer, Progress
from .retrieval import HybridRetriever
from .store import Store
from .types import Hit, IngestReport, SourceDoc


class KnowledgeBase:
    """Ingest documents and search them. Build one with `KnowledgeBase.open()`."""

    def __init__(self, settings: Settings, store: Store, encoder: Encoder) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder
        self.indexer = Indexer(settings, store, encoder)
        self.retriever = HybridRetriever(settings, store, encoder)

    @classmethod
    def open(cls, settings: Settings | None = None, *, store: Store | None = None,
             encoder: Encoder | None = None, client=None) -> KnowledgeBase:
        """Open (or prepare) the index described by `settings` (default: from the environment)."""
        settings = settings or Settings()
        encoder = encoder or Encoder(settings)
        store = store or Store(settings, client=client)
        store.check_model(encoder.name)
        return cls(settings, store, encoder)

    def ingest(self, paths: Iterable[str | Path] | str | Path, *, prune: bool = False, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Index files and folders (.md, .txt, .html, .pdf). Unchanged files are skipped."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.indexer.ingest_paths(paths, prune=prune, rebuild=rebuild, progress=progress)

    def ingest_documents(self, docs: list[SourceDoc], *, rebuild: bool = False,
                         progress: Progress | None = None) -> IngestReport:
        """Index documents that are not files (e.g. a benchmark's paragraphs)."""
        return self.indexer.ingest_documents(docs, rebuild=rebuild, progress=progress)

    def search(self, query: str, k: int = 5, *, mode: str = "hybrid") -> list[Hit]:
        """The `k` best chunks for `query` (hybrid dense + BM25 by default)."""
        query = self.retriever.clean_query(query)
        if self.store.count() == 0:
            raise NotIndexedError()
        return self.retriever.search(query, k=k, mode=mode)

    def as_retriever(self, k: int = 5):
        """A LangChain `BaseRetriever` over this knowledge base."""
        from .chain import KnowledgeBaseRetriever

        return KnowledgeBaseRetriever(kb=self, k=k)

    def documents(self) -> list[dict]:
        """One row per indexed document: id, title, source, published, publisher, chunk count."""
        docs: dict[str, dict] = {}
        for c in self.store.iter_all():
            m = c.metadata
            d = docs.setdefault(m.get("doc_id", ""), {
                "doc_id": m.get("doc_id", ""), "title": m.get("title", ""), "source": m.get("source", ""),
                "published": m.get("published") or None, "publisher": m.get("publisher") or None,
                "author": m.get("author") or None, "chunks": 0})
            d["chunks"] += 1
        return sorted(docs.values(), key=lambda d: d["source"])

    def stats(self) -> dict:
        meta = self.store.metadata
        docs = self.documents()
        return {
            "collection": self.settings.collection,
            "mode": (f"server {self.settings.chroma_host}:{self.settings.chroma_port}"
                     if self.settings.server_mode else f"embedded {self.settings.data_dir}"),
            "embedding_model": meta.get("embedding_model") or self.encoder.name,
            "documents": len(docs),
            "chunks": sum(d["chunks"] for d in docs),
            "revision": meta.get("revision", 0),
        }
