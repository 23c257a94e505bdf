"""Open questions (why, how, describe, compare) answered with a passage, and whether retrieval found anything at all.

An explanation is rarely one sentence: the topic sentence names the subject and the next ones give the reason or the
steps. The passage is the sentence pair of the retrieved chunks that best covers the question's content words,
extended to the following sentences of the same block (up to `width` sentences, never across a blank line or a new
heading), and to the sentence before when the pair opens by referring back ("이 때문에", "이는").

Whether the passage answers is a small logistic regression over question-level features (coverage of the
question's content words by the passage, its chunk and the best chunk, names matched, dense similarity, words the
corpus never uses). Its weights and three thresholds live in `data/passages.json`, written by
`scripts/train_answerability.py` from the tuning halves of every question style (`kbot bench answerability`):

- `refuse`: below it the extractive backend says the documents do not hold the answer;
- `stated`: at or above it the passage is shown as the answer; between the two it is shown as the nearest passage
  (`Answer.support == "related"`), never as the answer;
- `relevant`: a bar on one feature, the best retrieved chunk's coverage of the question's content words: below it
  (or with no word in common) retrieval found nothing relevant, and no backend calls a language model (the only
  gate in front of generation; the coverage that 99.5% of every style's answerable tuning questions clear).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .answerability import _CACHE, LIGHT_WORDS, QUESTION_WORDS, _named_share, _tags, _title_terms, number_values
from .types import Hit

# The words of a request ("…의 이유를 설명해 줘", "차이점을 정리해 줘") ask for the kind of answer; they are not
# content the passage has to contain.
REQUEST_WORDS = {"설명", "이유", "원인", "까닭", "차이", "차이점", "비교", "정리", "요약", "과정", "절차",
                 "특징", "내용", "주요", "전체", "전체적", "전반", "전반적", "자세히", "구체적", "알리", "주",
                 "말하", "궁금", "대하", "관하", "어떻", "어떠", "방식", "방법", "점", "무엇", "뭐", "배경",
                 "의미", "영향", "목적", "효과", "개요", "요지", "경위", "취지", "풀", "알", "싶", "좀",
                 "간단히", "간략히", "다르", "같", "공통점", "장단점", "장점", "단점", "문제점", "전망",
                 "역할", "상황", "경우", "결과", "쉽", "뜻"}
_KEEP = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "MAG", "SL", "SN", "SH", "MM"}
_REFERS = re.compile(r"^\s*(이는|이에|이 때문|이때|이로|그 결과|그래서|따라서|또한|또|특히|다만|그러나|하지만|한편|"
                     r"이러한|이런|그러|이를|이와|이후|결국)")
_HEADING = re.compile(r"^\s*(#|\d+[.)]\s|[■□▶○●◆◇※-]\s?)")
_ENUMERATION = re.compile(r"첫째|첫 번째|(두|세|네|다섯|여섯|[2-6])\s?가지")
_ORDINAL = re.compile(r"^\s*(둘째|셋째|넷째|다섯째|여섯째|(두|세|네|다섯|여섯)\s?번째|마지막으로|끝으로|[②③④⑤⑥])")
_ANNOUNCES_TABLE = re.compile(r"(다음과 같다|아래와 같다|다음과 같습니다|아래와 같습니다|다음 표|아래 표)[^|]*$|:\s*$")
_BULLETS = "-•·*▪"
_LABEL = r"[^:#|]{1,12}:\s+\S"  # "과거: 아이디어 중심"
_LABELLED = re.compile(f"^{_LABEL}")
_ROW_OR_ITEM = re.compile(rf"^\s*([{_BULLETS}]|\d{{1,2}}[.)]\s|[①-⑩]|{_LABEL}|[^|\n]*\|)")
MORE_ITEMS, MORE_ROWS = 6, 12  # sentences a list, rows a table may add to the passage
FEATURES = ["cov", "cov_pair", "cov_ctx", "cov_ctx_best", "named", "named_best", "dense_top", "fused", "oov",
            "n_terms", "uncovered_max", "cov_common", "rank"]


@dataclass(frozen=True)
class OpenQuestion:
    """The content of an open question: its words (without the request words), weighted by idf."""

    weights: dict[str, float]
    common: frozenset[str]
    named: list
    oov: float
    max_idf: float

    @classmethod
    def of(cls, question: str, stats) -> OpenQuestion:
        from .answerability import named_things

        tags = _tags(question)
        terms = {f.lower() for f, t in tags if t in _KEEP} - QUESTION_WORDS - LIGHT_WORDS - REQUEST_WORDS
        weights = {t: stats.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        common = frozenset(terms - {f.lower() for f, t in tags if t in ("NNP", "SL", "SN", "SH")})
        oov = sum(w for t, w in weights.items() if stats.df.get(t, 0) == 0) / total
        return cls(weights, common, named_things(question, tags), oov, max(weights.values(), default=1.0) or 1.0)

    def cover(self, terms) -> float:
        total = sum(self.weights.values())
        return sum(w for t, w in self.weights.items() if t in terms) / total if total else 0.0

    def cover_common(self, terms) -> float:
        total = sum(self.weights[t] for t in self.common)
        return sum(self.weights[t] for t in self.common if t in terms) / total if total else 1.0


@dataclass(frozen=True)
class Passage:
    """Sentences [start, end) of `hits[hit_index]`'s text, the features that judge them, and the verdicts."""

    hit_index: int
    start: int
    end: int
    x: list[float]
    prob: float = 0.0
    answerable: bool = False
    stated: bool = False


