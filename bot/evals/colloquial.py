"""Colloquial rewrites of KorQuAD questions, made at benchmark time (KorQuAD is CC BY-ND: no rewrite is stored).

KorQuAD's questions are written in a formal register and copy long phrases from their paragraph, which flatters
lexical retrieval. A rewrite asks the same thing the way a person types into a chat box: spoken endings (뭐야?, 했어?,
누군가요?), plain synonyms for the formal verbs and nouns (`colloquial_lexicon`), dropped particles, a leading time or
place moved to the end. It keeps every name and number and shares no two-word phrase with the paragraph; when no draw
achieves that, `rewrite` returns None.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .colloquial_lexicon import NATIVE_VERBS, NOUNS, SINO_VERBS, WORDS

if TYPE_CHECKING:
    from .answerability import Item

ATTEMPTS = 24

_HANGUL = re.compile(r"[가-힣]")
_KEEP = re.compile(r"[^0-9A-Za-z가-힣]")
_SPOKEN = re.compile(r"(야|이야|임|돼|해|어|아|요|나요|가요|지|거야|였어|었어|였음|었음)\?$")

# particle -> its two forms (after a final consonant, after a vowel)
_PAIRS = {"은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"), "을": ("을", "를"),
          "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와"), "으로": ("으로", "로"), "로": ("으로", "로"),
          "이랑": ("이랑", "랑"), "랑": ("이랑", "랑"), "이나": ("이나", "나"), "나": ("이나", "나")}
# particles whose form follows the syllable before them, longest first: (after a consonant, after a vowel)
_ALTERNATING = [("으로", "로"), ("이랑", "랑"), ("이라", "라"), ("이나", "나"), ("이며", "며"), ("이란", "란"),
                ("은", "는"), ("이", "가"), ("을", "를"), ("과", "와")]
# for the copy check: a particle is stripped only where its form fits the syllable before it
_STRIP = sorted(["으로부터", "에서부터", "에게서", "으로서", "으로써", "에서는", "에서도", "에서의", "로부터", "이라고",
                 "라고", "이라는", "라는", "에게는", "에서", "에게", "한테", "으로", "로서", "로써", "까지", "부터",
                 "마저", "조차", "처럼", "보다", "이나", "이며", "과의", "와의", "에는", "에도", "에의",
                 "으로는", "로는",
                 "은", "는", "이", "가", "을", "를", "의", "에", "와", "과", "도", "만", "로", "랑", "이랑", "께서"],
                key=len, reverse=True)
_AFTER_CONSONANT = {"은", "이", "을", "과", "으로", "이랑", "이나", "이며", "이라고", "이라는", "으로서", "으로써",
                    "으로부터", "과의", "으로는"}
_AFTER_VOWEL = {"는", "가", "를", "와", "로", "랑", "라고", "라는", "로서", "로써", "로부터", "와의", "로는"}
_DROPPABLE = {("은", "JX"), ("는", "JX"), ("이", "JKS"), ("가", "JKS"), ("을", "JKO"), ("를", "JKO"),
              ("의", "JKG")}

_WH = {"무엇": "뭐", "누구": "누구", "어디": "어디", "언제": "언제", "얼마": "얼마", "것": "거"}
_PERSON = set("사람 인물 대통령 선수 가수 감독 배우 왕 교수 의원 후보 정치인 아들 딸 어머니 아버지 총리 장관 멤버 작가 "
              "회장 분 주인공 남편 아내 부인 국회의원 황제 황후 여성 남성 투수 타자 유격수 선교사 장군 위원장 "
              "의장 총재 형 동생 친구 조상 왕비 왕자 공주 지도자 학자 화가 작곡가 코치 범인 용의자 피고인 사장 "
              "교황 목사 "
              "스승 제자 판사 외교관 군인 사령관 지휘관 총장 위원 영웅 천황 국왕 임금 세자 대표 연기자 기타리스트 "
              "보컬 드러머 래퍼 주연 상대 후임 전임 창시자 설립자 창업자 발명가 저자 지은이 인사 철학자 과학자 "
              "소설가 시인 감독관 검사 변호사 기자 앵커 진행자 mc 사회자 심판 장수 신하 승려 스님 사위 며느리 손자 "
              "손녀 조카 장인 장모 부모 형제 자매 첩 후궁 자식 장남 차남 장녀 교주 시종장 관장 조언자 후계자".split())
_PLACE = set("곳 장소 지역 도시 나라 국가 위치 학교 대학교 대학 고등학교 회사 방송사 신문사 팀 클럽 구단 기관 정당 당 "
             "단체 출신지 출생지 고향 지방 섬 마을 동네 지점 본사 소재지 수도 구장 경기장 대륙 방송국 매체 언론사 "
             "출판사 레이블 소속사 기업 업체 병원 교회 사찰 절 학과 국적 출신 대학원 법원 부처 부서 기지 항구 "
             "공항 역 궁 궁궐 성 지구 구역 국가대표팀 소속팀 제작사 개발사 배급사".split())
_TIME = set("해 년도 연도 날짜 시기 날 때 일자 시점 시대 세기 연월일 년 월 시각 요일 계절 무렵 생년월일 기념일 "
            "날짜와 기일 연대 일시 시작일 개막일".split())
_MONEY = set("금액 액수 비용 채무 가격 값 예산 매출 수익 연봉 급여 상금 부채 몸값 이적료 자본금 시가총액 벌금 "
             "배상금 보상금 재산 손해액 피해액 총액".split())
_MEASURE = set("면적 용량 길이 높이 인구 규모 무게 거리 속도 온도 넓이 깊이 크기 판매량 수량 개수 갯수 수 횟수 점수 "
               "득점 비율 확률 시청률 지지율 득표율 인원 숫자 기록 성적 순위 등수 평균 기간 시간 배율 세율 임기 형량 "
               "징역 나이 연령 수치 최고 최대 최소 해상도 배기량 출력 관객 관객수 득표수 의석 의석수 병력 "
               "인구수 사상자 사망자 부상자 피해자".split())


_PERSON_ENDS = ("학자", "주의자", "운동가", "정치가", "작곡가", "소설가", "기술자", "연구자", "지도자", "후보자",
                "당선자", "수상자", "창업자", "설립자", "감독", "선수", "의원", "대표", "장관", "위원장", "회장",
                "사장",
                "드라이버",
                "우두머리", "대통령", "배우", "가수", "작가", "교수", "총리")


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi()


def _batchim(ch: str) -> bool | None:
    """Whether a syllable ends in a consonant (None for anything but Hangul or digits)."""
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 != 0
    if ch.isdigit():
        return ch in "013678"
    return None


def _ends_l(ch: str) -> bool:
    return "가" <= ch <= "힣" and (ord(ch) - 0xAC00) % 28 == 8


def attach(word: str, particle: str) -> str:
    """The word with the particle's form that fits its last syllable (은/는, 이/가, 을/를, 으로서/로서 ...)."""
    b = _batchim(word[-1]) if word else None
    if not particle or b is None:
        return word + particle
    for cons, vow in _ALTERNATING:
        if particle.startswith((cons, vow)):
            rest = particle[len(cons):] if particle.startswith(cons) else particle[len(vow):]
            if cons == "으로" and _ends_l(word[-1]):
                return word + "로" + rest
            return word + (cons if b else vow) + rest
    return word + particle


