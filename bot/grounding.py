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

from .answerability import LABELS, Named, matches, named_things, number_values
from .korean import sentence_spans
from .numerals import find_numbers
from .types import Citation

MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]")


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


def check_sentence(sentence: str, evidence: str, allowed: set[float] = frozenset(),
                   chunks: list[tuple[str, str]] | None = None, asked: list[Named] | None = None) -> str | None:
    """Why `sentence` is not held by `evidence` (None when it is). With `chunks` ((heading, text) of each cited
    chunk), each number must also be stated in a sentence that names the same subject and year (`asked`: the
    question's names and years, for a sentence that names none itself)."""
    values = _numbers(sentence)
    have = number_values(evidence)
    for v in values:
        if not any(_close(v, w) for w in have | set(allowed)):
            return "근거에 없는 수치"
    if chunks is not None and not _bound(MARKER.sub(" ", sentence), values, chunks, asked or [], allowed):
        return "근거의 수치는 다른 대상이나 연도에 대한 것"
    low = evidence.lower()
    bare = MARKER.sub(" ", sentence)
    missing: list[Named] = [n for n in named_things(bare) if n.kind in ("latin", "proper", "year")
                            and not matches(n, low, have)]
    if missing:
        return "근거에 없는 이름: " + ", ".join(n.text for n in missing)
    if not _label_ok(bare, values, evidence):
        return "근거와 다른 항목(매출/손실 등)"
    return None


def _bound(sentence: str, values: list[float], chunks: list[tuple[str, str]], asked: list[Named],
           allowed: set[float]) -> bool:
    """Each number of `sentence` is stated in a sentence of the evidence (with the sentence before it and the
    chunk's heading: title and date) that also names the subject and the year it is about: the sentence's own names
    and years, or the question's when the sentence names none ("직원은 52명이었다" answers the question's
    organisation and year). The attribution rules of bot/disagree.py, applied to generated text."""
    named = named_things(sentence)
    names = [n for n in named if n.kind in ("latin", "proper")] or [n for n in asked if n.kind in ("latin", "proper")]
    years = [n for n in named if n.kind == "year"] or [n for n in asked if n.kind == "year"]
    if not names and not years:
        return True
    year_values = {n.value for n in years}
    for v in values:
        if any(_close(v, w) for w in allowed) or any(_close(v, y) for y in year_values if y is not None):
            continue  # the question's own number, or the year itself
        if not any(_window_ok(v, head, text, names, years) for head, text in chunks):
            return False
    return True


def _window_ok(v: float, head: str, text: str, names: list[Named], years: list[Named]) -> bool:
    spans = sentence_spans(text) or [(0, len(text))]
    for j, (a, b) in enumerate(spans):
        if not any(_close(v, w) for w in number_values(text[a:b])):
            continue
        window = f"{head}\n{text[spans[j - 1][0]:b] if j else text[a:b]}".lower()
        have = number_values(window)
        if all(matches(y, window, have) for y in years) and (not names or any(matches(n, window, have)
                                                                               for n in names)):
            return True
    return False


def needs_evidence(sentence: str) -> bool:
    """Whether a sentence states something checkable: a number, a model name, a year."""
    return bool(_numbers(sentence)) or any(n.kind in ("latin", "year") for n in named_things(MARKER.sub(" ", sentence)))


def claims(text: str) -> list[list[str]]:
    """`text` as lines of sentences, each with the markers that follow it ("문장. [1] 다음." → "문장. [1]", "다음.");
    decimals (GPT-3.5, 1.5배) never end a sentence."""
    out: list[list[str]] = []
    for line in text.split("\n"):
        sentences: list[str] = []
        for piece in re.split(r"(?<=[.!?。])\s+", line):
            lead = re.match(r"(?:\[\d[\d,\s]*\]\s*)+", piece)
            if lead and sentences:
                sentences[-1] += " " + lead.group(0).strip()
                piece = piece[lead.end():]
            if piece.strip():
                sentences.append(piece)
        out.append(sentences)
    return out


def ground(text: str, citations: list[Citation], allowed: set[float] = frozenset(),
           question: str | None = None) -> Grounding:
    """Keep the sentences of `text` that the chunks they cite hold; drop the rest (with the reason). `allowed`:
    values that need no evidence (the question's own numbers, the cost tool's results). With `question`, a number
    must be stated about the same subject and year as the sentence (or the question) names."""
    by_number = {c.number: c for c in citations}
    asked = named_things(question) if question else None
    lines: list[str] = []
    dropped: list[tuple[str, str]] = []
    for sentences in claims(text):
        kept = []
        for sentence in sentences:
            cited = [int(n) for mm in MARKER.finditer(sentence) for n in re.split(r"\s*[,，]\s*", mm.group(1))]
            evidence = "\n".join(f"{by_number[n].hit.title}\n{by_number[n].hit.text}" for n in cited
                                  if n in by_number)
            if not evidence:
                why = "인용 없는 수치·이름" if needs_evidence(sentence) else None
            else:
                chunks = [(f"{by_number[n].hit.title} {by_number[n].hit.published or ''}", by_number[n].hit.text)
                          for n in cited if n in by_number] if asked is not None else None
                why = check_sentence(sentence, evidence, allowed, chunks, asked)
            if why is None:
                kept.append(sentence)
            else:
                dropped.append((MARKER.sub("", sentence).strip(), why))
        if kept or not sentences:
            lines.append(" ".join(kept))
    return Grounding("\n".join(lines).strip(), dropped)
