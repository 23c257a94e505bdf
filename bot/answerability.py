"""Can the retrieved chunks answer the question, and with which sentence? One small learned model decides both.

Every sentence (and adjacent pair on one line) of the retrieved chunks is a candidate. A logistic regression over
a few features scores how likely the candidate holds the answer; the best candidate is the extractive answer, and
when even the best scores below the model's threshold the question is refused. The features follow what makes a
near-miss look answerable to a word counter:

- alignment: every named thing in the question (organisations, products, model names such as GPT-2 vs GPT-3,
  years, numbers with units) must be matched in the candidate, its chunk or the document title; Korean/English
  aliases (엔비디아/NVIDIA) count (`data/aliases.toml`);
- the asked answer type must be present: 몇 명 needs a count of people, 언제 a date, 얼마 money, 누구 a name;
- idf-weighted coverage of the question's content morphemes (all of them, the common nouns and the predicates),
  words the corpus never uses, character-bigram overlap, the best coverage any candidate reaches, and the
  retrieval's rank, fused score and dense similarity.

A model or product identifier in the question (GPT-2, H100, T5) is a hard constraint: a candidate whose sentence,
the sentence before it and the title never name it is not considered, nor one whose asked figure belongs to another
identifier (the nearest name before "1500만원" is V100: it does not answer a question about TPU).

The weights, the feature scaling and the threshold live in `data/answerability.json`, written by
`scripts/train_answerability.py` from the tuning half of the KorQuAD answerability benchmark
(`kbot bench answerability`); nothing here is set by hand.
"""

from __future__ import annotations

import json
import math
import re
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .korean import sentence_spans, tagged, tokens
from .numerals import find_numbers
from .types import Hit

QUESTION_WORDS = {"얼마", "얼마나", "몇", "무엇", "뭐", "무슨", "누구", "언제", "어디", "어느", "어떤", "어떻", "왜",
                  "어떠", "무엇인가", "누가"}
# Light verbs and hedges carry no fact ("...라고 했어?", "대략"), nor do "이름"/"명칭" (the asked name itself, which
# the answer states rather than says) and "각각": they must not count as uncovered terms.
LIGHT_WORDS = {"하", "되", "있", "없", "이", "알리", "말하", "대략", "약", "정도", "들", "대하", "관하", "나오",
               "이름", "명칭", "각각"}
_KEEP = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "MAG", "SL", "SN", "SH", "MM"}

