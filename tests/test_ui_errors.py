"""What a web user sees when something fails: Korean that says what to do, never settings, commands or English.

A real UI in headless Chromium over the shared corpus index, with the local backend pointed at a model file that
does not exist (a server misconfiguration the user can do nothing about but report).
"""

import pytest
from browser import chromium_page
from conftest import free_port
from test_ui import TIMEOUT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken_ui(corpus_kb, tmp_path_factory):
    from bot.api import KnowledgeBase
    from bot.ui import build_ui

    tmp = tmp_path_factory.mktemp("ui-errors")
    settings = corpus_kb.settings.model_copy(update={"llm": "local", "local_model": tmp / "missing.gguf",
                                                     "port": free_port(), "data_dir": tmp})
    kb = KnowledgeBase(settings, corpus_kb.store, corpus_kb.encoder)
    # `serve` would fail at start-up (it loads the model first); launched without that, the error meets the user
    demo = build_ui(kb)
    demo.launch(server_name="127.0.0.1", server_port=settings.port, prevent_thread_lock=True, quiet=True,
                show_error=False)
    yield f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(broken_ui):
    with chromium_page(TIMEOUT, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(broken_ui)
        page.locator("#kbot-status").filter(has_text="청크").wait_for()
        yield page


def test_a_server_misconfiguration_reads_as_korean_advice_in_the_chat(page):
    page.locator("#kbot-question textarea").fill("GPT-3 요금제는 몇 가지야?")
    page.locator("#kbot-send").click()
    bubble = page.locator("#kbot-chat .message-row").last
    bubble.filter(has_text="⚠️").wait_for()
    text = bubble.inner_text()
    assert "관리자에게 알려 주세요" in text
    assert "KBOT_LOCAL_MODEL" not in text and "kbot model" not in text and "missing.gguf" not in text


def test_an_unreadable_number_in_the_calculator_is_explained_in_korean(page):
    page.get_by_role("tab", name="계산기").click()
    page.locator("#calc-params textarea, #calc-params input").first.fill("많이")
    page.locator("#calc-gpus").click()
    out = page.locator("#calc-result")
    out.filter(has_text="입력을 확인하세요").wait_for()
    assert "1750억" in out.inner_text() and "not a number" not in out.inner_text()
    page.locator("#calc-params textarea, #calc-params input").first.fill("")
    page.locator("#calc-gpus").click()
    out.filter(has_text="비어 있습니다").wait_for()
