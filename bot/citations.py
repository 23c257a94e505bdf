"""Checking a generated answer's citations against the chunks it was shown.

Markers that name no shown chunk are removed (and counted); kept ones are renumbered 1..m in order of first use,
and each gets the span of its chunk that best supports the text it ends, as document offsets for highlighting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .types import Citation, Hit

REPOINT = 0.6  # share of a sentence's content morphemes a chunk sentence must hold to count as its support
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


@dataclass
class Checked:
    text: str
    citations: list[Citation] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # invented numbers, as the model wrote them
    repointed: int = 0  # citations moved to the chunk that actually supports the sentence


def check(answer: str, hits: list[Hit]) -> Checked:
    """Verify and renumber the `[n]` markers of `answer`, which was written from `hits` numbered 1..len(hits).

    An answer with no marker naming a shown chunk gets its markers from `attribute` (supported sentences only).
    """
    numbers = [int(n) for m in MARKER.finditer(answer) for n in re.split(r"\s*[,，]\s*", m[1])]
    removed: list[int] = []
    if not any(1 <= n <= len(hits) for n in numbers):
        removed = numbers  # all invented (or none at all): cite what the chunks support instead
        answer = attribute(MARKER.sub("", answer), hits)
    renumber: dict[int, int] = {}
    repointed = 0
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
            if claim and (cited := support_score(claim, hits[n - 1])) < REPOINT:
                best_n, best = best_chunk(claim, hits)
                if best >= REPOINT and best - cited >= 0.2:  # the model named the wrong chunk: cite the right one
                    n = best_n
                    repointed += 1
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
    return Checked(text, citations, removed, repointed)


def support_score(claim: str, hit: Hit) -> float:
    """Share of the claim's content morphemes found in the chunk sentence that best matches it (0 for < 2)."""
    from .korean import morphemes

    want = set(morphemes(claim))
    if len(want) < 2:
        return 0.0
    a, b = support(claim, hit.text)
    return len(want & set(morphemes(hit.text[a:b]))) / len(want)


def best_chunk(claim: str, hits: list[Hit]) -> tuple[int, float]:
    """(1-based number, score) of the chunk that best supports `claim`."""
    scores = [support_score(claim, h) for h in hits]
    n = max(range(len(hits)), key=scores.__getitem__, default=-1)
    return (n + 1, scores[n]) if n >= 0 else (0, 0.0)


def attribute(answer: str, hits: list[Hit], threshold: float = REPOINT) -> str:
    """`answer` with `[n]` added after each sentence that chunk n supports (>= `threshold` of the sentence's
    content morphemes in one of its sentences). For models that answer from the documents but do not cite."""
    out = []
    for piece in re.split(r"(?<=[.!?。])(\s+)", answer):
        claim = piece.strip()
        if len(claim) < 4:
            out.append(piece)
            continue
        best_n, best = best_chunk(claim, hits)
        if best >= threshold:
            end = len(piece.rstrip())
            stop = end - 1 if piece[end - 1:end] in ".!?。" else end
            piece = f"{piece[:stop]} [{best_n}]{piece[stop:]}"
        out.append(piece)
    return "".join(out)


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
