"""Understanding numeric questions: route a Korean question to the cost tool, or ask for what is missing.

Deterministic (no model): keywords pick the calculation, `numerals.find_numbers` reads the quantities by the unit
word that follows them. Questions about what an article *said* ("...라고 했어?") and per-unit price questions
("1000개당 얼마") are left to retrieval: they ask for a stated fact, not a calculation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import cost
from .numerals import find_numbers


@dataclass(frozen=True)
class NeedsInput:
    """The question is a calculation but lacks an input; `message` asks for it in Korean."""

    message: str
    missing: tuple[str, ...]


PLAN_WORDS = {"explore": ("익스플로어", "explore"), "create": ("크리에이트", "create"),
              "build": ("빌드", "build"), "scale": ("스케일", "scale")}
PRECISION = [(r"fp32|32\s?비트|단정밀", "fp32"), (r"fp16|16\s?비트|반정밀", "fp16"), (r"bf16", "bf16"),
             (r"int8|8\s?비트", "int8"), (r"int4|4\s?비트", "int4")]
GPU_PATTERNS = [(r"h100\s?nvl", "H100-NVL"), (r"h100", "H100-80GB"), (r"a100[^0-9]{0,8}40\s?gb", "A100-40GB"),
                (r"a100", "A100-80GB"), (r"v100[^0-9]{0,8}16\s?gb", "V100-16GB"), (r"v100", "V100-32GB")]
REPORTED = re.compile(r"(라고|다고)\s?(했|하|알려|나와|말했|밝혔)|알려졌|들었")
PER_UNIT = re.compile(r"\d[\d,]*\s?개당|당\s?(얼마|가격)")
DURATIONS = [(r"일주일|1주일|한 주", 168.0), (r"한 달|1달|한달|1개월|한 개월", 720.0), (r"하루|1일|24시간", 24.0)]


def _plans(q: str) -> list[str]:
    low = q.lower()
    found = [(min(low.find(w) for w in words if w in low), p) for p, words in PLAN_WORDS.items()
             if any(w in low for w in words)]
    return [p for _, p in sorted(found)]


def _quantity(q: str, units: tuple[str, ...]) -> float | None:
    for n in find_numbers(q):
        if n.unit.startswith(units):
            return n.value
    return None


def _tokens(q: str) -> float | None:
    v = _quantity(q, ("토큰",))
    if v is None and "토큰" in q:
        v = _quantity(q, ("개",))  # "토큰 1200만 개", "토큰을 500만개"
    return v


def _params(q: str) -> float | None:
    v = _quantity(q, ("파라미터", "매개", "개 파라미터", "개의 파라미터"))
    if v is None:
        for n in find_numbers(q):
            if re.fullmatch(r"[\d.]+\s?[bBmMtT]", n.text) and n.unit.startswith(("모델", "")):
                return n.value
    return v


def _hours(q: str) -> float | None:
    for pattern, hours in DURATIONS:
        if re.search(pattern, q):
            return hours
    for n in find_numbers(q):
        if n.unit.startswith("시간"):
            return n.value
        if n.unit.startswith("일") and not n.unit.startswith("일주"):
            return n.value * 24
        if n.unit.startswith(("주", "주일")):
            return n.value * 168
    return None


def route(question: str) -> cost.CostResult | NeedsInput | None:
    """The cost-tool result for a numeric question, a request for a missing input, or None (not a calculation)."""
    q = " ".join(question.split())
    low = q.lower()
    if REPORTED.search(q) or PER_UNIT.search(q):
        return None
    asks_amount = bool(re.search(r"얼마|몇|비용|요금|가격|계산|연산량|flops?|kwh|전력량|메모리|gb", low))
    if not asks_amount:
        return None
    try:
        return _route(q, low)
    except cost.CostInputError as e:
        return NeedsInput(str(e), ())


def _route(q: str, low: str) -> cost.CostResult | NeedsInput | None:
    plans = _plans(q)
    tokens = _tokens(q)

    # break-even between two plans: "몇 개 넘게 쓰면 빌드가 크리에이트보다 싸져?"
    if len(plans) >= 2 and re.search(r"싸지|싸져|저렴해|유리|손익|break", low):
        a, b = sorted(plans[:2], key=lambda p: cost.C(cost.PLANS[p]["monthly"]).value
                      if cost.PLANS[p]["monthly"] else 0)
        return cost.break_even(a, b)
    if plans or ("요금제" in q and tokens is not None):
        if tokens is None:
            # "크리에이트 요금제면 한 달에 얼마야?" is a usage scenario missing its volume; "크리에이트 요금제는
            # 얼마야?" asks the plan's price, which the articles state: leave it to retrieval.
            if re.search(r"쓰면|쓸 때|사용하면|요금제면|요금제로|토큰", q):
                return NeedsInput("한 달에 쓸 토큰 수를 알려 주세요 (예: 월 500만 토큰).", ("tokens",))
            return None
        if len(plans) == 1:
            return cost.plan_monthly_cost(plans[0], tokens)
        return cost.cheapest_plan(tokens)
    if "davinci" in low or "다빈치" in q:
        if tokens is None:
            return NeedsInput("Davinci로 처리할 토큰 수를 알려 주세요.", ("tokens",))
        return cost.davinci_cost(tokens)
    if "gpt-4" in low or "gpt4" in low:
        words = _quantity(q, ("단어",))
        if words is None and "단어" in q:
            words = _quantity(q, ("개",))  # "영어 단어 7500개"
        if words is None and tokens is None:
            return NeedsInput("GPT-4로 처리할 영어 단어 수나 토큰 수를 알려 주세요.", ("words",))
        return cost.gpt4_cost(words=words, tokens=None if words is not None else tokens)

    # energy: "A100 8장 노드 4대를 일주일 돌리면 전력량은 몇 kWh야?"
    if re.search(r"kwh|전력량|전기\s?요금|전기료", low):
        node = "H100" if "h100" in low else "A100" if "a100" in low else None
        nodes = _quantity(q, ("대", "노드"))
        hours = _hours(q)
        missing = [name for name, v in (("GPU 종류(A100/H100 노드)", node), ("노드 수", nodes),
                                        ("가동 시간", hours)) if v is None]
        if missing:
            return NeedsInput(f"전력량을 계산하려면 {', '.join(missing)}이(가) 필요합니다.", tuple(missing))
        price = _quantity(q, ("원/kwh", "원/kWh"))
        return cost.energy(node, nodes, hours, price)

    params = _params(q)
    # training compute: "70억 파라미터를 1조 토큰으로 학습하면 FLOPs는?"
    if re.search(r"연산량|flops?|플롭|연산\s?횟수", low) and ("학습" in q or "훈련" in q or tokens):
        missing = [name for name, v in (("파라미터 수", params), ("학습 토큰 수", tokens)) if v is None]
        if missing:
            return NeedsInput(f"학습 연산량을 계산하려면 {', '.join(missing)}가 필요합니다.", tuple(missing))
        return cost.training_flops(params, tokens)

    # memory and GPU count: "175B 모델을 fp16으로 올리려면 H100 80GB가 몇 장 필요해?"
    precision = next((p for pattern, p in PRECISION if re.search(pattern, low)), None)
    gpu = next((g for pattern, g in GPU_PATTERNS if re.search(pattern, low)), None)
    wants_gpus = gpu is not None and re.search(r"몇\s?(장|개|대)|필요", q)
    about_model = params is not None or precision is not None or re.search(r"파라미터|매개\s?변수|모델", q)
    if about_model and (precision or wants_gpus or re.search(r"메모리|vram", low)):
        if params is None:
            return NeedsInput("모델의 파라미터 수를 알려 주세요 (예: 1750억, 70B).", ("params",))
        training = bool(re.search(r"학습|훈련", q)) and not precision
        mem = cost.model_memory(params, precision or "fp16", training=training)
        if precision is None and not training:
            mem = replace(mem, assumptions=mem.assumptions + ("정밀도가 없어 fp16(파라미터당 2바이트)으로 가정",))
        if wants_gpus:
            gpus = cost.gpus_needed(mem.value, gpu)
            return replace(gpus, formula=f"{mem.formula}; {gpus.formula}",
                           assumptions=mem.assumptions + gpus.assumptions)
        return mem
    return None