# (question asks, evidence must show); the first matching row is the asked type. None: a name the question lacks.
ANSWER_TYPES: list[tuple[str, re.Pattern, re.Pattern | None]] = [
    ("date", re.compile(r"언제|몇\s?년(도|에|부터|까지)?\b|몇\s?월|며칠|연도|날짜|시기|시점|몇\s?년도"),
     re.compile(r"\d{1,4}\s?(년|월|일)|세기|년대|작년|올해|지난해|전년|연초|연말|당시")),
    ("people", re.compile(r"몇\s?명|인원|직원\s?수|사람\s?수|회원\s?수|사용자\s?수|이용자\s?수"),
     re.compile(r"\d[\d,.]*\s?[만천백억]?\s?명|[천만억]\s?명|\d\s?인(?![가-힣])")),
    ("duration", re.compile(r"얼마\s?동안|기간|몇\s?(개월|년간|달|주|시간|일간|분)|며칠\s?동안|얼마나\s?걸"),
     re.compile(r"\d\s?(개월|년|달|주|일|시간|분|초)")),
    ("ratio", re.compile(r"몇\s?배|몇\s?(%|퍼센트)|비율|비중|점유율|몇\s?프로"),
     re.compile(r"\d\s?(배|%|퍼센트|프로)")),
    ("power", re.compile(r"전력|kw|와트|소비\s?전력", re.I), re.compile(r"\d\s?(kW|W|Wh|kWh|GWh|MW|와트)", re.I)),
    ("memory", re.compile(r"메모리|용량|vram", re.I), re.compile(r"\d\s?(GB|TB|MB|기가|테라)", re.I)),
    # "층수는 얼마", "파라미터 수는 얼마인가요?" ask for a number, not a sum
    ("money", re.compile(r"(?<!수\s)(?<!수는\s)(?<!수가\s)(?<!수를\s)얼마|"
                         r"가격|비용|요금|원가|매출|금액|값|투자\s?(액|금|규모)|몸값|가치|수익|이익|손실|예산"),
     re.compile(r"\d\s?[만억천조]?\s?(달러|원|센트|유로|엔|위안|파운드)|\$\s?\d|[만억천조]\s?(달러|원)")),
    ("count", re.compile(r"몇\s?(개|장|대|가지|비트|번|회|곳|종|권|편|위|층|척|마리|호|차|점)|개수"),
     re.compile(r"(\d|수)\s?[십백만억천]?\s?여?\s?(개|장|대|가지|비트|번|회|곳|종|권|편|위|층|척|마리|호|차|점)|"
                r"(한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?(개|장|대|가지|번|곳|명|척|마리)|"
                # a count written without its counter: "1750억 파라미터", "175B"
                r"\d[\d,.]*\s?[만억조](?!\s?[천백십]?\s?(원|달러|엔|위안|유로|파운드))|\d\s?[BMT](?![A-Za-z])")),
    ("number", re.compile(r"몇|수\s?(는|가|를)?\s?얼마|(?<![가-힣])수\s?(는|가|를)|"
                          r"(원|석|객|자|생|횟|점|표|구)수(는|가|를)?"),
     re.compile(r"\d|(한|두|세|네|다섯)\s?(개|명|번|가지)")),
    ("person", re.compile(r"누구|누가|인물은|사람은|선수는|감독은|작가는|저자는|창업자|설립자"), None),
    ("place", re.compile(r"어디|어느\s?(나라|지역|도시|곳|국가)|장소|국가는|도시는|지역은"), None),
    ("name", re.compile(r"이름|명칭|제목|호칭|별명|애칭|별칭|칭호|뭐라고\s?(불|부르)"), None),
]
# Asked types whose answer is always written as a figure of that kind: on KorQuAD's tuning half, 4 of 122
# answerable questions of these types had no candidate with such a figure (all four misread types), so a sentence
# without one is never the answer. Money (얼마 also asks for troop strengths) and dates are left to the model.
MONEY_CUE = re.compile(r"투자|가격|비용|요금|값|돈|달러|금액|예산|매출|수익|이익|지불|몸값|연봉|월급|인수")
STRICT_TYPES = {"count", "ratio", "duration", "people", "number", "power", "memory"}
FEATURES = ["cov", "cov_ctx", "bigram", "named_sent", "named_ctx", "has_named", "type_wanted", "type_match",
            "oov", "uncovered_max", "rank", "dense", "dense_top", "width2", "n_terms", "fused",
            "cov_x_named", "type_ok", "cov_x_type", "uncov_sent_max", "cov_common", "cov_pred", "q_best_cov",
            "q_best_common", "cov_gap", "type_anchor", "head_ok", "type_elsewhere", "sem", "sem_gap", "sem_top"]
# What a figure is: revenue is not a loss. Shared with bot/grounding.py.
LABELS = {
    "revenue": re.compile(r"매출|수익|수입|revenue|sales", re.I),
    "loss": re.compile(r"손실|적자|순손실|loss", re.I),
    "profit": re.compile(r"이익|흑자|순이익|profit", re.I),
    "investment": re.compile(r"투자|funding|investment", re.I),
    "cost": re.compile(r"비용|원가|지출|cost", re.I),
}
LATIN = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)")
YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)\s?년")
GLUED = re.compile(r"[\uac00-\ud7a3]{1,4}$")
_HEADING_ONLY = re.compile(r"\s*#{1,6}\s[^\n]*\s*$")
COMMON_LATIN = {"ai", "it", "the", "a", "an", "of", "and", "to", "in", "is", "vs", "etc"}


# -- named things -------------------------------------------------------------------------------------------
@cache
def _alias_groups() -> dict[str, tuple[str, ...]]:
    text = resources.files("bot").joinpath("data/aliases.toml").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for group in tomllib.loads(text)["groups"]:
        forms = tuple(g.lower() for g in group)
        for f in forms:
            out[f] = tuple(dict.fromkeys(out.get(f, ()) + forms))
    return out


def spellings(name: str) -> tuple[str, ...]:
    """`name` and its aliases, lower-cased."""
    low = name.lower()
    return _alias_groups().get(low, (low,))


@dataclass(frozen=True)
class Named:
    """Something the evidence must mention: a Latin-script name (GPT-2), a proper noun, a year, a number."""

    kind: str  # latin | proper | year | number
    text: str
    value: float | None = None


def _latin_in(form: str, low: str) -> bool:
    """`form` occurs in `low` as a whole token, hyphen optional: GPT-3 matches GPT3 and "GPT 3", not GPT-3.5,
    GPT-30, GPT-2 or Flan-T5's T5."""
    parts = re.findall(r"[a-z]+|\d+(?:\.\d+)?|[^a-z\d\s.-]+", form.lower())
    if not parts:
        return False
    body = r"[-.\s]?".join(re.escape(p) for p in parts)
    # a name without a version ("OPT") is met by its versions ("OPT-175B"); a versioned one (GPT-3) only by itself
    tail = r"(?![a-z0-9])" if not re.search(r"\d", form) else r"(?![a-z0-9]|[-.][a-z0-9])"
    pattern = rf"(?<![a-z0-9])(?<![a-z0-9][-.]){body}{tail}"
    return re.search(pattern, low) is not None


