"""Search filters: publication dates as numeric periods, and one predicate for both retrieval sides.

A document's `published` may be partial ("2020-09"), so it stands for a period: `date_lo`..`date_hi` as YYYYMMDD
ints (2020-09 -> 20200901..20200930), stored in every chunk's metadata because Chroma compares numbers, not
strings. A date filter keeps a document whose period overlaps the filter's range (a "2020-09" article may have
appeared on 2020-09-15). An undated document has the empty period `UNDATED` (lo > hi), which overlaps no range: a
date-restricted search leaves it out; searches without a date filter still find it.

`Scope` is a `Filters` resolved against the index (publisher and document names checked, titles turned into doc
ids): `where()` is the Chroma side, `mask()` the BM25 side, from the same fields.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from .errors import FilterError, NoMatchError
from .types import Filters

UNDATED = (99999999, 0)  # an empty period: overlaps no date range
DATE_FIELDS_VERSION = 1  # recorded in the collection's metadata once every chunk carries date_lo / date_hi
_DATE = re.compile(r"^\s*(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?|(\d{2})(\d{2}))?\.?(?:[T\s].*)?$")
_KOREAN_DATE = re.compile(r"^\s*(\d{4})\s*년(?:\s*(\d{1,2})\s*월(?:\s*(\d{1,2})\s*일)?)?")


def period(value: str | date | None) -> tuple[int, int] | None:
    """The days `value` covers as (lo, hi) YYYYMMDD ints: "2020" -> whole year, "2020-09" -> the month,
    "2023-03-21" (or 20230321, 2023.03.21, 2023/3/21, 2023년 3월 21일, a datetime) -> that day; None when it is
    no date."""
    if value is None:
        return None
    if isinstance(value, date):
        n = value.year * 10000 + value.month * 100 + value.day
        return n, n
    m = _DATE.match(str(value)) or _KOREAN_DATE.match(str(value))
    if not m:
        return None
    groups = m.groups() + (None, None)  # the Korean pattern has three groups; 20230321 fills the 4th and 5th
    y = int(groups[0])
    mo_s, d_s = (groups[1], groups[2]) if not groups[3] else (groups[3], groups[4])
    mo = int(mo_s) if mo_s else None
    d = int(d_s) if d_s else None
    try:
        if mo is None:
            lo, hi = date(y, 1, 1), date(y, 12, 31)
        elif d is None:
            lo, hi = date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
        else:
            lo = hi = date(y, mo, d)
    except ValueError:  # month 13, 30 February
        return None
    return lo.year * 10000 + lo.month * 100 + lo.day, hi.year * 10000 + hi.month * 100 + hi.day


def date_fields(published: str | None) -> dict[str, int]:
    """The chunk metadata for a document's date: {date_lo, date_hi} (the empty period when undated)."""
    lo, hi = period(published) or UNDATED
    return {"date_lo": lo, "date_hi": hi}


