"""The answerability model: near-misses refused, the right model's figure picked, generated figures grounded, and
the committed parameters reproduced by the training script."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import ROOT, SHARED

from bot.answerability import Named, default_model, matches, named_things
from bot.grounding import check_sentence, ground
from bot.types import Citation, Hit

KORQUAD = SHARED / "bench" / "korquad" / "KorQuAD_v1.0_dev.json"


def _hit(text: str, title: str = "기사", n: int = 0) -> Hit:
    return Hit(chunk_id=f"c{n}", doc_id=f"d{n}", title=title, source=f"doc{n}.md", published=None, text=text,
               score=1.0, start=0, end=len(text))


# -- alignment and grounding (no model needed) ---------------------------------------------------------------
def test_model_names_do_not_match_their_neighbours():
    named = named_things("GPT-2 파라미터는 몇 개야?")
    gpt2 = next(n for n in named if n.kind == "latin")
    assert gpt2.text == "GPT-2"
    assert not matches(gpt2, "gpt-3는 1750억 개의 파라미터를 가졌다", set())
    assert not matches(gpt2, "gpt-2.5 모델", set()) and not matches(gpt2, "gpt-20", set())
    assert matches(gpt2, "• gpt-2, 15억 파라미터", set())


def test_korean_and_english_spellings_of_a_name_match():
    assert matches(Named("proper", "엔비디아"), "nvidia의 v100 가격은", set())
    assert matches(Named("latin", "OpenAI"), "오픈ai가 공개한 모델", set())


def test_a_generated_figure_the_evidence_lacks_is_dropped():
    evidence = _hit("OpenAI는 2019년 마이크로소프트로부터 10억 달러를 투자받았다.")
    cites = [Citation(1, evidence, evidence.text, 0, len(evidence.text))]
    g = ground("OpenAI는 2019년 10억 달러를 투자받았다 [1]. 2020년에는 20억 달러를 더 받았다 [1].", cites)
    assert "10억 달러" in g.text and "20억" not in g.text
    assert len(g.dropped) == 1 and "수치" in g.dropped[0][1]


def test_numbers_compare_by_value_and_years_must_match():
    ev = "GPT-3는 1,750억 개의 파라미터를 가진 모델로 2020년에 공개됐다."
    assert check_sentence("GPT-3의 파라미터는 175B개다 [1]", ev) is None
    assert check_sentence("GPT-3는 2021년에 공개됐다 [1]", ev) is not None


def test_a_loss_reported_as_revenue_is_dropped():
    ev = "오픈AI는 지난해 5억4천만 달러의 손실을 기록했다."
    assert check_sentence("오픈AI의 지난해 매출은 5억4천만 달러였다 [1]", ev) is not None
    assert check_sentence("오픈AI는 지난해 5억4천만 달러 손실을 냈다 [1]", ev) is None


def test_uncited_figures_are_not_passed_as_grounded():
    g = ground("엔비디아의 매출은 300억 달러다.", [])
    assert g.text == "" and g.dropped


# -- the model, on the real corpus ---------------------------------------------------------------------------
# The near-misses quoted in issue 11 (the topic is in the corpus, the asked fact is not), and two like them.
NEAR_MISSES = ["V100 한 장이 쓰는 전력은?", "업스테이지는 언제 창업했어?", "GPT-4의 파라미터는 몇 개야?",
               "카카오브레인 직원은 몇 명이야?", "TPU 한 장 가격은 얼마야?", "오픈AI의 지난해 매출은 얼마야?"]


@pytest.mark.slow
@pytest.mark.parametrize("question", NEAR_MISSES)
def test_near_miss_questions_from_the_issue_are_never_presented_as_answered(corpus_kb, question):
    """Refused, or (a spoken question between the spoken and the written bar) shown as the nearest passage with the
    notice, never as the answer."""
    from bot.render import NEAREST

    ans = corpus_kb.ask(question)
    assert ans.status == "no_answer" or ans.support == "related", (question, ans.text)
    if ans.status == "no_answer":
        assert ans.related, "a refusal lists the related documents"
    else:
        assert ans.text.index(NEAREST[:20]) < ans.text.index(ans.body[:10]), ans.text


@pytest.mark.slow
def test_a_heading_line_alone_is_never_the_answer(corpus_kb):
    """The corpus's "# GPT-3 학습에 필요한 대략적인 계산량" names what follows and states no amount: it was quoted as
    the answer to the first part."""
    ans = corpus_kb.ask("GPT-3 학습에 필요한 계산량은 대략 얼마이고, V100으로는 얼마나 걸리는 걸로 계산돼?")
    assert all(not c.quote.lstrip().startswith("#") for c in ans.citations), ans.text


@pytest.mark.slow
def test_a_question_about_gpt2_never_gets_gpt3s_size(corpus_kb):
    """The right answer (15억) or a refusal; GPT-3's 1750억 cited for GPT-2 was the bug."""
    ans = corpus_kb.ask("GPT-2 파라미터는 몇 개야?")
    assert ans.status in ("answered", "no_answer"), ans.text
    assert "1750억" not in ans.body and "1,750억" not in ans.body, ans.body
    if ans.status == "answered":
        assert "15억" in ans.body or "1.5B" in ans.body, ans.body


