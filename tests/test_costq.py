"""Routing Korean questions to the cost tool: every dev `cost` question exact, no fact or refuse question routed."""

import json

import pytest
from conftest import DEV

from bot.costq import NeedsInput, route

ROWS = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("row", [r for r in ROWS if r["type"] == "cost"], ids=lambda r: r["id"])
def test_dev_cost_questions_are_exact(row):
    result = route(row["question"])
    assert result is not None and not isinstance(result, NeedsInput), result
    assert result.value == pytest.approx(row["number"], rel=max(row["rel_tol"], 1e-9))
    assert result.formula and (result.sources or result.kind in ("memory", "flops"))


@pytest.mark.parametrize("row", [r for r in ROWS if r["type"] != "cost"], ids=lambda r: r["id"])
def test_fact_and_refuse_questions_are_not_calculations(row):
    assert route(row["question"]) is None


@pytest.mark.parametrize("question,value", [
    ("크리에이트 요금제로 월 300만 토큰이면 얼마야?", 180),
    ("1750억 파라미터를 fp16으로 올리려면 V100 몇 장?", 11),
    ("70억 파라미터를 1조 토큰으로 학습하면 FLOPs는?", 4.2e22),
    ("월 토큰 1500만 개면 어떤 요금제가 제일 싸?", 400 + 5000 * 0.06),
    ("H100 8장 노드 2대를 10시간 돌리면 전력량은?", 240),
    ("GPT-4로 영어 단어 7500개를 처리하면 얼마야?", 0.3),
    ("3억 4천만 파라미터 모델을 int8로 올리면 메모리는 몇 GB?", 0.34),
])
def test_more_questions(question, value):
    assert route(question).value == pytest.approx(value)


@pytest.mark.parametrize("question,missing", [
    ("크리에이트 요금제로 쓸 때 한 달 요금을 계산해 줘", "토큰"),
    ("H100 노드로 돌리면 전력량은 몇 kWh?", "노드 수"),
    ("fp16으로 올리면 메모리는 몇 GB야?", "파라미터"),
    ("1조 토큰으로 학습하면 연산량은?", "파라미터"),
])
def test_missing_inputs_are_asked_for(question, missing):
    r = route(question)
    assert isinstance(r, NeedsInput) and missing in r.message


def test_defaulted_precision_is_stated():
    r = route("70B 모델 메모리는 몇 GB?")
    assert r.value == 140 and any("fp16" in a and "가정" in a for a in r.assumptions)


def test_plan_price_question_is_left_to_retrieval_but_a_request_to_compute_asks_for_volume():
    assert route("크리에이트 요금제는 얼마야?") is None
    assert route("크리에이트 요금제면 한 달에 얼마야?") is None  # the plan's stated monthly fee: a look-up
    assert isinstance(route("크리에이트 요금제로 한 달 요금을 계산해 줘"), NeedsInput)
