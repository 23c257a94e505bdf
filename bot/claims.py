"""Recompute the numeric claims of the corpus that the cost tool can check, and list disagreements."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from . import cost
from .numerals import parse_number


@dataclass(frozen=True)
class Claim:
    doc: str
    quote: str
    claimed: float
    recomputed: float
    unit: str
    how: str

    @property
    def agrees(self) -> bool:
        return abs(self.recomputed - self.claimed) <= 0.01 * abs(self.claimed)


def arithmetic_claims() -> list[Claim]:
    C = cost.C
    mem = cost.model_memory(C("gpt3_params").value, "fp16")
    gpus = cost.gpus_needed(mem.value, "V100-32GB")
    flops = cost.training_flops(C("gpt3_params").value, C("gpt3_tokens").value)
    years = cost.gpu_time(C("gpt3_training_flops").value, "V100-32GB")
    train = cost.model_memory(1e12, "fp16", training=True)
    a100 = cost.gpus_needed(train.value, "A100-80GB")
    rows = [
        ("gpt3_vram_gb", mem.value, mem.formula),
        ("gpt3_v100_count", gpus.value, gpus.formula.split(";")[0]),
        ("gpt3_cluster_usd", gpus.details["price_usd"], gpus.formula.split("; ")[1]),
        ("gpt3_training_flops", flops.value, flops.formula),
        ("gpt3_v100_gpu_years", years.value, years.formula + " (28 TFLOPS is an assumption)"),
        ("trillion_a100_80gb", a100.value, f"{train.formula} (16 B/param Adam state); {a100.formula}"),
    ]
    out = []
    for key, value, how in rows:
        c = C(key)
        out.append(Claim(c.doc, c.quote, c.value, value, c.unit, how))
    return out


_USD_KRW = re.compile(r"([\d,.]+\s?[만억조]?\s?[\d,.]*\s?[만억조]?)\s?달러\s?\(약\s?([\d,.]+[만억조천\d\s]*)원\)")


def currency_claims(corpus: Path) -> list[Claim]:
    """Every 'N달러(약 M원)' in the corpus, checked against the median exchange rate the corpus itself implies."""
    found = []
    for path in sorted(corpus.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for m in _USD_KRW.finditer(text):
            try:
                usd, krw = parse_number(m[1]), parse_number(m[2])
            except ValueError:
                continue
            if usd > 0:
                found.append((path.name, m.group(0), usd, krw))
    if not found:
        return []
    rate = statistics.median(krw / usd for _, _, usd, krw in found)
    how = "{usd}달러 × {rate}원/달러 (코퍼스 환산의 중앙값) = {krw}원"
    return [Claim(doc, quote, krw, usd * rate, "KRW",
                  how.format(usd=cost.fmt(usd), rate=cost.fmt(round(rate)), krw=cost.fmt(round(usd * rate))))
            for doc, quote, usd, krw in found]


def currency_disagreements(claims: list[Claim], tolerance: float = 0.25) -> list[Claim]:
    """Conversions off by more than `tolerance` from the corpus's own median rate (rates drift; typos do not)."""
    return [c for c in claims if abs(c.claimed - c.recomputed) > tolerance * c.recomputed]