def _heading(line: str) -> bool:
    """A heading: marked as one, or a short line that ends no sentence ("2. 추진 배경", "사업 개요")."""
    line = line.strip()
    if line.startswith(tuple(_BULLETS)) or _LABELLED.match(line):
        return False  # a list item or a "label: value" line continues the passage that announced it
    return bool(_HEADING.match(line)) or (len(line) < 40 and not re.search(r"[.!?。다요]\s*$", line)
                                           and "|" not in line)


def _blocks_end(text: str, spans: list[tuple[int, int]], i: int, width: int) -> int:
    """The last sentence index (exclusive) of a passage starting at sentence `i`: at most `width` sentences, not
    past a heading (news puts each sentence in a paragraph of its own, so a blank line alone ends nothing). A
    passage that starts a list ("세 가지 전략을 제시했다. 첫째, …") runs to its last item (a summary that stops at
    둘째 answers half the question), and one that announces a table or a list ("…는 다음과 같다.", "…입니다:")
    takes its rows."""

    def sentence(k: int) -> str:
        return text[spans[k][0]:spans[k][1]]

    def opens_block(k: int) -> bool:
        return "\n" in text[spans[k - 1][1]:spans[k][0]] and _heading(sentence(k))

    j = i + 1
    while j < len(spans) and j - i < width:
        if opens_block(j):
            break
        j += 1
    if any(_ANNOUNCES_TABLE.search(sentence(k)) for k in range(i, j)) and j < len(spans) \
            and _ROW_OR_ITEM.match(sentence(j)):
        while j < len(spans) and j - i < width + MORE_ROWS and _ROW_OR_ITEM.match(sentence(j)) \
                and text.count("\n", spans[j - 1][1], spans[j][0]) < 2:  # a blank line ends the list
            j += 1
    elif _ENUMERATION.search(text[spans[i][0]:spans[j - 1][1]]):
        k, gap = j, 0
        while k < len(spans) and k - i < width + MORE_ITEMS and gap < 2 and not opens_block(k):
            if _ORDINAL.match(sentence(k)):
                j, gap = k + 1, 0
            else:
                gap += 1
            k += 1
    return j


