"""Korean and English number expressions: 1750억, 3억 4천만, 1,000만, 천만, 175B, 70B, 3.14e23, 11만7천."""

from __future__ import annotations

import re
from dataclasses import dataclass

BIG = {"만": 1e4, "억": 1e8, "조": 1e12, "경": 1e16}
SMALL = {"십": 10, "백": 100, "천": 1000}
SINO = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}

_ARABIC = r"\d(?:[\d,]*\d)?(?:\.\d+)?(?:[eE][+-]?\d+)?"
_UNIT = r"[십백천만억조경]"
_SINO = r"[일이삼사오육칠팔구]"
# a Korean compound: (digits or a Sino digit) followed by units, repeated; or two or more units alone (천만, 백만)
_KOREAN = (rf"(?:(?:{_ARABIC}|{_SINO})\s?{_UNIT}(?:\s?(?:{_ARABIC}|{_SINO})?\s?{_UNIT})*"
           rf"(?:\s?{_ARABIC}(?!\s?{_UNIT}))?|{_UNIT}{_UNIT}+)")
_ENGLISH = rf"{_ARABIC}\s?[kKmMbBtT](?![a-zA-Z])"
NUMBER_RE = re.compile(rf"(?<![\w.-]){_KOREAN}|(?<![\w.-]){_ENGLISH}|(?<![\w.-]){_ARABIC}")


def parse_number(expr: str) -> float:
    """The value of one number expression. Raises ValueError when `expr` is not one."""
    if re.search(r"\d\s+\d", expr):
        raise ValueError(f"two numbers, not one: {expr!r}")
    s = re.sub(r"[\s,]", "", expr)
    if not s:
        raise ValueError("empty number")
    m = re.fullmatch(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([kKmMbBtT])?", s)
    if m:
        return float(m[1]) * (SUFFIX[m[2].lower()] if m[2] else 1.0)
    total = group = 0.0
    num: float | None = None
    i = 0
    while i < len(s):
        m = re.match(r"\d+(?:\.\d+)?", s[i:])
        if m:
            if num is not None:
                raise ValueError(f"two numbers in a row in {expr!r}")
            num = float(m[0])
            i += len(m[0])
            continue
        c = s[i]
        if c in SINO and num is None:
            num = float(SINO[c])
        elif c in SMALL:
            group += (num if num is not None else 1.0) * SMALL[c]
            num = None
        elif c in BIG:
            group += num or 0.0
            total += (group or 1.0) * BIG[c]
            group, num = 0.0, None
        else:
            raise ValueError(f"not a number: {expr!r}")
        i += 1
    return total + group + (num or 0.0)


@dataclass(frozen=True)
class Quantity:
    value: float
    text: str
    start: int
    end: int
    unit: str  # the word right after the number, e.g. "달러", "토큰", "GB", "%" ("" if none)


_UNIT_AFTER = re.compile(r"\s?(%|[A-Za-z]+|[가-힣]+)")


def find_numbers(text: str) -> list[Quantity]:
    """Every number expression in `text`, with the unit word that follows it."""
    out = []
    for m in NUMBER_RE.finditer(text):
        raw = m.group(0).strip()
        try:
            value = parse_number(raw)
        except ValueError:
            continue
        u = _UNIT_AFTER.match(text, m.end())
        out.append(Quantity(value, raw, m.start(), m.end(), u.group(1) if u else ""))
    return out
