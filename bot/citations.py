"""Checking a generated answer's citations against the chunks it was shown.

Markers that name no shown chunk are removed (and counted); kept ones are renumbered 1..m in order of first use,
and each gets the span of its chunk that best supports the text it ends, as document offsets for highlighting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .types import Citation, Hit

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


@dataclass
class Checked:
    text: str
    citations: list[Citation] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # invented numbers, as the model wrote them


def check(answer: str, hits: list[Hit]) -> Checked:
    """Verify and renumber the `[n]` markers of `answer`, which was written from `hits` numbered 1..len(hits)."""
    renumber: dict[int, int] = {}
    removed: list[int] = []
    claims: dict[int, list[str]] = {}
    pieces: list[str] = []
    last = 0
    for m in MARKER.finditer(answer):
        before = answer[last:m.start()]
        pieces.append(before)
        claim = _claim_before(answer, m.start())
        kept = []
        for n in (int(x) for x in re.split(r"\s*[,，]\s*", m.group(1))):
            if not 1 <= n <= len(hits):
                removed.append(n)
                continue
            new = renumber.setdefault(n, len(renumber) + 1)
            claims.setdefault(new, []).append(claim)
            if new not in kept:
                kept.append(new)
        pieces.append("".join(f"[{k}]" for k in kept))
        last = m.end()
    pieces.append(answer[last:])
    text = re.sub(r"[ \t]+([.,!?])", r"\1", "".join(pieces))
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    citations = []
    for old, new in sorted(renumber.items(), key=lambda kv: kv[1]):
        hit = hits[old - 1]
        a, b = support(" ".join(claims[new]), hit.text)
        citations.append(Citation(new, hit, hit.text[a:b], hit.start + a, hit.start + b))
    return Checked(text, citations, removed)


def _claim_before(text: str, pos: int) -> str:
    """The sentence (or part of one) that a marker at `pos` ends."""
    head = MARKER.sub(" ", text[:pos])
    parts = [p for p in _SENTENCE_END.split(head) if p.strip()]
    return parts[-1].strip() if parts else ""


def _bigrams(s: str) -> set[str]:
    t = "".join(s.split())
    return {t[i:i + 2] for i in range(len(t) - 1)}


def support(claim: str, chunk: str) -> tuple[int, int]:
    """Offsets of the sentence of `chunk` that best supports `claim` (most of the claim's character bigrams)."""
    from .korean import sentence_spans

    spans = sentence_spans(chunk) or [(0, len(chunk))]
    want = _bigrams(claim)
    if not want:
        return spans[0]

    def score(span: tuple[int, int]) -> tuple[float, int]:
        got = _bigrams(chunk[span[0]:span[1]])
        return (len(want & got) / len(want), -(span[1] - span[0]))

    return max(spans, key=score)
