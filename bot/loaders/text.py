"""Plain text and Markdown (front matter as metadata; headings as locations)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import finish

_HEADING = re.compile(r"^#\s+(.+)$", re.M)
_ANY_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


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


def heading_sections(text: str) -> tuple[tuple[int, str], ...]:
    """Each Markdown heading's offset and text: the location of what follows it."""
    return tuple((m.start(), " ".join(m.group(1).split())[:120]) for m in _ANY_HEADING.finditer(text))


def load_markdown(path: Path, data: bytes, options=None) -> SourceDoc:
    import frontmatter

    text = decode_bytes(data)
    try:
        post = frontmatter.loads(text)
    except Exception as e:  # malformed YAML front matter
        raise LoadError(f"bad front matter: {e}") from e
    meta = dict(post.metadata)
    body = post.content.replace("\r\n", "\n").replace("\r", "\n")
    title = meta.get("title")
    if not title:
        m = _HEADING.search(body)
        title = m.group(1).strip() if m else None
    meta["published"] = meta.get("published") or meta.get("date")
    return finish(path, body, str(title) if title else None, meta, sections=heading_sections(body))


def load_text(path: Path, data: bytes, options=None) -> SourceDoc:
    text = decode_bytes(data)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 100 else None
    return finish(path, text, title, {})
