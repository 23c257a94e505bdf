"""Look-up or calculation? Route a Korean question to the cost tool only when it asks for something computed.

Deterministic (no model). A question goes to the cost tool when it names a calculation (a plan's bill for a
volume, a break-even, training compute, memory or GPU count, energy) *and* supplies its inputs: quantities read by
the label next to them in either order ("파라미터 70억 개", "70억 개의 파라미터", "토큰 1조 개로", "175B 모델"),
or a model the corpus states the size of ("GPT-3를 fp16으로 올리면" → the sentence giving GPT-3's parameters,
through `resolve_params`). A question about a figure an article states ("Davinci 요금은 얼마였어?", "...라고
했어?", "1000개당 얼마") is a look-up and gets None: retrieval answers it. `NeedsInput` is returned only for a
clear request to compute (a conditional such as "돌리면/올리려면/학습할 때" or "계산") that lacks an input; the
caller still tries retrieval before asking the user for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from . import cost
from .numerals import Quantity, find_numbers


@dataclass(frozen=True)
class NeedsInput:
    """The question is a calculation but lacks an input; `message` asks for it in Korean."""

    message: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class ModelSize:
    """A model's parameter count as an article states it (the quote is cited with the calculation)."""

    name: str
    params: float
    source: str  # the document's source (its file name ends the cost tool's `doc`)
    quote: str


# A callable that finds the parameter count of a named model in the corpus (None when no article states it).
ParamResolver = Callable[[str], "ModelSize | None"]

PLAN_WORDS = {"explore": ("익스플로어", "explore"), "create": ("크리에이트", "create"),
              "build": ("빌드", "build"), "scale": ("스케일", "scale")}
PRECISION = [(r"fp32|32\s?비트|단정밀", "fp32"), (r"fp16|16\s?비트|반정밀", "fp16"), (r"bf16", "bf16"),
             (r"int8|8\s?비트", "int8"), (r"int4|4\s?비트", "int4")]
GPU_PATTERNS = [(r"h100\s?nvl", "H100-NVL"), (r"h100", "H100-80GB"), (r"a100[^0-9]{0,8}40\s?gb", "A100-40GB"),
                (r"a100", "A100-80GB"), (r"v100[^0-9]{0,8}16\s?gb", "V100-16GB"), (r"v100", "V100-32GB")]
GPU_NAME = re.compile(r"^[avh]100$|^(tpu|gpu|npu|cpu)", re.I)
# What an article said: "...라고 했어?", "알려졌어", "추산됐어", "몇 장 쓰인다고".
REPORTED = re.compile(r"(라고|다고|이라|였다고)\s?(했|하|알려|나와|말했|밝혔|봤|보도)|알려졌|추산(됐|되|했)|들었|보도")
PER_UNIT = re.compile(r"\d[\d,]*\s?개당|당\s?(얼마|가격|요금)|단어\s?몇\s?개당")
# A request to compute: a conditional or purpose clause on an action, or the word itself.
ACTION = re.compile(r"(쓰|사용하|돌리|돌릴|올리|올릴|학습하|학습시키|학습할|훈련하|훈련시키|훈련할|처리하|처리할|보내|"
                    r"넣|가동하|운영하|양자화하|서비스하|저장하|구동하|굴리)(면|려면|을 때|ㄹ 때|할 때|는 데|때)|"
                    r"(쓸|돌릴|올릴|처리할|학습할|훈련할|보낼|가동할)\s?(때|경우)|"
                    r"(으로|로)\s?(학습|훈련)(하|시키|할)|사용\s?시|계산|이면|라면|면\s")
COMPARE = re.compile(r"싸지|싸져|싸\b|싼|저렴|유리|손익|break|같아지|똑같아|역전|이득|어느\s?쪽|경제적|고르")
DURATIONS = [(r"일주일|1주일|한 주", 168.0), (r"한 달|1달|한달|1개월|한 개월", 720.0), (r"하루|1일|24시간", 24.0)]
MODEL_NAME = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)")
PARAM_LABEL = r"(?:파라미터|매개\s?변수|매개변수|parameters?)"
TOKEN_LABEL = r"(?:토큰|tokens?)"