def best_passage(question: str, hits: list[Hit], stats, width: int = 3, vectors=None, semantic: float = 0.0,
                 shortlist: int = 6) -> Passage | None:
    """The passage of `hits` that best covers `question`, with its features (not yet judged).

    With `vectors` (`bot.sentences.SentenceVectors`), the `shortlist` best passages by word coverage are compared
    with the question by meaning too (the question's e5 query vector against the mean of the passage's sentence
    vectors, which ingest computed): a question that says 요금제 where the text says 가격 체계 still finds the
    passage. `semantic` weighs the cosine against the coverage (chosen on the tuning halves)."""
    if not hits:
        return None
    oq = OpenQuestion.of(question, stats)
    dense_top = max((h.dense for h in hits if getattr(h, "dense", None) is not None), default=0.0)
    ctx_cov, named = [], []
    analyses = [_CACHE.get(h.text) for h in hits]
    for h, a in zip(hits, analyses):
        ctx_cov.append(oq.cover(a.all_terms | _title_terms(h.title)))
        named.append(_named_share(oq.named, f"{h.title}\n{h.text}".lower(), number_values(h.text)))
    scored = []
    for hi, a in enumerate(analyses):
        for i in range(len(a.spans)):
            pair = a.terms[i] | (a.terms[i + 1] if i + 1 < len(a.spans) else frozenset())
            cov_pair = oq.cover(pair)
            # ties go to the better-ranked chunk and the earlier sentence
            scored.append(((round(cov_pair + 0.25 * ctx_cov[hi] + 0.1 * named[hi], 6), -hi, -i), hi, i, cov_pair))
    if not scored:
        return None
    scored.sort(reverse=True)

    def window(hi: int, i: int) -> tuple[int, int]:
        h, a = hits[hi], analyses[hi]
        start_i = i - 1 if i > 0 and _REFERS.match(h.text[a.spans[i][0]:a.spans[i][1]]) else i
        return start_i, _blocks_end(h.text, a.spans, i, width)

    _, hi, i, cov_pair = scored[0]
    if vectors is not None and semantic > 0 and len(scored) > 1:
        import numpy as np

        from .sentences import mean_cosine

        top = scored[:shortlist]
        q = np.asarray(vectors.encoder.encode_query(question), dtype=np.float32)
        sims = []
        for _, hj, j, _ in top:
            s_i, e_i = window(hj, j)
            text, spans = hits[hj].text, analyses[hj].spans[s_i:e_i]
            sims.append(mean_cosine(vectors.get([text[a:b] for a, b in spans]), q))
        k = max(range(len(top)), key=lambda n: (top[n][0][0] + semantic * sims[n], top[n][0]))
        _, hi, i, cov_pair = top[k]
    h, a = hits[hi], analyses[hi]
    start_i, end_i = window(hi, i)
    terms = frozenset().union(*a.terms[start_i:end_i])
    uncovered = [w for t, w in oq.weights.items() if t not in (a.all_terms | _title_terms(h.title))]
    x = [oq.cover(terms), cov_pair, ctx_cov[hi], max(ctx_cov), named[hi], max(named), dense_top, h.score, oq.oov,
         math.log1p(len(oq.weights)) / 3.0, max(uncovered, default=0.0) / oq.max_idf, oq.cover_common(terms),
         hi / 5.0]
    return Passage(hi, a.spans[start_i][0], a.spans[end_i - 1][1], x)


@dataclass(frozen=True)
class OpenModel:
    """Logistic regression over standardised features, with the thresholds chosen on the tuning halves."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    refuse: float
    stated: float
    relevant: float
    width: int
    meta: dict
    semantic: float = 0.0

    def prob(self, x: list[float]) -> float:
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    @classmethod
    def from_dict(cls, d: dict) -> OpenModel:
        if list(d["features"]) != FEATURES:
            raise ValueError("passages.json was trained on other features: run scripts/train_answerability.py")
        return cls(tuple(d["weights"]), float(d["bias"]), tuple(d["mean"]), tuple(d["scale"]), float(d["refuse"]),
                   float(d["stated"]), float(d["relevant"]), int(d.get("width", 3)), d.get("meta", {}),
                   float(d.get("semantic", 0.0)))


@cache
def default_model() -> OpenModel:
    text = resources.files("bot").joinpath("data/passages.json").read_text(encoding="utf-8")
    return OpenModel.from_dict(json.loads(text))


def judge_passage(question: str, hits: list[Hit], stats, model: OpenModel | None = None,
                  vectors=None) -> Passage | None:
    """The passage for an open question with its verdicts: answerable (above `refuse`), stated (above `stated`)."""
    m = model or default_model()
    p = best_passage(question, hits, stats, m.width, vectors, m.semantic)
    if p is None:
        return None
    prob = m.prob(p.x)
    return Passage(p.hit_index, p.start, p.end, p.x, prob, prob >= m.refuse, prob >= m.stated)


def relevance(question: str, hits: list[Hit], stats, model: OpenModel | None = None) -> tuple[float, bool]:
    """How much of `question` the best retrieved chunk covers, and whether that clears the bar for sending the
    question to a language model (some content word in common, and at least `relevant`)."""
    m = model or default_model()
    p = best_passage(question, hits, stats, m.width)
    if p is None:
        return 0.0, False
    cov = p.x[FEATURES.index("cov_ctx_best")]
    return cov, cov > 0 and cov >= m.relevant