def is_identifier(named: Named) -> bool:
    """A model or product identifier (GPT-2, H100, T5, A100): letters with digits. These never stand for each other,
    so the evidence must name the same one."""
    return named.kind == "latin" and bool(re.search(r"\d", named.text)) and bool(re.search(r"[A-Za-z]", named.text))


def named_things(text: str, tags: list[tuple[str, str]] | None = None) -> list[Named]:
    """The names, years and numbers in `text` that its evidence has to match."""
    out: list[Named] = []
    seen: set[str] = set()
    for m in LATIN.finditer(text):
        form = m.group(1)
        glued = _glued(text, m.start())
        if glued:  # 챗GPT: the name is the whole word, not its Latin tail
            word = glued.group(0) + form
            if word.lower() not in seen:
                seen.add(word.lower())
                out.append(Named("proper", word))
            continue
        if form.lower() in COMMON_LATIN or (len(form) < 2 and not re.search(r"\d", form)):
            continue
        if form.lower() not in seen:
            seen.add(form.lower())
            out.append(Named("latin", form))
    years = set()
    for m in YEAR.finditer(text):
        years.add(m.start(1))
        if m.group(1) not in seen:
            seen.add(m.group(1))
            out.append(Named("year", m.group(1), float(m.group(1))))
    for n in find_numbers(text):
        if n.start in years or re.search(r"[A-Za-z]", text[max(0, n.start - 1):n.start]):
            continue  # a year, or the digits of a name such as V100
        if not n.unit or re.fullmatch(r"[\d.]+", n.text) and not n.unit:
            continue
        key = f"#{n.value}"
        if key not in seen:
            seen.add(key)
            out.append(Named("number", n.text, n.value))
    for form, tag in tags if tags is not None else _tags(text):
        if tag == "NNP" and len(form) >= 2 and form.lower() not in seen and not LATIN.fullmatch(form):
            seen.add(form.lower())
            out.append(Named("proper", form))
    return out


def matches(named: Named, low: str, values: set[float]) -> bool:
    """Whether evidence text (lower-cased, with the values of its numbers) mentions `named`."""
    if named.kind == "latin":
        return any(_latin_in(f, low) if re.fullmatch(r"[a-z0-9.\- ]+", f) else f in low
                   for f in spellings(named.text))
    if named.kind == "proper":
        return any(f in low for f in spellings(named.text))
    if named.kind == "year":
        return re.search(rf"(?<!\d){named.text}(?!\d)", low) is not None
    return any(_same(named.value, v) for v in values)


