"""Generated sentences must be held by the evidence they cite: numbers by value, names, and what a figure is.

A generator can cite a real chunk and still write a figure the chunk never states, report a loss as revenue or
shift a year. Each sentence of a generated answer is checked against the chunks its `[n]` markers name:

- every number (1750억 = 175B = 175,000,000,000; years included) must occur by value in that evidence, or be a
  value the cost tool computed;
- every named thing (organisation, product, model name such as GPT-2 vs GPT-3) must occur there, Korean/English
  aliases included (the same matching the answerability model uses);
- a figure labelled 매출, 손실, 이익, 투자 or 비용 must stand next to the same kind of label in the evidence.

A sentence that fails is dropped and returned with its reason; the caller shows the drop and never reports an
answer with nothing left as grounded. Sentences with no number and no name pass (connectives, hedges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answerability import Named, matches, named_things, number_values
from .korean import sentence_spans
from .numerals import find_numbers
from .types import Citation

MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]")
LABELS = {
    "revenue": re.compile(r"매출|수익|수입|revenue|sales", re.I),
    "loss": re.compile(r"손실|적자|순손실|loss", re.I),
    "profit": re.compile(r"이익|흑자|순이익|profit", re.I),
    "investment": re.compile(r"투자|funding|investment", re.I),
    "cost": re.compile(r"비용|원가|지출|cost", re.I),
}
_SENTENCE = re.compile(r"[^.!?。\n]+(?:[.!?。]+|$)|\n")


@dataclass
class Grounding:
    """The kept text, and each dropped sentence with why."""

    text: str
    dropped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dropped_claims(self) -> list[str]:
        return [s for s, _ in self.dropped]


def _numbers(sentence: str) -> list[float]:
    bare = MARKER.sub(" ", sentence)
    bare = re.sub(r"^\s*\d{1,2}[.)]\s", " ", bare)  # list numbering
    out = []
    for n in find_numbers(bare):
        if re.search(r"[A-Za-z]", bare[max(0, n.start - 1):n.start]):
            continue  # the digits of a name: V100, GPT-3
        out.append(n.value)
    return out


def _label_ok(sentence: str, values: list[float], evidence: str) -> bool:
    """A figure called revenue (or loss, profit...) must be called that where the evidence states it."""
    kinds = [k for k, pattern in LABELS.items() if pattern.search(sentence)]
    if not kinds or not values:
        return True
    spans = sentence_spans(evidence) or [(0, len(evidence))]
    for v in values:
        holders = [i for i, (a, b) in enumerate(spans) if any(_close(v, w) for w in number_values(evidence[a:b]))]
        if not holders:
            continue
        near = " ".join(evidence[spans[j][0]:spans[j][1]] for i in holders for j in (i - 1, i) if j >= 0)
        if not any(LABELS[k].search(near) for k in kinds):
            return False
    return True


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def check_sentence(sentence: str, evidence: str, allowed: set[float] = frozenset()) -> str | None:
    """Why `sentence` is not held by `evidence` (None when it is)."""
    values = _numbers(sentence)
    have = number_values(evidence)
    for v in values:
        if not any(_close(v, w) for w in have | set(allowed)):
            return "근거에 없는 수치"
    low = evidence.lower()
    bare = MARKER.sub(" ", sentence)
    missing: list[Named] = [n for n in named_things(bare) if n.kind in ("latin", "proper", "year")
                            and not matches(n, low, have)]
    if missing:
        return "근거에 없는 이름: " + ", ".join(n.text for n in missing)
    if not _label_ok(bare, values, evidence):
        return "근거와 다른 항목(매출/손실 등)"
    return None


def needs_evidence(sentence: str) -> bool:
    """Whether a sentence states something checkable: a number, a model name, a year."""
    return bool(_numbers(sentence)) or any(n.kind in ("latin", "year") for n in named_things(MARKER.sub(" ", sentence)))


def ground(text: str, citations: list[Citation], allowed: set[float] = frozenset()) -> Grounding:
    """Keep the sentences of `text` that the chunks they cite hold; drop the rest (with the reason)."""
    by_number = {c.number: c for c in citations}
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0)
        if not sentence.strip():
            kept.append(sentence)
            continue
        cited = [int(n) for mm in MARKER.finditer(sentence) for n in re.split(r"\s*[,，]\s*", mm.group(1))]
        evidence = "\n".join(f"{by_number[n].hit.title}\n{by_number[n].hit.text}" for n in cited if n in by_number)
        if not cited:
            if needs_evidence(sentence):
                dropped.append((sentence.strip(), "인용 없는 수치·이름"))
            else:
                kept.append(sentence)
            continue
        why = check_sentence(sentence, evidence, allowed)
        if why is None:
            kept.append(sentence)
        else:
            dropped.append((MARKER.sub("", sentence).strip(), why))
    out = re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()
    return Grounding(out, dropped)
