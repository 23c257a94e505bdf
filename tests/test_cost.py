"""The cost tool: every formula on the corpus's own figures and the dev set's numbers; every quote is real."""

import math

import pytest
from conftest import ROOT

from bot import cost


@pytest.mark.parametrize("fn,args,value,unit", [
    (cost.plan_monthly_cost, ("build", 12e6), 520, "USD"),
    (cost.plan_monthly_cost, ("create", 5e6), 340, "USD"),
    (cost.plan_monthly_cost, ("create", 1e6), 100, "USD"),
    (cost.plan_monthly_cost, ("build", 10e6), 400, "USD"),
    (cost.plan_monthly_cost, ("explore", 5e4), 0, "USD"),
    (cost.break_even, ("create", "build"), 5.75e6, "tokens"),
    (cost.davinci_cost, (2e6,), 120, "USD"),
    (cost.model_memory, (175e9, "fp16"), 350, "GB"),          # the corpus: 350GB of VRAM
    (cost.model_memory, (70e9, "int4"), 35, "GB"),
    (cost.model_memory, (7e9, "fp32"), 28, "GB"),
    (cost.model_memory, (7e9, "int8"), 7, "GB"),
    (cost.model_memory, (175e9, "fp16", True), 2800, "GB"),
    (cost.gpus_needed, (350, "V100-32GB"), 11, "GPU"),          # the corpus: at least 11 V100s
    (cost.gpus_needed, (350, "H100-80GB"), 5, "GPU"),
    (cost.gpus_needed, (80, "A100-80GB"), 1, "GPU"),
    (cost.gpus_needed, (80.5, "A100-80GB"), 2, "GPU"),
    (cost.training_flops, (175e9, 300e9), 3.15e23, "FLOP"),     # the corpus: ~3.14e23
    (cost.energy, ("A100", 4, 168), 4704, "kWh"),
    (cost.energy, ("H100", 1, 10), 120, "kWh"),
    (cost.usd_to_krw, (100, 1170), 117000, "KRW"),
])
def test_formulas(fn, args, value, unit):
    r = fn(*args)
    assert r.value == pytest.approx(value, rel=1e-9) and r.unit == unit
    assert r.formula and "=" in r.formula


def test_corpus_figures_reproduced():
    gpus = cost.gpus_needed(cost.model_memory(175e9, "fp16").value, "V100-32GB")
    assert gpus.details["price_usd"] == 99_000                           # "최소 99,000달러"
    flops = cost.training_flops(175e9, 300e9).value
    assert flops == pytest.approx(3.14e23, rel=0.005)                    # "약 3.14e23 FLOPS"
    years = cost.gpu_time(3.14e23, "V100-32GB").value
    assert years == pytest.approx(355, rel=0.005)                        # "약 355 GPU-년"
    assert any("28 TFLOPS" in a for a in cost.gpu_time(3.14e23).assumptions)


def test_cheapest_plan_and_boundaries():
    assert cost.cheapest_plan(5e4).details["plan"] == "explore"
    assert cost.cheapest_plan(5e6).details["plan"] == "create"
    assert cost.cheapest_plan(6e6).details["plan"] == "build"
    be = cost.break_even().value
    a, b = cost.plan_monthly_cost("create", be).value, cost.plan_monthly_cost("build", be).value
    assert math.isclose(a, b)


def test_missing_or_bad_inputs_are_named():
    with pytest.raises(cost.CostInputError, match="파라미터"):
        cost.model_memory(0)
    with pytest.raises(cost.CostInputError, match="스케일"):
        cost.plan_monthly_cost("scale", 1e6)
    with pytest.raises(cost.CostInputError, match="GPU"):
        cost.gpus_needed(10, "TPU")
    with pytest.raises(cost.CostInputError, match="토큰"):
        cost.plan_monthly_cost("create", -1)


