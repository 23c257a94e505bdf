"""The local backend: a real GGUF (SmolLM2-135M, assembled from its PyPI wheel) run in-process by llama-cpp-python."""

import pytest

from bot.api import KnowledgeBase
from bot.gguf import SMOLLM2, assemble, sha256_of
from bot.types import Answer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    return assemble(SMOLLM2, tmp_path_factory.mktemp("gguf"))


@pytest.fixture(scope="module")
def local_kb(corpus_kb, smollm2):
    s = corpus_kb.settings.model_copy(update={"llm": "local", "local_model": smollm2, "max_answer_tokens": 24,
                                              "local_context": 2048, "answer_chunks": 3})
    return KnowledgeBase(s, corpus_kb.store, corpus_kb.encoder)


def test_model_is_assembled_and_checked(smollm2):
    assert smollm2.stat().st_size > 90e6 and sha256_of(smollm2) == SMOLLM2.sha256


def test_local_model_generates_and_streams_through_the_chain(local_kb):
    events = list(local_kb.stream("V100 GPU 한 개 가격은 대략 얼마라고 했어?"))
    final = events[-1]
    assert isinstance(final, Answer) and final.backend == f"local:{SMOLLM2.filename}"
    assert len(events) > 3 and all(isinstance(e, str) for e in events[:-1])  # tokens arrive one by one
    assert final.status in ("answered", "unverified", "no_answer")  # a 135M model: wiring, not quality
    assert all(c.quote in c.hit.text for c in final.citations)
    again = local_kb.ask("V100 GPU 한 개 가격은 대략 얼마라고 했어?")  # same model object, greedy decoding
    assert again.text == final.text


Q_PRICE = "크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?"


def test_small_context_keeps_the_prompt_inside_the_window(corpus_kb, smollm2):
    # SmolLM2 spends ~2-3 tokens per Hangul syllable: five 400-character chunks do not fit in 2048 tokens, so the
    # lowest-ranked chunks are left out. When even one does not fit, the user gets the extractive answer and why.
    def ask(context: int) -> Answer:
        s = corpus_kb.settings.model_copy(update={"llm": "local", "local_model": smollm2, "max_answer_tokens": 16,
                                                  "local_context": context, "answer_chunks": 5})
        return KnowledgeBase(s, corpus_kb.store, corpus_kb.encoder).ask(Q_PRICE)

    a = ask(2048)
    assert a.notice is None and a.backend.startswith("local:")
    small = ask(512)
    # the user reads Korean; the operator's log names the setting (KBOT_LOCAL_CONTEXT)
    assert small.notice and "입력 한도" in small.notice, (small.status, small.backend, small.body)
    assert small.backend == "extractive" and small.citations


def test_cost_questions_skip_the_model(local_kb):
    a = local_kb.ask("빌드 요금제로 한 달에 토큰 1200만 개를 쓰면 얼마야?")
    assert a.status == "calculated" and a.result.value == 520


def test_missing_model_file_says_how_to_get_one(corpus_kb, tmp_path):
    from bot.errors import ConfigError

    s = corpus_kb.settings.model_copy(update={"llm": "local", "local_model": tmp_path / "none.gguf"})
    with pytest.raises(ConfigError, match="kbot model qwen"):
        KnowledgeBase(s, corpus_kb.store, corpus_kb.encoder).ask("GPT-3 요금은?")
