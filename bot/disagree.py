"""Sources that disagree: different values for the same quantity about the same subject in the retrieved evidence.

Every sentence of the hits is read (not just the one an answer quotes). A sentence states a value for the question
when:

- the quantity the question asks (가격, 파라미터 수, 전력, 메모리, 매출, 손실, ...: `KINDS`) fits the value's unit
  (money with money, a count of parameters with a count) and, where the kind has one, its keyword is in the sentence
  or the one before it; money labelled as another kind (매출 for a price question) does not count;
- the question's subject (its model or product identifier such as V100, else its names) is the nearest name before
  the value, in the sentence or the one before it ("테슬라 V100 GPU에 해당한다. GPU는 개당 약 9,000달러" is
  V100's price; "A100 ... 1대 당 2000만원" is not).

Values are compared unit-aware (bot/numerals.py reads 1천만 = 10,000,000) within `tolerance` (relative, ranges by
overlap). Currencies are converted only where the evidence states the rate: a value written with its own conversion
("약 9,000달러(약 1천만원)") carries both, and otherwise a "N달러(약 M원)" pairing in the evidence (the value's own
document first) gives the rate, quoted in `converted`. With no stated rate, dollars and won are not compared.
Only values from different documents make a disagreement; one document's several figures are not sources differing.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from functools import cache

from .answerability import (
    LABELS,
    LATIN,
    Named,
    _alias_groups,
    cached_sentence_spans,
    is_identifier,
    matches,
    named_things,
    spellings,
)
from .numerals import Quantity, find_numbers
from .types import Hit

TOLERANCE = 0.15  # chosen on the tuning half of tests/data/disagreement.jsonl (scripts/eval_disagreement.py)


@dataclass(frozen=True)
class Kind:
    """A quantity a question can ask: its words, the dimensions its values have, a keyword its sentences need."""

    name: str
    label: str  # shown to the user
    asks: re.Pattern
    dims: frozenset[str]
    needs: re.Pattern | None = None
    forbids: tuple[re.Pattern, ...] = ()


_MONEY_LABELS = ("revenue", "loss", "profit", "investment")
_KIND_LABEL = {"revenue": "매출", "loss": "손실", "profit": "이익", "investment": "투자 금액"}
KINDS: list[Kind] = [
    *(Kind(k, _KIND_LABEL[k], LABELS[k], frozenset({"money"}), LABELS[k]) for k in _MONEY_LABELS),
    Kind("ratio", "배율", re.compile(r"몇\s?배|비율|비중|점유율|몇\s?(%|퍼센트|프로)"), frozenset({"ratio"})),
    Kind("params", "파라미터 수", re.compile(r"파라미터|매개\s?변수|모델\s?크기|param", re.I), frozenset({"count"}),
         re.compile(r"파라미터|매개\s?변수|param", re.I)),
    Kind("power", "전력", re.compile(r"전력|와트|kW|소비\s?전력", re.I), frozenset({"power", "energy"})),
    Kind("memory", "메모리 용량", re.compile(r"메모리|VRAM|용량", re.I), frozenset({"memory"}),
         re.compile(r"메모리|VRAM|용량|RAM", re.I)),
    Kind("people", "인원", re.compile(r"직원|인원|몇\s?명|사용자\s?수|이용자\s?수|가입자"), frozenset({"people"})),
    Kind("devices", "대수", re.compile(r"몇\s?(대|장)|대수|GPU\s?수"), frozenset({"devices"})),
    Kind("price", "가격", re.compile(r"가격|비용|얼마(?!\s?(나\s?걸|동안))|값|요금|원가|금액|시세|price|cost", re.I),
         frozenset({"money"}), None, tuple(LABELS[k] for k in _MONEY_LABELS)),
]
# Category words, not subjects: "GPU는 개당 9,000달러" is about the GPU the sentence before names.
GENERIC = {"gpu", "gpus", "cpu", "npu", "tpu", "ai", "api", "llm", "nlp", "vram", "ram", "ssd", "hpc", "it", "sdk",
           "tokens", "token", "flops", "k", "m", "b", "t"}
LEAD = 12  # characters before a value that may still refer back to the sentence before ("GPU는 개당 약 ")
# a Korean topic or subject of the sentence's own ("전원 어댑터는 100달러"), not a pronoun pointing back ("이는")
_OWN_TOPIC = re.compile(r"(?<![가-힣])(?!(?:이|그|저)(?:것|들)?(?:은|는|이|가)\s)[가-힣]+(?:은|는|이|가)\s")
_UNITS = [("달러", "money", "USD", 1.0), ("센트", "money", "USD", 0.01), ("원", "money", "KRW", 1.0),
          ("유로", "money", "EUR", 1.0), ("명", "people", "명", 1.0), ("대", "devices", "대", 1.0),
          ("장", "devices", "대", 1.0), ("파라미터", "count", "개", 1.0), ("매개", "count", "개", 1.0),
          ("개", "count", "개", 1.0), ("배", "ratio", "배", 1.0), ("%", "ratio", "%", 1.0),
          ("퍼센트", "ratio", "%", 1.0)]
_NOT_UNITS = ("개월", "대비", "대학", "장기", "원인")  # words that begin like a unit: 3개월 is no count
_PAIR_GAP = re.compile(r"\s?\(\s?(?:약|대략)?\s?")
_RANGE_GAP = re.compile(r"^\s?[~∼〜–-]\s?$|^\s?에서\s?$")


@dataclass(frozen=True)
class Value:
    """One value as written in a sentence: its amounts per unit (two for "9,000달러(약 1천만원)") and dimension."""

    text: str
    dim: str
    amounts: dict[str, tuple[float, float]]  # unit -> (low, high)
    start: int  # offsets into the sentence
    end: int


@dataclass
class Found:
    """A source's value for the asked quantity: what `find` returns for each side of a disagreement."""

    hit: Hit
    sentence: str
    start: int  # document offsets of the sentence
    end: int
    value: Value
    unit: str = ""  # the unit the values were compared in
    low: float = 0.0
    high: float = 0.0
    converted: str | None = None  # how a value in another currency was brought into `unit`
    about: str = ""


