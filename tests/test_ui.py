"""The web UI end to end in headless Chromium (Debian's, driven by Playwright), on a real index and model.

Screenshots are written to tests/artifacts/ (git-ignored) for a person to look at: Korean must render.
"""

import json

import pytest
from browser import chromium_page
from conftest import ROOT, free_port

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def ui_kb(tmp_path_factory, model_cache, real_encoder):
    """A UI on its own empty index: the first page load ingests corpus/ (what a first run does)."""
    from bot.api import KnowledgeBase
    from bot.config import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("ui-data"), model_cache_dir=model_cache,
                        port=free_port(), corpus_dir=ROOT / "corpus")
    return KnowledgeBase.open(settings, encoder=real_encoder)


@pytest.fixture(scope="module")
def server(ui_kb):
    from bot.ui import serve

    demo = serve(ui_kb, block=False)
    yield f"http://127.0.0.1:{ui_kb.settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(TIMEOUT, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(server)
        page.locator("#kbot-status").filter(has_text="답변").wait_for()  # first run done (progress also says 청크)
        yield page


def ask(page, question: str) -> None:
    before = page.locator("#kbot-chat .message-row").count() if page.locator("#kbot-chat").count() else 0
    page.locator("#kbot-question textarea").fill(question)
    page.locator("#kbot-send").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#kbot-chat .message-row').length >= n + 2", arg=before)
    page.locator("#kbot-sources label").first.wait_for()  # the final answer lists sources


def test_first_run_ingested_the_corpus(page, ui_kb):
    assert ui_kb.stats()["documents"] == 5
    status = page.locator("#kbot-status").inner_text()
    assert "extractive" in status and "청크" in status


def test_answer_with_clickable_citation_and_highlighted_source(page):
    ask(page, "크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?")
    last = page.locator("#kbot-chat .message-row").last
    assert "8센트" in last.inner_text() and "[1]" in last.inner_text()
    label = page.locator("#kbot-sources label").filter(has_text="[1]")
    assert "GPT-3" in label.inner_text()
    label.click()
    mark = page.locator("#kbot-source-view mark")
    mark.wait_for()
    assert "8센트" in mark.inner_text()
    assert "1000개당" in page.locator("#kbot-source-view .chunk").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"), full_page=True)


def test_feedback_is_recorded(page, ui_kb):
    # rates the last answer on the page: the previous test's 1000개당 question (keep the two together)
    # Gradio localises the label: the browser runs with locale ko-KR
    page.locator("#kbot-chat button[aria-label='좋아요'], #kbot-chat button[aria-label='Like']").last.click()
    page.get_by_text("피드백을 저장했습니다").first.wait_for()  # shown after the row is written
    row = json.loads(ui_kb.feedback_path.read_text(encoding="utf-8").splitlines()[-1])
    assert row["liked"] is True and row["channel"] == "ui" and "1000개당" in row["question"]
    assert row["citations"] and row["backend"] == "extractive"


def test_sources_that_disagree_show_in_the_chat_newest_first_with_dates(page):
    ask(page, "V100 가격은 얼마야?")
    text = page.locator("#kbot-chat .message-row").last.inner_text()
    assert "출처마다 값이 다릅니다" in text
    assert text.index("1500만원 — ") < text.index("약 9,000달러(약 1천만원) — ")  # 2024 before 2020
    assert "2024-03-25" in text and "2020-09" in text and "\\" not in text  # Markdown escapes render, not show
    labels = page.locator("#kbot-sources label").all_inner_texts()
    assert any("2024-03-25" in x for x in labels) and any("2020-09" in x for x in labels)
    page.screenshot(path=str(ARTIFACTS / "ui-disagreement.png"), full_page=True)


def test_out_of_corpus_question_looks_different(page):
    ask(page, "2030년 월드컵 개최국은 어디야?")
    last = page.locator("#kbot-chat .message-row").last
    assert "문서에서 답을 찾지 못했습니다" in last.inner_text() and "관련 있을 수 있는 문서" in last.inner_text()
    assert page.locator("#kbot-sources label").first.inner_text().startswith("관련")
    page.screenshot(path=str(ARTIFACTS / "ui-no-answer.png"), full_page=True)


