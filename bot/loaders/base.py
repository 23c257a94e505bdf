"""What every loader shares: the document id, `make_doc`, a text builder that records located sections, the
options a run passes in (OCR), and the size guards for zip-based formats."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc

MAX_UNZIPPED = 200 * 1024 * 1024  # bytes a zip-based document may expand to, summed over the members read
MAX_RATIO = 200  # a member compressed more than this is a zip bomb, not a document (text XML is ~5-20x)


@dataclass
class LoadOptions:
    """What a run passes to the loaders: OCR of scanned PDF pages and where its results are cached."""

    ocr: bool = True
    ocr_langs: str = "kor+eng"
    ocr_dpi: int = 300
    cache_dir: Path | None = None  # OCR text per page, keyed by the page's content hash
    on_progress: Callable[[str, float], None] | None = None  # (what, fraction done) while a slow step runs


def doc_id_for(path: Path) -> str:
    """Stable id of a file: its absolute path, hashed (the same file ingested from anywhere is one doc)."""
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def _iso(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def make_doc(text: str, title: str | None, meta: dict, *, doc_id: str, source: str, path: str,
             fallback_title: str, **extra) -> SourceDoc:
    """A `SourceDoc` with its content hash (text and metadata; `extra` such as a page's url joins the hash).
    `extra` may carry `sections` ((offset, location) pairs) and `warnings`; offsets refer to `text` as given, so a
    loader that records sections passes text without carriage returns."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("no text content")
    h = hashlib.sha256()
    h.update(text.encode())
    for key in ("title", "published", "publisher", "author"):
        h.update(f"\x00{key}={meta.get(key) or ''}".encode())
    if extra.get("url"):  # a page's address is shown with it: a new redirect target is a change
        h.update(f"\x00source={source}".encode())
    if extra.get("sections"):  # locations are shown in citations: a change of them is a change
        h.update(repr(extra["sections"]).encode())
    return SourceDoc(
        doc_id=doc_id, text=text, title=title or fallback_title, source=source, path=path,
        content_hash=h.hexdigest(), published=_iso(meta.get("published")), publisher=meta.get("publisher"),
        author=meta.get("author"), **extra,
    )


def finish(path: Path, text: str, title: str | None, meta: dict, **extra) -> SourceDoc:
    return make_doc(text, title, meta, doc_id=doc_id_for(path), source=str(path), path=str(path.resolve()),
                    fallback_title=path.stem, **extra)


class Builder:
    """Document text built line by line, with the location (page, slide, sheet row, heading) each part is at."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.sections: list[tuple[int, str]] = []

    def at(self, location: str | None) -> None:
        """The text added from here on is at `location` (None or the same location: no change)."""
        if not location:
            return
        location = " ".join(location.split())[:120]
        if self.sections and self.sections[-1][0] == self.pos:
            self.sections[-1] = (self.pos, location)
        elif not self.sections or self.sections[-1][1] != location:
            self.sections.append((self.pos, location))

    def line(self, text: str) -> None:
        text = text.replace("\r", " ").rstrip()
        if not text.strip():
            return
        self.parts.append(text + "\n")
        self.pos += len(text) + 1

    def gap(self) -> None:
        """A blank line (a paragraph break between blocks)."""
        if self.parts and not self.parts[-1].endswith("\n\n"):
            self.parts.append("\n")
            self.pos += 1

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def doc(self, path: Path, title: str | None, meta: dict, **extra) -> SourceDoc:
        text = self.text
        sections = tuple((a, label) for a, label in self.sections if a < len(text))
        return finish(path, text, title, meta, sections=sections, **extra)


def grid_rows(cells: list[tuple[int, int, int, str]]) -> list[list[tuple[int, str]]]:
    """(row, column, row span, text) cells as rows of (column, text) in order. A cell merged down over several rows
    is repeated in each (a category label spanning three rows belongs to all three)."""
    rows: dict[int, dict[int, str]] = {}
    for row, col, _span, text in cells:
        rows.setdefault(row, {}).setdefault(col, text)
    for row, col, span, text in cells:
        for below in range(row + 1, row + min(max(span, 1), 50)):
            if below in rows:
                rows[below].setdefault(col, text)
    return [sorted(rows[r].items()) for r in sorted(rows)]


def table_lines(rows: list[list[tuple[int, str]]]) -> list[str]:
    """A table as lines, a row each, so a figure stays beside its label. `rows` holds (column, text) per cell in
    column order; a cell's paragraphs are joined by newlines. Below a header row (short, wordy labels over at
    least two more rows) each value is written "header: value", which a question about the value then shares words
    with (a two-column table needs a generic first label such as 구분: otherwise it is read as label | value pairs);
    other tables join their cells with " | ". A one-column table (a title box, a boxed note) gives each of
    its paragraphs a line."""
    rows = [r for r in rows if any(t.strip() for _, t in r)]
    if not rows:
        return []
    if all(sum(1 for _, t in r if t.strip()) <= 1 for r in rows):
        return [ln for r in rows for _, t in r for ln in t.split("\n") if ln.strip()]
    flat = [[(c, " ".join(t.split())) for c, t in r] for r in rows]
    header = flat[0]
    labels = [t for _, t in header]
    if not (len(flat) >= 3 and len(header) >= 2 and all(labels)
            and all(len(t) <= 20 and not any(ch.isdigit() for ch in t) for t in labels)
            and (len(header) >= 3 or _generic(labels[0]))):
        return [" | ".join(t for _, t in r if t) for r in flat]
    names = dict(header)
    out = [" | ".join(labels)]
    for r in flat[1:]:
        parts = []
        for c, t in r:
            if not t:
                continue
            over = max((x for x in names if x <= c), default=None)  # a merged header spans the columns after it
            name = names.get(over, "") if over is not None else ""
            parts.append(f"{name}: {t}" if name and name != t and not _generic(name) else t)
        out.append(" | ".join(parts))
    return out


def _generic(label: str) -> bool:
    """A header that names nothing ("구분", "내용"): "총 길이 | 누리호: 47.2 m", not "구분: 총 길이 | ..."."""
    return label.replace(" ", "").lower() in {"구분", "항목", "분류", "내용", "비고", "category", "item", "value"}


def open_zip(data: bytes, what: str):
    """The zip archive of an OOXML/OWPML document, after checking its directory: a member that expands too much
    (a zip bomb posing as a document) or a total over MAX_UNZIPPED is refused before anything is inflated."""
    import io
    import zipfile

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise LoadError(f"corrupt or truncated {what} (not a readable zip archive: {e})") from e
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise LoadError(f"refused: {info.filename} in this {what} expands {ratio}x to "
                            f"{info.file_size / 1e6:.0f} MB (a zip bomb, not a document)")
    if total > MAX_UNZIPPED:
        raise LoadError(f"refused: this {what} expands to {total / 1e6:.0f} MB, over the {MAX_UNZIPPED // 2**20} MB "
                        f"limit for one document: split it")
    return zf


def read_member(zf, name: str, limit: int = MAX_UNZIPPED) -> bytes:
    """One member's bytes, reading at most `limit` (the directory's sizes can lie)."""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise LoadError(f"refused: {name} expands past {limit // 2**20} MB")
    return data


def paragraph_lines(pieces) -> list[str]:
    """A paragraph inside a box or note as lines: its inline text (whitespace collapsed) and each block's lines,
    in order. `pieces` are a 한글 reader's: strings of text, and lists of lines for the blocks inside."""
    out: list[str] = []
    parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
        else:
            out.append(" ".join("".join(parts).split()))
            parts = []
            out.extend(piece)
    out.append(" ".join("".join(parts).split()))
    return out


class BlockLayout:
    """How a 한글 reader (HWP records or HWPX XML) writes one paragraph: its inline text as a line, and each block
    inside it (a table's rows, a box's lines) set apart, under the location it sits at. The reader provides `out` (a
    `Builder`), `table_no`, `location()` and `_emit(text, node)`."""

    def lay_out(self, pieces, node) -> None:
        line: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                line.append(piece)
                continue
            self._emit("".join(line), node)  # the text so far is a line of its own
            line = []
            self.out.gap()
            if self.table_no is not None:
                self.out.at(self.location())
            for row in piece:
                self.out.line(row)
            self.out.gap()
            self.table_no = None
            self.out.at(self.location())
        self._emit("".join(line), node)