def _norm(eojeol: str) -> str:
    """An eojeol as the copy check compares it: letters and digits only, its final particle stripped."""
    e = _KEEP.sub("", eojeol).lower()
    for p in _STRIP:
        if len(e) > len(p) and e.endswith(p):
            stem = e[: -len(p)]
            b = _batchim(stem[-1])
            if p in _AFTER_CONSONANT and b is False:
                continue
            if p in _AFTER_VOWEL and b is True and not (p.startswith("로") and _ends_l(stem[-1])):
                continue
            if p in ("도", "만", "의", "에") and len(stem) < 2 and not re.search(r"\d", stem):
                continue
            return stem
    return e


@lru_cache(maxsize=4096)
def _phrases(context: str) -> tuple[frozenset, frozenset, frozenset]:
    """The paragraph's particle-stripped bigrams, its stripped eojeols and its verbatim eojeols."""
    raw = [_KEEP.sub("", w).lower() for w in context.split()]
    norm = [_norm(w) for w in context.split()]
    pairs = {(a, b) for a, b in zip(norm, norm[1:]) if a and b}
    return frozenset(pairs), frozenset(n for n in norm if n), frozenset(r for r in raw if r)


def copied(text: str, context: str, protected: Iterable[str] = ()) -> list[str]:
    """Phrases of `text` copied from `context`: two consecutive eojeols (particles aside), or one eojeol of six or
    more Hangul letters. Eojeols in `protected` (names, numbers) may repeat the paragraph."""
    pairs, norms, raws = _phrases(context)
    prot = set(protected)
    words = [w for w in text.replace("?", " ").replace(",", " ").split() if _KEEP.sub("", w)]
    keys = [_norm(w) for w in words]

    def is_prot(k: str) -> bool:
        return k in prot or bool(re.search(r"[0-9A-Za-z]", k))

    out = []
    for i in range(len(keys) - 1):
        a, b = keys[i], keys[i + 1]
        if (a, b) in pairs and not (is_prot(a) and is_prot(b)):
            out.append(f"{words[i]} {words[i + 1]}")
    for w, k in zip(words, keys):
        if len(_HANGUL.findall(k)) >= 6 and not is_prot(k) and (k in norms or _KEEP.sub("", w).lower() in raws):
            out.append(w)
    return out