def check_date(value: str | date | None, what: str) -> str | None:
    """A user's date as given (ISO: 2023, 2023-03 or 2023-03-21), or a FilterError saying how to write it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}(-\d{1,2}(-\d{1,2})?)?", text) or period(text) is None:
        raise FilterError(f"bad {what} date {text!r}: write YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2023-01-01)",
                          user_message=f"날짜 '{text}'를 읽지 못했습니다. 2023-01-01, 2023-01, 2023처럼 "
                                       f"연-월-일 형식으로 적어 주세요.")
    return text


def _fmt(n: int) -> str:
    s = str(n)
    return f"{s[:4]}-{s[4:6]}-{s[6:]}"


def describe(f: Filters | None) -> str:
    """The filter in Korean, for answers and notices: "기간 2023-01-01 ~ 2024-12-31 · 발행처 서울신문"."""
    if f is None or f.empty:
        return ""
    parts = []
    if f.date_from or f.date_to:
        parts.append(f"기간 {f.date_from or '처음'} ~ {f.date_to or '현재'}")
    if f.publishers:
        parts.append("발행처 " + ", ".join(sorted(f.publishers)))
    if f.docs:
        parts.append("문서 " + ", ".join(sorted(f.docs)))
    return " · ".join(parts)


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _listing(names: Iterable[str], limit: int = 20) -> str:
    names = sorted(names)
    more = f" 외 {len(names) - limit}개" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "(없음)"


class Catalog:
    """Per-chunk columns of the index for filtering: date periods, publisher and document codes (numpy)."""

    def __init__(self, metadatas: list[dict]) -> None:
        n = len(metadatas)
        self.lo = np.empty(n, dtype=np.int64)
        self.hi = np.empty(n, dtype=np.int64)
        self.publishers: dict[str, int] = {}
        self.docs: dict[str, int] = {}
        self.titles: dict[str, str] = {}  # doc_id -> title
        self.sources: dict[str, str] = {}  # doc_id -> source
        pub = np.empty(n, dtype=np.int32)
        doc = np.empty(n, dtype=np.int32)
        for i, m in enumerate(metadatas):
            # the period is computed from `published`, the field every chunk has, so the BM25 side never depends
            # on the date fields having been backfilled
            self.lo[i], self.hi[i] = period(m.get("published") or None) or UNDATED
            pub[i] = self.publishers.setdefault(m.get("publisher") or "", len(self.publishers))
            d = m.get("doc_id", "")
            doc[i] = self.docs.setdefault(d, len(self.docs))
            self.titles.setdefault(d, m.get("title", ""))
            self.sources.setdefault(d, m.get("source", ""))
        self.pub, self.doc = pub, doc

    @property
    def publisher_names(self) -> list[str]:
        return sorted(p for p in self.publishers if p)

    def date_range(self) -> tuple[str, str] | None:
        dated = self.lo <= self.hi
        if not dated.any():
            return None
        return _fmt(int(self.lo[dated].min())), _fmt(int(self.hi[dated].max()))

    def undated_docs(self) -> int:
        return len(set(self.doc[self.lo > self.hi].tolist()))


@dataclass(frozen=True)
class Scope:
    """A `Filters` resolved against one index: the publishers and doc ids it names, and its date bounds."""

    filters: Filters
    publishers: frozenset[str] | None
    doc_ids: frozenset[str] | None
    lo: int | None  # the filter's first day (YYYYMMDD) or None
    hi: int | None
    count: int = 0  # chunks it matches

    def where(self) -> dict | None:
        """The Chroma `where` for the same predicate as `mask` (dates compared as numbers)."""
        conds: list[dict] = []
        if self.lo is not None:
            conds.append({"date_hi": {"$gte": self.lo}})
        if self.hi is not None:
            conds.append({"date_lo": {"$lte": self.hi}})
        if self.publishers is not None:
            conds.append({"publisher": {"$in": sorted(self.publishers)}})
        if self.doc_ids is not None:
            conds.append({"doc_id": {"$in": sorted(self.doc_ids)}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}  # Chroma's $and takes two or more

    def admits(self, doc_id: str, publisher: str | None, published: str | None) -> bool:
        """Whether one document passes (the same predicate as `mask`)."""
        lo, hi = period(published) or UNDATED
        return ((self.lo is None or hi >= self.lo) and (self.hi is None or lo <= self.hi)
                and (self.publishers is None or (publisher or "") in self.publishers)
                and (self.doc_ids is None or doc_id in self.doc_ids))

    def mask(self, cat: Catalog) -> np.ndarray:
        keep = np.ones(len(cat.lo), dtype=bool)
        if self.lo is not None:
            keep &= cat.hi >= self.lo
        if self.hi is not None:
            keep &= cat.lo <= self.hi
        if self.publishers is not None:
            keep &= np.isin(cat.pub, [cat.publishers[p] for p in self.publishers])
        if self.doc_ids is not None:
            keep &= np.isin(cat.doc, [cat.docs[d] for d in self.doc_ids])
        return keep


def _resolve_publisher(name: str, cat: Catalog) -> str:
    known = cat.publisher_names
    exact = [p for p in known if _norm(p) == _norm(name)]
    if exact:
        return exact[0]
    partial = [p for p in known if _norm(name) in _norm(p)]
    if len(partial) == 1:  # "래블업" for "래블업(Lablup)"
        return partial[0]
    if partial:
        raise FilterError(f"publisher {name!r} is ambiguous: {', '.join(partial)}",
                          user_message=f"발행처 '{name}'에 맞는 곳이 여럿입니다: {_listing(partial)}. "
                                       f"이 중 하나를 정확히 골라 주세요.")
    raise FilterError(f"unknown publisher {name!r}; the index has: {', '.join(known) or '(none)'}",
                      user_message=f"발행처 '{name}'의 문서가 색인에 없습니다. 색인된 발행처: {_listing(known)}. "
                                   f"이 중에서 골라 다시 시도해 주세요.")


def _resolve_doc(name: str, cat: Catalog) -> set[str]:
    from pathlib import PurePath

    key = _norm(name)
    if name in cat.titles:
        return {name}
    for how in (lambda d: _norm(cat.titles[d]) == key,
                lambda d: _norm(cat.sources[d]) == key or _norm(PurePath(cat.sources[d]).name) == key
                or _norm(PurePath(cat.sources[d]).stem) == key):
        found = {d for d in cat.titles if d and how(d)}
        if found:
            return found
    partial = {d for d in cat.titles if d and key and key in _norm(cat.titles[d])}
    if len(partial) == 1:
        return partial
    titles = [cat.titles[d] for d in (partial or cat.titles) if d]
    if partial:
        raise FilterError(f"document {name!r} is ambiguous: {', '.join(titles)}",
                          user_message=f"문서 '{name}'에 맞는 문서가 여럿입니다: {_listing(titles)}. "
                                       f"제목을 정확히 적어 주세요.")
    raise FilterError(f"no indexed document has the id, title or file name {name!r}",
                      user_message=f"'{name}' 문서가 색인에 없습니다. 색인된 문서: {_listing(titles, 10)}. "
                                   f"문서 제목이나 파일 이름으로 골라 주세요.")


def resolve(f: Filters, cat: Catalog) -> Scope:
    """`f` checked against the index (`FilterError` for an unknown publisher or document, listing the valid ones);
    `NoMatchError` when nothing indexed passes it. Never an empty filter that would search everything."""
    pubs = frozenset(_resolve_publisher(p, cat) for p in f.publishers) if f.publishers else None
    docs = frozenset().union(*(_resolve_doc(d, cat) for d in f.docs)) if f.docs else None
    lo = period(f.date_from)[0] if f.date_from else None
    hi = period(f.date_to)[1] if f.date_to else None
    scope = Scope(f, pubs, docs, lo, hi)
    count = int(scope.mask(cat).sum())
    if count == 0:
        raise no_match(f, cat)
    return Scope(f, pubs, docs, lo, hi, count)


def no_match(f: Filters, cat: Catalog) -> NoMatchError:
    span = cat.date_range()
    what = [f"색인된 문서의 기간은 {span[0]} ~ {span[1]}입니다." if span else "색인된 문서에 날짜가 없습니다."]
    if (f.date_from or f.date_to) and cat.undated_docs():
        what.append(f"날짜가 없는 문서 {cat.undated_docs()}개는 기간 조건을 걸면 제외됩니다.")
    return NoMatchError(
        f"no indexed document matches the filter ({f})",
        user_message=f"조건에 맞는 문서가 없습니다 ({describe(f)}). " + " ".join(what)
                     + " 기간을 넓히거나 발행처·문서 조건을 빼고 다시 시도해 주세요.")


_SCOPE_KEYS = {"since": "date_from", "from": "date_from", "until": "date_to", "to": "date_to",
               "publisher": "publishers", "publishers": "publishers", "doc": "docs", "docs": "docs"}


def parse_scopes(text: str) -> dict[str, Filters]:
    """KBOT_SLACK_SCOPES: channel id -> Filters, as JSON ({"C0123": {"publisher": ["서울신문"], "since":
    "2023-01-01"}}) or compact (`C0123:publisher=서울신문|디지털투데이,since=2023-01-01;C0456:until=2021-12-31`).
    Keys: since, until, publisher, doc (several values: a JSON list, or `|` in the compact form). Channel `*` is
    the scope of every channel (and DM) without its own. A mistake is a ValueError naming the entry."""
    import json

    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not valid JSON ({e.msg} at character {e.pos})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise ValueError('expected {"CHANNEL_ID": {"publisher": ..., "since": ..., "until": ...}, ...}')
        entries = {str(k).strip(): v for k, v in raw.items()}
    else:
        entries = {}
        for part in filter(None, (p.strip() for p in text.split(";"))):
            channel, sep, spec = part.partition(":")
            if not sep:
                raise ValueError(f"{part!r}: write CHANNEL_ID:key=value,key=value (keys: since, until, publisher, "
                                 f"doc)")
            fields: dict[str, list[str] | str] = {}
            for item in filter(None, (x.strip() for x in spec.split(","))):
                key, eq, value = item.partition("=")
                if not eq:
                    raise ValueError(f"{channel.strip()}: {item!r} is not key=value")
                fields[key.strip()] = [v for v in value.split("|")] if key.strip() in ("publisher", "publishers",
                                                                                         "doc", "docs") else value
            entries[channel.strip()] = fields
    out: dict[str, Filters] = {}
    for channel, fields in entries.items():
        if not channel:
            raise ValueError("a scope has no channel id")
        unknown = set(fields) - set(_SCOPE_KEYS)
        if unknown:
            raise ValueError(f"{channel}: unknown key(s) {', '.join(sorted(unknown))}; use since, until, publisher, "
                             f"doc")
        kw = {_SCOPE_KEYS[k]: v for k, v in fields.items()}
        try:
            f = Filters(**kw)
        except FilterError as e:
            raise ValueError(f"{channel}: {e}") from None
        if f.empty:
            raise ValueError(f"{channel}: the scope restricts nothing")
        out[channel] = f
    return out
