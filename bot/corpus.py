"""Clean raw web captures (menus, share buttons, captions, polls, copyright lines) into Markdown articles.

Rules are line-based and generic to Korean news/blog captures; `sources.toml` beside the output can override
or supply metadata (title, publisher, author, published) per original file name, since captures often lose
the headline and date. Body sentences are never reworded: a line is either kept as it is or dropped.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from pathlib import Path

from .loaders import decode_bytes

# A line equal to one of these is page chrome.
CHROME = {
    "뷰페이지", "이미지 확대", "글씨 크기 조절", "프린트", "공유하기", "댓글", "광고삭제", "위로", "관련 글",
    "문화", "래블업의 이야기를 확인해보세요.", "기사 공유하기", "구독", "좋아요", "스크랩", "목록", "이전글", "다음글",
}
# The article ends at the first line matching one of these (related news, polls, contact forms, footers).
TAIL = re.compile(r"^(많이 본 뉴스|관련기사|Comments|도움이 필요하신가요\?|저작권자\s*[©ⓒ]|[©ⓒ]\s|Copyright\b|"
                  r"무단\s*전재|.*All rights reserved)")
PHOTO = re.compile(r"^\[(사진|이미지|그래픽|출처)\s*[:=].*\]$")
BYLINE_PREFIX = re.compile(r"^\[([^\]\s]+(?:\s[^\]\s]+)?)\s+([가-힣]{2,4})\s*기자\]\s*")
REPORTER = re.compile(r"^([가-힣]{2,4})\s*기자(\s+[\w.+-]+@[\w.-]+)?$")
STAMP = re.compile(r"^(입력|업데이트|수정|승인|등록)\s*\d{4}[-.]\d{1,2}[-.]\d{1,2}")
RELATED_HEADLINE = re.compile(r"^\S.{4,70}\S(\.\.\.|…)\S.{2,70}$")
SENTENCE_END = re.compile(r"(다|요|죠|음|함|임)[.!?]?[\"'”’)]*$|[.!?][\"'”’)]*$")


@dataclass
class Article:
    body: str
    source_file: str
    title: str | None = None
    publisher: str | None = None
    author: str | None = None
    published: str | None = None
    dropped: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        import yaml

        meta = {"title": self.title or Path(self.source_file).stem, "publisher": self.publisher,
                "author": self.author, "published": self.published, "source_file": self.source_file}
        front = yaml.safe_dump({k: v for k, v in meta.items() if v}, allow_unicode=True, sort_keys=False)
        return f"---\n{front}---\n\n{self.body}\n"


def _date(lines: list[str]) -> str | None:
    for ln in lines:
        if m := re.search(r"(?:입력|등록|승인)\s*(\d{4})[-.](\d{1,2})[-.](\d{1,2})", ln):
            return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    for ln in lines:
        s = ln.strip()
        if m := re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{2})", s):
            return f"20{m[1]}-{m[2]}-{m[3]}"
        if m := re.fullmatch(r"(\d{4})[-.](\d{1,2})[-.](\d{1,2})\.?", s):
            return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
        try:
            return datetime.strptime(s, "%b %d, %Y").date().isoformat()
        except ValueError:
            pass
    return None


def _publisher(lines: list[str]) -> str | None:
    for ln in lines:
        if m := re.search(r"저작권자\s*[©ⓒ]\s*(.+?)(?:\s*\([^)]*\))?\s*무단", ln):
            return m[1].strip()
        if m := re.search(r"[©ⓒ]\s*(.+?)\s*All rights reserved", ln):
            return m[1].strip().rstrip(".")
    for ln in lines:
        if m := BYLINE_PREFIX.match(ln.strip()):
            return m[1]
    return None


def _author(lines: list[str]) -> str | None:
    for ln in lines:
        s = ln.strip()
        if m := BYLINE_PREFIX.match(s):
            return m[2]
        if m := REPORTER.match(s):
            return m[1]
    return None


STRUCTURED = re.compile(r"^([•*|#>-]|\d+[.)]\s)|[={}]")


def _similar(a: str, b: str) -> bool:
    """Two lines that are the same caption or heading (the second copy often slightly reworded)."""
    a, b = a.strip(), b.strip()
    if a == b:
        return bool(a)
    if min(len(a), len(b)) < 8 or min(len(a), len(b)) < 0.4 * max(len(a), len(b)):
        return False
    if STRUCTURED.search(a) or STRUCTURED.search(b):  # list items, table rows and code legitimately look alike
        return False
    return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= 0.55


def _is_body(line: str) -> bool:
    s = line.strip()
    return (len(s) >= 20 and bool(SENTENCE_END.search(s)) and s not in CHROME) or len(s) >= 100


def clean_capture(raw: str, source_file: str, overrides: dict | None = None) -> Article:
    """Turn one raw capture into an `Article` (body + metadata). `overrides` wins over extracted metadata."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [ln.rstrip() for ln in raw.split("\n")]
    art = Article(body="", source_file=source_file, published=_date(lines), publisher=_publisher(lines),
                  author=_author(lines))

    # 1. The header: everything before the first body-like line holds title, byline and date, not body.
    start = next((i for i, ln in enumerate(lines) if _is_body(ln)
                  and not any(_similar(ln, prev) or ln.strip() in prev for prev in lines[:i] if prev.strip())), 0)
    header = [ln.strip() for ln in lines[:start] if ln.strip()]
    counts: dict[str, int] = {}
    for h in header:
        counts[h] = counts.get(h, 0) + 1
    candidates = [h for h in header if len(h) >= 8 and h not in CHROME and not REPORTER.match(h)
                  and not _date([h]) and not STAMP.match(h) and not PHOTO.match(h)
                  and not h.startswith("•")]
    if candidates:
        art.title = max(candidates, key=lambda h: (counts[h], -candidates.index(h)))
    # Deck lines (sub-headlines) shown once are kept at the top of the body; anything repeated is chrome.
    deck = [h for h in candidates if counts[h] == 1 and h != art.title
            and not any(o != h and (_similar(h, o) or h in o) for o in header)]
    art.dropped += [h for h in header if h not in deck]

    # 2. The tail: related news, polls, footers.
    body = lines[start:]
    for i, ln in enumerate(body):
        if TAIL.match(ln.strip()):
            art.dropped += [x.strip() for x in body[i:] if x.strip()]
            body = body[:i]
            break

    # 3. Line by line: chrome, bylines, repeated captions, related-article headlines.
    kept: list[str] = []
    nonblank = [i for i, ln in enumerate(body) if ln.strip()]
    drop: set[int] = set()
    for n, i in enumerate(nonblank):
        s = body[i].strip()
        if s in CHROME or PHOTO.match(s) or REPORTER.match(s) or STAMP.match(s) or re.fullmatch(r"\d{1,4}", s):
            drop.add(i)
            continue
        # A photo caption or heading shows twice in a row (once as alt text); both copies go.
        for j in nonblank[n + 1:n + 3]:
            t = body[j].strip()
            if len(s) < 200 and len(t) < 200 and _similar(s, t) and not _is_sentence_pair(s, t):
                drop.update({i, j})
                # a caption split over two lines on its second copy ("...안내." / "카카오톡채널 캡처")
                if j + 1 < len(body) and body[j + 1].strip() and body[j + 1].strip() in s:
                    drop.add(j + 1)
        if RELATED_HEADLINE.match(s) and not s.endswith(".") and _isolated(body, i):
            drop.add(i)  # a link to a related article between paragraphs
    for i, ln in enumerate(body):
        if i in drop:
            art.dropped.append(ln.strip())
            continue
        s = ln.strip()
        if m := BYLINE_PREFIX.match(s):
            art.dropped.append(m[0].strip())
            s = s[m.end():]
        kept.append(s)
    text = "\n".join(deck + ([""] if deck else []) + kept)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    art.body = text

    for key, value in (overrides or {}).items():
        if key in {"title", "publisher", "author", "published"}:
            setattr(art, key, str(value))
    return art


def _isolated(lines: list[str], i: int) -> bool:
    return (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())


def _is_sentence_pair(a: str, b: str) -> bool:
    """Two different full sentences that merely look alike are body, not a repeated caption."""
    return a != b and _is_body(a) and _is_body(b) and SequenceMatcher(None, a, b).ratio() < 0.8


def load_overrides(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def import_captures(paths: list[Path], out_dir: Path, overrides_file: Path | None = None) -> list[Path]:
    """Clean each raw capture into `out_dir/<stem>.md`; returns the written files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = load_overrides(overrides_file or out_dir / "sources.toml")
    written = []
    for p in paths:
        art = clean_capture(decode_bytes(p.read_bytes()), p.name, overrides.get(p.name))
        out = out_dir / f"{p.stem}.md"
        out.write_text(art.to_markdown(), encoding="utf-8")
        written.append(out)
    return written
