"""The cost tool: exact arithmetic for API pricing, GPU memory and counts, training compute and power.

Pure functions. Every result carries its value, unit, the formula with the numbers filled in, the assumptions,
and the corpus constants it used (each with the document and exact quote, for citations).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .errors import CostInputError  # noqa: F401 - lives in errors.py; `cost.CostInputError` stays importable


@dataclass(frozen=True)
class Constant:
    key: str
    value: float
    unit: str
    doc: str
    quote: str

    @property
    def from_corpus(self) -> bool:
        return self.doc != "assumption"


@dataclass(frozen=True)
class CostResult:
    kind: str
    value: float
    unit: str
    formula: str
    assumptions: tuple[str, ...] = ()
    sources: tuple[Constant, ...] = ()
    details: dict = field(default_factory=dict)


@cache
def constants() -> dict[str, Constant]:
    data = tomllib.loads(resources.files("bot").joinpath("data/constants.toml").read_text(encoding="utf-8"))
    return {k: Constant(k, float(v["value"]), v["unit"], v["doc"], v["quote"]) for k, v in data.items()}


def C(key: str) -> Constant:
    return constants()[key]


def _sources(*keys: str) -> tuple[Constant, ...]:
    return tuple(C(k) for k in keys)


def _assumed(*keys: str) -> tuple[str, ...]:
    return tuple(f"{C(k).value:g} {C(k).unit}: {C(k).quote}" for k in keys if not C(k).from_corpus)


def fmt(x: float) -> str:
    """A number for people: thousands separators, no float noise."""
    if x == 0:
        return "0"
    if abs(x) >= 1e15 or abs(x) < 1e-3:
        return f"{x:.3g}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4f}".rstrip("0").rstrip(".")


# -- API pricing --------------------------------------------------------------------------------------------
PLANS = {
    "explore": {"ko": "익스플로어", "monthly": None, "included": "explore_free_tokens", "overage": None},
    "create": {"ko": "크리에이트", "monthly": "create_monthly_usd", "included": "create_included_tokens",
               "overage": "create_overage_usd_per_1k"},
    "build": {"ko": "빌드", "monthly": "build_monthly_usd", "included": "build_included_tokens",
              "overage": "build_overage_usd_per_1k"},
    "scale": {"ko": "스케일", "monthly": None, "included": None, "overage": None},
}


FEE_PLANS = tuple(k for k, v in PLANS.items() if v["monthly"])  # the plans with a monthly fee and overage


def _check_tokens(tokens: float) -> None:
    if tokens is None or tokens < 0 or not math.isfinite(tokens):
        raise CostInputError("토큰 수가 필요합니다 (0 이상의 수).")


def plan_monthly_cost(plan: str, tokens: float) -> CostResult:
    """Monthly USD for `tokens` on a 2020 GPT-3 plan (fee + overage beyond the included tokens)."""
    _check_tokens(tokens)
    p = PLANS.get(plan)
    if p is None:
        raise CostInputError(f"알 수 없는 요금제: {plan} (익스플로어/크리에이트/빌드/스케일)",
                             hint=f"valid plans: {', '.join(PLANS)}")
    if plan == "scale":
        raise CostInputError("스케일 요금제는 별도 가격이라 계산할 수 없습니다 "
                             "(코퍼스: '스케일'은 별도 가격을 책정했다).")
    if plan == "explore":
        free = C("explore_free_tokens").value
        if tokens > free:
            raise CostInputError(f"익스플로어는 무료 토큰 {fmt(free)}개까지입니다; {fmt(tokens)}개는 쓸 수 없습니다.")
        return CostResult("plan_cost", 0.0, "USD", f"익스플로어: {fmt(tokens)} ≤ {fmt(free)} 무료 토큰이므로 요금 = $0",
                          ("무료 기간 3개월 또는 토큰 10만개 중 먼저 끝나는 쪽까지",),
                          _sources("explore_free_tokens", "explore_free_months"), {"plan": plan, "tokens": tokens})
    fee, inc, rate = C(p["monthly"]).value, C(p["included"]).value, C(p["overage"]).value
    extra = max(0.0, tokens - inc)
    cost = fee + extra / 1000 * rate
    formula = (f"${fmt(fee)} + max(0, {fmt(tokens)} − {fmt(inc)}) ÷ 1,000 × ${fmt(rate)} "
               f"= ${fmt(fee)} + {fmt(extra / 1000)} × ${fmt(rate)} = ${fmt(cost)}")
    return CostResult("plan_cost", cost, "USD", formula, ("한 달 사용량 기준, 2020년 발표 요금",),
                      _sources(p["monthly"], p["included"], p["overage"]),
                      {"plan": plan, "tokens": tokens, "fee": fee, "included": inc, "overage_tokens": extra})


def cheapest_plan(tokens: float) -> CostResult:
    """The cheapest priced plan for a monthly token volume."""
    _check_tokens(tokens)
    options = {}
    for plan in ("explore", "create", "build"):
        try:
            options[plan] = plan_monthly_cost(plan, tokens)
        except CostInputError:
            continue
    best = min(options, key=lambda k: options[k].value)
    lines = "; ".join(f"{PLANS[k]['ko']} ${fmt(r.value)}" for k, r in options.items())
    srcs = tuple({c.key: c for r in options.values() for c in r.sources}.values())
    return CostResult("cheapest_plan", options[best].value, "USD", f"{lines} → {PLANS[best]['ko']}",
                      ("스케일은 별도 가격이라 비교에서 제외",), srcs, {"plan": best, "tokens": tokens,
                                                            "costs": {k: r.value for k, r in options.items()}})


def break_even(plan_a: str = "create", plan_b: str = "build") -> CostResult:
    """Monthly tokens above which `plan_b` (higher fee) costs less than `plan_a`."""
    for plan in (plan_a, plan_b):
        if plan not in FEE_PLANS:
            raise CostInputError(f"손익분기는 월 요금이 있는 요금제끼리만 계산할 수 있습니다: {plan}은(는) 안 됩니다 "
                                 "(크리에이트/빌드).", hint=f"valid plans: {', '.join(FEE_PLANS)}")
    a, b = PLANS[plan_a], PLANS[plan_b]
    fa, ia, ra = (C(a[k]).value for k in ("monthly", "included", "overage"))
    fb, ib, rb = (C(b[k]).value for k in ("monthly", "included", "overage"))
    if fb <= fa:
        raise CostInputError("두 번째 요금제의 월 요금이 더 높아야 합니다.")
    # a's cost rises past its included tokens; find where it reaches b's fee (b still within its included tokens)
    x = ia + (fb - fa) / ra * 1000
    if x > ib:  # both are in overage: fa + (x-ia)ra = fb + (x-ib)rb
        x = (fb - fa + (ia * ra - ib * rb) / 1000) / ((ra - rb) / 1000)
    formula = (f"${fmt(fa)} + (x − {fmt(ia)}) ÷ 1,000 × ${fmt(ra)} = ${fmt(fb)} → "
               f"x = {fmt(ia)} + ({fmt(fb)} − {fmt(fa)}) ÷ {fmt(ra)} × 1,000 = {fmt(x)}")
    return CostResult("break_even", x, "tokens", formula, ("월 사용량 기준",),
                      _sources(a["monthly"], a["included"], a["overage"], b["monthly"], b["included"]),
                      {"plan_a": plan_a, "plan_b": plan_b})


def davinci_cost(tokens: float) -> CostResult:
    _check_tokens(tokens)
    rate = C("davinci_usd_per_1k").value
    cost = tokens / 1000 * rate
    return CostResult("api_cost", cost, "USD", f"{fmt(tokens)} ÷ 1,000 × ${fmt(rate)} = ${fmt(cost)}",
                      ("2021년 당시 Davinci 요금",), _sources("davinci_usd_per_1k"), {"model": "davinci"})


def gpt4_cost(words: float | None = None, tokens: float | None = None) -> CostResult:
    """GPT-4 at about 3 cents per ~750 English words (the corpus's figure)."""
    price = C("gpt4_usd_per_750_words").value
    if words is None and tokens is None:
        raise CostInputError("단어 수나 토큰 수가 필요합니다.")
    if words is None:
        words = words_from_tokens(tokens).value
    cost = words / 750 * price
    return CostResult("api_cost", cost, "USD", f"{fmt(words)} 단어 ÷ 750 × ${fmt(price)} = ${fmt(cost)}",
                      _assumed("tokens_per_750_words") if tokens is not None else (),
                      _sources("gpt4_usd_per_750_words"), {"model": "gpt-4", "words": words})


def tokens_from_words(words: float) -> CostResult:
    t = words / 750 * C("tokens_per_750_words").value
    return CostResult("convert", t, "tokens", f"{fmt(words)} ÷ 750 × 1,000 = {fmt(t)}",
                      _assumed("tokens_per_750_words"), ())


def words_from_tokens(tokens: float) -> CostResult:
    w = tokens / C("tokens_per_750_words").value * 750
    return CostResult("convert", w, "words", f"{fmt(tokens)} ÷ 1,000 × 750 = {fmt(w)}",
                      _assumed("tokens_per_750_words"), ())


# -- memory and GPUs ----------------------------------------------------------------------------------------
BYTES_PER_PARAM = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
# Mixed-precision Adam: fp16 weights (2) + fp16 grads (2) + fp32 master weights, momentum, variance (12).
TRAINING_BYTES_PER_PARAM = 16.0
GPUS = {  # name: (memory GB constant, price constant or None, effective TFLOPS constant or None)
    "V100-16GB": ("v100_16gb_memory", "v100_price_usd", "v100_effective_tflops"),
    "V100-32GB": ("v100_32gb_memory", "v100_price_usd", "v100_effective_tflops"),
    "A100-40GB": ("a100_40gb_memory", None, "a100_effective_tflops"),
    "A100-80GB": ("a100_80gb_memory", None, "a100_effective_tflops"),
    "H100-80GB": ("h100_80gb_memory", None, "h100_effective_tflops"),
    "H100-NVL": ("h100_nvl_memory", None, "h100_effective_tflops"),
}


def model_memory(params: float, precision: str = "fp16", training: bool = False) -> CostResult:
    """Memory for the weights (GB = 1e9 bytes); with `training`, mixed-precision Adam state instead."""
    if not params or params <= 0:
        raise CostInputError("파라미터 수가 필요합니다 (예: 1750억, 175B).")
    if precision not in BYTES_PER_PARAM:
        raise CostInputError(f"알 수 없는 정밀도: {precision} (fp32/fp16/bf16/int8/int4)",
                             hint=f"valid precisions: {', '.join(BYTES_PER_PARAM)}")
    bpp = TRAINING_BYTES_PER_PARAM if training else BYTES_PER_PARAM[precision]
    gb = params * bpp / 1e9
    assumptions = ["1 GB = 10^9 바이트"]
    if training:
        assumptions.append("학습: 혼합 정밀도 Adam, 파라미터당 16바이트"
                           "(가중치·그래디언트 fp16 + fp32 마스터·모멘텀·분산), 활성화 메모리 제외")
    else:
        assumptions.append(f"가중치만 ({precision} = 파라미터당 {fmt(bpp)}바이트), KV 캐시·활성화 제외")
    formula = f"{fmt(params)} × {fmt(bpp)} 바이트 = {fmt(gb)} GB"
    return CostResult("memory", gb, "GB", formula, tuple(assumptions), (),
                      {"params": params, "bytes_per_param": bpp, "precision": precision, "training": training})


def _check_gpu(gpu: str) -> None:
    if gpu not in GPUS:
        raise CostInputError(f"알 수 없는 GPU: {gpu} ({', '.join(GPUS)})", hint=f"valid GPUs: {', '.join(GPUS)}")


def gpus_needed(memory_gb: float, gpu: str) -> CostResult:
    _check_gpu(gpu)
    mem_key, price_key, _ = GPUS[gpu]
    per = C(mem_key).value
    n = math.ceil(memory_gb / per - 1e-9)
    formula = f"⌈{fmt(memory_gb)} GB ÷ {fmt(per)} GB⌉ = {n}장"
    details = {"gpu": gpu, "gpus": n, "memory_gb": memory_gb, "gpu_memory_gb": per}
    srcs = [C(mem_key)]
    if price_key:
        price = C(price_key).value
        details["price_usd"] = n * price
        formula += f"; {n} × ${fmt(price)} = ${fmt(n * price)}"
        srcs.append(C(price_key))
    return CostResult("gpus", n, "GPU", formula, ("메모리만 고려 (모델 병렬화 오버헤드 제외)",), tuple(srcs), details)


# -- compute and power --------------------------------------------------------------------------------------
SECONDS_PER_YEAR = 365.25 * 24 * 3600


def training_flops(params: float, tokens: float) -> CostResult:
    if not params or not tokens or params <= 0 or tokens <= 0:
        raise CostInputError("파라미터 수와 학습 토큰 수가 모두 필요합니다.")
    k = C("flops_per_param_token").value
    f = k * params * tokens
    return CostResult("flops", f, "FLOP", f"6 × {fmt(params)} × {fmt(tokens)} = {f:.3g} FLOP",
                      ("6 FLOP/파라미터/토큰 (순전파 2 + 역전파 4)",), _sources("flops_per_param_token"),
                      {"params": params, "tokens": tokens})


def gpu_time(flops: float, gpu: str = "V100-32GB", gpus: int = 1) -> CostResult:
    _check_gpu(gpu)
    if not gpus or gpus < 1:
        raise CostInputError("GPU 수는 1 이상이어야 합니다.")
    tf_key = GPUS[gpu][2]
    rate = C(tf_key).value * 1e12
    seconds = flops / (rate * gpus)
    years = seconds / SECONDS_PER_YEAR
    formula = (f"{flops:.3g} FLOP ÷ ({fmt(C(tf_key).value)} TFLOPS × {gpus}) = {fmt(seconds / 86400)} 일 "
               f"= {fmt(years * gpus)} GPU-년")
    return CostResult("gpu_time", years * gpus, "GPU-years", formula, _assumed(tf_key), (),
                      {"days": seconds / 86400, "gpus": gpus, "gpu": gpu})


def energy(node: str, nodes: float, hours: float, price_per_kwh: float | None = None,
           usd_krw: float | None = None) -> CostResult:
    """Energy (kWh) for 8-GPU nodes running `hours`; optional cost at a price per kWh (KRW)."""
    key = {"A100": "a100_node_kw", "H100": "h100_node_kw"}.get(node)
    if key is None:
        raise CostInputError("노드 종류가 필요합니다 (A100 또는 H100 8장 노드).", hint="valid nodes: A100, H100")
    if not nodes or not hours or nodes <= 0 or hours <= 0:
        raise CostInputError("노드 수와 가동 시간이 필요합니다.")
    kw = C(key).value
    kwh = kw * nodes * hours
    formula = f"{fmt(kw)} kW × {fmt(nodes)} 노드 × {fmt(hours)} 시간 = {fmt(kwh)} kWh"
    details = {"kwh": kwh, "node_kw": kw}
    if price_per_kwh:
        details["cost_krw"] = kwh * price_per_kwh
        formula += f"; × {fmt(price_per_kwh)}원/kWh = {fmt(kwh * price_per_kwh)}원"
    return CostResult("energy", kwh, "kWh", formula, ("노드 전력을 가동 시간 내내 소모한다고 가정",),
                      _sources(key), details)


def usd_to_krw(usd: float, rate: float | None = None) -> CostResult:
    rate = rate or C("usd_krw").value
    return CostResult("convert", usd * rate, "KRW", f"${fmt(usd)} × {fmt(rate)}원 = {fmt(usd * rate)}원",
                      (f"환율 1달러 = {fmt(rate)}원 (KBOT_USD_KRW로 변경)",), ())
