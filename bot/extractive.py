"""The extractive backend's pieces: corpus statistics and the best sentence of the retrieved chunks.

No generator. Candidate sentences, and adjacent pairs on one line (Korean news often states the fact in the sentence
after the one naming the topic), are scored by the answerability model (`answerability.py`): the best one is the
answer when it clears the model's threshold, otherwise the question is refused. A cited footnote
("...공개했다.[20]") is resolved to the note itself by the answer flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .types import Hit


@dataclass(frozen=True)
class Picked:
    """The chosen span of `hits[hit_index]` (offsets in its text) and the model's probability that it answers."""

    hit_index: int
    start: int
    end: int
    score: float
    coverage: float
    answerable: bool = True


class CorpusStats:
    """Document frequencies of content morphemes over all chunks (read from the terms stored with each chunk)."""

    def __init__(self, texts: list[str] | None = None, terms: list[list[str]] | None = None) -> None:
        if terms is None:
            from .korean import morphemes_batch

            terms = morphemes_batch(texts or [])
        self.n = max(len(terms), 1)
        self.df: dict[str, int] = {}
        for ts in terms:
            for term in set(ts):
                if not term.startswith("#"):  # the BM25 side's character bigrams are not morphemes
                    self.df[term] = self.df.get(term, 0) + 1

    @classmethod
    def from_bm25(cls, bm25) -> CorpusStats:
        """Statistics from the BM25 table the retriever already built (no second pass over the chunks)."""
        stats = cls(terms=[])
        stats.n = max(bm25.n_docs, 1)
        stats.df = {t: int(bm25.df[j]) for t, j in bm25.vocab.items() if not t.startswith("#")}
        return stats

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


def pick(question: str, hits: list[Hit], stats: CorpusStats, judge=None, part: bool = False,
         vectors=None) -> Picked | None:
    """The sentence (or pair) of `hits` most likely to answer `question`; `answerable` says if it clears the bar.
    `vectors` (`bot.sentences.SentenceVectors`) gives the model its semantic features."""
    from .answerability import Judge

    j = (judge or Judge(stats, vectors=vectors)).judge(question, hits, part)
    if j.candidate is None:
        return None
    c = j.candidate
    return Picked(c.hit_index, c.start, c.end, j.prob, c.coverage, j.answerable)
