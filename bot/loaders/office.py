"""Word, PowerPoint and Excel (OOXML) with python-docx, python-pptx and openpyxl.

Word: paragraphs and tables in body order, headings as locations. PowerPoint: each slide a unit ("슬라이드 N") with
its notes. Excel: each sheet's rows as "header: value" lines ("시트 NAME N행"), merged cells resolved, formulas as
their cached values; a workbook over MAX_SHEETS sheets or MAX_CELLS cells is refused with a reason before it is read.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import Builder, open_zip, table_lines

MAX_SHEETS = 500
MAX_CELLS = 1_000_000
FULL_MODE_BYTES = 8 * 2**20  # sheet XML below this is read whole (merged cells known); above, streamed read-only
_HEADING_STYLE = re.compile(r"^(?:heading|title|제목|개요)\s*(\d*)", re.I)


def _protected(zf, what: str) -> None:
    """An OOXML file with a password is an encrypted OLE file, caught earlier; this catches IRM-style markers."""
    if "EncryptedPackage" in zf.namelist():
        raise LoadError(f"password-protected {what}: save a copy without the password to ingest it")


def _core(props) -> dict:
    """Title, author and date from a document's core properties."""
    when = getattr(props, "modified", None) or getattr(props, "created", None)
    return {"title": (getattr(props, "title", "") or "").strip() or None,
            "author": (getattr(props, "author", "") or "").strip() or None,
            "published": when.date() if isinstance(when, datetime) and when.year > 1980 else None}


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _row_lines(rows: list[list[str]]) -> list[str]:
    """Table rows as lines (`table_lines`), cells in column order."""
    return table_lines([list(enumerate(cells)) for cells in rows])


# --- Word ---------------------------------------------------------------------------------------------------

def load_docx(path: Path, data: bytes, options=None) -> SourceDoc:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    zf = open_zip(data, "Word document")
    _protected(zf, "Word document")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises KeyError, ValueError, lxml errors for damaged parts
        raise LoadError(f"corrupt Word document ({type(e).__name__}: {e})") from e
    out = Builder()
    # Style names looked up once: python-docx's `paragraph.style` scans every style per call (22 s for 3,000).
    styles = {s.style_id: s.name or "" for s in document.styles}
    path_headings: list[tuple[int, str]] = []  # (level, text) of the headings above the current text
    tables = 0
    for el in document.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(el, document)
            text = _clean(para.text)
            level = _heading_level(para, styles) if text else 0
            if level:
                path_headings = [h for h in path_headings if h[0] < level] + [(level, text[:60])]
                out.gap()
                out.at(" › ".join(h for _, h in path_headings[-2:]))
            out.line(text)
            for line in _text_boxes(el):
                out.line(line)
        elif tag == "tbl":
            tables += 1
            here = " › ".join(h for _, h in path_headings[-2:])
            out.gap()
            out.at(f"{here} · 표 {tables}" if here else f"표 {tables}")
            for line in _row_lines(_docx_rows(Table(el, document))):
                out.line(line)
            out.gap()
            out.at(here or "본문")
    meta = _core(document.core_properties)
    return out.doc(path, meta["title"], meta)


def _text_boxes(el) -> list[str]:
    """The paragraphs of text boxes anchored in a paragraph (python-docx's text leaves them out). Word writes each
    box twice (DrawingML and a VML fallback): each text once."""
    from docx.oxml.ns import qn

    out: list[str] = []
    for box in el.iter(qn("w:txbxContent")):
        for p in box.iter(qn("w:p")):
            text = _clean("".join(t.text or "" for t in p.iter(qn("w:t"))))
            if text and text not in out:
                out.append(text)
    return out


def _heading_level(para, styles: dict[str, str]) -> int:
    """1.. for a heading paragraph (by style name or outline level), 0 otherwise."""
    sid = para._p.xpath("./w:pPr/w:pStyle/@w:val")
    m = _HEADING_STYLE.match(styles.get(sid[0], sid[0]) if sid else "")
    if m:
        return int(m.group(1) or 1)
    lvl = para._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    return int(lvl[0]) + 1 if lvl and lvl[0].isdigit() and int(lvl[0]) < 9 else 0


def _docx_rows(table) -> list[list[str]]:
    """Cell texts per row; a merged cell (python-docx repeats it across its span) counted once."""
    rows = []
    for row in table.rows:
        seen, cells = set(), []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_clean(cell.text))
        rows.append(cells)
    return rows


# --- PowerPoint ---------------------------------------------------------------------------------------------