@pytest.mark.slow
def test_retraining_reproduces_the_committed_model(tmp_path):
    """scripts/train_answerability.py on the tuning half gives the committed model (same scores, same threshold)."""
    if not KORQUAD.exists():
        pytest.fail(f"{KORQUAD} is missing: the benchmark reads KorQuAD from ../shared")
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_answerability import train

    from bot.answerability import Model

    rows: list = []
    passages: dict = {}
    fresh = train(KORQUAD, tmp_path / "work", log=lambda *_: None, rows=rows, passages=passages)
    committed = json.loads((ROOT / "bot" / "data" / "answerability.json").read_text(encoding="utf-8"))
    assert fresh["features"] == committed["features"]
    assert fresh["meta"]["questions"] == committed["meta"]["questions"]
    # the candidates come from searches (int8 kernels, approximate HNSW): four training runs on one machine gave
    # 6,868 to 6,872 positive candidates of about 110,000, so their count is compared within 0.5%
    assert abs(fresh["meta"]["positives"] - committed["meta"]["positives"]) <= 0.005 * committed["meta"]["positives"]
    sample = rows[::5]
    fresh_model, committed_model = Model.from_dict(fresh), default_model()
    p_fresh, p_committed = fresh_model.probs(sample), committed_model.probs(sample)
    # Not bit-identical: the int8 encoder's kernels differ between CPUs and Chroma's HNSW graph is approximate, so a
    # few dense candidates move, and the threshold (a step on out-of-fold false refusals) moves with them (CI
    # measured 0.218 against 0.194). What must reproduce is the decisions and the scores.
    agree = float(((p_fresh >= fresh_model.threshold) == (p_committed >= committed_model.threshold)).mean())
    assert agree >= 0.97, agree
    assert fresh["threshold"] == pytest.approx(committed["threshold"], abs=0.06)
    diff = abs(p_fresh - p_committed)
    assert float(diff.mean()) < 0.03 and float(sorted(diff)[int(0.95 * len(diff))]) < 0.08, diff.max()
    # the passage model (open questions, and the relevance bar in front of generation) reproduces too
    from bot.passages import OpenModel
    from bot.passages import default_model as default_passages

    fresh_open, committed_open = OpenModel.from_dict(passages), default_passages()
    assert fresh_open.meta["parts"] == committed_open.meta["parts"]
    for name in ("refuse", "stated", "relevant"):
        assert getattr(fresh_open, name) == pytest.approx(getattr(committed_open, name), abs=0.08), name
    xs = [[m + s * k / 3 for m, s in zip(committed_open.mean, committed_open.scale)] for k in range(-3, 4)]
    assert all(abs(fresh_open.prob(x) - committed_open.prob(x)) < 0.08 for x in xs)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "gold", "wrong"), [
    # the figure asked for is the second sentence's: the pair is the answer, not the sentence naming a16z alone
    ("a16z는 소프트웨어 최적화로 런타임이 최대 몇 배까지 좋아질 수 있다고 했어?", "10배", None),
    # "몇 가지" asks for a count, although 요금 is a money word
    ("GPT-3 유료 요금제는 몇 가지로 나뉘고 각각 이름이 뭐야?", "4가지", None),
    # the sentence about 빌드 alone, not the pair that starts with 크리에이트's price
    ("빌드 요금제의 월 요금은?", "400달러", "100달러"),
    # not DeepMind's pay beside "오픈AI의 이번 요금제는": that pair lacks 빌드, which the plan's sentence holds
    ("빌드 요금제는 얼마야?", "400달러", "딥마인드"),
    # "NVIDIA A100 GPU (80기가)" is one name: its 320장 answers a question about A100
    ("1조 파라미터 모델을 오프로드 없이 훈련하려면 A100 80GB가 몇 장 필요하다고 했어?", "320장", None),
])
def test_questions_the_picker_used_to_miss_get_the_sentence_that_answers(corpus_kb, question, gold, wrong):
    ans = corpus_kb.ask(question)
    assert ans.status == "answered" and gold in ans.body, (question, ans.text)
    assert any(gold in c.hit.text for c in ans.citations)
    if wrong:
        assert wrong not in ans.body, ans.body


def test_asked_type_prefers_the_question_word_over_a_topic_noun():
    from bot.answerability import _tags, asked_head, asked_type

    assert asked_type("요금제는 몇 가지야?")[0] == "count"
    assert asked_type("빌드 요금제의 월 요금은?")[0] == "money"
    assert asked_head(_tags("카카오브레인 직원은 몇 명이야?")) == "직원"
    assert asked_head(_tags("A100 GPU 8대가 들어간 노드는 전력을 얼마나 써?")) == "전력"
    assert asked_head(_tags("이순신이 태어난 곳은 어디인가?")) is None