def asked_kind(question: str) -> Kind | None:
    return next((k for k in KINDS if k.asks.search(question)), None)


def subjects(question: str) -> list[Named]:
    """What the question asks about: its identifiers (V100, GPT-3) if any, else its other names (proper nouns and
    the names of data/aliases.toml, 오픈AI)."""
    names = [n for n in named_things(question) if n.kind in ("latin", "proper") and n.text.lower() not in GENERIC
             and not any(k.asks.fullmatch(n.text) for k in KINDS)]
    ids = [n for n in names if is_identifier(n)]
    if ids:
        return ids
    low = question.lower()
    known = {n.text.lower() for n in names}
    for form, group in _alias_groups().items():
        if form in low and not known & set(group) and not GENERIC & set(group) and "달러" not in group:
            i = low.index(form)
            names.append(Named("proper", question[i:i + len(form)]))  # as the question spells it: 오픈AI
            known.update(group)
    return names


def _unit(text: str, q: Quantity) -> tuple[str, str, float, int] | None:
    """(dimension, unit, scale, end of the unit word) of a number, from the word after it (or a $ before it)."""
    if text[max(0, q.start - 1):q.start] == "$":
        return "money", "USD", 1.0, q.end
    if re.search(r"[A-Za-z]", text[max(0, q.start - 1):q.start]):
        return None  # the digits of a name: V100, GPT-3
    gap = len(text[q.end:]) - len(text[q.end:].lstrip(" "))
    after = text[q.end + gap:q.end + gap + 12] if gap <= 1 else ""
    for word, dim, unit, scale in _UNITS:
        if after.startswith(word) and not after.startswith(_NOT_UNITS):
            return dim, unit, scale, q.end + gap + len(word)
    m = re.match(r"([kKMGT]?)(Wh|W)(?![A-Za-z])", after)
    if m:
        scale = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m[1]]
        return ("energy", "Wh", scale, q.end + gap + m.end()) if m[2] == "Wh" else \
            ("power", "W", scale, q.end + gap + m.end())
    m = re.match(r"(MB|GB|TB|기가|테라)", after)
    if m:
        return "memory", "GB", {"MB": 1e-3, "GB": 1.0, "TB": 1e3, "기가": 1.0, "테라": 1e3}[m[1]], q.end + gap + m.end()
    if not q.unit and re.search(r"\d\s?[BMKT]$", q.text):
        return "count", "개", 1.0, q.end  # 175B
    return None


