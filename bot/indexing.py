"""Ingestion: files -> documents -> chunks -> vectors in the store. Idempotent, incremental, crash-safe.

Chroma is the only state. Every chunk carries its document's content hash and chunk count, so a document
is up to date exactly when it has `n_chunks` chunks that all carry the current hash. A document is written
by upserting its new chunks (deterministic ids) and then deleting its stale ones; a run killed at any point
leaves documents that the next run sees as out of date and rewrites, ending identical to an uninterrupted run.
A web page's ETag / Last-Modified ride in its chunks' metadata too, committed with the text they describe.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from .chunking import chunk_spans
from .config import Settings
from .embeddings import Encoder
from .errors import FetchError, IndexBusyError, LoadError
from .fetch import Fetcher, doc_id_for_url, normalize_url
from .filters import date_fields
from .korean import (
    Terms,
    analyse_batch,
    char_bigrams,
    morphemes,
    morphemes_batch,
    morphemes_between,
    sentence_spans_batch,
)
from .loaders import SUPPORTED, USE, LoadOptions, load_file
from .progress import IngestStatus, Progress
from .store import Store
from .types import Chunk, FileFailure, IngestReport, SourceDoc

__all__ = ["Indexer", "Progress", "IngestStatus", "collect_files"]
log = logging.getLogger(__name__)
PAGE_BYTES = 20_000  # a web page's size for the progress estimate until it is fetched (a typical article's text)
CHUNKER_VERSION = 4  # bump when chunking changes, so the next ingest re-chunks every document
# A chunk's stored BM25 terms leave out its own text's character bigrams, which a rebuild derives from the text
# (`bot.retrieval.chunk_terms`): they were ~80% of the string, and Chroma spent ~1 ms a chunk storing it while
# holding the GIL the encoder threads need. Version 1 (older chunks, no `terms_v`): every term stored.
TERMS_VERSION = 2


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


def chunk_locations(sections: tuple[tuple[int, str], ...], start: int, end: int) -> dict:
    """A chunk's location metadata: `location` where it starts, and `locations` (JSON [[offset into the chunk,
    location], ...]) where it changes inside it."""
    import bisect
    import json

    offsets = [a for a, _ in sections]
    i = bisect.bisect_right(offsets, start) - 1
    out = {"location": sections[i][1] if i >= 0 else ""}
    inside = [[a - start, label] for a, label in sections[i + 1:bisect.bisect_left(offsets, end)]]
    if inside:
        out["locations"] = json.dumps(inside, ensure_ascii=False)
    return out


def collect_files(paths: Iterable[str | Path], follow_symlinks: bool = False
                  ) -> tuple[list[Path], list[FileFailure], list[FileFailure]]:
    """Expand directories (supported files only, hidden entries skipped); report missing paths.

    Returns (files, failures, skipped). Inside a folder, a symbolic link whose target lies outside that folder is
    skipped and reported unless `follow_symlinks`: ingesting a folder never reads what it does not contain.
    """
    files: list[Path] = []
    failures: list[FileFailure] = []
    skipped: list[FileFailure] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            root = p.resolve()
            for dirpath, dirnames, filenames in os.walk(p, followlinks=follow_symlinks):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                here = Path(dirpath)
                for d in list(dirnames):
                    if (here / d).is_symlink() and not follow_symlinks:
                        dirnames.remove(d)
                        if not _inside(here / d, root):
                            skipped.append(FileFailure(str(here / d), _LINK_OUT.format((here / d).resolve())))
                for name in sorted(filenames):
                    f = here / name
                    if name.startswith(".") or not f.is_file():
                        continue
                    if f.suffix.lower() not in SUPPORTED:
                        skipped.append(FileFailure(str(f), f"unsupported file type {f.suffix or '(none)'}: use {USE}"))
                        continue
                    if f.is_symlink() and not follow_symlinks and not _inside(f, root):
                        skipped.append(FileFailure(str(f), _LINK_OUT.format(f.resolve())))
                        continue
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
    return unique, failures, skipped


_LINK_OUT = "symbolic link to {} outside the folder, not followed (use --follow-symlinks to include it)"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


BIG_TEXT = 1_000_000  # characters: a document this long is sentence-split on its own, in segments, with progress


def sentence_spans_segmented(text: str, segment: int = 200_000,
                             on_progress: Callable[[float], None] | None = None) -> Iterator[tuple[int, int]]:
    """Sentence offsets of `text`, computed in pieces of about `segment` characters cut at line ends (kiwi never
    joins lines into one sentence, so the result is the same) and yielded piece by piece: with `chunk_spans`
    consuming them, a 40 MB file never holds its ~600K sentence offsets at once. `on_progress` gets the fraction
    done after each piece (a 40 MB file takes a minute or two to split)."""
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + segment)
        end = len(text) if end < 0 else end + 1
        base = pos
        for a, b in sentence_spans_batch([text[base:end]])[0]:
            yield base + a, base + b
        pos = end
        if on_progress:
            on_progress(pos / len(text))


@dataclass
class _Source:
    """One input: a file still to read, a document already in memory, or a web page still to fetch.

    A page's `load` takes the validators (ETag, Last-Modified) of the copy in the index, (None, None) to fetch it
    whole, and returns None when the server says the page has not changed."""

    label: str
    size: int
    load: Callable[..., SourceDoc | None]
    doc_id: str | None = None  # set for web pages: known before fetching, to look up the indexed copy


class _Footnotes:
    """`footnote_context` for one document, with the document's note definitions found once (not per chunk)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.has_notes = _NOTE_DEF.search(text) is not None

    def __call__(self, chunk_text: str) -> str:
        return footnote_context(self.text, chunk_text) if self.has_notes else ""


