"""HWPX (OWPML: a zip of XML, KS X 6101): the sections' paragraphs, tables row by row, text boxes, notes, headers
and footers, and the title, author and date from the package metadata. Same rules and locations as HWP."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import BlockLayout, Builder, grid_rows, open_zip, paragraph_lines, read_member, table_lines
from .hwp import MAX_DEPTH, is_heading

_SECTION = re.compile(r"^Contents/section(\d+)\.xml$")
_SKIP = {"secPr", "linesegarray", "fieldBegin", "fieldEnd", "pic", "equation"}  # no body text inside
_BOXES = {"rect", "ellipse", "polygon", "curve", "arc", "connectLine", "container", "textart", "drawText"}


_NOTES = {"footNote": "[각주] ", "endNote": "[미주] "}


def _has_note(ctrl) -> bool:
    return any(_local(c.tag) in _NOTES for c in ctrl)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Reader(BlockLayout):
    def __init__(self, out: Builder) -> None:
        self.out = out
        self.heading: str | None = None
        self.tables = 0
        self.table_no: int | None = None
        self.page = 1
        self._vpos: int | None = None
        self.notes: list[str] = []

    def location(self) -> str:
        where = f"{self.page}쪽"
        if self.table_no is not None:
            return f"{where} · 표 {self.table_no}"
        return f"{where} · {self.heading[:40]}" if self.heading else where

    def section(self, root) -> None:
        for p in root:
            if _local(p.tag) == "p":
                self._turn_pages(p)
                self.out.at(self.location())
                self.paragraph(p)
        for note in self.notes:
            self.out.line(note)
        self.notes = []

    def _turn_pages(self, p) -> None:
        tops = []
        for el in p:
            if _local(el.tag) == "linesegarray":
                tops = [int(s.get("vertpos", "0") or 0) for s in el if s.get("vertpos", "").lstrip("-").isdigit()]
        if self._vpos is not None and ((tops and tops[0] < self._vpos) or p.get("pageBreak") == "1"):
            self.page += 1
        self.page += sum(1 for a, b in zip(tops, tops[1:]) if b < a)
        if tops:
            self._vpos = tops[-1]

    def paragraph(self, p) -> None:
        self.lay_out(self.pieces(p, 0, inline=False), p)

    def _emit(self, text: str, p) -> None:
        for part in text.split("\n"):
            part = " ".join(part.split())
            if not part:
                continue
            if is_heading(part, None):
                self.heading = part
                self.out.at(self.location())
            self.out.line(part)

    def pieces(self, p, depth: int, inline: bool):
        """Text of a paragraph in order; a table or a box gives its lines (joined when `inline`)."""
        if depth > MAX_DEPTH:
            raise LoadError("corrupt HWPX file (objects nested too deep)")
        for run in p:
            if _local(run.tag) != "run":
                continue
            for el in run:
                name = _local(el.tag)
                if name == "t":
                    yield from _t_text(el)
                elif name == "dutmal":  # 덧말: the base text and its ruby
                    parts = {_local(c.tag): "".join(c.itertext()).strip() for c in el}
                    main, ruby = parts.get("mainText", ""), parts.get("subText", "")
                    yield f"{main}({ruby})" if ruby else main
                elif name == "tbl":
                    self.tables += 1
                    if depth == 0:
                        self.table_no = self.tables
                    rows = self.table(el, depth + 1)
                    if rows:
                        yield " ".join(rows) if inline else rows
                elif name in ("footNote", "endNote") or (name == "ctrl" and _has_note(el)):
                    for note in [el] if name != "ctrl" else [c for c in el if _local(c.tag) in _NOTES]:
                        text = " ".join(self.lines_under(note, depth + 1))
                        if text:
                            self.notes.append(_NOTES[_local(note.tag)] + text)
                elif name in _BOXES or name in ("header", "footer", "ctrl"):
                    lines = self.lines_under(el, depth + 1)
                    if lines:
                        yield " ".join(lines) if inline else lines

    def lines_under(self, el, depth: int) -> list[str]:
        """Every paragraph below `el` (a text box's, a note's, a header's), a line each."""
        out: list[str] = []
        if depth > MAX_DEPTH:
            return out
        for child in el:
            name = _local(child.tag)
            if name == "p":
                out.extend(paragraph_lines(self.pieces(child, depth + 1, inline=False)))
            elif name not in _SKIP:
                out.extend(self.lines_under(child, depth + 1))
        return [x for x in out if x]

    def table(self, tbl, depth: int) -> list[str]:
        """Rows in order (cells by their cellAddr), cells joined by " | "."""
        cells: list[tuple[int, int, int, str]] = []
        caption: list[str] = []
        n = 0
        for tr in tbl:
            if _local(tr.tag) == "caption":
                caption += self.lines_under(tr, depth + 1)
            if _local(tr.tag) != "tr":
                continue
            for tc in tr:
                if _local(tc.tag) != "tc":
                    continue
                row, col, span = n, sum(1 for c in cells if c[0] == n), 1
                texts = []
                for part in tc:
                    name = _local(part.tag)
                    if name == "cellAddr":
                        row = int(part.get("rowAddr", row) or row)
                        col = int(part.get("colAddr", col) or col)
                    elif name == "cellSpan":
                        span = int(part.get("rowSpan", 1) or 1)
                    elif name == "subList":
                        for p in part:
                            if _local(p.tag) == "p":
                                texts.append(" ".join("".join(self.pieces(p, depth + 1, inline=True)).split()))
                cells.append((row, col, span, "\n".join(t for t in texts if t)))
            n += 1
        return caption + table_lines(grid_rows(cells))


def _t_text(t):
    """A <hp:t>'s text: its own, tabs and line breaks as children, and their tails."""
    if t.text:
        yield t.text
    for child in t:
        name = _local(child.tag)
        if name == "lineBreak":
            yield "\n"
        elif name in ("tab", "nbSpace", "fwSpace"):
            yield " "
        elif name == "hyphen":
            yield "-"
        if child.tail:
            yield child.tail


def _parse(data: bytes, name: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise LoadError(f"corrupt HWPX file ({name} is not well-formed XML: {e})") from e


def _metadata(zf) -> dict:
    """Title, creator and date from Contents/content.hpf (OPF metadata)."""
    if "Contents/content.hpf" not in zf.namelist():
        return {}
    root = _parse(read_member(zf, "Contents/content.hpf", 10 * 2**20), "content.hpf")
    meta: dict = {}
    for el in root.iter():
        name = _local(el.tag)
        text = (el.text or "").strip()
        if name == "title" and text:
            meta["title"] = text
        elif name == "meta" and text:
            key = (el.get("name") or "").lower()
            if key in ("creator", "author") and "author" not in meta:
                meta["author"] = text
            elif key in ("modifieddate", "createddate", "date") and text[:4].isdigit():
                meta.setdefault("published", text[:10])
    return meta


def load_hwpx(path: Path, data: bytes, options=None) -> SourceDoc:
    zf = open_zip(data, "HWPX document")
    names = zf.namelist()
    if "META-INF/manifest.xml" in names:
        manifest = read_member(zf, "META-INF/manifest.xml", 2**20)
        if b"encryption" in manifest.lower():
            raise LoadError("password-protected HWPX document: open it in 한글, remove the password and save a copy")
    sections = sorted((int(m.group(1)), n) for n in names if (m := _SECTION.match(n)))
    if not sections:
        raise LoadError("HWPX file without body text (no Contents/sectionN.xml)")
    out = Builder()
    reader = _Reader(out)
    for _, name in sections:
        reader.section(_parse(read_member(zf, name), name))
        out.gap()
    meta = _metadata(zf)
    return out.doc(path, meta.get("title"), meta)