def values(sentence: str) -> list[Value]:
    """The values of a sentence with a unit: a currency with its stated conversion ("N달러(약 M원)") is one value,
    a range ("300~400Wh") is one value."""
    nums = [q for q in find_numbers(sentence) if q.unit != "년"]
    out: list[Value] = []
    i = 0
    while i < len(nums):
        q = nums[i]
        nxt = nums[i + 1] if i + 1 < len(nums) else None
        u = _unit(sentence, q)
        if u is None and nxt is not None and _RANGE_GAP.match(sentence[q.end:nxt.start]):
            u2 = _unit(sentence, nxt)
            if u2 is not None:  # 300~400Wh
                out.append(Value(sentence[q.start:u2[3]], u2[0], {u2[1]: (q.value * u2[2], nxt.value * u2[2])},
                                 q.start, u2[3]))
                i += 2
                continue
        if u is None or u[0] == "devices" and re.match(r"\s?(당|에)", sentence[u[3]:]):
            i += 1  # no unit, or "1대 당": a rate, not a count
            continue
        start = q.start - (1 if sentence[max(0, q.start - 1):q.start] == "$" else 0)
        end = u[3]
        amounts = {u[1]: (q.value * u[2], q.value * u[2])}
        if nxt is not None and u[0] == "money" and _PAIR_GAP.fullmatch(sentence[end:nxt.start]):
            u2 = _unit(sentence, nxt)
            if u2 is not None and u2[0] == "money" and u2[1] != u[1]:  # 9,000달러(약 1천만원)
                amounts[u2[1]] = (nxt.value * u2[2], nxt.value * u2[2])
                end = u2[3] + (1 if sentence[u2[3]:u2[3] + 1] == ")" else 0)
                i += 1
        lead = re.search(r"(?:약|대략|최소|최대|무려)\s?$", sentence[:start])
        out.append(Value(sentence[lead.start() if lead else start:end].strip(), u[0], amounts, start, end))
        i += 1
    return out


@cache
def _korean_names() -> tuple[str, ...]:
    """The Hangul spellings of data/aliases.toml's names, less category words (그래픽처리장치) and currencies."""
    return tuple(f for f, group in _alias_groups().items() if re.search(r"[가-힣]", f)
                 and not GENERIC & set(group) and "달러" not in group)


def _owner_ok(prev: str, sentence: str, pos: int, keys: list[Named]) -> bool:
    """Whether the nearest name before `pos` in `sentence` is one of the question's subjects. A value near the
    start of a sentence that names nothing before it ("GPU는 개당 약 9,000달러", "이는 1750억") belongs to the last
    name of the sentence before."""

    def spots(text: str) -> list[tuple[int, bool]]:
        low = text.lower()
        out = []
        for m in LATIN.finditer(text):
            form = m.group(1).lower()
            if form not in GENERIC and (len(form) >= 2 or re.search(r"\d", form)):
                out.append((m.start(), any(matches(k, form, set()) for k in keys)))
        mine = {f for k in keys for f in spellings(k.text)}
        for form in set(_korean_names()) | {f for f in mine if re.search(r"[가-힣]", f)}:
            # Korean names (오픈AI, 구글 딥마인드); Latin ones are tokens above
            out += [(m.start(), form in mine) for m in re.finditer(re.escape(form), low)]
        return out

    here = spots(sentence[:pos])
    own = [m for m in _OWN_TOPIC.finditer(sentence[:pos]) if not any(k.asks.search(m.group(0)) for k in KINDS)]
    if not here and pos <= LEAD and not own:  # "가격은 약 9,000달러": a quantity word is no topic of its own
        here = spots(prev)
    return bool(here) and max(here)[1]


def focus(question: str) -> str | None:
    """A search for other sources of the asked figure ("V100 가격"), or None when the question asks no quantity of
    a named subject."""
    kind, keys = asked_kind(question), subjects(question)
    return " ".join([k.text for k in keys] + [kind.label]) if kind is not None and keys else None


def statements(question: str, hits: list[Hit]) -> list[Found]:
    """Each sentence of `hits` that states a value of the asked quantity for the asked subject."""
    kind, keys = asked_kind(question), subjects(question)
    if kind is None or not keys:
        return []
    about = " ".join(k.text for k in keys) + f" {kind.label}"
    out: list[Found] = []
    seen: set[tuple[str, int, int]] = set()
    for hit in hits:
        spans = cached_sentence_spans(hit.text)
        for j, (a, b) in enumerate(spans):
            sentence = hit.text[a:b]
            prev = hit.text[spans[j - 1][0]:spans[j - 1][1]] if j else ""
            context = f"{prev}\n{sentence}"
            if kind.needs is not None and not kind.needs.search(context):
                continue
            if any(p.search(sentence) for p in kind.forbids) and not any(p.search(question) for p in kind.forbids):
                continue
            for v in values(sentence):
                if v.dim not in kind.dims or not _owner_ok(prev, sentence, v.start, keys):
                    continue
                key = (hit.doc_id, hit.start + a + v.start, hit.start + a + v.end)
                if key not in seen:
                    seen.add(key)
                    out.append(Found(hit, sentence, hit.start + a, hit.start + b, v, about=about))
    return out


