"""Korean text processing with kiwipiepy: sentence spans and content morphemes for BM25."""

from __future__ import annotations

import bisect
import re
import threading
from array import array
from typing import NamedTuple

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


def warm() -> None:
    """Load kiwi and its language model now (both hold the GIL: 1.8 s to build, 2.7 s for the first analysis)."""
    kiwi().tokenize("워밍업 문장입니다.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`; line breaks always end a sentence."""
    return sentence_spans_batch([text])[0]


def sentence_spans_batch(texts: list[str]) -> list[list[tuple[int, int]]]:
    """Sentence offsets for many texts in one kiwi call (about twice as fast as one call per paragraph)."""
    return [spans for spans, _ in analyse_batch(texts, with_terms=False)]


class Terms(NamedTuple):
    """A text's content morphemes in offset order, compact: about 12 bytes a morpheme where (offset, form) tuples
    took 170, since the forms of one `analyse_batch` call are shared strings."""

    offsets: array
    forms: list[str]


def analyse_batch(texts: list[str], with_terms: bool = True) -> list[tuple[list[tuple[int, int]], Terms]]:
    """Sentence offsets and content morphemes of many texts from one kiwi pass.

    Kiwi analyses every morpheme to find sentence ends anyway, so asking for the tokens costs nothing, while
    analysing each chunk again for BM25 cost as much as the split. A chunk's morphemes are those starting inside
    it (`morphemes_between`): the same as `morphemes(chunk)` (tested), since kiwi analyses sentences, and lines,
    on their own.
    """
    paras: list[tuple[int, int, str]] = []  # (text index, paragraph offset, paragraph)
    for ti, text in enumerate(texts):
        pos = 0
        for m in list(_PARA.finditer(text)) + [None]:
            end = m.start() if m else len(text)
            if text[pos:end].strip():
                paras.append((ti, pos, text[pos:end]))
            if m:
                pos = m.end()
    out = [([], Terms(array("q"), [])) for _ in texts]
    shared: dict[str, str] = {}
    for ti, pos, sents in _split_paragraphs(paras, with_terms):
        text = texts[ti]
        spans, terms = out[ti]
        para_spans: list[tuple[int, int]] = []
        for a, b, toks in sents:
            a, b = pos + a, pos + b
            # kiwi sometimes glues the next sentence's opening quoted word onto a finished sentence
            # ("...나뉜다. '익스플로어'" + "는 ..."): cut after the sentence end, re-join what touches.
            for piece_a, piece_b in _split_after_ends(text, a, b):
                if para_spans and para_spans[-1][1] == piece_a:
                    para_spans[-1] = (para_spans[-1][0], piece_b)
                else:
                    para_spans.append((piece_a, piece_b))
            for start, form in toks:
                terms.offsets.append(pos + start)
                terms.forms.append(shared.setdefault(form, form))
        spans.extend(para_spans)
    return out


def morphemes_between(terms: Terms, a: int, b: int) -> list[str]:
    """The forms of `terms` (from `analyse_batch`) that start in [a, b)."""
    offsets = terms.offsets
    return terms.forms[bisect.bisect_left(offsets, a):bisect.bisect_left(offsets, b)]


def _split_paragraphs(paras: list[tuple[int, int, str]], with_terms: bool = False, group: int = 1000):
    """(text index, paragraph offset, sentences) per paragraph, splitting `group` paragraphs per kiwi call.

    Each sentence is (start, end, content morphemes as (offset, lower-cased form)), taken out of kiwi's objects
    as each paragraph comes back: kiwi's sentence and token objects for a whole 40 MB file at once were most of a
    big ingest's memory, and its tokens for a long paragraph several times the text."""
    k = kiwi()
    for g in range(0, len(paras), group):
        part = paras[g:g + group]
        results = []
        with _lock:
            for sents in k.split_into_sents([p for _, _, p in part], return_tokens=with_terms):
                results.append([(s.start, s.end, [(t.start, t.form.lower()) for t in s.tokens if t.tag in _KEEP]
                                 if with_terms else ()) for s in sents])
        for (ti, pos, _), sents in zip(part, results):
            yield ti, pos, sents


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


def tokens(text: str) -> list:
    """kiwi's tokens of `text` (form, tag, start, len), analysed under the lock every kiwi call here takes."""
    k = kiwi()
    with _lock:
        return k.tokenize(text)


def morphemes(text: str) -> list[str]:
    """Content morphemes of `text`, lower-cased, for BM25 (particles and endings dropped)."""
    return [t.form.lower() for t in tokens(text) if t.tag in _KEEP]


def tagged(text: str) -> list[tuple[str, str]]:
    """(form, part-of-speech tag) of every morpheme of `text`."""
    return [(t.form, t.tag) for t in tokens(text)]


def morphemes_batch(texts: list[str]) -> list[list[str]]:
    k = kiwi()
    with _lock:
        results = list(k.tokenize(texts))
    return [[t.form.lower() for t in toks if t.tag in _KEEP] for toks in results]


# At each position: the two word characters starting there, or a one-character word. One C-level scan, in text
# order; a third faster than slicing each word (this is most of a 100K-chunk table rebuild).
_BIGRAM = re.compile(r"(?=(\w\w|(?<!\w)\w(?!\w)))")


def char_bigrams(text: str) -> list[str]:
    """Character bigrams inside each word ("요금제" -> "요금", "금제"), prefixed to keep them apart from morphemes;
    a one-character word is kept whole.

    They catch what morpheme analysis splits or misses (compounds, names, spacing variants).
    """
    return ["#" + g for g in _BIGRAM.findall(text.lower())]


def bm25_terms(text: str) -> list[str]:
    """The BM25 vocabulary of a text: content morphemes plus in-word character bigrams."""
    return morphemes(text) + char_bigrams(text)


def bm25_terms_batch(texts: list[str]) -> list[list[str]]:
    return [m + char_bigrams(t) for m, t in zip(morphemes_batch(texts), texts)]