def test_results_cite_corpus_constants():
    r = cost.plan_monthly_cost("create", 5e6)
    assert {c.key for c in r.sources} == {"create_monthly_usd", "create_included_tokens", "create_overage_usd_per_1k"}
    assert all(c.from_corpus for c in r.sources)


def test_every_quote_occurs_in_its_corpus_document():
    for c in cost.constants().values():
        if c.from_corpus:
            text = (ROOT / "corpus" / c.doc).read_text(encoding="utf-8")
            assert c.quote in text, (c.key, c.quote)
        else:
            assert c.doc == "assumption" and c.quote


def test_claims_check_finds_the_corpus_slip():
    from bot.claims import arithmetic_claims, currency_claims, currency_disagreements

    money = currency_claims(ROOT / "corpus")
    assert len(money) >= 8
    bad = currency_disagreements(money)
    assert [c.quote for c in bad] == ["99,000달러(약 1163억원)"]
    assert bad[0].recomputed == pytest.approx(1.16e8, rel=0.05)  # about 1억 1600만원, not 1163억원
    by_key = {c.quote: c for c in arithmetic_claims()}
    assert all(c.agrees for q, c in by_key.items() if "320장" not in q)


def test_cost_cli():
    from typer.testing import CliRunner

    from bot.cli import app

    r = CliRunner().invoke(app, ["cost", "plan", "1200만", "--plan", "build"])
    assert r.exit_code == 0 and "520 USD" in r.output and "000_1df5f5f5e4db3414.md" in r.output
    r = CliRunner().invoke(app, ["cost", "memory", "175B", "--gpu", "H100-80GB"])
    assert r.exit_code == 0 and "350 GB" in r.output and "5 GPU" in r.output
    r = CliRunner().invoke(app, ["cost", "plan", "많이", "--plan", "build"])
    assert r.exit_code == 2 and "not a number" in r.output
    r = CliRunner().invoke(app, ["cost", "ask", "175B 모델을 fp16으로 올리려면 H100 80GB가 몇 장 필요해?"])
    assert r.exit_code == 0 and "5 GPU" in r.output and "350 GB" in r.output
    # asked to compute without the token count: the CLI asks for exactly that input
    r = CliRunner().invoke(app, ["cost", "ask", "크리에이트 요금제로 한 달 요금을 계산해 줘"])
    assert r.exit_code == 2 and "한 달에 쓸 토큰 수를 알려 주세요" in r.output, r.output
    assert "계산 질문으로 보이지 않습니다" not in r.output
    # the plan's stated monthly fee is a look-up (see test_costq), not a calculation missing an input
    r = CliRunner().invoke(app, ["cost", "ask", "크리에이트 요금제면 한 달에 얼마야?"])
    assert r.exit_code == 2 and "계산 질문으로 보이지 않습니다" in r.output, r.output
    assert "알려 주세요" not in r.output
    r = CliRunner().invoke(app, ["cost", "check"])
    assert r.exit_code == 1 and "1163억원" in r.output


def test_cost_functions_as_typed_langchain_tools():
    from bot.chain import cost_tools

    tools = {t.name: t for t in cost_tools()}
    assert set(tools) >= {"plan_cost", "model_memory", "gpus_needed", "training_flops", "node_energy"}
    schema = tools["model_memory"].args
    assert schema["parameters"]["type"] == "number" and "fp16" in str(schema["precision"])
    assert tools["plan_cost"].invoke({"plan": "build", "monthly_tokens": 12e6})["value"] == 520
    r = tools["gpus_needed"].invoke({"memory_gb": 350, "gpu": "H100-80GB"})
    assert r["value"] == 5 and r["sources"][0]["doc"] == "003_3c76cf2e7998de64.md"
    assert tools["training_flops"].invoke({"parameters": 175e9, "tokens": 300e9})["value"] == pytest.approx(3.15e23)
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        tools["gpus_needed"].invoke({"memory_gb": 350, "gpu": "TPU"})  # not one of the typed choices
