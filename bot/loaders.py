"""Read .md/.txt/.html/.pdf files into `SourceDoc`s. Each failure is a `LoadError` whose message is the reason."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime
from pathlib import Path

from .errors import LoadError
from .types import SourceDoc

SUPPORTED = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}
_HEADING = re.compile(r"^#\s+(.+)$", re.M)


def doc_id_for(path: Path) -> str:
    """Stable id of a file: its absolute path, hashed (the same file ingested from anywhere is one doc)."""
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def decode_bytes(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM) first, then detected encodings (CP949/EUC-KR, ...)."""
    if not data.strip():
        raise LoadError("empty file")
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Korean files that are not UTF-8 are nearly always CP949 (a superset of EUC-KR); try it strictly
    # before asking a detector, which can mistake short Korean files for other CJK encodings.
    try:
        text = data.decode("cp949")
        if _mostly_hangul_or_ascii(text):
            return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LoadError("cannot detect the text encoding (not UTF-8, CP949 or another known encoding)")
    return str(best)


def _mostly_hangul_or_ascii(text: str) -> bool:
    good = sum(1 for c in text if c.isascii() or "\uac00" <= c <= "\ud7a3" or c.isspace())
    return good >= 0.9 * len(text)


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
    """A `SourceDoc` with its content hash (text and metadata; `extra` such as a page's url joins the hash)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("no text content")
    h = hashlib.sha256()
    h.update(text.encode())
    for key in ("title", "published", "publisher", "author"):
        h.update(f"\x00{key}={meta.get(key) or ''}".encode())
    if extra.get("url"):  # a page's address is shown with it: a new redirect target is a change
        h.update(f"\x00source={source}".encode())
    return SourceDoc(
        doc_id=doc_id, text=text, title=title or fallback_title, source=source, path=path,
        content_hash=h.hexdigest(), published=_iso(meta.get("published")), publisher=meta.get("publisher"),
        author=meta.get("author"), **extra,
    )


def _finish(path: Path, text: str, title: str | None, meta: dict) -> SourceDoc:
    return make_doc(text, title, meta, doc_id=doc_id_for(path), source=str(path), path=str(path.resolve()),
                    fallback_title=path.stem)


def load_markdown(path: Path, data: bytes) -> SourceDoc:
    import frontmatter

    text = decode_bytes(data)
    try:
        post = frontmatter.loads(text)
    except Exception as e:  # malformed YAML front matter
        raise LoadError(f"bad front matter: {e}") from e
    meta = dict(post.metadata)
    body = post.content
    title = meta.get("title")
    if not title:
        m = _HEADING.search(body)
        title = m.group(1).strip() if m else None
    meta["published"] = meta.get("published") or meta.get("date")
    return _finish(path, body, str(title) if title else None, meta)


def load_text(path: Path, data: bytes) -> SourceDoc:
    text = decode_bytes(data)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 100 else None
    return _finish(path, text, title, {})


def extract_html(html: str, url: str | None = None, precise: bool = False) -> tuple[str, str | None, dict]:
    """The main text, title and metadata (published, publisher, author) of an HTML page, by trafilatura.

    `precise` (live web pages, framed by menus) first asks for less text with fewer menu lines, and falls back to
    the recall-oriented extraction files get when that finds nothing."""
    import trafilatura

    text = None
    for mode in ("precision", "recall") if precise else ("recall",):
        text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=True,
                                   favor_precision=mode == "precision", favor_recall=mode == "recall", url=url)
        if text and text.strip():
            break
    if not text or not text.strip():
        raise LoadError("no main text found in the HTML page")
    md = trafilatura.extract_metadata(html, default_url=url)
    meta: dict = {}
    title = None
    if md is not None:
        title = md.title
        meta = {"published": md.date, "publisher": md.sitename, "author": md.author or _meta_author(html)}
    return text, title, meta


_AUTHOR = re.compile(r"<meta\s[^>]*(?:name|property)\s*=\s*[\"']?(?:author|article:author|dable:author)[\"'\s][^>]*>",
                     re.I)
_CONTENT = re.compile(r"content\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)


def _meta_author(html: str) -> str | None:
    """<meta name="author">, which trafilatura drops when it is short (a three-syllable Korean name)."""
    import html as html_lib

    for tag in _AUTHOR.finditer(html[:200_000]):
        if (m := _CONTENT.search(tag.group(0))) and (value := (m.group(1) or m.group(2) or "").strip()):
            if not value.startswith(("http://", "https://")):
                return html_lib.unescape(value)[:100]
    return None


def load_html(path: Path, data: bytes) -> SourceDoc:
    text, title, meta = extract_html(decode_bytes(data))
    return _finish(path, text, title, meta)


def load_pdf(path: Path, data: bytes) -> SourceDoc:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data:
        raise LoadError("empty file")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(p.extract_text() or "").strip() for p in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise LoadError(f"corrupt or unreadable PDF ({type(e).__name__}: {e})") from e
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise LoadError("the PDF has no extractable text (scanned images need OCR first)")
    title = getattr(info, "title", None) if info else None
    author = getattr(info, "author", None) if info else None
    return _finish(path, text, title, {"author": author})


_LOADERS = {".md": load_markdown, ".markdown": load_markdown, ".txt": load_text,
            ".html": load_html, ".htm": load_html, ".pdf": load_pdf}


def load_file(path: Path) -> SourceDoc:
    """Load one file by its extension. Raises LoadError with the reason."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}: use .md, .txt, .html or .pdf")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read the file: {e.strerror}") from e
    if not data.strip():
        raise LoadError("empty file")
    try:
        return loader(path, data)
    except LoadError:
        raise
    except Exception as e:  # a parser bug must not stop the whole run
        raise LoadError(f"could not parse ({type(e).__name__}: {e})") from e
