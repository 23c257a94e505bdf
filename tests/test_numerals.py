"""Korean numeral parsing: table of known values and hypothesis properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.numerals import find_numbers, parse_number


@pytest.mark.parametrize("expr,value", [
    ("1750억", 175e9), ("175B", 175e9), ("70B", 70e9), ("3억 4천만", 3.4e8), ("3억4천만", 3.4e8),
    ("천만", 1e7), ("1,000만", 1e7), ("1000만", 1e7), ("300만", 3e6), ("1조", 1e12), ("1.6조", 1.6e12),
    ("1조1천억", 1.1e12), ("144억 7000만", 1.447e10), ("11만7천", 117000), ("9,000", 9000), ("3.14e23", 3.14e23),
    ("300e9", 3e11), ("0.06", 0.06), ("삼천", 3000), ("만", 1e4), ("10K", 1e4), ("2M", 2e6), ("1T", 1e12),
])
def test_known_values(expr, value):
    assert parse_number(expr) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["", "abc", "12kW", "억억x", "1 2"])
def test_not_numbers(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


def korean(n: int) -> str:
    """Write a whole number the Korean way: 1234567890 -> '12억3456만7890'."""
    parts = []
    for unit, size in (("조", 10**12), ("억", 10**8), ("만", 10**4)):
        q, n = divmod(n, size)
        if q:
            parts.append(f"{q}{unit}")
    if n or not parts:
        parts.append(str(n))
    return "".join(parts)


@given(st.integers(min_value=0, max_value=10**15))
def test_korean_grouping_round_trips(n):
    assert parse_number(korean(n)) == n


@given(st.integers(min_value=1, max_value=9999), st.sampled_from([("만", 1e4), ("억", 1e8), ("조", 1e12)]))
def test_spaced_and_comma_forms_agree(n, unit):
    name, size = unit
    assert parse_number(f"{n:,}{name}") == parse_number(f"{n}{name}") == n * size


@given(st.integers(min_value=1, max_value=999), st.sampled_from([("K", 1e3), ("M", 1e6), ("B", 1e9)]))
def test_english_suffix_equals_korean(n, suffix):
    letter, size = suffix
    assert parse_number(f"{n}{letter}") == n * size


@given(st.integers(min_value=1, max_value=10**12))
def test_found_in_a_sentence(n):
    sentence = f"모델은 {korean(n)} 파라미터를 가진다."
    found = find_numbers(sentence)
    assert [q.value for q in found] == [n] and found[0].unit == "파라미터를"


def test_find_numbers_in_questions():
    q = find_numbers("GPT-3(1750억 파라미터)를 3000억 토큰으로 학습할 때 연산량은?")
    assert [(x.value, x.unit) for x in q] == [(175e9, "파라미터"), (3e11, "토큰으로")]
    q = find_numbers("99,000달러(약 1163억원)")
    assert [(x.value, x.unit) for x in q] == [(99000, "달러"), (1.163e11, "원")]