class Indexer:
    def __init__(self, settings: Settings, store: Store, encoder: Encoder,
                 fetcher: Callable[[Settings], Fetcher] = Fetcher, sentences=None) -> None:
        self._status_now: tuple[IngestStatus | None, Progress | None] = (None, None)
        self.settings = settings
        self.store = store
        self.encoder = encoder
        self.sentences = sentences  # bot.sentences.SentenceVectors, filled with new chunks' sentences
        self.fetcher = fetcher  # makes the HTTP client (bot/fetch.py) for a run that has web pages

    def ingest_paths(self, paths: Iterable[str | Path], prune: bool = False, rebuild: bool = False,
                     progress: Progress | None = None, follow_symlinks: bool = False,
                     urls: Iterable[str] | None = None) -> IngestReport:
        """Index files and folders, and the web pages `urls`. With `prune`, documents whose files are gone are
        removed, and, when `urls` is given (even empty), the web pages it does not list."""
        files, failures, skipped = collect_files(paths, follow_symlinks)
        sources = [_Source(str(f), _size(f), lambda f=f: self._load(f)) for f in files]
        if urls is None:
            report = self._run(sources, failures, prune, rebuild, progress)
        else:
            with self.fetcher(self.settings) as fetcher:
                pages, listed = self._pages(urls, fetcher, failures)
                report = self._run(sources + pages, failures, prune, rebuild, progress, listed)
        report.skipped += skipped
        return report

    @staticmethod
    def _pages(urls: Iterable[str], fetcher: Fetcher, failures: list[FileFailure]
               ) -> tuple[list[_Source], set[str]]:
        """A source per valid URL (each once), the set of listed URLs, and a failure per invalid one."""
        pages, listed = [], set()
        for raw in urls:
            try:
                url = normalize_url(raw)
            except FetchError as e:
                failures.append(FileFailure(raw.strip(), str(e), e.user_message))
                continue
            if url not in listed:
                listed.add(url)
                pages.append(_Source(url, PAGE_BYTES, lambda validators, url=url: fetcher.load(url, *validators),
                                     doc_id=doc_id_for_url(url)))
        return pages, listed

    def ingest_documents(self, docs: list[SourceDoc], failures: list[FileFailure] | None = None,
                         prune: bool = False, rebuild: bool = False,
                         progress: Progress | None = None) -> IngestReport:
        sources = [_Source(d.source, len(d.text.encode()), lambda d=d: d) for d in docs]
        return self._run(sources, failures, prune, rebuild, progress)

    def _load(self, path: Path) -> SourceDoc:
        limit = self.settings.max_file_mb
        if limit:
            size = _size(path)
            if size > limit * 1024 * 1024:
                raise LoadError(f"the file is {size / 1024 / 1024:.1f} MB, over the limit of {limit:g} MB "
                                f"(KBOT_MAX_FILE_MB): split it, or raise or unset the limit")
        return load_file(path, self._load_options(path))

    def _load_options(self, path: Path) -> LoadOptions:
        """OCR settings, and progress for a slow step of reading `path` (OCR: "scan.pdf OCR 3/10쪽")."""
        s = self.settings
        status_of = self._status_now

        def moved(what: str, fraction: float) -> None:
            status, progress = status_of
            if status is None:
                return
            status.current = path.name
            status.current_step = what if fraction < 1 else None
            if progress:
                progress(status)

        return LoadOptions(ocr=s.ocr, ocr_langs=s.ocr_langs, ocr_dpi=s.ocr_dpi, cache_dir=s.data_dir / "ocr",
                           on_progress=moved)

    def _run(self, sources, failures, prune, rebuild, progress, listed: set[str] | None = None) -> IngestReport:
        with self._writer_lock():
            return self._ingest(sources, failures, prune, rebuild, progress, listed)

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

    def _ingest(self, sources: list[_Source], failures: list[FileFailure] | None, prune: bool, rebuild: bool,
                progress: Progress | None, listed: set[str] | None = None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport(failed=list(failures or []))
        if rebuild:
            self.store.reset()
        self.store.open_for(self.encoder.name, variant=getattr(self.encoder, "variant", None))
        existing: dict[str, dict] = defaultdict(lambda: {"hash_of": {}, "n": None, "path": "", "url": ""})
        for c in self.store.iter_all():
            m = c.metadata
            e = existing[m.get("doc_id", "")]
            e["hash_of"][c.chunk_id] = m.get("content_hash")
            e["n"] = m.get("n_chunks")
            e["path"] = m.get("path", "")
            if m.get("url"):
                e.update(url=m["url"], etag=m.get("etag") or None, last_modified=m.get("last_modified") or None,
                         chunking=m.get("chunking"))

        status = IngestStatus(files_total=len(sources), bytes_total=sum(s.size for s in sources))
        self._status_now = (status, progress)
        writer = _BatchWriter(self, existing, report, status, progress)
        ahead = _AnalyseAhead(lambda group, analyses: self._chunk_and_add(group, analyses, writer, report, status,
                                                                          progress),
                              ahead=2 * self.settings.ingest_batch * self.settings.chunk_size)
        try:
            seen: set[str] = set()
            pending: list[tuple[SourceDoc, _Source]] = []  # small documents are analysed together (faster)
            pending_chars = 0
            if progress:
                progress(status)
            for src in sources:
                try:
                    d = src.load(self._validators(existing.get(src.doc_id))) if src.doc_id else src.load()
                except LoadError as e:
                    report.failed.append(FileFailure(src.label, str(e), e.user_message if isinstance(e, FetchError)
                                                     else None))
                    writer.skip(src)
                    continue
                if d is None:  # 304 Not Modified: the indexed copy is current
                    seen.add(src.doc_id)
                    report.unchanged.append(src.label)
                    writer.skip(src)
                    continue
                if d.doc_id in seen:
                    writer.skip(src)
                    continue
                seen.add(d.doc_id)
                if d.warnings:
                    report.warnings.append(FileFailure(src.label, "; ".join(d.warnings)))
                d = replace(d, content_hash=self._index_hash(d))
                e = existing.get(d.doc_id)
                if e and set(e["hash_of"].values()) == {d.content_hash} and e["n"] == len(e["hash_of"]):
                    report.unchanged.append(src.label)
                    self._refresh_validators(d, e)
                    writer.skip(src)
                    continue
                (report.updated if e else report.added).append(src.label)
                pending.append((d, src))
                pending_chars += len(d.text)
                if len(pending) >= 64 or pending_chars >= 1_000_000:
                    ahead.put(pending)
                    pending, pending_chars = [], 0
            ahead.put(pending)
            ahead.finish()
            writer.flush()
            writer.close()
        finally:
            ahead.close()
            writer.close(quiet=True)  # an error or interrupt: still commit what was embedded

        changed = writer.changed
        if prune:
            for doc_id, e in list(existing.items()):
                if doc_id in seen:
                    continue
                if e["url"]:  # a web page goes only when a run given a URL list does not list it
                    gone = listed is not None and e["url"] not in listed
                else:
                    gone = bool(e["path"]) and not Path(e["path"]).exists()
                if gone:
                    self.store.delete(list(e["hash_of"]))
                    report.removed.append(e["url"] or e["path"])
                    changed = True
        if changed:
            self.store.bump_revision()
        report.seconds = time.perf_counter() - t0
        status.finished = True
        if progress:
            progress(status)
        return report

    def _chunk_and_add(self, pending, analyses: list, writer: _BatchWriter, report: IngestReport,
                       status: IngestStatus, progress: Progress | None) -> None:
        s = self.settings
        for (d, src), analysis in zip(pending, analyses):
            if analysis is not None:
                sentences, terms = analysis
                spans = chunk_spans(d.text, s.chunk_size, s.chunk_overlap, sentences)
            else:
                spans, terms = self._big_spans(d, writer, progress), None
            if not spans:
                for name in ("added", "updated"):
                    if src.label in getattr(report, name):
                        getattr(report, name).remove(src.label)
                report.failed.append(FileFailure(src.label, "no text to index"))
                writer.skip(src)
                continue
            writer.add(d, spans, src.size, terms)

    def _big_spans(self, doc: SourceDoc, writer: _BatchWriter, progress: Progress | None) -> list[tuple[int, int]]:
        """A big document's chunk offsets, with progress: the run shows how far into the file it is from the start."""
        status = writer.status
        with writer.lock:
            status.current, status.current_done, status.current_total = Path(doc.source).name, 0, 0

        def moved(fraction: float) -> None:
            status.current_split = fraction
            if progress:
                progress(status)

        moved(0.0)
        try:
            return chunk_spans(doc.text, self.settings.chunk_size, self.settings.chunk_overlap,
                               sentence_spans_segmented(doc.text, on_progress=moved))
        finally:
            status.current_split = None

    @property
    def _chunking(self) -> str:
        """Everything besides the text that shapes a document's chunks."""
        s = self.settings
        return f"{s.chunk_size}|{s.chunk_overlap}|{s.title_in_chunks}|{CHUNKER_VERSION}"

    def _index_hash(self, doc: SourceDoc) -> str:
        """The document's hash plus everything that shapes its chunks: a change to either re-indexes it."""
        return hashlib.sha256(f"{doc.content_hash}|{self._chunking}".encode()).hexdigest()

    def _validators(self, e: dict | None) -> tuple[str | None, str | None]:
        """The (ETag, Last-Modified) to send for a page: only when its indexed copy is complete and chunked as now,
        since a 304 brings no text to redo it with."""
        if not e or not e.get("url") or e.get("chunking") != self._chunking:
            return None, None
        if len(set(e["hash_of"].values())) != 1 or e["n"] != len(e["hash_of"]):
            return None, None
        return e.get("etag"), e.get("last_modified")

    def _refresh_validators(self, doc: SourceDoc, e: dict) -> None:
        """An unchanged page whose server now sends other validators keeps them, so the next fetch can get a 304."""
        if not doc.url:
            return
        new = {"etag": doc.etag or "", "last_modified": doc.last_modified or "", "chunking": self._chunking}
        if (e.get("etag") or "", e.get("last_modified") or "", e.get("chunking")) != tuple(new.values()):
            ids = sorted(e["hash_of"])
            self.store.update_metadata(ids, [new] * len(ids))

    def _meta(self, doc: SourceDoc, c, n_chunks: int, terms: str) -> dict:
        meta = {
            "doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "path": doc.path,
            "published": doc.published or "", "publisher": doc.publisher or "", "author": doc.author or "",
            "start": c.start, "end": c.end, "index": c.index, "n_chunks": n_chunks,
            "content_hash": doc.content_hash, "terms": terms, "terms_v": TERMS_VERSION,
            **date_fields(doc.published),
        }
        if doc.sections:  # where in the document the chunk is (page, slide, sheet row, heading)
            meta.update(chunk_locations(doc.sections, c.start, c.end))
        if doc.url:  # a web page: its key and validators live with its chunks, committed with them
            meta.update(url=doc.url, etag=doc.etag or "", last_modified=doc.last_modified or "",
                        chunking=self._chunking)
        return meta


class _BatchWriter:
    """Embeds and commits chunks `ingest_batch` at a time, across documents and within a large one.

    Memory is bounded by the batch: a document's chunk texts are cut from its text only as the batch needs them.
    Crash safety: a document's stale chunks are deleted only after its last new chunk is committed, so a document
    caught half-way has too few or mixed-hash chunks and is redone; chunks already committed with the current hash
    are kept (not embedded again), so a killed run over a big file resumes where it stopped.
    """

    def __init__(self, indexer: Indexer, existing: dict, report: IngestReport, status: IngestStatus,
                 progress: Progress | None) -> None:
        self.ix = indexer
        self.existing = existing
        self.report = report
        self.status = status
        self.progress = progress
        self.items: list[_Item] = []
        self.finishing: list[tuple[SourceDoc, int]] = []  # documents whose last chunk is in this batch
        self.current_id = ""
        self.changed = False
        self.lock = threading.Lock()  # the status is updated here and by the committer thread
        self._pool = None
        self._pending = None
        self._title: tuple[str, tuple[list[str], list[str]]] = ("", ([], []))  # last title's terms (committer)

    def add(self, doc: SourceDoc, spans: list[tuple[int, int]], size: int,
            terms: Terms | None = None) -> None:
        """Queue a document's chunks; `terms` are its morphemes from `analyse_batch` (None: analyse each chunk
        when it is committed, as for a big document)."""
        st = self.status
        n = len(spans)
        have = self.existing.get(doc.doc_id, {}).get("hash_of", {})
        notes = _Footnotes(doc.text)
        with self.lock:
            st.current, st.current_done, st.current_total = Path(doc.source).name, 0, n
            self.current_id = doc.doc_id
        weight = size / n
        for i, (a, b) in enumerate(spans):
            cid = f"{doc.doc_id}:{i:05d}"
            if have.get(cid) == doc.content_hash:  # committed by an earlier, interrupted run: keep it
                with self.lock:
                    st.current_done += 1
                    st.bytes_total -= weight
            else:
                chunk = Chunk(chunk_id=cid, doc_id=doc.doc_id, index=i, text=doc.text[a:b], start=a, end=b)
                morphs = morphemes_between(terms, a, b) if terms is not None else None
                self.items.append(_Item(doc, chunk, n, notes(chunk.text), weight, morphs))
            if i == n - 1:
                self.finishing.append((doc, n))
            if len(self.items) >= self.ix.settings.ingest_batch:
                self.flush()
        if not self.items:  # everything was already there: only stale chunks may be left to delete
            self.flush()

    def skip(self, src: _Source) -> None:
        """A file that needs no embedding: done, and out of the estimate."""
        with self.lock:
            self.status.files_done += 1
            self.status.bytes_total -= src.size
        if self.progress:
            self.progress(self.status)

    def flush(self) -> None:
        """Embed the batch here, then hand it to the committer thread, which commits it while the next batch is
        cut and embedded (BM25 terms and Chroma writes no longer wait for the encoder, nor it for them). Batches
        are committed in order, one at a time, so the crash-safety argument above holds."""
        st, ix = self.status, self.ix
        items, finishing = self.items, self.finishing
        self.items, self.finishing = [], []
        texts, vecs = [], None
        if items:
            if st.embed_started is None:
                st.embed_started = time.monotonic()
            texts = [context_text(ix.settings, it.doc.title, it.chunk.text, it.notes) for it in items]
            vecs = ix.encoder.encode_passages(texts)
            if ix.sentences is not None and ix.settings.sentence_vectors:
                # the answerability model's semantic match reads these at question time (bot/sentences.py)
                chunks = [it.chunk.text for it in items]
                ix.sentences.fill([t[a:b] for t, spans in zip(chunks, sentence_spans_batch(chunks)) for a, b in spans])
        self._wait()
        self._pending = self._committer().submit(self._commit, items, finishing, texts, vecs)

    def _committer(self):
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="kbot-commit")
        return self._pool

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()  # re-raises a failed commit here, in the ingest's own thread

    def close(self, quiet: bool = False) -> None:
        """Wait for the last commit. `quiet` (on the way out of an error): log a failed commit instead of raising
        it over the error that is already propagating."""
        try:
            self._wait()
        except Exception:
            if not quiet:
                raise
            log.exception("committing the last batch failed")
        finally:
            if quiet and self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _commit(self, items, finishing, texts: list[str], vecs) -> None:
        st, ix = self.status, self.ix
        if items:
            terms = self._stored_terms(items, texts)
            ids = [it.chunk.chunk_id for it in items]
            metas = [ix._meta(it.doc, it.chunk, it.n_chunks, t) for it, t in zip(items, terms)]
            ix.store.upsert(ids, vecs, [it.chunk.text for it in items], metas)
        # New chunks first, stale ones after (one delete per batch: Chroma costs ~90 ms per call).
        stale: list[str] = []
        for doc, n in finishing:
            new = {f"{doc.doc_id}:{i:05d}" for i in range(n)}
            stale += sorted(set(self.existing.get(doc.doc_id, {}).get("hash_of", {})) - new)
        if stale:
            ix.store.delete(stale)
        if items or stale:
            self.changed = True
            ix.store.bump_revision()
        with self.lock:
            if items:
                self.report.chunks_embedded += len(items)
                st.chunks_done += len(items)
                st.current_done += sum(1 for it in items if it.doc.doc_id == self.current_id)
                st.bytes_done += sum(it.weight for it in items)
            st.files_done += len(finishing)
            if self.progress:
                self.progress(st)

    def _stored_terms(self, items: list[_Item], texts: list[str]) -> list[str]:
        """Each chunk's BM25 terms as stored (TERMS_VERSION): the morphemes of its context text (title, body,
        footnote context) and the character bigrams of its title and footnote context; `chunk_terms` adds the
        bigrams of its text. The body's morphemes come from the document's analysis when it has one."""
        whole = iter(morphemes_batch([t for it, t in zip(items, texts) if it.morphs is None]))
        out = []
        for it in items:
            title_morphs, title_bigrams = self._title_terms(it.doc)
            if it.morphs is None:
                morphs = next(whole)
            else:
                morphs = title_morphs + it.morphs + (morphemes(it.notes) if it.notes else [])
            out.append(" ".join(morphs + title_bigrams + (char_bigrams(it.notes) if it.notes else [])))
        return out

    def _title_terms(self, doc: SourceDoc) -> tuple[list[str], list[str]]:
        """(morphemes, character bigrams) of the title as it heads the context text, for the last document."""
        if not (self.ix.settings.title_in_chunks and doc.title):
            return [], []
        if self._title[0] != doc.doc_id:
            title = doc.title.replace("_", " ")
            self._title = (doc.doc_id, (morphemes(title), char_bigrams(title)))
        return self._title[1]


