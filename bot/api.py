"""The `KnowledgeBase` facade: the one API the CLI, UI, Slack bot and users call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .config import Settings
from .embeddings import Encoder
from .errors import NotIndexedError
from .indexing import NOTE_REF, Indexer, Progress, note_definition
from .retrieval import HybridRetriever, hit_from
from .store import Store
from .types import Answer, Citation, Hit, IngestReport, SourceDoc

NO_ANSWER = "제공된 문서에서 이 질문의 답을 찾지 못했습니다."


class KnowledgeBase:
    """Ingest documents and search them. Build one with `KnowledgeBase.open()`."""

    def __init__(self, settings: Settings, store: Store, encoder: Encoder) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder
        self.indexer = Indexer(settings, store, encoder)
        self.retriever = HybridRetriever(settings, store, encoder)
        self._stats = None
        self._stats_revision = None

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

    def ask(self, question: str, history: list[tuple[str, str]] | None = None) -> Answer:
        """Answer `question` from the corpus with numbered citations, or compute it with the cost tool.

        This session's backend is extractive (no generator); `history` is accepted for the API's shape and not
        used yet.
        """
        from .costq import NeedsInput, route
        from .extractive import MIN_COVERAGE, pick

        q = self.retriever.clean_query(question)
        if self.store.count() == 0:
            raise NotIndexedError()
        routed = route(q)
        if isinstance(routed, NeedsInput):
            return Answer(text=routed.message, status="needs_input")
        if routed is not None:
            return self._calculated(routed)
        hits = self.search(q, k=5)
        stats = self._corpus_stats()
        picked = pick(q, hits, stats)
        if stats.unknown_names(q) or picked is None or picked.coverage < MIN_COVERAGE:
            related = "\n".join(f"- {h.title} ({h.published or '날짜 없음'})" for h in hits[:3])
            return Answer(text=f"{NO_ANSWER}\n관련 있을 수 있는 문서:\n{related}", status="no_answer",
                          related=hits[:3])
        hit = hits[picked.hit_index]
        quote = hit.text[picked.start:picked.end]
        citations = [Citation(1, hit, quote, hit.start + picked.start, hit.start + picked.end)]
        text = f"{quote} [1]"
        for note in self._resolve_notes(hit, quote):
            citations.append(Citation(len(citations) + 1, *note))
            text += f"\n주석: {note[1]} [{len(citations)}]"
        return Answer(text=text, status="answered", citations=citations, related=hits)

    def _corpus_stats(self):
        from .extractive import CorpusStats

        index = self.retriever.sparse_index
        index.sync()
        if self._stats is None or self._stats_revision != index.revision:
            self._stats = CorpusStats([c.text for c in index.chunks])
            self._stats_revision = index.revision
        return self._stats

    def _chunk_with(self, text: str, source_suffix: str):
        """The first indexed chunk of a document whose source ends with `source_suffix` containing `text`."""
        for c in self.retriever.sparse_index.chunks:
            if not c.metadata.get("source", "").endswith(source_suffix):
                continue
            i = c.text.find(text)
            if i >= 0:
                h = hit_from(c, 1.0)
                return h, h.start + i
        return None

    def _resolve_notes(self, hit: Hit, quote: str) -> list[tuple[Hit, str, int, int]]:
        """Footnotes cited in the quote ("...공개했다.[20]"): the note's line, in whichever chunk holds it."""
        out = []
        for n in dict.fromkeys(NOTE_REF.findall(quote)):
            for c in self.retriever.sparse_index.chunks:
                m = note_definition(c.text, n) if c.metadata.get("doc_id") == hit.doc_id else None
                if m:
                    h = hit_from(c, 1.0)
                    line = m.group(0).strip()
                    start = h.start + c.text.index(line)
                    out.append((h, line, start, start + len(line)))
                    break
        return out

    def _calculated(self, result) -> Answer:
        from .cost import fmt

        citations: list[Citation] = []
        lines = [f"{fmt(result.value)} {result.unit}", f"계산: {result.formula}"]
        lines += [f"가정: {a}" for a in result.assumptions]
        for c in result.sources:
            found = self._chunk_with(c.quote, c.doc)
            if found is None:
                continue
            hit, start = found
            citations.append(Citation(len(citations) + 1, hit, c.quote, start, start + len(c.quote)))
            lines.append(f"근거: \"{c.quote}\" [{len(citations)}]")
        return Answer(text="\n".join(lines), status="calculated", citations=citations, result=result)

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
