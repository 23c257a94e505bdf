"""Types that cross kbot's boundaries (never LangChain or Chroma objects)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


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
    location: str | None = None  # where in its document the chunk starts: "3쪽", "슬라이드 2", a heading
    locations: tuple[tuple[int, str], ...] = ()  # (offset into `text`, location) where the location changes

    def location_at(self, offset: int) -> str | None:
        """The location of document offset `offset` (inside this chunk)."""
        where = self.location
        for rel, label in self.locations:
            if self.start + rel <= offset:
                where = label
        return where


def _names(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else list(value)
    return frozenset(" ".join(str(x).split()) for x in items if str(x).strip())


@dataclass(frozen=True)
class Filters:
    """What a search or an answer may draw on: publication dates (inclusive; ISO, partial allowed: 2023, 2023-03,
    2023-03-21), publishers and documents (doc id, title or file name). Fields combine with AND; several values of
    one field with OR. A bad date is a `FilterError` here; names are checked against the index when used.
    Undated documents are left out of any date-restricted search."""

    date_from: str | date | None = None
    date_to: str | date | None = None
    publishers: frozenset[str] = frozenset()
    docs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        from .filters import check_date, period

        lo = check_date(self.date_from, "start (since)")
        hi = check_date(self.date_to, "end (until)")
        object.__setattr__(self, "date_from", lo)
        object.__setattr__(self, "date_to", hi)
        object.__setattr__(self, "publishers", _names(self.publishers))
        object.__setattr__(self, "docs", _names(self.docs))
        if lo and hi and period(lo)[0] > period(hi)[1]:
            from .errors import FilterError

            raise FilterError(f"the start date {lo} is after the end date {hi}",
                              user_message=f"시작일({lo})이 종료일({hi})보다 늦습니다. 기간을 바로잡아 주세요.")

    @property
    def empty(self) -> bool:
        return not (self.date_from or self.date_to or self.publishers or self.docs)


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
    sections: tuple[tuple[int, str], ...] = ()  # (offset, location): the text from offset on is at that location
    warnings: tuple[str, ...] = ()  # read, but with something to tell the operator (pages that need OCR)


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
    table_seconds: float | None = None  # rebuilding and saving the search table after a change, when it was done
    warnings: list[FileFailure] = field(default_factory=list)  # read, with a caveat (PDF pages that need OCR)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.chunks_embedded)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
                f"removed {len(self.removed)}, failed {len(self.failed)}"
                + (f", skipped {len(self.skipped)}" if self.skipped else "")
                + (f", warnings {len(self.warnings)}" if self.warnings else "")
                + f"; {self.chunks_embedded} chunks embedded in {self.seconds:.1f}s"
                + (f"; search table saved in {self.table_seconds:.1f}s" if self.table_seconds is not None else ""))


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the chunk, and the quoted span (offsets into the document text)."""

    number: int
    hit: Hit
    quote: str
    start: int
    end: int

    @property
    def date(self) -> str | None:
        """The source's publication date as the document gives it (maybe partial: "2020-09"), or None."""
        return self.hit.published

    @property
    def location(self) -> str | None:
        """Where in its document the quoted sentence is ("3쪽", "슬라이드 2", "시트 매출 5행", a heading)."""
        return self.hit.location_at(self.start)


@dataclass(frozen=True)
class Stated:
    """One source's side of a disagreement (bot/disagree.py): the value as written, normalised, and where from."""

    text: str  # as the source writes it: "약 9,000달러(약 1천만원)"
    low: float  # normalised into `unit` (a range's ends; low == high for one value)
    high: float
    unit: str  # KRW, USD, 개, W, Wh, GB, 명, 대
    citation: int  # the answer's citation number of the sentence stating it
    hit: Hit
    about: str = ""  # the subject and quantity compared: "V100 가격"
    converted: str | None = None  # how it was brought into `unit` at a rate the evidence states

    @property
    def date(self) -> str | None:
        return self.hit.published


@dataclass
class Answer:
    """An answer as data; `bot.render` turns it into text for each surface (never parse one surface's text).

    status: answered (cites verified chunks) | no_answer (the corpus does not hold it; `related` lists the nearest
    sources) | calculated (the cost tool; `calculation` holds the CostResult) | needs_input (a calculation lacking
    an input; `body` asks for it) | unverified (generated text that cites no shown chunk: not presented as
    grounded) | unsupported (a generated answer none of whose claims its evidence holds: shown like no_answer) |
    no_match (no indexed document passes `filters`; `body` says so and what to do: nothing was searched).
    `disagreement` lists each source's value when the evidence's documents state different ones for the asked
    quantity (bot/disagree.py), newest first; each value's sentence is among `citations`.
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
    disagreement: list[Stated] = field(default_factory=list)  # the sources' differing values, newest first
    filters: Filters | None = None  # the filter the answer was restricted to (status no_match: nothing passed it)
    # "stated": the cited sentences state the answer; "related": they are the nearest passage the documents hold,
    # shown as such on every surface and never as the answer
    support: str = "stated"
    missing_parts: list[str] = field(default_factory=list)  # parts of a multi-part question the documents lack

    @property
    def result(self):
        """The cost tool's CostResult (read-only alias of `calculation`, kept for older callers)."""
        return self.calculation

    @property
    def text(self) -> str:
        """A plain-text rendering (notice, warnings, body, sources' titles) for scripts and logs."""
        from .render import plain

        return plain(self)