# -- the question's units ----------------------------------------------------------------------------------------
class _Unit:
    """One eojeol (or several, when kiwi reads them as one name), its morphemes and what the rewrite made of it."""

    __slots__ = ("text", "morphs", "protected", "new", "verb")

    def __init__(self, text: str, morphs: list[tuple[str, str]], protected: bool) -> None:
        self.text = text
        self.morphs = morphs
        self.protected = protected
        self.new: str | None = None
        self.verb: tuple[str, list[tuple[str, str]]] | None = None  # a swapped predicate: prefix, morphemes

    @property
    def out(self) -> str:
        return self.text if self.new is None else self.new


@lru_cache(maxsize=256)
def _tokens(q: str) -> tuple:
    return tuple(_kiwi().tokenize(q))


def _units(question: str) -> list[_Unit]:
    q = question.strip()
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", q)]
    toks = _tokens(q)
    units: list[_Unit] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        j = i
        # a token running past this eojeol (a spaced name such as "알렉산더 헤이그") joins the next ones to it
        while True:
            ends = [t.start + t.len for t in toks if start <= t.start < end]
            if not ends or max(ends) <= end or j + 1 >= len(spans):
                break
            j += 1
            end = spans[j][1]
        morphs = [(t.form, t.tag) for t in toks if start <= t.start < end]
        text = q[start:end]
        prot = (any(tag in ("NNP", "SL", "SN", "SH") for _, tag in morphs) or bool(re.search(r"[0-9A-Za-z]", text))
                or bool(re.search(r"[<>《》〈〉「」『』\"“”'‘’]", text)))
        units.append(_Unit(text, morphs, prot))
        i = j + 1
    return units


