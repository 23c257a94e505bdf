"""HWP 5.0 (한글 OLE compound files) read with olefile: body text, tables row by row, text boxes, foot- and endnotes,
headers and footers, and the summary (title, author, date) as metadata.

The format (HWP 5.0 spec, 한글과컴퓨터): `FileHeader` byte 36 holds the flags (bit 0 compressed, bit 1 password,
bit 2 distribution document); `BodyText/SectionN` are streams of records, raw-deflated when compressed. A record
header is 32 bits: tag (bits 0-9), level (10-19), size (20-31; 0xFFF: a 32-bit size follows). Paragraph text
(HWPTAG_PARA_TEXT) is UTF-16LE in which code units below 32 are controls: char controls take 1 unit, inline and
extended controls 8 (the code, a 4-byte control id, padding, the code again). Each extended control owns a
HWPTAG_CTRL_HEADER child record of the paragraph, in order; tables, drawings and notes keep their paragraphs under it.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import BlockLayout, Builder, grid_rows, paragraph_lines, table_lines

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BEGIN = 16
PARA_HEADER, PARA_TEXT, LINE_SEG, CTRL_HEADER, LIST_HEADER = (_BEGIN + 50, _BEGIN + 51, _BEGIN + 53, _BEGIN + 55,
                                                            _BEGIN + 56)
TABLE = _BEGIN + 61
STYLE = _BEGIN + 10
CHAR_CONTROLS = frozenset({0, 10, 13, 24, 25, 26, 27, 28, 29, 30, 31})  # one code unit; all others below 32 take 8
MAX_RECORDS = 5_000_000  # per section: a corrupt size field cannot make the reader loop on garbage forever
MAX_DEPTH = 40  # nested tables and boxes deeper than this are corrupt input
_HEADING = re.compile(r"^\s*(?:[□■◆◇▣▶●]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ][.\s]|[IVX]{1,4}\.\s|\d{1,2}\.\s|제\s?\d+\s?[장절조편관]"
                      r"|[가-하]\.\s)")


def is_heading(text: str, style: str | None) -> bool:
    """A short line that heads what follows: an outline/heading style, or a numbering or box mark ("□ 추진 배경",
    "Ⅱ. 주요 내용", "제3조")."""
    if len(text) > 60:
        return False
    if style and (style.startswith("개요") or "제목" in style or style.lower().startswith(("heading", "title"))):
        return True
    return bool(_HEADING.match(text))


@dataclass
class Node:
    tag: int
    level: int
    data: bytes
    children: list[Node] = field(default_factory=list)


def read_records(data: bytes) -> list[Node]:
    """The record stream as a tree by level (a record is a child of the last one a level above it)."""
    roots: list[Node] = []
    stack: list[Node] = []
    pos, n, count = 0, len(data), 0
    while pos + 4 <= n:
        (h,) = struct.unpack_from("<I", data, pos)
        pos += 4
        tag, level, size = h & 0x3FF, (h >> 10) & 0x3FF, h >> 20
        if size == 0xFFF:
            if pos + 4 > n:
                break
            (size,) = struct.unpack_from("<I", data, pos)
            pos += 4
        if pos + size > n:
            raise LoadError("truncated or corrupt HWP section (a record runs past the end of its stream)")
        node = Node(tag, level, data[pos:pos + size])
        pos += size
        count += 1
        if count > MAX_RECORDS or level > 1000:
            raise LoadError("corrupt HWP section (implausible record structure)")
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def ctrl_id(node: Node) -> str:
    """A control's 4-character id ('tbl ', 'gso ', 'secd'), stored as a little-endian 32-bit number."""
    return node.data[:4][::-1].decode("latin-1") if len(node.data) >= 4 else ""


_CONTROL = re.compile("[\x00-\x1f]")