class _Item(NamedTuple):
    """A chunk waiting in a batch."""

    doc: SourceDoc
    chunk: Chunk
    n_chunks: int
    notes: str  # the footnote context its text gets (`footnote_context`), usually ""
    weight: float  # its share of the file's bytes, for the estimate
    morphs: list[str] | None  # its content morphemes from the document's analysis (None: not analysed yet)


def _analyse(pending: list[tuple[SourceDoc, _Source]]) -> list:
    """Sentence offsets and morphemes per document (`analyse_batch`), None for a big one (split on its own later,
    with progress)."""
    small = [d.text for d, _ in pending if len(d.text) <= BIG_TEXT]
    done = iter(analyse_batch(small) if small else [])
    return [next(done) if len(d.text) <= BIG_TEXT else None for d, _ in pending]


class _AnalyseAhead:
    """Analyses groups of documents with kiwi on a thread ahead of the one that chunks and embeds them, so the
    encoder does not wait for the analysis (about 2 ms a chunk). Groups are taken in order once the ones queued
    behind them hold `ahead` characters: about two batches of chunks, since a batch can span several groups of
    short documents."""

    def __init__(self, take: Callable[[list, list], None], ahead: int) -> None:
        self.take = take  # (group, its analyses): chunks, embeds and commits the group
        self.ahead = ahead
        self._pool = None
        self._queued: collections.deque = collections.deque()  # (group, future, characters)

    def put(self, group: list) -> None:
        if not group:
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="kbot-analyse")
        chars = sum(len(d.text) for d, _ in group)
        self._queued.append((group, self._pool.submit(_analyse, group), chars))
        if any(len(d.text) > BIG_TEXT for d, _ in group):
            self.finish()  # now, before the next files load: a big text alone outweighs the look-ahead
        while self._queued and sum(c for *_, c in self._queued) - self._queued[0][2] >= self.ahead:
            self._take_one()

    def finish(self) -> None:
        """Take every queued group (waiting for their analyses)."""
        while self._queued:
            self._take_one()

    def _take_one(self) -> None:
        group, future, _ = self._queued.popleft()
        self.take(group, future.result())

    def close(self) -> None:
        self._queued.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
