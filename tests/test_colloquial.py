"""Colloquial rewrites (bot/evals/colloquial.py) on invented paragraphs: names and numbers kept, a spoken ending,
no two-word phrase of the paragraph copied, and None when copying cannot be avoided."""

from __future__ import annotations

import random
import re

from bot.evals.answerability import Item
from bot.evals.colloquial import attach, copied, rewrite, rewrite_many

PARAGRAPH = ("한빛전자는 1987년 김민수가 대전에서 설립한 회사이다. 이 회사는 2001년 첫 스마트폰을 발표하였고, "
             "2005년 서울로 본사를 옮겼다. 김민수는 2012년 사망하였다.")
CASES = [
    ("한빛전자를 설립한 사람은 누구인가?", ["한빛전자"]),
    ("김민수가 사망한 해는 언제인가?", ["김민수"]),
    ("한빛전자가 본사를 옮긴 도시는 어디인가?", ["한빛전자"]),
    ("1987년 대전에서 설립된 회사의 명칭은 무엇인가?", ["1987", "대전"]),
]
SPOKEN = re.compile(r"(야|임|돼|해|어|나요|가요|예요|에요|었음|였음)\?$")
PARTICLE = re.compile(r"(에서|으로|은|는|이|가|을|를|의|에|로|와|과|도)$")


def _pairs(text: str) -> set[tuple[str, str]]:
    words = [PARTICLE.sub("", re.sub(r"[^0-9A-Za-z가-힣]", "", w)) for w in text.split()]
    return set(zip(words, words[1:]))


def test_rewrites_keep_names_speak_and_copy_nothing():
    para = _pairs(PARAGRAPH)
    made = 0
    for question, names in CASES:
        for seed in range(5):
            out = rewrite(question, PARAGRAPH, random.Random(seed))
            if out is None:
                continue
            made += 1
            assert all(n in out for n in names), (question, out)
            # the spoken ending may come first ("누구야, …?") or before an afterthought ("…뭐야, 1987년에?")
            assert any(SPOKEN.search(seg + "?") for seg in out.rstrip("?").split(", ")), out
            assert out != question
            # two consecutive words of the paragraph, particles aside, may repeat only when both are names/numbers
            for a, b in _pairs(out.replace(",", " ").replace("?", " ")) & para:
                assert {a, b} <= {"한빛전자", "김민수", "대전", "1987년", "2001년", "2005년", "2012년"}, (out, a, b)
            assert not copied(out, PARAGRAPH, {"한빛전자", "김민수", "대전", "1987년"})
    assert made >= 10


def test_question_words_stay():
    when = rewrite("김민수가 사망한 해는 언제인가?", PARAGRAPH, random.Random(1))
    who = rewrite("한빛전자를 설립한 사람은 누구인가?", PARAGRAPH, random.Random(1))
    assert when is not None and ("언제" in when or "언젠" in when)
    assert who is not None and ("누구" in who or "누군" in who)


def test_none_when_every_phrase_is_the_paragraphs():
    para = "푸른 고래 도서관은 작은 언덕 위에 서 있다."
    assert all(rewrite("작은 언덕 위에 서 있는 도서관은?", para, random.Random(s)) is None for s in range(3))


def test_particles_fit_the_syllable():
    assert attach("이름", "는") == "이름은" and attach("나라", "이") == "나라가" and attach("서울", "으로") == "서울로"


def test_rewrite_many_is_deterministic():
    items = [Item(f"q{i}", q, "answerable", ("x",), "한빛전자") for i, (q, _) in enumerate(CASES)]
    ctx = {it.qid: PARAGRAPH for it in items}
    a = rewrite_many(items, ctx, seed=3, n=3)
    assert a == rewrite_many(items, ctx, seed=3, n=3)
    assert 1 <= len(a) <= 3