def _rates(hits: list[Hit]) -> list[tuple[float, str, str]]:
    """(won per dollar, the quote stating it, its doc_id) for each "N달러(약 M원)" in the evidence."""
    out = []
    for h in hits:
        for v in values(h.text):
            if {"USD", "KRW"} <= v.amounts.keys() and v.amounts["USD"][0] > 0:
                out.append((v.amounts["KRW"][0] / v.amounts["USD"][0], v.text, h.doc_id))
    return out


def _fmt(x: float, unit: str) -> str:
    from .cost import fmt

    if unit == "KRW":
        if x >= 1e12:
            return f"{fmt(round(x / 1e12, 2))}조원"
        if x >= 1e8:
            return f"{fmt(round(x / 1e8, 2))}억원"
        if x >= 1e4:
            return f"{fmt(round(x / 1e4))}만원"
        return f"{fmt(round(x))}원"
    if unit == "USD":
        return f"{fmt(round(x, 2))}달러"
    return f"{fmt(x)} {unit}"


def _express(found: list[Found], hits: list[Hit]) -> list[Found]:
    """Each value in one unit per dimension; a currency converted only at a rate the evidence states (noted)."""
    if not found:
        return []
    counts: dict[str, int] = {}
    for f in found:
        for u in f.value.amounts:
            counts[u] = counts.get(u, 0) + 1
    unit = max(counts, key=lambda u: (counts[u], u == "KRW"))
    rates = None
    out = []
    for f in found:
        if unit in f.value.amounts:
            f.unit, (f.low, f.high) = unit, f.value.amounts[unit]
            if len(f.value.amounts) > 1:
                f.converted = f"원화로 비교: 문서가 함께 적은 {_fmt(f.low, unit)}" if unit == "KRW" else \
                    f"달러로 비교: 문서가 함께 적은 {_fmt(f.low, unit)}"
            out.append(f)
            continue
        if {unit, *f.value.amounts} != {"USD", "KRW"}:
            continue  # another dimension's unit, or a currency with no stated rate
        rates = _rates(hits) if rates is None else rates
        own = [r for r in rates if r[2] == f.hit.doc_id] or rates
        if not own:
            continue
        rate = statistics.median(r[0] for r in own)
        quote = min(own, key=lambda r: abs(r[0] - rate))[1]
        lo, hi = f.value.amounts["USD" if unit == "KRW" else "KRW"]
        factor = rate if unit == "KRW" else 1 / rate
        f.unit, f.low, f.high = unit, lo * factor, hi * factor
        f.converted = (f"{'원화' if unit == 'KRW' else '달러'}로 환산: ≈ {_fmt(f.low, unit)} "
                       f"(1달러 ≈ {_fmt(rate, 'KRW')}, 문서에 적힌 “{quote}” 기준)")
        out.append(f)
    return out


def agree(a: Found, b: Found, tolerance: float) -> bool:
    """Whether two values (same unit) are the same within `tolerance`: each within ±tolerance of the other (ranges:
    whether they overlap once widened by it)."""
    return a.low <= b.high * (1 + tolerance) and b.low <= a.high * (1 + tolerance)


def find(question: str, hits: list[Hit], tolerance: float | None = None) -> list[Found]:
    """The values the sources give when two documents disagree (one per document and value, newest first);
    [] when the evidence states one value, or no comparable ones. `tolerance` defaults to `TOLERANCE`."""
    tolerance = TOLERANCE if tolerance is None else tolerance
    found = _express(statements(question, hits), hits)
    if not any(a.hit.doc_id != b.hit.doc_id and not agree(a, b, tolerance) for a in found for b in found):
        return []
    shown: list[Found] = []
    for f in found:  # one line per document and value: repeats of an agreeing value in one document add nothing
        if not any(s.hit.doc_id == f.hit.doc_id and agree(s, f, tolerance) for s in shown):
            shown.append(f)
    return sorted(shown, key=lambda f: f.hit.published or "", reverse=True)