def para_text(data: bytes) -> list[str | tuple[int, str]]:
    """A paragraph's text as pieces: strings, and (code, control id) where an extended control sits.

    Decoded whole (surrogate pairs kept as written), then cut at each control: a control id is four ASCII bytes,
    so an 8-unit control is 8 characters of the decoded string and its padding never joins a pair."""
    text = data[:len(data) & ~1].decode("utf-16-le", "surrogatepass")
    out: list[str | tuple[int, str]] = []
    buf: list[str] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _CONTROL.search(text, pos)
        if m is None:
            buf.append(text[pos:])
            break
        buf.append(text[pos:m.start()])
        u = ord(m.group())
        if u in CHAR_CONTROLS:
            buf.append({10: "\n", 30: " ", 31: " ", 24: "-"}.get(u, ""))
            pos = m.end()
            continue
        if u == 9:
            buf.append("\t")
        elif u not in (4, 5, 6, 7, 8, 19, 20):  # extended: it owns a control record
            cid = text[m.start() + 1:m.start() + 3].encode("utf-16-le", "surrogatepass")[::-1].decode("latin-1")
            if any(buf):
                out.append(_join(buf))
            buf = []
            out.append((u, cid))
        pos = m.start() + 8
    if any(buf):
        out.append(_join(buf))
    return out