def _plans(q: str) -> list[str]:
    low = q.lower()
    found = [(min(low.find(w) for w in words if w in low), p) for p, words in PLAN_WORDS.items()
             if any(w in low for w in words)]
    return [p for _, p in sorted(found)]


def _labelled(q: str, label: str, numbers: list[Quantity]) -> float | None:
    """The number that `label` names, in either order: "파라미터 130억 개", "130억 개의 파라미터", "토큰 1조 개로"."""
    for n in numbers:
        after = q[n.end:n.end + 16]
        before = q[max(0, n.start - 14):n.start]
        if re.match(rf"\s?(개|개의|개짜리)?\s?(의\s)?{label}", after, re.I):
            return n.value
        if re.search(rf"{label}\s?(수는?|수가|수를|가|를|는|이|을|만)?\s?$", before, re.I) and \
                re.match(r"\s?(개|$|[^\w]|로|으로|에|짜리|인|이고|,)", after):
            return n.value
    return None


def _tokens(q: str, numbers: list[Quantity]) -> float | None:
    v = _labelled(q, TOKEN_LABEL, numbers)
    if v is None:
        for n in numbers:  # "2T 토큰"
            if n.unit.lower().startswith(("토큰", "token")):
                return n.value
    if v is None and re.search(TOKEN_LABEL, q, re.I) and _labelled(q, PARAM_LABEL, numbers) is None:
        # "토큰을 한 달에 800만 개": a counted quantity in a question about tokens (and not about parameters)
        v = next((n.value for n in numbers if n.unit.startswith("개")), None)
    return v


def _params(q: str, numbers: list[Quantity]) -> float | None:
    v = _labelled(q, PARAM_LABEL, numbers)
    if v is not None:
        return v
    for n in numbers:  # "175B 모델", "7B 모델을", "30B"
        if re.fullmatch(r"[\d.]+\s?[bBmMtT]", n.text) and not n.unit.lower().startswith(("토큰", "token")):
            return n.value
    return None


def _hours(q: str, numbers: list[Quantity]) -> float | None:
    for pattern, hours in DURATIONS:
        if re.search(pattern, q):
            return hours
    for n in numbers:
        if n.unit.startswith("시간"):
            return n.value
        if n.unit.startswith("일") and not n.unit.startswith("일주"):
            return n.value * 24
        if n.unit.startswith(("주", "주일")):
            return n.value * 168
        if n.unit.startswith(("개월", "달")):
            return n.value * 720
    return None


def _price_per_kwh(q: str, numbers: list[Quantity]) -> float | None:
    for n in numbers:
        if re.search(r"kwh\s?당\s?$", q[max(0, n.start - 8):n.start], re.I) and n.unit.startswith("원"):
            return n.value
        if re.match(r"\s?원\s?/\s?kwh", q[n.end:n.end + 10], re.I):
            return n.value
    return None


def model_names(question: str) -> list[str]:
    """Model names in the question that could have a stated size (GPT-3, T5, LLaMA; not GPUs or plain words)."""
    out = []
    for m in MODEL_NAME.finditer(question):
        name = m.group(1)
        if GPU_NAME.search(name) or re.fullmatch(r"(fp|bf|int)\d+|\d+[a-z]*|kwh|gb|flops?|vram|ai", name, re.I):
            continue
        if re.search(r"\d", name) or (name[0].isupper() and len(name) >= 3):
            out.append(name)
    return out


def route(question: str, resolve_params: ParamResolver | None = None) -> cost.CostResult | NeedsInput | None:
    """The cost-tool result for a calculation, a request for a missing input, or None (a look-up)."""
    q = " ".join(question.split())
    if REPORTED.search(q) or PER_UNIT.search(q):
        return None
    try:
        return _route(q, q.lower(), resolve_params)
    except cost.CostInputError as e:
        return NeedsInput(str(e), ())


