"""The `KnowledgeBase` facade: the one API the CLI, UI, Slack bot and users call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .answer.base import Corpus
from .config import Settings
from .embeddings import Encoder
from .errors import IndexBusyError, NoMatchError, NotIndexedError
from .indexing import Indexer, Progress
from .retrieval import HybridRetriever
from .store import Store
from .types import Answer, Filters, Hit, IngestReport, SourceDoc

if TYPE_CHECKING:
    from .answer import AnswerFlow


class KnowledgeBase:
    """Ingest documents and search them. Build one with `KnowledgeBase.open()`."""

    def __init__(self, settings: Settings, store: Store, encoder: Encoder) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder
        self.retriever = HybridRetriever(settings, store, encoder)
        self.indexer = Indexer(settings, store, encoder, sentences=self.retriever.sentences)
        self.corpus = Corpus(self.retriever)
        self._flow: AnswerFlow | None = None
        self._llm = None
        self._llm_lock = threading.Lock()
        self._feedback_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None, *, store: Store | None = None,
             encoder: Encoder | None = None, client=None) -> KnowledgeBase:
        """Open (or prepare) the index described by `settings` (default: from the environment)."""
        settings = settings or Settings()
        encoder = encoder or Encoder(settings)
        store = store or Store(settings, client=client)
        store.check_model(encoder.name, getattr(encoder, "variant", None))
        kb = cls(settings, store, encoder)
        if store.needs_date_fields():  # an index from before date filters: metadata only, once
            try:
                with kb.indexer._writer_lock():  # never beside another process's ingest into the same data dir
                    store.ensure_date_fields()
            except IndexBusyError:
                pass  # that ingest's own open adds them
        return kb

    def ingest(self, paths: Iterable[str | Path] | str | Path = (), *, urls: Iterable[str] | None = None,
               prune: bool = False, rebuild: bool = False, progress: Progress | None = None,
               follow_symlinks: bool = False) -> IngestReport:
        """Index files and folders (.md .txt .html .pdf .hwp .hwpx .docx .pptx .xlsx; the type told by content) and
        web pages. Unchanged documents are skipped.

        A string in `paths` that starts with a scheme (https://...) is a URL, as is each of `urls`; only http and
        https are fetched. Pages are re-fetched conditionally (ETag / Last-Modified) and re-embedded only when their
        text changed. `prune` removes documents whose files are gone and, when URLs are given, the pages they do not
        list. `progress` gets an `IngestStatus` after every committed batch. Symbolic links leading out of a folder
        are skipped (listed in `report.skipped`) unless `follow_symlinks`."""
        from .fetch import is_url

        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = list(paths)
        listed = [p for p in paths if is_url(p)]
        if listed or urls is not None:
            urls = [*listed, *(urls or [])]
            paths = [p for p in paths if not is_url(p)]
        return self._save_table(self.indexer.ingest_paths(paths, prune=prune, rebuild=rebuild, progress=progress,
                                                          follow_symlinks=follow_symlinks, urls=urls))

    def ingest_documents(self, docs: list[SourceDoc], *, rebuild: bool = False,
                         progress: Progress | None = None) -> IngestReport:
        """Index documents that are not files (e.g. a benchmark's paragraphs)."""
        return self._save_table(self.indexer.ingest_documents(docs, rebuild=rebuild, progress=progress))

    def _save_table(self, report: IngestReport) -> IngestReport:
        """After a change, rebuild the search table (chunks + BM25) now and save it, so the next process to start
        loads it from its file (seconds at 100K chunks) instead of reading every chunk back from Chroma."""
        if report.changed:
            t = time.perf_counter()
            self.retriever.sparse_index.sync()
            report.table_seconds = time.perf_counter() - t
        return report

    def search(self, query: str, k: int = 5, *, mode: str = "hybrid", filters: Filters | None = None) -> list[Hit]:
        """The `k` best chunks for `query` (hybrid dense + BM25 by default), only from documents that pass `filters`.

        A filter naming an unknown publisher or document raises FilterError (its message lists the valid ones); one
        that no document passes raises NoMatchError: never a silent search of everything."""
        query = self.retriever.clean_query(query)
        if self.store.count() == 0:
            raise NotIndexedError()
        return self.retriever.search(query, k=k, mode=mode, filters=filters)

    def publishers(self) -> list[str]:
        """The publishers of the indexed documents (what `Filters(publishers=...)` accepts)."""
        self.retriever.sparse_index.sync()
        return self.retriever.sparse_index.catalog.publisher_names

    def titles(self) -> dict[str, str]:
        """doc id -> title of every indexed document (what `Filters(docs=...)` accepts), from the in-memory table."""
        self.retriever.sparse_index.sync()
        return {d: t for d, t in self.retriever.sparse_index.catalog.titles.items() if d}

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, *,
            filters: Filters | None = None) -> Answer:
        """Answer `question` from the corpus with verified `[n]` citations, or compute it with the cost tool.

        `history` is the conversation so far as (role, text) pairs, role "user" or "assistant"; follow-ups are
        rewritten into standalone questions before retrieval. The backend is `settings.backend`. With `filters`, only
        documents that pass them are searched and cited; when none does, the answer's status is `no_match` and its
        body says so in Korean (nothing else is searched). An unknown publisher or document raises FilterError.
        """
        for event in self._answer(question, history, stream=False, filters=filters):
            if isinstance(event, Answer):
                return event
        raise AssertionError("the answer pipeline ended without an Answer")  # pragma: no cover

    def stream(self, question: str, history: list[tuple[str, str]] | None = None, *,
               filters: Filters | None = None) -> Iterator[str | Answer]:
        """Like `ask`, incrementally: text pieces (str) as they are generated, then the final `Answer`.

        The final Answer is authoritative (invented citations and unsupported sentences removed, notices added):
        render it (bot/render.py) in place of the streamed pieces.
        """
        yield from self._answer(question, history, stream=True, filters=filters)

    def chat_model(self):
        """The configured backend's LangChain chat model (None for extractive), loaded once per process."""
        with self._llm_lock:
            if self._llm is None and self.settings.backend != "extractive":
                from .llm import make_chat_model

                self._llm = make_chat_model(self.settings)
            return self._llm

    def warm_models(self) -> None:
        """Load kiwi and the encoder. Both hold the GIL for seconds while they load (kiwi 1.8 s + 2.7 s, the
        encoder 1.2 s on this machine), which a server does before it listens (`bot/server/app.py`)."""
        from . import korean

        korean.warm()
        self.encoder.encode_query("warm up")

    def warm(self) -> None:
        """Load the encoder, the BM25 table, kiwi and the chat model now, so the first question does not wait."""
        self.warm_models()
        if self.store.count():
            self.search("GPT-3 요금", k=1)
            self.corpus.stats()
        self.chat_model()

    @property
    def backend(self) -> str:
        from .llm import describe

        return describe(self.settings)

    @property
    def flow(self) -> AnswerFlow:
        """The answer flow of the configured backend (bot/answer/), made once per process."""
        if self._flow is None:
            from .answer import FLOWS

            kind = self.settings.backend
            extra = {} if kind == "extractive" else {"chat_model": self.chat_model, "backend": self.backend}
            self._flow = FLOWS[kind](self.settings, self.retriever, corpus=self.corpus, search=self.search, **extra)
        return self._flow

    def _answer(self, question: str, history, stream: bool, filters: Filters | None = None
                ) -> Iterator[str | Answer]:
        q = self.retriever.clean_query(question)
        if self.store.count() == 0:
            raise NotIndexedError()
        if filters is not None and filters.empty:
            filters = None
        if filters is not None:
            try:
                self.retriever.scope(filters)  # an unknown publisher or document raises FilterError here
            except NoMatchError as e:
                answer = Answer("no_match", body=e.user_message, backend=self.flow.backend, filters=filters)
                yield answer.text
                yield answer
                return
            for event in self.flow.answer(q, history, stream=stream, filters=filters):
                if isinstance(event, Answer):
                    event.filters = filters
                yield event
            return
        yield from self.flow.answer(q, history, stream=stream)

    def cost_answer(self, result) -> Answer:
        """A cost-tool result as an Answer, each corpus constant it used cited (what the UI's calculator shows)."""
        return self.flow.cost_answer(result)

    @property
    def feedback_path(self) -> Path:
        return self.settings.data_dir / "feedback.jsonl"

    def record_feedback(self, question: str, answer: Answer, liked: bool, *, channel: str = "api",
                        user: str | None = None) -> None:
        """Append one thumbs up/down to `feedback.jsonl` in the data dir (question, answer, citations, backend)."""
        import datetime
        import json

        from .filters import describe
        from .render import plain

        row = {"time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "channel": channel,
               "user": user, "liked": liked, "question": question, "answer": plain(answer), "status": answer.status,
               "backend": answer.backend, "filters": describe(answer.filters) or None,
               "citations": [{"number": c.number, "title": c.hit.title, "source": c.hit.source,
                              "chunk_id": c.hit.chunk_id, "quote": c.quote} for c in answer.citations]}
        self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
        with self._feedback_lock, open(self.feedback_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    def as_retriever(self, k: int = 5, filters: Filters | None = None):
        """A LangChain `BaseRetriever` over this knowledge base (restricted to `filters` when given)."""
        from .chain import KnowledgeBaseRetriever

        return KnowledgeBaseRetriever(kb=self, k=k, filters=filters)

    def documents(self) -> list[dict]:
        """One row per indexed document: id, title, source, published, publisher, chunk count."""
        docs: dict[str, dict] = {}
        for c in self.store.iter_all():
            m = c.metadata
            d = docs.setdefault(m.get("doc_id", ""), {
                "doc_id": m.get("doc_id", ""), "title": m.get("title", ""), "source": m.get("source", ""),
                "published": m.get("published") or None, "publisher": m.get("publisher") or None,
                "author": m.get("author") or None, "url": m.get("url") or None, "chunks": 0})
            d["chunks"] += 1
        return sorted(docs.values(), key=lambda d: d["source"])

    def delete_document(self, doc_id: str) -> bool:
        """Remove one document (all its chunks) from the index and the search table; False when there is none."""
        ids = [c.chunk_id for c in self.store.iter_all() if c.metadata.get("doc_id") == doc_id]
        if not ids:
            return False
        with self.indexer._writer_lock():  # never beside an ingest into the same data dir
            self.store.delete(ids)
            self.store.bump_revision()
        self.retriever.sparse_index.sync()
        return True

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
