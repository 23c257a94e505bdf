"""First run in a real browser: a question asked right after the page loads, while the empty data dir is still
being indexed, waits for the indexing (showing its progress in Korean) and is then answered. It never says the
index is empty."""

import pytest
from browser import chromium_page
from conftest import ROOT, free_port

pytestmark = pytest.mark.slow
TIMEOUT = 120_000


def test_question_during_first_run_waits_with_progress(tmp_path, model_cache, real_encoder):
    from bot.api import KnowledgeBase
    from bot.config import Settings
    from bot.ui import serve

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", model_cache_dir=model_cache, port=free_port(),
                        corpus_dir=ROOT / "corpus", ingest_batch=16)
    kb = KnowledgeBase.open(settings, encoder=real_encoder)
    assert kb.store.count() == 0
    demo = serve(kb, block=False)
    try:
        with chromium_page(TIMEOUT) as page:
            page.goto(f"http://127.0.0.1:{settings.port}/")
            question = "크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?"
            page.locator("#kbot-question textarea").fill(question)
            page.locator("#kbot-send").click()
            reply = page.locator("#kbot-chat .message-row").last
            reply.filter(has_text="색인하는 중").wait_for()  # the wait is shown, with the figures
            waiting = reply.inner_text()
            assert "파일" in waiting and "청크" in waiting, waiting
            page.locator("#kbot-sources label").first.wait_for()  # then the real answer, with sources
            text = reply.inner_text()
            assert "8센트" in text and "[1]" in text
            body = page.locator("body").inner_text()
            assert "index is empty" not in body and "kbot ingest" not in body
            page.locator("#kbot-status").filter(has_text="답변").wait_for()
    finally:
        demo.close()
    assert kb.stats()["documents"] == 5