def _resolved(q: str, resolve_params: ParamResolver | None) -> ModelSize | None:
    if resolve_params is None:
        return None
    for name in model_names(q):
        found = resolve_params(name)
        if found is not None:
            return found
    return None


def _with_model(result: cost.CostResult, size: ModelSize | None) -> cost.CostResult:
    """Cite the sentence that states a named model's size next to the calculation's other constants."""
    if size is None:
        return result
    doc = size.source.rsplit("/", 1)[-1]
    stated = cost.Constant(f"params:{size.name}", size.params, "parameters", doc, size.quote)
    return replace(result, sources=(stated, *result.sources),
                   assumptions=(f"{size.name}의 파라미터 수 {cost.fmt(size.params)}개 (문서에 적힌 값)",
                                *result.assumptions))


def _route(q: str, low: str, resolve_params: ParamResolver | None) -> cost.CostResult | NeedsInput | None:
    numbers = find_numbers(q)
    plans = _plans(q)
    tokens = _tokens(q, numbers)
    wants_compute = bool(ACTION.search(q))

    # break-even between two plans: "몇 개 넘게 쓰면 빌드가 크리에이트보다 싸져?", "요금이 같아지는 토큰 수는?"
    if len([p for p in plans if p != "scale"]) >= 2 and COMPARE.search(low):
        a, b = sorted([p for p in plans if p != "scale"][:2],
                      key=lambda p: cost.C(cost.PLANS[p]["monthly"]).value if cost.PLANS[p]["monthly"] else 0)
        return cost.break_even(a, b)
    if plans or re.search(r"요금제|플랜", q):
        if tokens is not None:
            if len(plans) == 1:
                return cost.plan_monthly_cost(plans[0], tokens)
            if not plans or COMPARE.search(low):
                return cost.cheapest_plan(tokens)
        elif plans and re.search(r"계산", q):
            return NeedsInput("한 달에 쓸 토큰 수를 알려 주세요 (예: 월 500만 토큰).", ("tokens",))
        return None  # a plan's stated price or terms: a look-up
    if "davinci" in low or "다빈치" in q:
        if tokens is not None:
            return cost.davinci_cost(tokens)
        if wants_compute and re.search(r"비용|요금|얼마|계산", q):
            return NeedsInput("Davinci로 처리할 토큰 수를 알려 주세요.", ("tokens",))
        return None
    if "gpt-4" in low or "gpt4" in low:
        words = _labelled(q, r"(?:영어\s?)?단어", numbers)
        if words is None:
            words = next((n.value for n in numbers if n.unit.startswith("단어")), None)
        if words is None and tokens is None:
            if wants_compute and re.search(r"계산", q):
                return NeedsInput("GPT-4로 처리할 영어 단어 수나 토큰 수를 알려 주세요.", ("words",))
            return None
        return cost.gpt4_cost(words=words, tokens=None if words is not None else tokens)

    # energy: "A100 8장 노드 4대를 일주일 돌리면 전력량은 몇 kWh야?"
    if re.search(r"kwh|전력량|전기\s?요금|전기료|전력\s?소비량", low) and (wants_compute or re.search(r"노드", q)):
        node = "H100" if "h100" in low else "A100" if "a100" in low else None
        nodes = next((n.value for n in numbers if n.unit.startswith(("대", "노드"))), None)
        if nodes is None and re.search(r"노드\s?(하나|한\s?대)", q):
            nodes = 1.0
        hours = _hours(q, numbers)
        if node and nodes and hours:
            return cost.energy(node, nodes, hours, _price_per_kwh(q, numbers))
        if not wants_compute:
            return None
        missing = [name for name, v in (("GPU 종류(A100/H100 노드)", node), ("노드 수", nodes),
                                        ("가동 시간", hours)) if not v]
        return NeedsInput(f"전력량을 계산하려면 {', '.join(missing)}이(가) 필요합니다.", tuple(missing))

    params = _params(q, numbers)
    size = None
    # training compute: "70억 파라미터를 1조 토큰으로 학습하면 FLOPs는?"
    if re.search(r"연산량|flops?|플롭|연산\s?횟수|계산량", low):
        if params is None:
            size = _resolved(q, resolve_params)
            params = size.params if size else None
        if params is not None and tokens is not None:
            return _with_model(cost.training_flops(params, tokens), size)
        if not (wants_compute and (params is not None or tokens is not None or "계산" in q)):
            return None
        missing = [name for name, v in (("파라미터 수", params), ("학습 토큰 수", tokens)) if v is None]
        return NeedsInput(f"학습 연산량을 계산하려면 {', '.join(missing)}가 필요합니다.", tuple(missing))

    # memory and GPU count: "175B 모델을 fp16으로 올리려면 H100 80GB가 몇 장 필요해?"
    precision = next((p for pattern, p in PRECISION if re.search(pattern, low)), None)
    gpu = next((g for pattern, g in GPU_PATTERNS if re.search(pattern, low)), None)
    asks_time = re.search(r"gpu[-\s]?(년|시간|일)|몇\s?(년|시간|일|개월)|얼마나\s?걸|기간", low)
    counts = re.search(r"몇\s?(장|개|대)", q)
    asks_money = re.search(r"돈|가격|비용|값|예산", q) and not counts
    # "V100을 사려면 돈이 얼마나 필요해?" asks a price (a look-up), not how many GPUs a model needs
    wants_gpus = gpu is not None and not asks_time and not asks_money and (counts or re.search(r"필요|있어야", q))
    wants_memory = bool(re.search(r"메모리|vram|용량|몇\s?gb", low))
    if asks_time or not (precision or wants_gpus or wants_memory):
        return None
    if params is None:
        size = _resolved(q, resolve_params)
        params = size.params if size else None
    if params is None:
        # "모델을 fp16으로 올리려면 H100이 몇 장 필요한지 계산해줘": a calculation without its model size
        if wants_compute and (precision or wants_gpus):
            return NeedsInput("모델의 파라미터 수를 알려 주세요 (예: 1750억, 70B).", ("params",))
        return None
    if size is not None and not (wants_compute or precision or wants_gpus):
        return None  # "GPT-3 메모리는?": what an article says about a named model, a look-up
    training = bool(re.search(r"학습|훈련", q)) and not precision
    mem = cost.model_memory(params, precision or "fp16", training=training)
    if precision is None and not training:
        mem = replace(mem, assumptions=mem.assumptions + ("정밀도가 없어 fp16(파라미터당 2바이트)으로 가정",))
    if wants_gpus:
        gpus = cost.gpus_needed(mem.value, gpu)
        return _with_model(replace(gpus, formula=f"{mem.formula}; {gpus.formula}",
                                   assumptions=mem.assumptions + gpus.assumptions), size)
    return _with_model(mem, size)


def find_model_size(name: str, hits) -> ModelSize | None:
    """The parameter count of model `name` as one of `hits` states it ("GPT-3 ... 1750억 파라미터",
    "• T5, 110억 파라미터", "| GPT-2 | 1.5B |"), with the sentence to cite."""
    from .answerability import _latin_in, spellings
    from .korean import sentence_spans

    forms = spellings(name)
    for h in hits:
        for a, b in sentence_spans(h.text):
            sentence = h.text[a:b]
            low = sentence.lower()
            if not any(_latin_in(f, low) if re.fullmatch(r"[a-z0-9.\- ]+", f) else f in low for f in forms):
                continue
            numbers = [n for n in find_numbers(sentence)
                       if not re.search(r"[A-Za-z]", sentence[max(0, n.start - 1):n.start])]  # not V100's 100
            value = _labelled(sentence, PARAM_LABEL, numbers)
            if value is None:
                value = next((n.value for n in numbers if re.fullmatch(r"[\d.]+\s?[bBmMtT]", n.text)), None)
            if value is not None and value >= 1e6:
                return ModelSize(name, value, h.source, sentence)
    return None
