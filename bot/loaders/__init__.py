"""Read files into `SourceDoc`s: one module per format family, picked by the file's content (then its extension).

A format is a module with a `load_X(path, data, options)` function and an entry in `FORMATS`; `sniff` tells the
format from the first bytes (OLE, zip members, %PDF, HTML). Each failure is a `LoadError` whose message is the
reason, naming what to do (the format to convert to, the password to remove, the package to install).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import LoadOptions, doc_id_for, make_doc
from .html import extract_html, load_html
from .text import decode_bytes, load_markdown, load_text

__all__ = ["FORMATS", "SUPPORTED", "USE", "LoadOptions", "decode_bytes", "doc_id_for", "extract_html", "load_bytes",
           "load_file", "make_doc", "sniff"]


def _lazy(module: str, name: str) -> Callable[..., SourceDoc]:
    """A loader imported on first use (python-docx, openpyxl, pypdf are slow to import)."""

    def load(path: Path, data: bytes, options: LoadOptions | None = None) -> SourceDoc:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(path, data, options)

    return load


# format -> (loader, the extensions that name it)
FORMATS: dict[str, tuple[Callable[..., SourceDoc], tuple[str, ...]]] = {
    "markdown": (load_markdown, (".md", ".markdown")),
    "text": (load_text, (".txt",)),
    "html": (load_html, (".html", ".htm")),
    "pdf": (_lazy("pdf", "load_pdf"), (".pdf",)),
    "hwp": (_lazy("hwp", "load_hwp"), (".hwp",)),
    "hwpx": (_lazy("hwpx", "load_hwpx"), (".hwpx",)),
    "docx": (_lazy("office", "load_docx"), (".docx",)),
    "pptx": (_lazy("office", "load_pptx"), (".pptx",)),
    "xlsx": (_lazy("office", "load_xlsx"), (".xlsx", ".xlsm")),
}
# Old binary Office formats: read only to say what to convert them to (a .doc may really be HTML or RTF-free text).
OLD_FORMATS = {".doc": "Word 97-2003 (.doc): save it as .docx", ".xls": "Excel 97-2003 (.xls): save it as .xlsx",
               ".ppt": "PowerPoint 97-2003 (.ppt): save it as .pptx"}
SUPPORTED = {ext for _, exts in FORMATS.values() for ext in exts} | set(OLD_FORMATS)
_BY_EXT = {ext: kind for kind, (_, exts) in FORMATS.items() for ext in exts}
_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<meta\s|<body[\s>])", re.I)
USE = ".md, .txt, .html, .pdf, .hwp, .hwpx, .docx, .pptx or .xlsx"


def sniff(data: bytes, suffix: str = "") -> str:
    """The format of a file from its content (its extension decides only between text kinds)."""
    suffix = suffix.lower()
    head = data[:2048]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _sniff_ole(data)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, suffix)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"HWP Document File V3"):
        raise LoadError("HWP 3.x document: open it in 한글 and save it as .hwp (5.0) or .hwpx")
    if head.startswith(b"{\\rtf"):
        raise LoadError("RTF document: save it as .docx")
    if suffix in OLD_FORMATS and b"\x00" in head:
        raise LoadError(f"unreadable {OLD_FORMATS[suffix]}")
    kind = _BY_EXT.get(suffix)
    if kind in ("markdown", "text"):
        return kind
    if _HTML.match(head.lstrip(b"\xef\xbb\xbf")) or (kind == "html" and b"<" in head):
        return "html"
    if suffix in OLD_FORMATS:
        return "text"  # a .doc that is plain text: read it as such
    if kind is not None:  # a binary format's extension on content that is none of them
        raise LoadError(f"not a valid {suffix} file (its content is not that format)")
    raise LoadError(f"unsupported file type {suffix or '(none)'}: use {USE}")


def _sniff_ole(data: bytes) -> str:
    """HWP 5.0, or an old Office file (named with the format to convert it to)."""
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception as e:  # olefile raises OSError and its own errors for damaged containers
        raise LoadError(f"truncated or corrupt OLE compound file (.hwp/.doc/.xls/.ppt): {e}") from e
    try:
        names = {"/".join(e) for e in ole.listdir()}
    finally:
        ole.close()
    if "FileHeader" in names:
        return "hwp"
    if "EncryptedPackage" in names:  # Office's password protection wraps the .docx/.xlsx/.pptx in an OLE file
        raise LoadError("password-protected Office document (.docx/.xlsx/.pptx): save a copy without the password "
                        "to ingest it")
    if "WordDocument" in names:
        raise LoadError(OLD_FORMATS[".doc"] + " to ingest it")
    if "Workbook" in names or "Book" in names:
        raise LoadError(OLD_FORMATS[".xls"] + " to ingest it")
    if "PowerPoint Document" in names:
        raise LoadError(OLD_FORMATS[".ppt"] + " to ingest it")
    raise LoadError("an OLE compound file of an unknown kind (not HWP 5.0, .doc, .xls or .ppt)")


def _sniff_zip(data: bytes, suffix: str) -> str:
    from .base import open_zip

    zf = open_zip(data, "document")
    names = set(zf.namelist())
    mimetype = b""
    if "mimetype" in names:
        try:
            mimetype = zf.read("mimetype")[:100]
        except Exception:  # a damaged member: decide by the other names
            pass
    if b"hwp" in mimetype or any(n.startswith("Contents/section") for n in names):
        return "hwpx"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        kind = mimetype.decode("ascii", "replace").rsplit(".", 1)[-1]
        target = {"text": ".docx", "spreadsheet": ".xlsx", "presentation": ".pptx"}.get(kind, ".docx")
        raise LoadError(f"OpenDocument file ({kind}): save it as {target}")
    raise LoadError(f"a zip archive that is not a document{f' (despite {suffix})' if suffix else ''}: use {USE}")


def load_bytes(path: Path, data: bytes, options: LoadOptions | None = None) -> SourceDoc:
    """Load a file's bytes, the loader picked by `sniff`. Raises LoadError with the reason."""
    if not data.strip():
        raise LoadError("empty file")
    kind = sniff(data, path.suffix)
    loader = FORMATS[kind][0]
    try:
        return loader(path, data, options)
    except LoadError:
        raise
    except MemoryError as e:
        raise LoadError(f"the {kind} file is too large to read in memory: split it") from e
    except Exception as e:  # a parser bug must not stop the whole run
        raise LoadError(f"could not parse the {kind} file ({type(e).__name__}: {e})") from e


def load_file(path: Path, options: LoadOptions | None = None) -> SourceDoc:
    """Load one file, its format told by its content. Raises LoadError with the reason."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read the file: {e.strerror}") from e
    return load_bytes(path, data, options)