def load_pptx(path: Path, data: bytes, options=None) -> SourceDoc:
    from pptx import Presentation

    zf = open_zip(data, "PowerPoint file")
    _protected(zf, "PowerPoint file")
    try:
        prs = Presentation(io.BytesIO(data))
    except Exception as e:  # python-pptx raises KeyError, ValueError, lxml errors for damaged parts
        raise LoadError(f"corrupt PowerPoint file ({type(e).__name__}: {e})") from e
    out = Builder()
    for n, slide in enumerate(prs.slides, 1):
        out.at(f"슬라이드 {n}")
        for shape in _shapes(slide.shapes):
            for line in _shape_lines(shape):
                out.line(line)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = _clean(slide.notes_slide.notes_text_frame.text)
            if notes:
                out.line(f"노트: {notes}")
        out.gap()
    meta = _core(prs.core_properties)
    return out.doc(path, meta["title"], meta)


def _shapes(shapes):
    """Shapes in reading order (top to bottom, left to right), groups opened."""
    flat = []
    for shape in shapes:
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            flat.extend(_shapes(shape.shapes))
        else:
            flat.append(shape)
    return sorted(flat, key=lambda s: ((s.top or 0) // 50000, s.left or 0))


def _shape_lines(shape) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        return _row_lines([[_clean(c.text) for c in row.cells] for row in shape.table.rows])
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [_clean(p.text) for p in shape.text_frame.paragraphs if _clean(p.text)]
    return []


# --- Excel --------------------------------------------------------------------------------------------------

def load_xlsx(path: Path, data: bytes, options=None) -> SourceDoc:
    import openpyxl

    zf = open_zip(data, "Excel workbook")
    _protected(zf, "Excel workbook")
    sheets_xml = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
    if len(sheets_xml) > MAX_SHEETS:
        raise LoadError(f"refused: the workbook has {len(sheets_xml)} sheets, over the limit of {MAX_SHEETS}: "
                        f"split it into smaller workbooks")
    cells = sum(_declared_cells(zf, i.filename) for i in sheets_xml)
    if cells > MAX_CELLS:
        raise LoadError(f"refused: the workbook declares {cells:,} cells, over the limit of {MAX_CELLS:,}: "
                        f"split it, or export the part to index as .csv/.txt")
    full = sum(i.file_size for i in sheets_xml) < FULL_MODE_BYTES
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=not full, data_only=True)
    except Exception as e:  # openpyxl raises KeyError, ValueError, lxml errors for damaged parts
        raise LoadError(f"corrupt Excel workbook ({type(e).__name__}: {e})") from e
    out = Builder()
    budget = [MAX_CELLS]
    try:
        for ws in wb.worksheets:
            _sheet(ws, out, budget, full)
        meta = _core(wb.properties)
    finally:
        if not full:
            wb.close()
    return out.doc(path, meta["title"], meta)


_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _declared_cells(zf, name: str) -> int:
    """The cell count a sheet's <dimension> declares (read from its first bytes only)."""
    with zf.open(name) as fh:
        head = fh.read(4096)
    m = _DIMENSION.search(head)
    if not m or not m.group(3):
        return 0
    from openpyxl.utils import column_index_from_string

    cols = column_index_from_string(m.group(3).decode()) - column_index_from_string(m.group(1).decode()) + 1
    return max(cols, 0) * max(int(m.group(4)) - int(m.group(2)) + 1, 0)


def _value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time() else v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return _clean(v)


def _sheet(ws, out: Builder, budget: list[int], full: bool) -> None:
    """A sheet's rows: the first non-empty row is the header; each later row is "header: value | ..."."""
    merged: dict[tuple[int, int], tuple[int, int]] = {}
    if full:
        for rng in ws.merged_cells.ranges:
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    merged[(r, c)] = (rng.min_row, rng.min_col)
    values: dict[tuple[int, int], str] = {}  # merge anchors' values, to copy into the merged cells
    header: list[str] | None = None
    out.gap()
    for r, row in enumerate(ws.iter_rows(values_only=True), 1):
        budget[0] -= len(row)
        if budget[0] < 0:
            raise LoadError(f"refused: the workbook has over {MAX_CELLS:,} cells (sheet {ws.title} row {r}): split it")
        cells = []
        for c, v in enumerate(row, 1):
            text = _value(v)
            anchor = merged.get((r, c))
            if anchor is not None:
                if anchor == (r, c):
                    values[anchor] = text
                else:
                    text = values.get(anchor, "")
            cells.append(text)
        if not any(cells):
            continue
        if header is None:
            header = cells
            out.at(f"시트 {ws.title} {r}행")
            out.line(f"[{ws.title}] " + " | ".join(x for x in cells if x))
            continue
        out.at(f"시트 {ws.title} {r}행")
        parts = []
        for c, text in enumerate(cells):
            if not text:
                continue
            name = header[c] if c < len(header) else ""
            parts.append(f"{name}: {text}" if name and name != text else text)
        out.line(" | ".join(parts))
