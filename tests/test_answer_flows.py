"""The answer flows (bot/answer/) behind the facade: one per backend, and what a generated answer keeps.

The OpenAI flow runs the real client against the fake OpenAI server; the index is the real corpus.
"""

import pytest
from fake_openai import FakeOpenAI, Step, cite
from test_openai import Q, kb_for

from bot import render
from bot.answer import ExtractiveFlow, LocalFlow, OpenAIFlow

pytestmark = pytest.mark.slow


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


def test_the_facade_picks_one_flow_per_backend(corpus_kb, fake, tmp_path):
    assert type(corpus_kb.flow) is ExtractiveFlow
    assert type(kb_for(corpus_kb, fake).flow) is OpenAIFlow
    local = corpus_kb.settings.model_copy(update={"llm": "local", "local_model": tmp_path / "m.gguf"})
    assert type(type(corpus_kb)(local, corpus_kb.store, corpus_kb.encoder).flow) is LocalFlow


def test_a_generated_sentence_with_a_number_its_evidence_lacks_is_dropped_with_a_visible_warning(corpus_kb, fake):
    kb = kb_for(corpus_kb, fake)

    def reply(body: dict) -> str:
        return cite("8센트", "추가 토큰 1000개당 8센트를 냅니다")(body) + ". 환불 수수료는 37달러입니다 [1]."

    fake.queue(Step(reply=reply))
    a = kb.ask(Q)
    assert a.status == "answered" and "8센트" in a.body and "37달러" not in a.body
    assert a.dropped_claims == ["환불 수수료는 37달러입니다."]  # without its marker: the numbering changed
    for shown in (render.plain(a), render.markdown(a), render.slack_text(a)):
        assert "37달러" not in shown and "확인되지 않는 문장 1개" in shown


def test_a_generated_answer_with_no_claim_held_is_unsupported_not_answered(corpus_kb, fake):
    kb = kb_for(corpus_kb, fake)
    fake.queue(Step(reply=cite("8센트", "추가 토큰 1000개당 20센트를 냅니다")))
    a = kb.ask(Q)
    assert a.status == "unsupported" and not a.citations and not a.body and a.related
    assert "20센트" not in render.markdown(a) and "찾지 못했습니다" in render.markdown(a)