def _content(morphs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [m for m in morphs if m[1] not in ("SF", "SP", "SS", "SE", "SO", "SW")]


def _last_tag(u: _Unit) -> str:
    m = _content(u.morphs)
    return m[-1][1] if m else ""


def _vtag(stem: str) -> str:
    return "VV-I" if stem in {"듣", "걷", "묻", "싣", "깨닫", "돕", "눕", "줍", "짓", "잇", "낫", "붓"} else "VV"


def _join(morphs: list[tuple[str, str]]) -> str:
    return _joined(tuple(morphs))


@lru_cache(maxsize=4096)
def _joined(morphs: tuple) -> str:
    return _kiwi().join(list(morphs))


def _swap_stem(rep: str, rest: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """A replacement verb ("세상을 떠나") as a prefix and its stem morphemes, ready for `rest` endings."""
    words = rep.split()
    stem = words[-1]
    prefix = " ".join(words[:-1])
    if stem == "있":
        rest = [("는", "ETM") if m == ("ᆫ", "ETM") else m for m in rest]
    return prefix, [(stem, _vtag(stem))] + rest


def _predicate(u: _Unit, rng: random.Random) -> tuple[str, list[tuple[str, str]]] | None:
    """A lexicon synonym for the unit's predicate: (prefix words, morphemes to join), or None."""
    m = _content(u.morphs)
    if len(m) >= 2 and m[0][1] == "NNG" and m[1][1] == "XSV" and m[0][0] in SINO_VERBS:
        act, passive = SINO_VERBS[m[0][0]]
        options = act if m[1][0] == "하" else passive if m[1][0] == "되" else ()
        if m[1][0] == "되" and ("지", "VX") in m[2:]:  # "제정되어지다": no second passive
            options = ()
        if options:
            return _swap_stem(rng.choice(options), m[2:])
    if m and m[0][1].startswith("VV") and m[0][0] in NATIVE_VERBS and len(m) >= 2:
        return _swap_stem(rng.choice(NATIVE_VERBS[m[0][0]]), m[1:])
    return None


def _noun(u: _Unit, rng: random.Random, last: bool, after_clause: bool) -> str | None:
    """A plain synonym for a noun that stands alone (with a particle, or ending the question): a bare noun modifying
    the next one is left alone ("국가 상징" is not "나라 상징")."""
    m = _content(u.morphs)
    if not (len(m) > 1 or last):
        return None
    if m and m[0][1] == "NNG" and m[0][0] in NOUNS and all(t.startswith("J") for _, t in m[1:]):
        if not u.text.startswith(m[0][0]):
            return None
        particle = u.text[len(m[0][0]):]
        rep = rng.choice(NOUNS[m[0][0]])
        if rep in ("곳", "때", "해") and not after_clause:  # "분쟁 지역" is not "분쟁 곳"
            return None
        return attach(rep, particle)
    return None


_BODY_WORDS = [
    (r"무엇을", ("뭘", "뭐를")), (r"무엇이", ("뭐가",)), (r"무엇으로", ("뭘로", "뭐로")), (r"무엇에", ("뭐에",)),
    (r"무엇과", ("뭐랑",)), (r"무엇에서", ("뭐에서",)), (r"무엇이라고?", ("뭐라고",)), (r"무엇인지", ("뭔지",)),
    (r"무엇", ("뭐",)),
    (r"누구를", ("누굴", "누구를")), (r"누구에게", ("누구한테",)), (r"누구와", ("누구랑",)), (r"누구의", ("누구",)),
    (r"어디에서", ("어디서",)), (r"어떠한", ("어떤",)), (r"것은", ("건", "게")), (r"것을", ("걸",)), (r"것이", ("게",)),
    (r"것으로", ("걸로",)), (r"것", ("거",)), (r"무엇이라", ("뭐라고",)),
]


def _plain(u: _Unit, rng: random.Random) -> str | None:
    """Spoken forms of wh-words and 것, 하였 → 했, 에게 → 한테."""
    for pat, reps in _BODY_WORDS:
        if re.fullmatch(pat, u.text):
            return rng.choice(reps)
    if u.protected:
        return None
    t = re.sub("하였", "했", u.text)
    t = re.sub("되었", "됐", t)
    t = re.sub("하여$", "해", t)
    t = re.sub("되어$", "돼", t)
    if rng.random() < 0.5:
        t = re.sub("(?<=[가-힣])에게$", "한테", t)
    return t if t != u.text else None


def _drop(u: _Unit) -> str | None:
    m = _content(u.morphs)
    if len(m) >= 2 and m[-1] in _DROPPABLE and m[-2][1] in ("NNG", "NNP") and u.out.endswith(m[-1][0]):
        stem = u.out[: -len(m[-1][0])]
        if _HANGUL.search(stem[-1:]) or re.search(r"[0-9A-Za-z]$", stem):
            return stem
    return None


# -- endings ------------------------------------------------------------------------------------------------------
def _copula(head: str, past: bool, rng: random.Random) -> str:
    """`head` + a spoken copula: 뭐야 / 누구임 / 언젠가요 / 거예요 / 뭐였어 ..."""
    b = _batchim(head[-1]) if head else None
    if past:
        forms = ["이었어", "이었나요", "이었음"] if b else ["였어", "였나요", "였음"]
        if b is None:
            forms = ["이었어", "이었나요"]
        return head + rng.choices(forms, weights=[5, 3, 1][: len(forms)])[0]
    if b is None:
        return head + rng.choice(["임", "인가요"])
    ya = "이야" if b else "야"
    yo = "이에요" if b else "예요"
    inga = {"뭐": "뭔가요", "거": "건가요", "누구": "누군가요", "어디": "어딘가요", "언제": "언젠가요"}.get(
        head, head + "인가요")
    return rng.choices([head + ya, head + "임", inga, head + yo], weights=[9, 2, 4, 3])[0]


def _wh_for(noun: str) -> str:
    if noun in _PERSON or noun.endswith(_PERSON_ENDS):
        return "누구"
    if noun in _PLACE:
        return "어디"
    if noun in _TIME:
        return "언제"
    if noun in _MONEY or len(noun) > 1 and noun.endswith(("액", "료", "비")):
        return "얼마"
    if noun in _MEASURE or len(noun) > 1 and noun.endswith(("수", "률", "율", "판매량", "생산량", "용량")):
        return "how"
    return "뭐"


def _bare_ending(u: _Unit, original_head: str, rng: random.Random) -> tuple[str, str] | None:
    """A question ending on a noun ("…사망한 해는?"): the noun alone, and with a particle and a wh-predicate."""
    m = _content(u.morphs)
    nouns = [f for f, t in m if t.startswith("N")]
    if not nouns:
        return None
    head = nouns[-1]
    wh = _wh_for(original_head)
    if wh == "뭐" and head != original_head:
        wh = _wh_for(head)
    if original_head == "것" and len(m) <= 2:
        return "거", f"{rng.choice(['건', '게'])} {_copula('뭐', False, rng)}"
    text = u.out
    if m[-1][1].startswith("J"):
        for form in (m[-1][0], *_PAIRS.get(m[-1][0], ())):
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                break
    text = re.sub(r"[^0-9A-Za-z가-힣)\]>》〉」』\"”’']+$", "", text)
    if not text:
        return None
    if wh == "how":
        pred = rng.choices(["어떻게 돼", "어떻게 되나요", "얼마나 돼"], weights=[5, 3, 2])[0]
        if original_head in ("나이", "연령"):
            pred = rng.choice(["몇 살이야", "몇 살이에요", "어떻게 돼"])
        if original_head in ("기록", "성적", "순위", "등수", "수치", "최고", "최대", "최소", "징역", "형량"):
            pred = pred.replace("얼마나 돼", "어떻게 돼")
        particle = rng.choices(["이", "", "은"], weights=[6, 3, 1])[0]
    else:
        pred = _copula(wh, False, rng)
        particle = rng.choices(["이", "은", ""], weights=[5, 2, 3])[0]
    return text, f"{attach(text, particle)} {pred}"


def _verb_ending(m: list[tuple[str, str]], rng: random.Random) -> str | None:
    """The final predicate with its endings replaced by a spoken one (했어 / 하나요 / 돼요)."""
    k = len(m)
    while k > 0 and m[k - 1][1] in ("EF", "EC"):
        k -= 1
    if k == 0 or k == len(m) or not re.match(r"(VV|VA|VX|XSV|XSA|EP|VCN)", m[k - 1][1]):
        return None
    ending = rng.choices(["어", "나요", "어요"], weights=[11, 6, 3])[0]
    return _join(m[:k] + [(ending, "EF")])


def _split_ending(units: list[_Unit], rng: random.Random) -> tuple[list[_Unit], str, str, str] | None:
    """The body units, the spoken ending replacing the question's last unit, the ending's bare wh-predicate and the
    ending's noun (for putting the topic last: "뭐야, 그 영화 감독?"), or None when the ending is not understood."""
    last = units[-1]
    m = _content(last.morphs)
    if not m:
        return None
    body = units[:-1]
    tags = [t for _, t in m]
    if "VCP" in tags:
        i = tags.index("VCP")
        past = any(t == "EP" for t in tags[i + 1:])
        cop = _COPULA.fullmatch(last.text.rstrip("?？. "))
        if cop is None:
            return None
        head = cop.group(1).strip()
        if not head and body:  # "몇일 뒤 인가": the copula typed apart
            head, body = body[-1].out, body[:-1]
        if not head or not _HANGUL.search(head[-1]) and not head[-1].isdigit():
            return None
        wh = re.match(r"(무엇|누구|어디|언제|얼마|것)(.*)", head)
        if wh:
            rest = wh.group(2)
            head = _WH[wh.group(1)] + (f" {rest}" if rest and wh.group(1) == "무엇" else rest)
        end = _copula(head, past, rng)
        return body, end, head + "야" if head in _WH.values() else "", ""
    if tags[-1].startswith("J") or tags[-1].startswith("N") or tags[-1] == "XSN":
        if m[-1][0] in _WH and len(m) == 1:
            end = _copula(_WH[m[-1][0]], False, rng)
            return body, end, _WH[m[-1][0]] + "야", ""
        orig = [f for f, t in m if t.startswith("N")]
        bare = _bare_ending(last, orig[-1] if orig else "", rng)
        if bare is None:
            return None
        wh = _wh_for(orig[-1]) if orig else "뭐"
        return body, bare[1], "" if wh == "how" else wh + "야", bare[0]
    if tags[-1] in ("EF", "EC"):
        if last.verb is not None:
            prefix, morphs = last.verb
            end = _verb_ending(morphs, rng)
            end = f"{prefix} {end}".strip() if end else None
        else:
            end = _verb_ending(m, rng)
        return (body, end, "", "") if end else None
    return None


_COPULA = re.compile(r"(.*?)(?:인가요|인가|일까요|입니까|인지|이었나요|이었나|이었는가|였나요|였나|였는가|"
                     r"이었습니까|였습니까|이냐|인데|이었을까|였을까|일까|인걸까|이야|인가\?)")
_LEAD_TIME = re.compile(r"\d+(년|월|일|세기|년대|시즌)(에|에는|의|부터|까지)?|(지난|올해|작년|당시)")
_LEAD_PLACE = re.compile(r".+(에서|에선|에서는)")


def _draw(question: str, context: str, rng: random.Random, effort: float) -> str | None:
    units = _units(question.strip().rstrip("?？.。 ").strip())
    if len(units) < 2:
        return None
    _, norms, _ = _phrases(context)
    for i, u in enumerate(units):
        if u.protected or not _HANGUL.search(u.text) or _KEEP.sub("", u.text) != u.text:
            continue
        in_para = _norm(u.text) in norms or any(f in context for f, t in u.morphs[:1] if t.startswith(("NNG", "VV")))
        p = (0.9 + effort) if in_para else 0.15 + effort / 2
        if rng.random() < p:
            if u.text in WORDS:
                u.new = rng.choice(WORDS[u.text])
                before = _last_tag(units[i - 1]) if i else ""
                if u.text.startswith("당시") and before in ("NNG", "NNP"):  # "노무현 정부 당시" → "노무현 정부 때"
                    u.new = u.text.replace("당시", "때")
                elif u.text.startswith("당시") and before:  # "호남 출신인 당시 총장", "2006년 당시": kept
                    u.new = None
                elif u.text.startswith("이후") and before.startswith(("N", "ETM")):
                    u.new = u.text.replace("이후", "뒤")
                continue
            pred = _predicate(u, rng)
            if pred is not None:
                prefix, morphs = pred
                u.new = f"{prefix} {_join(morphs)}".strip()
                u.verb = pred
                continue
            clause = bool(i) and _last_tag(units[i - 1]) == "ETM"
            noun = _noun(u, rng, i == len(units) - 1, clause)
            if noun is not None:
                u.new = noun
                continue
        plain = _plain(u, rng) if i < len(units) - 1 else None
        if plain is not None:
            u.new = plain
    split = _split_ending(units, rng)
    if split is None:
        return None
    body, end, bare, noun = split
    for u in body[:-1] if bare and not noun else body:
        if not u.protected and rng.random() < 0.3 or u.protected and u.text.endswith("의") and rng.random() < 0.3:
            d = _drop(u)
            if d is not None:
                u.new = d
    if bare and not noun and body and rng.random() < 0.5:
        d = _drop(body[-1])
        if d is not None:
            body[-1].new = d
    words = [u.out for u in body]
    # a leading time or place phrase, moved to the end as an afterthought ("…누구야, 1990년에?")
    lead = 0
    while lead < len(body) - 1 and (_LEAD_TIME.fullmatch(body[lead].text) or lead == 0 and body[0].protected
                                    and _LEAD_PLACE.fullmatch(body[0].text)):
        lead += 1
        if not _LEAD_TIME.fullmatch(body[lead - 1].text):
            break
    movable = (lead and lead < len(body) and not body[lead - 1].text.endswith(("부터", "까지"))
               and not re.match(r"(초|중순|하순|상순|초순|말|경|무렵|께)(에|에는|의)?$", body[lead].text))
    if movable and rng.random() < 0.3 + effort:
        moved = [u.text for u in body[:lead]]
        if re.search(r"\d$", moved[-1]) or moved[-1].endswith(("년", "월", "일", "세기", "년대")):
            moved[-1] += "에"
        moved[-1] = re.sub(r"(에는|의)$", "에", moved[-1])
        return " ".join(words[lead:] + [end]) + ", " + " ".join(moved) + "?"
    # the topic last, sparingly ("얼마야, 금강산 총 면적?")
    if bare and 1 <= len(body) + bool(noun) <= 4 and rng.random() < 0.08:
        topic = [u.out for u in body]
        if noun:
            topic.append(noun)
        elif _drop(body[-1]) is not None:
            topic[-1] = _drop(body[-1]) or topic[-1]
        return f"{bare}, {' '.join(topic)}?"
    return " ".join(words + [end]) + "?"


def protected_words(question: str) -> set[str]:
    """The question's names and numbers, as the copy check keys them."""
    out = set()
    for u in _units(question.strip().rstrip("?")):
        if u.protected:
            out |= {_norm(w) for w in u.text.split()}
    return out


def rewrite(question: str, context: str, rng: random.Random) -> str | None:
    """The question as a person would type it into a chat box, or None when no rewrite avoids the paragraph's
    phrases."""
    prot = protected_words(question)
    for attempt in range(ATTEMPTS):
        text = _draw(question, context, rng, effort=min(0.25, attempt * 0.02))
        if text is None:
            if attempt >= 2:
                return None
            continue
        text = re.sub(r"\s+", " ", text).strip()
        spoken = any(_SPOKEN.search(seg + "?") for seg in text.rstrip("?").split(", "))
        if spoken and not copied(text, context, prot) and _keeps(question, text):
            return text
    return None


def _keeps(question: str, text: str) -> bool:
    """Every name, Latin word and number of the question is still in the rewrite."""
    for u in _units(question.strip().rstrip("?")):
        if not u.protected:
            continue
        for form, tag in u.morphs:
            if tag in ("NNP", "SL", "SN", "SH") and form not in text:
                return False
    return all(n in text for n in re.findall(r"\d+", question))


# -- the benchmark's side ----------------------------------------------------------------------------------------
def load_contexts(korquad: Path) -> dict[str, str]:
    """KorQuAD question id -> its paragraph, read from the dataset (never copied into the repository)."""
    data = json.loads(Path(korquad).read_text(encoding="utf-8"))["data"]
    return {qa["id"]: p["context"] for a in data for p in a["paragraphs"] for qa in p["qas"]}


def rewrite_many(items: list[Item], contexts: dict[str, str], seed: int,
                 n: int | None = None) -> list[tuple[Item, str]]:
    """Up to `n` (item, rewrite) pairs, items visited in an order fixed by `seed`; deterministic for a seed.
    Swapped items ("<qid>-swap") use their source question's paragraph."""
    order = list(items)
    random.Random(seed).shuffle(order)
    out = []
    for it in order:
        ctx = contexts.get(it.qid) or contexts.get(it.qid.removesuffix("-swap"))
        if ctx is None:
            continue
        text = rewrite(it.question, ctx, random.Random(f"{seed}:{it.qid}"))
        if text is not None:
            out.append((it, text))
            if n is not None and len(out) >= n:
                break
    return out