def test_upload_then_answer_cites_it(page, tmp_path):
    good = tmp_path / "사내메모.md"
    good.write_text("---\ntitle: 사내 GPU 예산 메모\n---\n우리 팀의 내년 사내 GPU 예산은 월 3억 원으로 확정되었다. "
                    "예산은 H100 서버 임대에 쓴다.\n", encoding="utf-8")
    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    page.get_by_role("tab", name="문서").click()
    page.locator("#kbot-upload input[type=file]").set_input_files([str(good), str(bad)])
    page.locator("#kbot-ingest").click()
    result = page.locator("#kbot-ingest-result")
    result.filter(has_text="색인 완료").wait_for()
    assert "사내메모.md" in result.inner_text() and "실패: empty.txt" in result.inner_text()
    assert "사내 GPU 예산 메모" in page.locator("#kbot-docs").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-documents.png"), full_page=True)
    page.get_by_role("tab", name="대화").click()
    ask(page, "우리 팀의 내년 사내 GPU 예산은 월 얼마야?")
    assert "3억 원" in page.locator("#kbot-chat .message-row").last.inner_text()
    assert "사내 GPU 예산 메모" in page.locator("#kbot-sources label").first.inner_text()


def test_url_box_ingests_pages_and_their_citations_link_to_them(page):
    from test_urls import EUCKR, Site  # a local Korean news site on 127.0.0.1

    site = Site()
    site.thread.start()
    try:
        url = site.url("/2023/11/atom")
        site.page("/2023/11/atom", EUCKR, charset="euc-kr")
        page.get_by_role("tab", name="문서").click()
        page.locator("#kbot-urls textarea").fill(f"{url}\n{site.url('/missing')}")
        page.locator("#kbot-ingest-urls").click()
        result = page.locator("#kbot-urls-result")
        result.filter(has_text="웹 주소 2개 중 1개").wait_for()
        assert f"추가: {url}" in result.inner_text() and "페이지를 찾을 수 없습니다(HTTP 404)" in result.inner_text()
        assert url in page.locator("#kbot-docs").inner_text()
        page.screenshot(path=str(ARTIFACTS / "ui-urls.png"), full_page=True)
        page.get_by_role("tab", name="대화").click()
        ask(page, "리벨리온의 아톰은 언제 양산에 들어가?")
        assert "하반기" in page.locator("#kbot-chat .message-row").last.inner_text()
        page.locator("#kbot-sources label").filter(has_text="국산 AI 반도체 양산 시작").first.click()
        link = page.locator(f'#kbot-source-view a[href="{url}"]')
        link.wait_for()
        assert link.inner_text() == url and link.get_attribute("target") == "_blank"
    finally:
        site.server.shutdown()
        site.server.server_close()


def test_calculator(page):
    page.get_by_role("tab", name="계산기").click()
    page.locator("#calc-params textarea, #calc-params input").first.fill("1750억")
    page.locator("#calc-gpus").click()
    out = page.locator("#calc-result")
    out.filter(has_text="GPU").wait_for()
    text = out.inner_text()
    assert "11 GPU" in text and "350" in text and "근거" in text
    page.locator("#calc-params textarea, #calc-params input").first.fill("많이")
    page.locator("#calc-gpus").click()
    out.filter(has_text="입력을 확인하세요").wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui-calculator.png"), full_page=True)


def test_chat_filters_restrict_answers_and_say_so(page):
    page.get_by_role("tab", name="대화").click()
    page.locator("#kbot-filters").get_by_text("검색 조건").first.click()
    page.locator("#kbot-publisher input").first.click()  # the publishers come from the index
    for name in ("서울신문", "인공지능신문", "래블업(Lablup)"):
        assert page.get_by_role("option", name=name).count(), name
    page.keyboard.press("Escape")
    since = page.locator("#kbot-since textarea, #kbot-since input").first
    since.fill("2023-01-01")
    ask(page, "V100 GPU 한 개 가격은 대략 얼마라고 했어?")
    last = page.locator("#kbot-chat .message-row").last.inner_text()
    assert "검색 조건: 기간 2023-01-01" in last and "9,000달러" not in last
    assert "GPT-3 유료화" not in page.locator("#kbot-sources").inner_text()  # the 2020 article is outside it
    rows = page.locator("#kbot-chat .message-row").count()
    for value, expect in (("2030-01-01", "조건에 맞는 문서가 없습니다"), ("2023-13-45", "2023-01-01, 2023-01")):
        since.fill(value)
        page.locator("#kbot-question textarea").fill("V100 GPU 한 개 가격은 대략 얼마라고 했어?")
        page.locator("#kbot-send").click()
        rows += 2
        page.wait_for_function("n => document.querySelectorAll('#kbot-chat .message-row').length >= n", arg=rows)
        page.locator("#kbot-chat .message-row").last.filter(has_text=expect).wait_for()
        assert "9,000달러" not in page.locator("#kbot-chat .message-row").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-filters.png"), full_page=True)
    since.fill("")  # later tests share the page
