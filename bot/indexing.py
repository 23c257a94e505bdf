"""Ingestion: files -> documents -> chunks -> vectors in the store. Idempotent, incremental, crash-safe.

Chroma is the only state. Every chunk carries its document's content hash and chunk count, so a document
is up to date exactly when it has `n_chunks` chunks that all carry the current hash. A document is written
by upserting its new chunks (deterministic ids) and then deleting its stale ones; a run killed at any point
leaves documents that the next run sees as out of date and rewrites, ending identical to an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from .chunking import chunk_documents
from .config import Settings
from .embeddings import Encoder
from .errors import IndexBusyError, LoadError
from .korean import bm25_terms_batch
from .loaders import SUPPORTED, load_file
from .store import Store
from .types import FileFailure, IngestReport, SourceDoc

Progress = Callable[[int, int, str], None]
CHUNKER_VERSION = 4  # bump when chunking changes, so the next ingest re-chunks every document


def context_text(settings: Settings, title: str, text: str, notes: str = "") -> str:
    """What the encoder and BM25 see: the chunk, headed by its document's title (a contextual header), and for
    a chunk of footnotes the body sentences that cite them."""
    if settings.title_in_chunks and title:
        text = f"{title.replace('_', ' ')}\n{text}"
    return f"{text}\n{notes}" if notes else text


_NOTE_START = r"^[ \t]*(?:[•*-][ \t]*)?"  # a footnote definition opens its line: "• [20] ..." or "[20] ..."
_NOTE_DEF = re.compile(_NOTE_START + r"\[(\d{1,3})\]", re.M)
NOTE_REF = re.compile(r"\[(\d{1,3})\]")


def note_definition(text: str, number: str) -> re.Match | None:
    """The line defining footnote `number` ("• [20] A Zeng et al., ...") in `text`, if any."""
    return re.search(_NOTE_START + rf"\[{re.escape(number)}\][^\n]*", text, re.M)


def footnote_context(doc_text: str, chunk_text: str, limit: int = 600) -> str:
    """For a chunk holding footnote definitions ("• [20] A Zeng et al., GLM-130B ..."), the sentences of the
    document that cite those notes: a question about the cited fact then finds the note that names it."""
    numbers = _NOTE_DEF.findall(chunk_text)
    if not numbers:
        return ""
    defs = {m.start() for m in _NOTE_DEF.finditer(doc_text)}
    out: list[str] = []
    for n in numbers:
        for m in NOTE_REF.finditer(doc_text):
            if m.group(1) != n or any(abs(m.start() - d) < 8 for d in defs):
                continue  # the definition itself, not a citation
            line_start = doc_text.rfind("\n", 0, m.start()) + 1
            dot = doc_text.rfind(". ", line_start, m.start())
            sent_start = dot + 2 if dot >= 0 else line_start
            sentence = doc_text[sent_start:m.end()].strip()
            if sentence and sentence not in out:
                out.append(sentence)
    return " ".join(out)[:limit]


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileFailure]]:
    """Expand directories (supported files only, hidden folders skipped); report missing paths."""
    files: list[Path] = []
    failures: list[FileFailure] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and f.suffix.lower() in SUPPORTED and not any(x.startswith(".") for x in rel):
                    files.append(f)
        elif p.is_file():
            files.append(p)
        else:
            failures.append(FileFailure(str(p), "no such file or directory"))
    seen, unique = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, failures


class Indexer:
    def __init__(self, settings: Settings, store: Store, encoder: Encoder) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder

    def ingest_paths(self, paths: Iterable[str | Path], prune: bool = False, rebuild: bool = False,
                     progress: Progress | None = None) -> IngestReport:
        files, failures = collect_files(paths)
        docs: list[SourceDoc] = []
        for i, f in enumerate(files):
            if progress:
                progress(i, len(files), f"reading {f.name}")
            try:
                docs.append(load_file(f))
            except LoadError as e:
                failures.append(FileFailure(str(f), str(e)))
        return self.ingest_documents(docs, failures=failures, prune=prune, rebuild=rebuild, progress=progress)

    def ingest_documents(self, docs: list[SourceDoc], failures: list[FileFailure] | None = None,
                         prune: bool = False, rebuild: bool = False,
                         progress: Progress | None = None) -> IngestReport:
        with self._writer_lock():
            return self._ingest(docs, failures, prune, rebuild, progress)

    @contextmanager
    def _writer_lock(self):
        """One writer per embedded index: a second `kbot ingest` on the same data dir fails fast."""
        if self.settings.server_mode:
            yield
            return
        import fcntl

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / "ingest.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    f"Another process is ingesting into {self.settings.data_dir}. Wait for it to finish; to "
                    f"share one index between processes use a Chroma server (KBOT_CHROMA_HOST).") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _ingest(self, docs: list[SourceDoc], failures: list[FileFailure] | None, prune: bool, rebuild: bool,
                progress: Progress | None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport(failed=list(failures or []))
        if rebuild:
            self.store.reset()
        self.store.open_for(self.encoder.name)
        existing: dict[str, dict] = defaultdict(lambda: {"ids": [], "hashes": set(), "n": None, "path": ""})
        for c in self.store.iter_all():
            e = existing[c.metadata.get("doc_id", "")]
            e["ids"].append(c.chunk_id)
            e["hashes"].add(c.metadata.get("content_hash"))
            e["n"] = c.metadata.get("n_chunks")
            e["path"] = c.metadata.get("path", "")

        todo: list[SourceDoc] = []
        seen: set[str] = set()
        for d in docs:
            if d.doc_id in seen:
                continue
            seen.add(d.doc_id)
            d = replace(d, content_hash=self._index_hash(d))
            e = existing.get(d.doc_id)
            if e and e["hashes"] == {d.content_hash} and e["n"] == len(e["ids"]):
                report.unchanged.append(d.source)
            else:
                todo.append(d)
                (report.updated if e else report.added).append(d.source)

        changed = bool(todo)
        self._write(todo, existing, report, progress)
        if prune:
            for doc_id, e in list(existing.items()):
                if doc_id not in seen and e["path"] and not Path(e["path"]).exists():
                    self.store.delete(e["ids"])
                    report.removed.append(e["path"])
                    changed = True
        if changed:
            self.store.bump_revision()
        report.seconds = time.perf_counter() - t0
        return report

    def _write(self, todo: list[SourceDoc], existing: dict, report: IngestReport,
               progress: Progress | None) -> None:
        s = self.settings
        planned = list(zip(todo, chunk_documents(todo, s.chunk_size, s.chunk_overlap)))
        total = sum(len(chs) for _, chs in planned)
        done = 0
        batch: list[tuple[SourceDoc, list]] = []

        def flush() -> None:
            nonlocal done
            texts = [self._context(doc, c.text) for doc, chs in batch for c in chs]  # title + notes
            if not texts:
                return
            vecs = self.encoder.encode_passages(texts)
            terms = bm25_terms_batch(texts)
            # One upsert and one delete per batch (Chroma costs ~90 ms per call). Order still makes it crash-safe:
            # new chunks first, stale ones after; a document caught in between has mixed hashes and is redone.
            ids, docs, metas, stale = [], [], [], []
            pos = 0
            for doc, chs in batch:
                n = len(chs)
                metas += [self._meta(doc, c, n, " ".join(terms[pos + j])) for j, c in enumerate(chs)]
                ids += [c.chunk_id for c in chs]
                docs += [c.text for c in chs]
                new = {c.chunk_id for c in chs}
                stale += sorted(set(existing.get(doc.doc_id, {}).get("ids", [])) - new)
                pos += n
            self.store.upsert(ids, vecs, docs, metas)
            if stale:
                self.store.delete(stale)
            done += len(ids)
            report.chunks_embedded += len(ids)
            self.store.bump_revision()
            if progress:
                progress(done, total, f"embedded {done}/{total} chunks")
            batch.clear()

        for doc, chs in planned:
            if not chs:
                report.failed.append(FileFailure(doc.source, "no text to index"))
                continue
            batch.append((doc, chs))
            if sum(len(c) for _, c in batch) >= s.ingest_batch:
                flush()
        flush()

    def _context(self, doc: SourceDoc, text: str) -> str:
        return context_text(self.settings, doc.title, text, footnote_context(doc.text, text))

    def _index_hash(self, doc: SourceDoc) -> str:
        """The document's hash plus everything that shapes its chunks: a change to either re-indexes it."""
        s = self.settings
        key = f"{doc.content_hash}|{s.chunk_size}|{s.chunk_overlap}|{s.title_in_chunks}|{CHUNKER_VERSION}"
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def _meta(doc: SourceDoc, c, n_chunks: int, terms: str) -> dict:
        return {
            "doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "path": doc.path,
            "published": doc.published or "", "publisher": doc.publisher or "", "author": doc.author or "",
            "start": c.start, "end": c.end, "index": c.index, "n_chunks": n_chunks,
            "content_hash": doc.content_hash, "terms": terms,
        }