def _same(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def number_values(text: str) -> set[float]:
    return {n.value for n in find_numbers(text)}


# -- analysis cache -----------------------------------------------------------------------------------------
_lock = threading.Lock()


def _tags(text: str) -> list[tuple[str, str]]:
    return tagged(text)


@dataclass(frozen=True)
class _Analysis:
    spans: list[tuple[int, int]]
    terms: list[frozenset[str]]  # content morphemes per sentence
    proper: list[frozenset[str]]  # proper nouns per sentence
    all_terms: frozenset[str]


class _Cache:
    """Sentence spans and morphemes per chunk text, kept for the chunks recent questions retrieved."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.data: OrderedDict[str, _Analysis] = OrderedDict()

    def get(self, text: str) -> _Analysis:
        with _lock:
            found = self.data.get(text)
            if found is not None:
                self.data.move_to_end(text)
                return found
        spans = sentence_spans(text)
        toks = tokens(text)
        terms: list[set[str]] = [set() for _ in spans]
        proper: list[set[str]] = [set() for _ in spans]
        si = 0
        for t in toks:
            while si < len(spans) and t.start >= spans[si][1]:
                si += 1
            if si >= len(spans):
                break
            if t.start < spans[si][0]:
                continue
            if t.tag in _KEEP:
                terms[si].add(t.form.lower())
            if t.tag == "NNP":
                proper[si].add(t.form.lower())
        out = _Analysis(spans, [frozenset(s) for s in terms], [frozenset(s) for s in proper],
                        frozenset().union(*terms) if terms else frozenset())
        with _lock:
            self.data[text] = out
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return out


_CACHE = _Cache()


def cached_sentence_spans(text: str) -> list[tuple[int, int]]:
    """`korean.sentence_spans(text)`, kept with the analysis of the chunks recent questions retrieved (the hits an
    answer was judged on are already there)."""
    return _CACHE.get(text).spans


# -- the model ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """Small gradient-boosted trees over the features (sklearn's HistGradientBoosting, exported as plain arrays);
    `threshold` applies to the best candidate's probability."""

    features: tuple[str, ...]
    baseline: float
    trees: tuple[dict, ...]  # each: feature, threshold, left, right, leaf (bool), value (lists, one per node)
    threshold: float
    meta: dict
    # per register of the question (`register`): spoken questions share fewer words with the text that answers
    # them, so the same score means more; each bar was chosen on the tuning halves
    thresholds: tuple[tuple[str, float], ...] = ()

    def threshold_for(self, question: str, part: bool = False) -> float:
        return dict(self.thresholds).get(register(question, part), self.threshold)

    def probs(self, xs: list[list[float]]):
        """The probability that each candidate (a row of features) holds the answer."""
        import numpy as np

        x = np.asarray(xs, dtype=np.float64)
        raw = np.full(len(x), self.baseline)
        rows = np.arange(len(x))
        for t in self._arrays:
            feature, threshold, left, right, leaf, value = t
            node = np.zeros(len(x), dtype=np.int64)
            while True:
                inner = ~leaf[node]
                if not inner.any():
                    break
                go_left = x[rows, feature[node]] <= threshold[node]
                node = np.where(inner, np.where(go_left, left[node], right[node]), node)
            raw += value[node]
        return 1.0 / (1.0 + np.exp(-np.clip(raw, -40, 40)))

    @property
    def _arrays(self):
        cached = self.__dict__.get("_np")
        if cached is None:
            import numpy as np

            cached = [(np.asarray(t["feature"], dtype=np.int64), np.asarray(t["threshold"], dtype=np.float64),
                       np.asarray(t["left"], dtype=np.int64), np.asarray(t["right"], dtype=np.int64),
                       np.asarray(t["leaf"], dtype=bool), np.asarray(t["value"], dtype=np.float64))
                      for t in self.trees]
            object.__setattr__(self, "_np", cached)
        return cached

    @classmethod
    def from_dict(cls, d: dict) -> Model:
        if list(d["features"]) != FEATURES:
            raise ValueError("answerability.json was trained on other features: run scripts/train_answerability.py")
        return cls(tuple(d["features"]), float(d["baseline"]), tuple(d["trees"]), float(d["threshold"]),
                   d.get("meta", {}), tuple(sorted(d.get("thresholds", {}).items())))


@cache
def default_model() -> Model:
    text = resources.files("bot").joinpath("data/answerability.json").read_text(encoding="utf-8")
    return Model.from_dict(json.loads(text))


@dataclass(frozen=True)
class Candidate:
    hit_index: int
    start: int  # offsets inside the hit's text
    end: int
    x: list[float]
    coverage: float


@dataclass(frozen=True)
class Judgement:
    """The best candidate (None when the hits have no sentence) and whether it clears the threshold."""

    candidate: Candidate | None
    prob: float
    answerable: bool


class QuestionView:
    """What the features need from a question, computed once."""

    def __init__(self, question: str, stats) -> None:
        tags = _tags(question)
        self.question = question
        self.text = question.lower()
        self.terms = {f.lower() for f, t in tags if t in _KEEP} - QUESTION_WORDS - LIGHT_WORDS
        self.preds = {f.lower() for f, t in tags if t in ("VV", "VA", "XR")} & self.terms
        self.common = self.terms - {f.lower() for f, t in tags if t in ("NNP", "SL", "SN", "SH")}
        self.weights = {t: stats.idf(t) for t in self.terms}
        self.common_total = sum(self.weights[t] for t in self.common) or 1.0
        self.pred_total = sum(self.weights[t] for t in self.preds) or 1.0
        self.total = sum(self.weights.values()) or 1.0
        self.oov = sum(w for t, w in self.weights.items() if stats.df.get(t, 0) == 0) / self.total
        self.max_idf = max(self.weights.values(), default=1.0) or 1.0
        self.named = named_things(question, tags)
        # a name's morphemes ("오픈" + "ai" of 오픈AI, "ms") are covered by any spelling of the name (OpenAI,
        # 마이크로소프트): coverage counts names, not the letters the question happened to use
        self.name_terms: list[tuple[Named, frozenset[str]]] = []
        for n in self.named:
            if n.kind in ("latin", "proper"):
                parts = frozenset(t for t in self.terms if t in n.text.lower())
                if parts and len(spellings(n.text)) > 1:
                    self.name_terms.append((n, parts))
        self.type = asked_type(question)
        self.proper = {f.lower() for f, t in tags if t == "NNP"}
        self.head = asked_head(tags)
        self.label = next((k for k, pattern in LABELS.items() if self.head and pattern.search(self.head)), None)
        # a head that names the asked type ("가격은 얼마") is answered by a figure of that type, not by the word
        self.head_is_type = bool(self.head and self.type and any(
            asks.search(self.head) for name, asks, _ in ANSWER_TYPES if name == self.type[0]))
        bare = question
        for w in QUESTION_WORDS:
            bare = bare.replace(w, " ")
        self.bigrams = _bigrams(bare)


QUOTED = re.compile(r"[“\"‘'「『｢《〈]([^“”\"‘’'「」『』｢｣《》〈〉\n]{1,40})[”\"’'」』｣》〉]")


NAME_WORDS = re.compile(r"이름|명칭|제목|호칭|별명|애칭|별칭|칭호|불리|부르|명명")


def _new_name(sent: str, proper: list[frozenset[str]], question: str) -> bool:
    """Whether a sentence gives a name the question does not hold: a quoted name (“누리”) or a proper noun that is
    not part of the question's words (발사체 is part of 한국형발사체). When the sentence speaks of names (이름,
    명칭, 불리다) the name must stand beside that word ("이름으로 “누리”", "‘누리’라는 이름"): a sentence about
    choosing a name mentions other names in passing."""
    names = frozenset().union(*proper)

    def new_in(text: str) -> bool:
        low = text.lower()
        return any(m.group(1).strip().lower() not in question for m in QUOTED.finditer(text)) or \
            any(p in low and p not in question for p in names)

    near = [sent[max(0, m.start() - 12):m.end() + 10] for m in NAME_WORDS.finditer(sent)]
    return any(new_in(t) for t in near) if near else new_in(sent)


SPOKEN = re.compile(r"(야|어|해|돼|래|대|냐|니|지|죠|줘|요|임|음|남|게|거|데|네)\s*[?？.!~]*\s*$")


def register(question: str, part: bool = False) -> str:
    """written ("…은 무엇인가?", "…은?"), spoken ("…뭐야?", "…했어?", "…나요?") or part (a clause of a multi-part
    question, which lost its sentence's context)."""
    if part:
        return "part"
    return "spoken" if SPOKEN.search(question) else "written"


INTERROGATIVE = re.compile(r"몇|얼마|언제|며칠|누구|누가|어디|어느")


def asked_type(question: str) -> tuple[str, re.Pattern | None] | None:
    """The answer type the question asks for. A match holding the question word (몇 가지) beats one that is only
    a topic noun (요금): "요금제는 몇 가지야?" asks for a count, not money."""
    found = [(bool(INTERROGATIVE.search(m.group(0))), -i, name, looks)
             for i, (name, asks, looks) in enumerate(ANSWER_TYPES) if (m := asks.search(question))]
    if not found:
        return None
    _, _, name, looks = max(found, key=lambda f: (f[0], f[1]))
    return name, looks


LIGHT_HEADS = {"수", "것", "이름", "명칭", "개수", "곳", "때", "정도", "종류", "내용", "무엇", "뭐",
               "사람", "인원", "인물"}


def asked_head(tags: list[tuple[str, str]]) -> str | None:
    """The noun the question asks about: the one marked as topic, subject or object nearest before the question
    word ("카카오브레인 직원은 몇 명" → 직원, "노드는 전력을 얼마나" → 전력, "토큰 수는" → 토큰). None when there
    is no such noun or it says nothing by itself ("태어난 곳은 어디").

    Evidence that never mentions it answers another question (1만명 몰려 is not a number of employees)."""
    end = next((i for i, (f, _) in enumerate(tags) if f in QUESTION_WORDS), len(tags))
    for j in range(end - 1, 0, -1):
        if tags[j][1] not in ("JX", "JKS", "JKO"):
            continue
        k = j - 1
        while k > 0 and tags[k][1] == "XSN":
            k -= 1
        if tags[k][1] not in ("NNG", "NNP", "SL"):
            return None
        head = tags[k][0]
        if head in LIGHT_HEADS:
            if k > 0 and tags[k - 1][1] in ("NNG", "NNP", "SL") and tags[k - 1][0] not in LIGHT_HEADS:
                return tags[k - 1][0].lower()
            return None
        return head.lower()
    return None


def _bigrams(s: str) -> set[str]:
    out = set()
    for w in re.findall(r"\w+", s.lower()):
        out |= {w[i:i + 2] for i in range(len(w) - 1)}
    return out


class Judge:
    """Scores candidate sentences of retrieved chunks with the answerability model."""

    def __init__(self, stats, model: Model | None = None, max_sentences: int = 2, vectors=None) -> None:
        self.stats = stats
        self._model = model
        self.max_sentences = max_sentences
        # `bot.sentences.SentenceVectors`: the question's e5 similarity to each candidate, which words cannot give
        # when a question paraphrases its answer ("몇 개짜리 모델" / "1750억 파라미터"); without it (a test's fake
        # retriever) the three semantic features are 0
        self.vectors = vectors

    @property
    def model(self) -> Model:
        return self._model or default_model()

    def candidates(self, question: str | QuestionView, hits: list[Hit]) -> list[Candidate]:
        qv = question if isinstance(question, QuestionView) else QuestionView(question, self.stats)
        if not qv.terms:
            return []
        ids = [n for n in qv.named if is_identifier(n)]
        acronyms = [n for n in qv.named if n.kind == "latin" and n.text.isupper() and len(n.text) > 1]
        dense_known = [h.dense for h in hits if getattr(h, "dense", None) is not None]
        dense_top = max(dense_known, default=0.0)
        dense_floor = min(dense_known, default=0.0)
        out: list[Candidate] = []
        for hi, h in enumerate(hits):
            a = _CACHE.get(h.text)
            low_chunk = f"{h.title}\n{h.text}".lower()
            chunk_values = number_values(h.text)
            ctx_terms = a.all_terms | _title_terms(h.title)
            ctx_terms |= {t for n, parts in qv.name_terms if matches(n, low_chunk, set()) for t in parts}
            named_ctx = _named_share(qv.named, low_chunk, chunk_values)
            uncovered = [w for t, w in qv.weights.items() if t not in ctx_terms]
            uncovered_max = max(uncovered, default=0.0) / qv.max_idf
            cov_ctx = sum(w for t, w in qv.weights.items() if t in ctx_terms) / qv.total
            dense = h.dense if getattr(h, "dense", None) is not None else dense_floor
            for i in range(len(a.spans)):
                for width in range(1, self.max_sentences + 1):
                    j = i + width
                    if j > len(a.spans):
                        break
                    s, e = a.spans[i][0], a.spans[j - 1][1]
                    sent = h.text[s:e]
                    if width > 1 and "\n" in sent:
                        break  # never join across lines (list items, footnotes)
                    if ids:
                        near = f"{h.title}\n{h.text[a.spans[max(0, i - 1)][0]:e]}".lower()
                        if not all(matches(n, near, set()) for n in ids):
                            continue  # evidence about GPT-3 does not answer a question about GPT-2
                    wanted, found, looks, masked = 0.0, 0.0, None, sent
                    if qv.type is not None:
                        wanted = 1.0
                        looks = qv.type[1]
                        if qv.type[0] == "name":  # a quoted or proper name the question does not hold
                            found = float(_new_name(sent, a.proper[i:j], qv.text))
                        elif looks is None:  # a name the question does not already hold
                            found = float(bool(frozenset().union(*a.proper[i:j]) - qv.proper))
                        else:  # the digits of a name (GPT-4, V100) are not a figure
                            masked = _mask_names(sent)
                            found = float(looks.search(masked) is not None)
                    terms = frozenset().union(*a.terms[i:j])
                    if qv.name_terms:
                        low_sent = sent.lower()
                        terms |= {t for n, parts in qv.name_terms if matches(n, low_sent, set()) for t in parts}
                    if qv.head_is_type and found:
                        terms |= {qv.head}  # "1500만원" answers 가격 / 값 / 비용 whichever word the sentence uses
                    cov = sum(w for t, w in qv.weights.items() if t in terms) / qv.total
                    low = sent.lower()
                    named_sent = _named_share(qv.named, low, number_values(sent))
                    bigram = len(qv.bigrams & _bigrams(sent)) / len(qv.bigrams) if qv.bigrams else 0.0
                    if wanted and not found and qv.type[0] in STRICT_TYPES:
                        continue  # no count in it: it cannot say how many
                    type_ok = 1.0 if not wanted else found
                    missing = [w for t, w in qv.weights.items() if t not in terms]
                    cov_common = sum(qv.weights[t] for t in qv.common if t in terms) / qv.common_total \
                        if qv.common else 1.0
                    cov_pred = sum(qv.weights[t] for t in qv.preds if t in terms) / qv.pred_total \
                        if qv.preds else 1.0
                    anchor = _anchor(qv, sent, looks if wanted else None)
                    if (ids or acronyms) and wanted and anchor == 0.0:
                        continue  # the asked figure belongs to another identifier ("V100 한 장에 1500만원" ≠ TPU)
                    if qv.label and looks is not None and _label_anchor(qv.label, sent, masked, looks) == 0.0:
                        continue  # the figure is a loss, the question asks for revenue
                    head_ok = 1.0 if qv.head is None or any(f in low for f in spellings(qv.head)) else \
                        float(qv.head_is_type and found > 0)
                    if head_ok == 0.0 and qv.type and qv.type[0] == "people" and qv.head not in qv.proper:
                        # a head count names who is counted: "1만명 몰려" is no number of employees
                        before = h.text[a.spans[max(0, i - 1)][0]:s].lower()
                        if not any(f in before for f in spellings(qv.head)):
                            continue
                    # No sentence length: encyclopaedia paragraphs have no list items, news and notes do.
                    x = [cov, cov_ctx, bigram, named_sent, named_ctx, float(bool(qv.named)), wanted, found,
                         qv.oov, uncovered_max, hi / 5.0, dense, dense_top, float(width == 2),
                         math.log1p(len(qv.terms)) / 3.0, h.score,
                         cov * named_sent, type_ok, cov * type_ok, max(missing, default=0.0) / qv.max_idf,
                         cov_common, cov_pred, 0.0, 0.0, 0.0, anchor, head_ok, 0.0, 0.0, 0.0, 0.0]
                    out.append(Candidate(hi, s, e, x, cov))
        # question-level context: how well the best candidate covers the question, and this one's distance to it
        best_cov = max((c.x[0] for c in out), default=0.0)
        best_common = max((c.x[20] for c in out), default=0.0)
        # the asked figure is missing here but another candidate has one of its kind ("10억 달러" beside a sentence
        # about MS's cloud that names no sum)
        typed = any(c.x[7] * c.x[25] > 0 for c in out)
        for c in out:
            c.x[22], c.x[23], c.x[24] = best_cov, best_common, best_cov - c.x[0]
            c.x[27] = float(typed and c.x[6] > 0 and c.x[7] * c.x[25] == 0)
        if out and self.vectors is not None:
            self._semantic(qv, hits, out)
        return out

    def _semantic(self, qv: QuestionView, hits: list[Hit], out: list[Candidate]) -> None:
        """sem: the cosine of the question's e5 query vector and the candidate's (a pair: its sentences' mean);
        sem_top: the best over all candidates; sem_gap: how far this one is below it."""
        import numpy as np

        from .sentences import mean_cosine

        used = sorted({c.hit_index for c in out})
        spans = {hi: _CACHE.get(hits[hi].text).spans for hi in used}
        vecs = iter(self.vectors.get([hits[hi].text[s:e] for hi in used for s, e in spans[hi]]))
        rows = {hi: [(s, e, next(vecs)) for s, e in spans[hi]] for hi in used}  # each sentence with its vector
        q = np.asarray(self.vectors.encoder.encode_query(qv.question), dtype=np.float32)
        sems = [mean_cosine([v for s, e, v in rows[c.hit_index] if s >= c.start and e <= c.end], q) for c in out]
        top = max(sems)
        for c, v in zip(out, sems):
            c.x[28], c.x[29], c.x[30] = v, top - v, top

    def judge(self, question: str, hits: list[Hit], part: bool = False) -> Judgement:
        """The best candidate and whether the model finds it answers `question` (`part`: one part of a multi-part
        question)."""
        qv = QuestionView(question, self.stats)
        cands = self.candidates(qv, hits)
        if qv.label in ("revenue", "loss", "profit"):
            # 매출/손실/이익 asked: a sentence that never calls its figure that states some other sum
            cands = [c for c in cands if LABELS[qv.label].search(hits[c.hit_index].text[c.start:c.end])]
        if qv.type and qv.type[0] == "money" and "얼마" in question and MONEY_CUE.search(question):
            # "얼마 투자했어?": a sum of money asked in so many words; a sentence without one cannot state it
            # (얼마 alone also asks troop strengths and distances, so money is not among STRICT_TYPES; "매출은?"
            # is answered by a table's unitless "2024년 매출: 8450")
            cands = [c for c in cands if c.x[FEATURES.index("type_match")] > 0]
        # a Markdown heading alone names a section and states nothing ("# GPT-3 학습에 필요한 대략적인 계산량" is
        # no answer to how much); the heading with the sentence after it stays a candidate
        cands = [c for c in cands if not _HEADING_ONLY.match(hits[c.hit_index].text[c.start:c.end])]
        # a candidate that leaves out the question's rarest word is not the answer when another one holds every word
        # of the question ("빌드 요금제는 얼마야?": not DeepMind's pay beside "이번 요금제", but "'빌드'는 월 400달러");
        # out of fold on the tuning rows it changes 3 of 3,141 picks: two stay right, one part goes to a refusal
        uncov, best_cov = FEATURES.index("uncov_sent_max"), FEATURES.index("q_best_cov")
        cands = [c for c in cands if not (c.x[uncov] >= 0.999 and c.x[best_cov] >= 0.999)]
        if not cands:
            return Judgement(None, 0.0, False)
        probs = self.model.probs([c.x for c in cands])
        p = float(probs.max())
        # among equally good candidates the shortest: a pair adds a sentence about something else
        i = min((k for k in range(len(cands)) if probs[k] >= p - 1e-9), key=lambda k: cands[k].end - cands[k].start)
        return Judgement(cands[i], p, p >= self.model.threshold_for(question, part))


@cache
def _title_terms(title: str) -> frozenset[str]:
    return frozenset(f.lower() for f, t in _tags(title) if t in _KEEP) if title else frozenset()



def _anchor(qv: QuestionView, sent: str, looks: re.Pattern | None) -> float:
    """Whether the asked value in `sent` belongs to what the question names: the nearest name before it is one of
    the question's ("V100 한 장에 1500만원" answers about V100, not TPU). 1 when there is nothing to check."""
    if looks is None:
        return 1.0
    names = [n for n in qv.named if n.kind in ("latin", "proper")]
    if not names:
        return 1.0
    low = sent.lower()
    names_at = _mentions(sent)
    other = False  # a figure of the asked type that belongs to another name
    for m in looks.finditer(sent):
        if any(a <= m.start() < b for a, b, _ in names_at):
            continue  # the digits of a name (T5, V100) are not the asked figure
        head = low[:m.start()]
        mentions = [(a, name) for a, b, parts in names_at if b <= m.start()
                    for name in (next((p for p in parts if any(matches(n, p.lower(), set()) for n in names)),
                                      parts[-1]),)]
        for n in names:
            for f in spellings(n.text):
                i = head.rfind(f)
                if i >= 0:
                    mentions.append((i, f))
        if not mentions:
            continue
        _, nearest = max(mentions)
        if any(nearest.lower() in spellings(n.text) or matches(n, nearest.lower(), set()) for n in names):
            return 1.0
        other = True
    return 0.0 if other else 0.5


def _label_anchor(label: str, sent: str, masked: str, looks: re.Pattern) -> float | None:
    """1 when a figure of the asked type follows the asked label (매출 … 300억 달러), 0 when every such figure
    follows another label (손실 … 5억 달러 answers no question about revenue), None when no figure has a label."""
    marks = sorted((m.start(), k) for k, pattern in LABELS.items() for m in pattern.finditer(sent))
    verdicts = []
    for m in looks.finditer(masked):  # `sent` with the digits of names masked (`_mask_names`)
        before = [k for at, k in marks if at < m.start()]
        if before:
            verdicts.append(before[-1] == label)
    if not verdicts:
        return None
    return 1.0 if any(verdicts) else 0.0


def _glued(text: str, start: int) -> re.Match | None:
    """The Hangul written right before position `start` (오픈 of 오픈AI), without copying the text before it."""
    return GLUED.search(text, max(0, start - 4), start)


def _mask_names(sent: str) -> str:
    return LATIN.sub(lambda m: "X" * len(m.group(0)) if re.search(r"\d", m.group(0)) else m.group(0), sent)


def _mentions(sent: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Latin-script names in `sent` as (start, end, parts). Names written together ("NVIDIA A100 GPU") are one
    mention; lower-case words without digits ("runtime", "tokens") are ordinary English, not names."""
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for mm in LATIN.finditer(sent):
        form = mm.group(1)
        # Only identifiers (V100, GPT-3) and acronyms (TPU, NVIDIA) stand for another product; words such as
        # "runtime" or the translations in "빌드(Build)" do not.
        if not (re.search(r"\d", form) and re.search(r"[A-Za-z]", form)) and not (form.isupper() and len(form) > 1):
            continue
        glued = _glued(sent, mm.start())
        if glued:  # 오픈AI is one name, not "AI"
            out.append((glued.start(), mm.end(), (glued.group(0) + form,)))
            continue
        if out and not sent[out[-1][1]:mm.start()].strip():
            a, _, parts = out[-1]
            out[-1] = (a, mm.end(), parts + (form,))
        else:
            out.append((mm.start(), mm.end(), (form,)))
    return out


def _named_share(named: list[Named], low: str, values: set[float]) -> float:
    if not named:
        return 1.0
    return sum(matches(n, low, values) for n in named) / len(named)
