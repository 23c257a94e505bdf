"""Korean text processing with kiwipiepy: sentence spans and content morphemes for BM25."""

from __future__ import annotations

import re
import threading

_kiwi = None
_lock = threading.Lock()

# Content-bearing tags: nouns, predicates' stems, roots, adverbs, foreign words, numbers, hanja.
# Particles (J*), endings (E*), copulas, suffixes and punctuation are dropped.
_KEEP = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "MAG", "SL", "SN", "SH", "MM"}
_PARA = re.compile(r"\n\s*\n|\n")
_END = re.compile(r"(?<=[다요죠까][.!?])\s+")


def kiwi():
    """The process-wide Kiwi instance (about 1 s to load; built on first use)."""
    global _kiwi
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                _kiwi = Kiwi()
    return _kiwi


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    k = kiwi()
    for m in list(_PARA.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        para = text[pos:end]
        if para.strip():
            with _lock:
                sents = k.split_into_sents(para)
            para_spans: list[tuple[int, int]] = []
            for s in sents:
                a, b = pos + s.start, pos + s.end
                # kiwi sometimes glues the next sentence's opening quoted word onto a finished sentence
                # ("...나뉜다. '익스플로어'" + "는 ..."): cut after the sentence end, re-join what touches.
                for piece_a, piece_b in _split_after_ends(text, a, b):
                    if para_spans and para_spans[-1][1] == piece_a:
                        para_spans[-1] = (para_spans[-1][0], piece_b)
                    else:
                        para_spans.append((piece_a, piece_b))
            spans.extend(para_spans)
        if m:
            pos = m.end()
    return spans


def _split_after_ends(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    for m in _END.finditer(text, a, b):
        out.append((a, m.start()))
        a = m.end()
    out.append((a, b))
    result = []
    for x, y in out:
        while x < y and text[x].isspace():
            x += 1
        while y > x and text[y - 1].isspace():
            y -= 1
        if y > x:
            result.append((x, y))
    return result


def morphemes(text: str) -> list[str]:
    """Content morphemes of `text`, lower-cased, for BM25 (particles and endings dropped)."""
    k = kiwi()
    with _lock:
        toks = k.tokenize(text)
    return [t.form.lower() for t in toks if t.tag in _KEEP]


def morphemes_batch(texts: list[str]) -> list[list[str]]:
    k = kiwi()
    with _lock:
        results = list(k.tokenize(texts))
    return [[t.form.lower() for t in toks if t.tag in _KEEP] for toks in results]
