"""Types that cross kbot's boundaries (never LangChain or Chroma objects)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk. `start`/`end` are character offsets into the document text."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    published: str | None
    text: str
    score: float
    start: int
    end: int
    publisher: str | None = None
    dense: float | None = None  # the question's cosine similarity to the chunk, when the dense side ranked it
    url: str | None = None  # set only for pages kbot fetched itself: the http(s) address citations link to


@dataclass(frozen=True)
class SourceDoc:
    """A document ready for chunking: its text and metadata."""

    doc_id: str
    text: str
    title: str
    source: str
    path: str
    content_hash: str
    published: str | None = None
    publisher: str | None = None
    author: str | None = None
    url: str | None = None  # a fetched web page: the URL as listed (the key; `source` is the URL it ended at)
    etag: str | None = None  # the page's validators, sent back on the next fetch (conditional request)
    last_modified: str | None = None


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str  # English, for the CLI and logs
    user_reason: str | None = None  # Korean, for the UI (web pages' failures)


@dataclass
class IngestReport:
    """What one ingest run did, per document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    skipped: list[FileFailure] = field(default_factory=list)  # left out on purpose (links leaving the folder)
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
                f"removed {len(self.removed)}, failed {len(self.failed)}"
                + (f", skipped {len(self.skipped)}" if self.skipped else "")
                + f"; {self.chunks_embedded} chunks embedded in {self.seconds:.1f}s")


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the chunk, and the quoted span (offsets into the document text)."""

    number: int
    hit: Hit
    quote: str
    start: int
    end: int


@dataclass
class Answer:
    """An answer as data; `bot.render` turns it into text for each surface (never parse one surface's text).

    status: answered (cites verified chunks) | no_answer (the corpus does not hold it; `related` lists the nearest
    sources) | calculated (the cost tool; `calculation` holds the CostResult) | needs_input (a calculation lacking
    an input; `body` asks for it) | unverified (generated text that cites no shown chunk: not presented as
    grounded) | unsupported (a generated answer none of whose claims its evidence holds: shown like no_answer).
    """

    status: str
    body: str = ""  # the answer's own words with [n] markers: no notice, no warning, no presentation
    citations: list[Citation] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)
    notice: str | None = None  # e.g. the generator failed and this is the extractive fallback
    calculation: object | None = None  # the cost tool's CostResult for status == "calculated"
    backend: str = "extractive"
    removed_citations: int = 0  # citation numbers the generator invented (removed from the body)
    moved_citations: int = 0  # citations the generator put on a chunk that does not support the sentence (fixed)
    standalone: str | None = None  # the question as searched (follow-ups rewritten)
    confidence: float | None = None  # the answerability model's probability for the best sentence
    dropped_claims: list[str] = field(default_factory=list)  # generated sentences their evidence did not hold

    @property
    def result(self):
        """The cost tool's CostResult (read-only alias of `calculation`, kept for older callers)."""
        return self.calculation

    @property
    def text(self) -> str:
        """A plain-text rendering (notice, warnings, body, sources' titles) for scripts and logs."""
        from .render import plain

        return plain(self)
