"""The extractive backend: answer with the sentences of the retrieved chunks that best cover the question.

No generator. Sentences, and adjacent pairs on one line (Korean news often states the fact in the sentence after
the one naming the topic), are scored by the idf-weighted share of the question's content morphemes they contain,
plus a bonus when they hold the kind of number the question asks for (money, duration, count, power...). A cited
footnote ("...공개했다.[20]") is resolved to the note itself. The corpus is taken not to hold the answer when a
name in the question never occurs in it (Gemini, 엑사원) or when coverage is below MIN_COVERAGE; both were
calibrated on the dev set (20 fact and 10 refuse questions).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .korean import morphemes, sentence_spans, tagged
from .types import Hit

MIN_COVERAGE = 0.25
ANSWER_TYPES = [
    (re.compile(r"기간|얼마\s?동안|몇\s?(개월|년|달|주)"), re.compile(r"\d\s?(개월|년|달|주|일)")),
    (re.compile(r"몇\s?배"), re.compile(r"\d\s?배")),
    (re.compile(r"전력|kw|와트", re.I), re.compile(r"\d\s?(kW|W|Wh|kWh|GWh)")),
    (re.compile(r"얼마|가격|비용|요금|원가|매출|돈"), re.compile(r"\d\s?(만|억|천)?\s?(달러|원|센트)|\$\s?\d")),
    (re.compile(r"몇\s?(개|장|대|명|가지|비트)"), re.compile(r"\d\s?[만억천]?\s?(개|장|대|명|가지|비트)")),
    (re.compile(r"수는|몇"), re.compile(r"\d")),
]
# Question words never appear in the answer; they must not count as uncovered terms.
QUESTION_WORDS = {"얼마", "얼마나", "몇", "무엇", "뭐", "무슨", "누구", "언제", "어디", "어느", "어떤", "어떻", "왜"}


def answer_pattern(question: str) -> re.Pattern | None:
    for asks, looks in ANSWER_TYPES:
        if asks.search(question):
            return looks
    return None


@dataclass(frozen=True)
class Picked:
    hit_index: int
    start: int  # offsets inside the hit's text
    end: int
    score: float
    coverage: float


class CorpusStats:
    """Document frequencies of content morphemes and the lower-cased text of all chunks."""

    def __init__(self, texts: list[str]) -> None:
        self.n = max(len(texts), 1)
        self.df: dict[str, int] = {}
        for t in texts:
            for term in set(morphemes(t)):
                self.df[term] = self.df.get(term, 0) + 1
        self.blob = "\n".join(texts).lower()

    @classmethod
    def from_bm25(cls, bm25, texts: list[str]) -> CorpusStats:
        """The same statistics without analysing every chunk again: document frequencies from the BM25 table's
        morpheme columns (its terms are the content morphemes of the chunk with its title header, so a title word
        counts in all of its document's chunks). Seconds instead of minutes at 100,000 chunks."""
        import numpy as np

        stats = cls.__new__(cls)
        stats.n = max(len(texts), 1)
        df = np.diff(bm25.matrix.indptr) if bm25.n_docs else []
        stats.df = {t: int(df[j]) for t, j in bm25.vocab.items() if not t.startswith("#") and j < len(df)}
        stats.blob = "\n".join(texts).lower()
        return stats

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def unknown_names(self, question: str) -> list[str]:
        """Proper nouns and foreign words of the question that occur nowhere in the corpus."""
        return [form for form, tag in tagged(question)
                if tag in ("NNP", "SL") and len(form) >= 2 and form.lower() not in self.blob]


def pick(question: str, hits: list[Hit], stats: CorpusStats, max_sentences: int = 2) -> Picked | None:
    q_terms = set(morphemes(question)) - QUESTION_WORDS
    total = sum(stats.idf(t) for t in q_terms)
    if not q_terms or total <= 0:
        return None
    wants = answer_pattern(question)
    best: Picked | None = None
    for hi, h in enumerate(hits):
        spans = sentence_spans(h.text)
        terms = [set(morphemes(h.text[a:b])) for a, b in spans]
        for i in range(len(spans)):
            for width in range(1, max_sentences + 1):
                j = i + width
                if j > len(spans):
                    break
                if width > 1 and "\n" in h.text[spans[i][0]:spans[j - 1][1]]:
                    break  # never join across lines (list items, footnotes)
                covered = set().union(*terms[i:j]) & q_terms
                coverage = sum(stats.idf(t) for t in covered) / total
                score = coverage - 0.03 * (width - 1) - 0.02 * hi
                if wants is not None and wants.search(h.text[spans[i][0]:spans[j - 1][1]]):
                    score += 0.15
                if best is None or score > best.score:
                    best = Picked(hi, spans[i][0], spans[j - 1][1], score, coverage)
    return best
