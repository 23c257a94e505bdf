"""HTML files and fetched pages: the main text by trafilatura, with title, date, publisher and author."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import finish
from .text import decode_bytes


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


def load_html(path: Path, data: bytes, options=None) -> SourceDoc:
    text, title, meta = extract_html(decode_bytes(data))
    return finish(path, text, title, meta)
