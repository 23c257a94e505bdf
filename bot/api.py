"""The `KnowledgeBase` facade: the one API the CLI, UI, Slack bot and users call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from .config import Settings
from .embeddings import Encoder
from .errors import NotIndexedError
from .indexing import NOTE_REF, Indexer, Progress, note_definition
from .retrieval import HybridRetriever, hit_from
from .store import Store
from .types import Answer, Citation, Hit, IngestReport, SourceDoc

log = logging.getLogger(__name__)
LARGE_INDEX = 20_000  # chunks; above it the extractive answerer's term statistics come from the BM25 table
UNVERIFIED = "⚠ 이 답변은 문서를 인용하지 않아 근거가 확인되지 않았습니다."


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
        return cls(settings, store, encoder)

    def ingest(self, paths: Iterable[str | Path] | str | Path, *, prune: bool = False, rebuild: bool = False,
               progress: Progress | None = None, follow_symlinks: bool = False) -> IngestReport:
        """Index files and folders (.md, .txt, .html, .pdf). Unchanged files are skipped.

        `progress` gets an `IngestStatus` after every committed batch. Symbolic links leading out of a folder are
        skipped (listed in `report.skipped`) unless `follow_symlinks`."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.indexer.ingest_paths(paths, prune=prune, rebuild=rebuild, progress=progress,
                                         follow_symlinks=follow_symlinks)

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
        """Answer `question` from the corpus with verified `[n]` citations, or compute it with the cost tool.

        `history` is the conversation so far as (role, text) pairs, role "user" or "assistant"; follow-ups are
        rewritten into standalone questions before retrieval. The backend is `settings.backend`.
        """
        for event in self._answer(question, history, stream=False):
            if isinstance(event, Answer):
                return event
        raise AssertionError("the answer pipeline ended without an Answer")  # pragma: no cover

    def stream(self, question: str, history: list[tuple[str, str]] | None = None) -> Iterator[str | Answer]:
        """Like `ask`, incrementally: text pieces (str) as they are generated, then the final `Answer`.

        The final Answer's text is authoritative (invented citations removed, notices added): show it in place of
        the streamed pieces.
        """
        yield from self._answer(question, history, stream=True)

    def chat_model(self):
        """The configured backend's LangChain chat model (None for extractive), loaded once per process."""
        with self._llm_lock:
            if self._llm is None and self.settings.backend != "extractive":
                from .llm import make_chat_model

                self._llm = make_chat_model(self.settings)
            return self._llm

    def warm(self) -> None:
        """Load the encoder, the BM25 table, kiwi and the chat model now, so the first question does not wait."""
        self.encoder.encode_query("warm up")
        if self.store.count():
            self.search("GPT-3 요금", k=1)
            self._corpus_stats()
        self.chat_model()

    @property
    def backend(self) -> str:
        from .llm import describe

        return describe(self.settings)

    def _answer(self, question: str, history, stream: bool) -> Iterator[str | Answer]:
        from .llm import service_failure

        q = self.retriever.clean_query(question)
        if self.store.count() == 0:
            raise NotIndexedError()
        if self.settings.backend == "extractive":
            answer = self._extractive(q, history)
            yield answer.text
            yield answer
            return
        llm = self.chat_model()
        try:
            yield from self._generative(q, history, llm, stream)
        except Exception as e:  # the service failing is not the user's problem: answer without it
            reason = service_failure(e)
            if reason is None:
                raise
            log.warning("%s failed (%s); answering extractively", self.backend, reason)
            answer = self._extractive(q, history)
            answer.notice = f"⚠ {self.backend} 응답 실패({reason}): 문서에서 뽑은 문장으로 대신 답합니다."
            answer.text = f"{answer.notice}\n{answer.text}"
            yield answer.text
            yield answer

    def _generative(self, q: str, history, llm, stream: bool) -> Iterator[str | Answer]:
        from .chain import answer_chain, answer_prompt, condense_chain, cost_tools, history_messages, prompt_inputs
        from .costq import route

        tools = self.settings.backend == "openai"
        if not tools:  # the local model cannot call tools reliably: route numeric questions deterministically
            routed = route(q)
            if routed is not None:
                answer = self._routed(routed)
                yield answer.text
                yield answer
                return
        standalone = q
        if history_messages(history):
            standalone = condense_chain(llm).invoke({"question": q, "history": history}) or q
            standalone = self.retriever.clean_query(standalone)
        hits = self.search(standalone, k=self.settings.answer_chunks)
        if route(standalone) is None and not self._supported(standalone, hits):
            # the same calibrated gate as the extractive backend: no generation for what the corpus lacks
            answer = self._no_answer(hits)
            yield answer.text
            yield answer
            return
        chain = answer_chain(llm, tools=cost_tools() if tools else None)
        inputs = {"question": q, "hits": hits, "history": history}
        budget = getattr(llm, "prompt_budget", None)
        if budget:  # a small local context: drop the lowest-ranked chunks until the prompt fits
            def size() -> int:
                return llm.prompt_tokens(answer_prompt().invoke(prompt_inputs(inputs)).to_messages())

            while len(inputs["hits"]) > 1 and size() > budget:
                inputs["hits"] = inputs["hits"][:-1]
            hits = inputs["hits"]
        if stream:
            message = None
            for chunk in chain.stream(inputs):
                message = chunk if message is None else message + chunk
                if chunk.text and not message.tool_call_chunks:
                    yield chunk.text
        else:
            message = chain.invoke(inputs)
        if message is not None and message.tool_calls:
            answer = self._tool_answer(q, message.tool_calls[0])
        else:
            answer = self._grounded(message.text if message is not None else "", hits)
        answer.standalone = standalone
        if not stream or answer.status != "answered":
            yield answer.text
        yield answer

    def _tool_answer(self, q: str, call: dict) -> Answer:
        """Run the cost tool the model chose, with Python's arithmetic; bad arguments fall back to the parser."""
        from pydantic import ValidationError

        from .chain import cost_tools
        from .cost import CostInputError
        from .costq import NeedsInput, route

        tools = {t.name: t for t in cost_tools(raw=True)}
        try:
            if call["name"] not in tools:
                raise CostInputError(f"unknown tool {call['name']!r}")
            return self.cost_answer(tools[call["name"]].invoke(call["args"]))
        except (CostInputError, ValidationError) as e:
            log.info("tool call %s rejected: %s", call.get("name"), e)
            routed = route(q)
            if routed is not None and not isinstance(routed, NeedsInput):
                return self.cost_answer(routed)
            message = routed.message if isinstance(routed, NeedsInput) else (
                "계산에 필요한 값을 질문에서 찾지 못했습니다. 토큰 수, 파라미터 수, 정밀도, GPU 종류처럼 "
                "필요한 값을 숫자로 적어 다시 물어 주세요.")
            return Answer(text=message, status="needs_input", backend=self.backend)

    def _grounded(self, text: str, hits: list[Hit]) -> Answer:
        """A generated answer with its citations checked; refusals and uncited answers are marked as such."""
        from .chain import NO_ANSWER
        from .citations import check

        if not text.strip() or NO_ANSWER[:12] in text or "NO_ANSWER" in text:
            return self._no_answer(hits)
        checked = check(text, hits)
        if not checked.citations:
            return Answer(text=f"{UNVERIFIED}\n{checked.text}", status="unverified", related=hits[:3],
                          backend=self.backend, removed_citations=len(checked.removed))
        return Answer(text=checked.text, status="answered", citations=checked.citations, related=hits,
                      backend=self.backend, removed_citations=len(checked.removed), moved_citations=checked.repointed)

    def _supported(self, question: str, hits: list[Hit], picked=None) -> bool:
        """Whether the chunks can answer: every name in the question occurs in the corpus, and some sentence covers
        at least MIN_COVERAGE of the question's idf-weighted content words (calibrated on the dev set)."""
        from .extractive import MIN_COVERAGE, pick

        stats = self._corpus_stats()
        if stats.unknown_names(question):
            return False
        picked = picked or pick(question, hits, stats)
        return picked is not None and picked.coverage >= MIN_COVERAGE

    def _no_answer(self, hits: list[Hit]) -> Answer:
        from .chain import NO_ANSWER

        seen: set[str] = set()
        hits = [h for h in hits if not (h.doc_id in seen or seen.add(h.doc_id))]  # the best chunk per document
        related = "\n".join(f"- {h.title} ({h.published or '날짜 없음'})" for h in hits[:3])
        return Answer(text=f"{NO_ANSWER}\n관련 있을 수 있는 문서:\n{related}", status="no_answer", related=hits[:3],
                      backend=self.backend)

    def _extractive(self, q: str, history) -> Answer:
        from .chain import history_messages
        from .costq import route
        from .extractive import pick
        from .korean import morphemes

        routed = route(q)
        if routed is not None:
            return self._routed(routed, backend="extractive")
        standalone = q
        previous = [t for r, t in history_messages(history) if r == "human"]
        if previous and len(morphemes(q)) <= 3:  # a short follow-up ("빌드는?") borrows the last question's topic
            standalone = f"{previous[-1]} {q}"
        hits = self.search(standalone, k=5)
        picked = pick(standalone, hits, self._corpus_stats())
        if not self._supported(q, hits, picked):
            answer = self._no_answer(hits)
            answer.backend = "extractive"
            return answer
        hit = hits[picked.hit_index]
        quote = hit.text[picked.start:picked.end]
        citations = [Citation(1, hit, quote, hit.start + picked.start, hit.start + picked.end)]
        text = f"{quote} [1]"
        for note in self._resolve_notes(hit, quote):
            citations.append(Citation(len(citations) + 1, *note))
            text += f"\n주석: {note[1]} [{len(citations)}]"
        return Answer(text=text, status="answered", citations=citations, related=hits, standalone=standalone)

    def _corpus_stats(self):
        from .extractive import CorpusStats

        index = self.retriever.sparse_index
        index.sync()
        if self._stats is None or self._stats_revision != index.revision:
            texts = [c.text for c in index.chunks]
            # Analysing every chunk costs ~5 ms each (9 minutes at 100K chunks): big indexes reuse BM25's counts.
            big = len(texts) > LARGE_INDEX
            self._stats = CorpusStats.from_bm25(index.bm25, texts) if big else CorpusStats(texts)
            self._stats_revision = index.revision
        return self._stats

    def _chunk_with(self, text: str, source_suffix: str):
        """The first indexed chunk of a document whose source ends with `source_suffix` containing `text`."""
        self.retriever.sparse_index.sync()  # a calculation may come before any search has loaded the table
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

    def _routed(self, routed, backend: str | None = None) -> Answer:
        """The cost router's outcome as an Answer: a calculation, or a question naming the missing input."""
        from .costq import NeedsInput

        if isinstance(routed, NeedsInput):
            return Answer(text=routed.message, status="needs_input", backend=backend or self.backend)
        return self.cost_answer(routed, backend=backend)

    def cost_answer(self, result, backend: str | None = None) -> Answer:
        """A cost-tool result as an Answer: value, formula, assumptions, and each corpus constant cited."""
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
        return Answer(text="\n".join(lines), status="calculated", citations=citations, result=result,
                      backend=backend or self.backend)

    @property
    def feedback_path(self) -> Path:
        return self.settings.data_dir / "feedback.jsonl"

    def record_feedback(self, question: str, answer: Answer, liked: bool, *, channel: str = "api",
                        user: str | None = None) -> None:
        """Append one thumbs up/down to `feedback.jsonl` in the data dir (question, answer, citations, backend)."""
        import datetime
        import json

        row = {"time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "channel": channel,
               "user": user, "liked": liked, "question": question, "answer": answer.text, "status": answer.status,
               "backend": answer.backend,
               "citations": [{"number": c.number, "title": c.hit.title, "source": c.hit.source,
                              "chunk_id": c.hit.chunk_id, "quote": c.quote} for c in answer.citations]}
        self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
        with self._feedback_lock, open(self.feedback_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

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
