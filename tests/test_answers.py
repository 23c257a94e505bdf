"""kb.ask with the extractive backend and the cost tool, scored on the dev set (real model, real index)."""

import json
from pathlib import Path

import pytest
from conftest import DEV

from bot.loaders import load_file

ROWS = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def answers(corpus_kb):
    return {r["id"]: corpus_kb.ask(r["question"]) for r in ROWS}


@pytest.mark.slow
def test_dev_quality_bars(answers):
    facts = [r for r in ROWS if r["type"] == "fact"]
    refuse = [r for r in ROWS if r["type"] == "refuse"]
    # Scored on what the answer itself says and the chunks it cites, and only for answers: `text` also lists source
    # titles and related documents, so a refusal listing "GPT-3 유료화: 익스플로어·크리에이트·…" would count as right.
    def answered(r):
        return answers[r["id"]].status == "answered"

    answer_acc = sum(answered(r) and any(a in answers[r["id"]].body for a in r["answers"])
                     for r in facts) / len(facts)
    citation_acc = sum(answered(r) and any(a in c.hit.text for a in r["answers"] for c in answers[r["id"]].citations)
                       for r in facts) / len(facts)
    # a near-miss must not be presented as answered: refused, or shown as the nearest passage (a spoken question
    # between the spoken and the written bar of the answerability model)
    refusal_acc = sum(answers[r["id"]].status == "no_answer" or answers[r["id"]].support == "related"
                      for r in refuse) / len(refuse)
    false_refusals = sum(answers[r["id"]].status == "no_answer" for r in facts) / len(facts)
    # The learned answerability model is trained on KorQuAD's tuning half and written corpus questions, never on
    # these: issue 11's bar is that the dev set does not get worse than the old gate fitted to it (0.90 each).
    assert answer_acc >= 0.9 and citation_acc >= 0.9, (answer_acc, citation_acc)
    assert refusal_acc >= 0.9 and false_refusals <= 0.1, (refusal_acc, false_refusals)


@pytest.mark.slow
def test_dev_cost_questions_are_calculated_exactly(answers):
    for r in (r for r in ROWS if r["type"] == "cost"):
        a = answers[r["id"]]
        assert a.status == "calculated", (r["id"], a.text)
        assert a.result.value == pytest.approx(r["number"], rel=max(r["rel_tol"], 1e-9))
        assert "계산:" in a.text


@pytest.mark.slow
def test_citations_point_at_real_text(answers):
    cited = [c for a in answers.values() for c in a.citations]
    assert len(cited) >= 20
    for c in cited:
        doc = load_file(Path(c.hit.source))
        assert doc.text[c.start:c.end] == c.quote, c
        assert f"[{c.number}]" in next(a.text for a in answers.values() if c in a.citations)


@pytest.mark.slow
def test_footnote_is_resolved_and_refusals_list_related_sources(answers):
    a = answers["d19"]
    assert a.status == "answered" and "GLM-130B" in a.text and len(a.citations) == 2
    r = answers["r03"]
    assert r.status == "no_answer" and "찾지 못했습니다" in r.text and r.related


@pytest.mark.slow
def test_missing_input_is_asked_for_only_when_asked_to_compute(corpus_kb):
    a = corpus_kb.ask("크리에이트 요금제로 쓸 때 한 달 요금을 계산해 줘")
    # asked for the token count, or (retrieval can answer it) the plan's stated monthly fee, cited
    assert (a.status == "needs_input" and "토큰" in a.text) or (
        a.status == "answered" and "100달러" in a.body and any("100달러" in c.hit.text for c in a.citations)), a.text
    lookup = corpus_kb.ask("크리에이트 요금제는 얼마야?")  # a stated price: never a request for input
    assert lookup.status != "needs_input"


def test_uncited_generated_sentences_get_the_chunk_that_supports_them():
    from bot.citations import attribute, check
    from bot.types import Hit

    def hit(n, text):
        return Hit(f"c{n}", f"d{n}", f"t{n}", f"s{n}", None, text, 1.0, 0, len(text))

    hits = [hit(1, "빌드는 월 400달러다. 추가 1000개당 6센트를 낸다."),
            hit(2, "크리에이트는 월 100달러다. 추가 1000개당 8센트를 낸다.")]
    cited = attribute("크리에이트는 추가 1000개당 8센트를 냅니다. 날씨가 좋습니다.", hits)
    assert cited == "크리에이트는 추가 1000개당 8센트를 냅니다 [2]. 날씨가 좋습니다."
    c = check("크리에이트는 추가 1000개당 8센트를 냅니다 [7].", hits)
    assert c.removed == [7] and c.text == "크리에이트는 추가 1000개당 8센트를 냅니다 [1]." and len(c.citations) == 1
    assert c.citations[0].hit.chunk_id == "c2" and c.citations[0].quote == "추가 1000개당 8센트를 낸다."
    assert check("전혀 관계없는 이야기입니다.", hits).citations == []


def test_a_citation_naming_the_wrong_chunk_is_moved_to_the_supporting_one():
    from bot.citations import check
    from bot.types import Hit

    def hit(n, text):
        return Hit(f"c{n}", f"d{n}", f"t{n}", f"s{n}", None, text, 1.0, 0, len(text))

    hits = [hit(1, "GPU는 비싸다. 메모리가 중요하다."), hit(2, "• T5, 110억 파라미터\n• GPT-3, 1750억 파라미터")]
    c = check("T5의 파라미터 수는 110억 파라미터입니다 [1].", hits)
    assert c.repointed == 1 and c.citations[0].hit.chunk_id == "c2" and c.citations[0].quote.startswith("• T5")
    kept = check("GPU는 비쌉니다 [1].", hits)
    assert kept.repointed == 0 and kept.citations[0].hit.chunk_id == "c1"


@pytest.mark.slow
def test_a_calculation_before_any_search_still_cites_its_constants(corpus_kb):
    from bot.api import KnowledgeBase
    from bot.cost import gpus_needed

    fresh = KnowledgeBase(corpus_kb.settings, corpus_kb.store, corpus_kb.encoder)  # nothing searched yet
    a = fresh.cost_answer(gpus_needed(350, "V100-32GB"))
    assert a.status == "calculated" and a.citations and "근거" in a.text