def _join(parts: list[str]) -> str:
    """The pieces as one string, a lone surrogate (a damaged pair) replaced so the text can be stored."""
    text = "".join(parts)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class _Reader(BlockLayout):
    """Turns a section's record tree into lines of the document, with the heading each is under."""

    def __init__(self, out: Builder, styles: dict[int, str]) -> None:
        self.out = out
        self.styles = styles
        self.heading: str | None = None
        self.tables = 0
        self.table_no: int | None = None  # the table whose rows are being written
        self.notes: list[str] = []
        self.page = 1
        self._vpos: int | None = None

    def body(self, nodes: list[Node]) -> None:
        for node in nodes:
            if node.tag == PARA_HEADER:
                self._turn_pages(node)
                self.out.at(self.location())
                self.paragraph(node, 0)
        self.flush_notes()

    def location(self) -> str:
        """The page as 한글 last laid it out, then the table or the heading the text is under."""
        where = f"{self.page}쪽"
        if self.table_no is not None:
            return f"{where} · 표 {self.table_no}"
        return f"{where} · {self.heading[:40]}" if self.heading else where

    def _turn_pages(self, node: Node) -> None:
        """Count pages from the stored layout: a body line whose vertical position goes back up starts a new
        page, as does a paragraph flagged with a page break (the file keeps each line's position from its last
        layout in 한글, so these are the pages its author saw)."""
        seg = next((c for c in node.children if c.tag == LINE_SEG), None)
        tops = [struct.unpack_from("<i", seg.data, 4 + 36 * k)[0] for k in range(len(seg.data) // 36)] if seg else []
        brk = node.data[11] if len(node.data) > 11 else 0
        if self._vpos is not None and ((tops and tops[0] < self._vpos) or brk & 4):
            self.page += 1
        for a, b in zip(tops, tops[1:]):
            if b < a:
                self.page += 1
        if tops:
            self._vpos = tops[-1]

    def flush_notes(self) -> None:
        for note in self.notes:
            self.out.line(note)
        self.notes = []

    def paragraph(self, node: Node, depth: int) -> None:
        """A body paragraph: its text, with tables and boxes where their controls sit."""
        self.lay_out(self._pieces(node, depth, inline=False), node)

    def _emit(self, text: str, node: Node) -> None:
        for part in text.split("\n"):
            part = " ".join(part.replace("\t", " ").split())
            if not part:
                continue
            if self._is_heading(part, node):
                self.heading = part
                self.out.at(self.location())
            self.out.line(part)

    def _is_heading(self, text: str, node: Node) -> bool:
        return is_heading(text, self.styles.get(node.data[10]) if len(node.data) > 10 else None)

    def _pieces(self, node: Node, depth: int, inline: bool):
        """A paragraph's text pieces; a table or box control yields a list of lines (or inline text when `inline`:
        inside a table cell)."""
        if depth > MAX_DEPTH:
            raise LoadError("corrupt HWP file (controls nested too deep)")
        text = next((c for c in node.children if c.tag == PARA_TEXT), None)
        ctrls = [c for c in node.children if c.tag == CTRL_HEADER]
        if text is None:
            pieces: list = []
        else:
            pieces = para_text(text.data)
        taken = 0
        for piece in pieces:
            if isinstance(piece, str):
                yield piece
                continue
            code, cid = piece
            # The k-th extended control owns the k-th control record; the ids agree in a well-formed file. A control
            # without its record (damaged files) is passed over without shifting the ones after it.
            j = next((j for j in range(taken, len(ctrls)) if ctrl_id(ctrls[j]) == cid), None)
            if j is None:
                continue
            ctrl, taken = ctrls[j], j + 1
            lines = self.control(ctrl, depth + 1)
            if lines:
                yield " ".join(lines) if inline else lines

    def control(self, ctrl: Node, depth: int) -> list[str]:
        cid = ctrl_id(ctrl)
        if cid == "tbl ":
            self.tables += 1
            if depth <= 1:  # a body table (nested ones are part of their cell)
                self.table_no = self.tables
            return self.table(ctrl, depth)
        if cid in ("fn  ", "en  "):
            text = " ".join(self.lines_under(ctrl, depth))
            if text:
                self.notes.append(("[각주] " if cid == "fn  " else "[미주] ") + text)
            return []
        if cid in ("gso ", "head", "foot"):
            return self.lines_under(ctrl, depth)
        if cid == "tdut":  # 덧말: the base text and its ruby live in the control, not in the paragraph
            return [_dutmal(ctrl.data)]
        return []

    def lines_under(self, node: Node, depth: int) -> list[str]:
        """The text of every paragraph below `node` (a text box's, a note's), one line each."""
        out: list[str] = []
        for child in node.children:
            if child.tag == PARA_HEADER:
                out.extend(paragraph_lines(self._pieces(child, depth + 1, inline=False)))
            elif depth < MAX_DEPTH:
                out.extend(self.lines_under(child, depth + 1))
        return [x for x in out if x]

    def table(self, ctrl: Node, depth: int) -> list[str]:
        """A table's rows in reading order, one line each, cells joined by " | " (a figure stays with its label)."""
        cells: list[tuple[int, int, int, list[str]]] = []
        current: list[str] | None = None
        caption: list[str] = []  # a caption's list header and paragraphs come before the TABLE record
        in_table = False
        for child in ctrl.children:
            if child.tag == TABLE:
                in_table = True
            elif not in_table:
                if child.tag == PARA_HEADER:
                    caption.append(self._cell_text(child, depth))
                elif child.tag == LIST_HEADER:
                    caption += [self._cell_text(g, depth) for g in child.children if g.tag == PARA_HEADER]
            elif child.tag == LIST_HEADER:
                row, col, span = _cell_address(child.data, len(cells))
                current = []
                cells.append((row, col, span, current))
                for grand in child.children:  # some writers nest the cell's paragraphs under its header
                    if grand.tag == PARA_HEADER:
                        current.append(self._cell_text(grand, depth))
            elif child.tag == PARA_HEADER and current is not None:
                current.append(self._cell_text(child, depth))
        rows = table_lines(grid_rows([(r, c, span, "\n".join(t for t in texts if t)) for r, c, span, texts in cells]))
        return [t for t in caption if t] + rows

    def _cell_text(self, para: Node, depth: int) -> str:
        return " ".join("".join(self._pieces(para, depth + 1, inline=True)).split())


def _cell_address(data: bytes, index: int) -> tuple[int, int, int]:
    """(row, column, row span) of a table cell from its list header: paragraph count (2), 2 unknown, flags (4),
    then column, row, column span, row span (2 each). A short record (corrupt) gets the order it came in."""
    if len(data) >= 16:
        col, row, _, span = struct.unpack_from("<4H", data, 8)
        return row, col, span
    return index, 0, 1


def _dutmal(data: bytes) -> str:
    """덧말 control: after the id, the base text and the ruby text, each a 16-bit length and UTF-16LE units."""
    try:
        pos = 4
        (n,) = struct.unpack_from("<H", data, pos)
        main = data[pos + 2:pos + 2 + 2 * n].decode("utf-16-le", "replace")
        pos += 2 + 2 * n
        (m,) = struct.unpack_from("<H", data, pos)
        sub = data[pos + 2:pos + 2 + 2 * m].decode("utf-16-le", "replace")
        return f"{main}({sub})" if sub.strip() else main
    except struct.error:
        return ""


def _styles(docinfo: bytes) -> dict[int, str]:
    """Style id -> local style name ("바탕글", "개요 1"), from DocInfo's style records."""
    out: dict[int, str] = {}
    for node in read_records(docinfo):
        if node.tag == STYLE and len(node.data) >= 2:
            (n,) = struct.unpack_from("<H", node.data, 0)
            out[len(out)] = node.data[2:2 + 2 * n].decode("utf-16-le", "replace")
    return out


def _inflate(data: bytes, what: str) -> bytes:
    try:
        d = zlib.decompressobj(-15)
        out = d.decompress(data, 512 * 1024 * 1024)
        if d.unconsumed_tail:
            raise LoadError(f"refused: {what} expands past 512 MB")
        return out
    except zlib.error as e:
        raise LoadError(f"truncated or corrupt HWP file ({what} does not decompress: {e})") from e


def _summary(ole) -> dict:
    """Title, author and date from the HwpSummaryInformation property set (OLE standard property ids)."""
    name = "\x05HwpSummaryInformation"
    if not ole.exists(name):
        return {}
    try:
        props = ole.getproperties(name, convert_time=True)
    except Exception:  # a damaged summary must not cost the text
        return {}

    def text(pid: int) -> str | None:
        # 한글 writes string lengths in characters and olefile reads them as bytes: the value runs on past its
        # terminator into the next properties, so it is cut at the first NUL.
        v = props.get(pid)
        if isinstance(v, bytes):
            v = v.decode("utf-16-le", "ignore") if b"\x00" in v else v.decode("cp949", "ignore")
        v = str(v).split("\x00")[0].strip() if v is not None else ""
        return v or None

    title = text(2)
    if title and (len(title) < 3 or title.isdigit()):
        title = None  # a template's leftover ("2"): the file name says more
    saved = next((v for v in (props.get(13), props.get(12)) if hasattr(v, "year") and v.year > 1980), None)
    if saved is not None:
        from datetime import timedelta

        saved = (saved + timedelta(hours=9)).date()  # stored in UTC; Korean documents are dated in KST
    return {"title": title, "author": text(4), "published": saved}


def load_hwp(path: Path, data: bytes, options=None) -> SourceDoc:
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception as e:  # olefile raises OSError and its own errors for damaged containers
        raise LoadError(f"truncated or corrupt HWP file (the OLE container cannot be opened: {e})") from e
    try:
        return _read(path, ole)
    finally:
        ole.close()


def _read(path: Path, ole) -> SourceDoc:
    if not ole.exists("FileHeader"):
        raise LoadError("not an HWP 5.0 document (an OLE file without a FileHeader stream: "
                        "maybe a .doc/.xls/.ppt; save it as .docx, .xlsx or .pptx)")
    header = ole.openstream("FileHeader").read()
    if not header.startswith(b"HWP Document File") or len(header) < 40:
        raise LoadError("not an HWP 5.0 document (bad FileHeader signature)")
    (flags,) = struct.unpack_from("<I", header, 36)
    if flags & 2:
        raise LoadError("password-protected HWP document: open it in 한글, remove the password and save a copy to "
                        "ingest")
    if flags & 4:
        raise LoadError("distribution document (배포용 문서): its text is encrypted; ask the author for the original, "
                        "or save a copy that is not 배포용 in 한글")
    compressed = bool(flags & 1)

    def stream(name: str) -> bytes:
        try:
            raw = ole.openstream(name).read()
        except OSError as e:
            raise LoadError(f"truncated or corrupt HWP file ({name}: {e})") from e
        if not compressed:
            return raw
        try:
            return _inflate(raw, name)
        except LoadError:
            # Some converters set the compressed flag on streams they wrote plain: a section that starts with a
            # paragraph header record is taken as it is.
            if len(raw) >= 4 and struct.unpack_from("<I", raw)[0] & 0x3FF in (PARA_HEADER, _BEGIN):
                return raw
            raise

    styles = _styles(stream("DocInfo")) if ole.exists("DocInfo") else {}
    sections = sorted((e for e in ole.listdir() if len(e) == 2 and e[0] == "BodyText" and e[1].startswith("Section")),
                      key=lambda e: int(e[1][7:]) if e[1][7:].isdigit() else 0)
    if not sections:
        raise LoadError("HWP file without body text (no BodyText sections)")
    out = Builder()
    reader = _Reader(out, styles)
    for entry in sections:
        reader.body(read_records(stream("/".join(entry))))
        out.gap()
    meta = _summary(ole)
    return out.doc(path, meta.get("title"), meta)
