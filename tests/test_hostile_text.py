"""Text from documents and questions is data on every surface: Slack (the real Bolt app, signed requests, a fake
Slack API), the CLI (a subprocess) and the web UI (Chromium). Each test ingests a document holding the constructs
that surface would otherwise obey, asks about it, and checks that they arrive literally and do nothing."""

import json

import pytest
from fake_slack import FakeSlack
from test_cli import kbot
from test_slack import Server, mention, slack_kb

pytestmark = pytest.mark.slow

SLACK_DOC = ("---\ntitle: '보안 공지 <!channel> & <@U123>'\npublisher: '<https://evil.example|공식 신문>'\n---\n\n"
             "사내 보안 교육 공지는 <!channel> 대상이며 <@U123> 담당자가 "
             "<https://evil.example|공식 문서> 링크로 안내한다.\n")
SLACK_Q = "사내 보안 교육 공지는 어떤 링크로 안내해?"
LIVE = ("<!channel>", "<@U123>", "<https://evil.example|", "<!here>")


@pytest.fixture
def fake():
    f = FakeSlack()
    yield f
    f.stop()


def _posted_text(message: dict) -> str:
    """Every text Slack would render from one message: the fallback text and each block's text."""
    blocks = message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"])
    texts = [message["text"]]
    for b in blocks:
        texts.append((b.get("text") or {}).get("text", ""))
        texts += [e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(texts)


def test_slack_shows_document_and_question_constructs_literally(fake_kb, fake, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notice.md").write_text(SLACK_DOC, encoding="utf-8")
    assert fake_kb.ingest([docs]).ok
    server = Server(slack_kb(fake_kb, fake, tmp_path / "slack"), fake)
    try:
        server.event(mention(SLACK_Q, "1700000100.000100"))
        post = fake.wait_for("chat.postMessage")[0]
        shown = _posted_text(post)
        assert "담당자가" in shown  # the document's sentence is the answer
        assert "&lt;!channel&gt;" in shown and "&lt;@U123&gt;" in shown
        assert "&lt;https://evil.example|공식 문서&gt;" in shown and "&lt;https://evil.example|공식 신문&gt;" in shown
        assert "보안 공지 &lt;!channel&gt; &amp; &lt;@U123&gt;" in shown  # the title in the sources block
        assert not any(c in shown for c in LIVE)

        server.command(f"<!here> {SLACK_Q}")
        reply = fake.wait_for("response_url")[0]
        assert not any(c in _posted_text(reply) for c in LIVE)
        share = next(e for e in reply["blocks"][-1]["elements"] if e["action_id"] == "kbot_share")
        server.click("kbot_share", share["value"])
        shared = fake.wait_for("response_url", 2)[1]
        assert shared["response_type"] == "in_channel"
        shown = _posted_text(shared)
        assert f"&gt; &lt;!here&gt; {SLACK_Q}" not in shown  # the bot's own quote mark stays a real ">"
        assert f"> &lt;!here&gt; {SLACK_Q}" in shown and "&lt;@U123&gt;" in shown
        assert not any(c in shown for c in LIVE)
    finally:
        server.stop()


CLI_DOC = ("---\ntitle: '프롬프트 형식 [/bold] :x:'\n---\n\n"
           "라마 채팅 프롬프트 형식은 [INST] hi [/INST] 이고 굵게 끝은 [/bold] 이며 "
           "[link=https://x]클릭[/link] 과 :x: 도 쓴다.\n")
CLI_CONSTRUCTS = ("[/bold]", "[link=https://x]클릭[/link]", ":x:", "[INST] hi [/INST]", "프롬프트 형식 [/bold] :x:")


@pytest.mark.parametrize("command", [["search", "라마 채팅 프롬프트 형식", "-k", "1"],
                                     ["ask", "라마 채팅 프롬프트 형식은 뭐야?"]])
def test_cli_prints_document_markup_exactly_and_exits_0(tmp_path, model_cache, command):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "prompt.md").write_text(CLI_DOC, encoding="utf-8")
    assert kbot(["ingest", str(docs)], tmp_path, model_cache).returncode == 0
    r = kbot(command, tmp_path, model_cache)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "❌" not in r.stdout
    for construct in CLI_CONSTRUCTS:
        assert construct in r.stdout, (construct, r.stdout)


UI_TITLE = "보안 공지 <img src=x onerror=alert('title')> <script>alert('title2')</script>"
UI_BODY = ("사내 보안 공지 원문은 <img src=x onerror=alert('img')> 와 <script>alert('script')</script> 와 "
           "![배너](https://evil.example/banner.png) 와 [클릭](javascript:alert(1)) 을 담고 있다.")


@pytest.fixture
def ui_page(tmp_path, model_cache):
    """A UI over an index holding only the hostile document, and a browser page recording requests and dialogs."""
    from browser import chromium_page
    from conftest import free_port
    from fakes import FakeEncoder

    from bot.api import KnowledgeBase
    from bot.config import Settings
    from bot.ui import serve

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notice.md").write_text(f"---\ntitle: \"{UI_TITLE}\"\n---\n\n{UI_BODY}\n", encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", model_cache_dir=model_cache, port=free_port(),
                        corpus_dir=tmp_path / "no-corpus")
    kb = KnowledgeBase.open(settings, encoder=FakeEncoder())
    assert kb.ingest([docs]).ok
    demo = serve(kb, block=False)
    try:
        with chromium_page(60_000) as page:
            page.requests, page.dialogs = [], []
            page.on("request", lambda r: page.requests.append(r.url))
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
            page.goto(f"http://127.0.0.1:{settings.port}/")
            page.locator("#kbot-status").filter(has_text="청크").wait_for()
            yield page
    finally:
        demo.close()


def test_ui_keeps_document_html_and_markdown_inert(ui_page):
    from test_ui import ask

    page = ui_page
    ask(page, "사내 보안 공지 원문은 무엇을 담고 있어?")
    bubble = page.locator("#kbot-chat .message-row").last
    text = bubble.inner_text()
    for literal in ("<img src=x onerror=alert('img')>", "<script>alert('script')</script>",
                    "![배너](https://evil.example/banner.png)", "[클릭](javascript:alert(1))"):
        assert literal in text, text  # readable as written
    assert bubble.locator("img, script, a[href^='javascript'], a[href*='evil.example']").count() == 0
    label = page.locator("#kbot-sources label").first
    assert "<script>alert('title2')</script>" in label.inner_text()
    view = page.locator("#kbot-source-view .chunk")
    view.wait_for()
    assert "<script>alert('script')</script>" in view.inner_text()
    assert page.locator("#kbot-source-view img, #kbot-source-view script").count() == 0
    page.wait_for_timeout(1000)  # give an injected handler or image the time to fire
    assert page.dialogs == []
    outside = [u for u in page.requests if "evil.example" in u or u.rstrip("/").endswith("/x")]
    assert outside == []


def test_cli_ingest_prints_hostile_file_names_exactly(tmp_path, model_cache):
    """A file's name is data too: `kbot ingest` lists "[bold]경고 :x: 노트.md" as it is (rich would eat the tag, turn
    :x: into an emoji and make "[link=…]" a live link)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "[bold]경고 :x: 노트.md").write_text(CLI_DOC, encoding="utf-8")
    (docs / "[link=evil.example]빈[red].txt").write_text("", encoding="utf-8")  # fails: its reason is listed too
    r = kbot(["ingest", str(docs)], tmp_path, model_cache)
    assert "Traceback" not in r.stderr and r.returncode == 1, r.stderr  # 1: one file failed, as documented
    assert "[bold]경고 :x: 노트.md" in r.stdout, r.stdout
    assert "[link=evil.example]빈[red].txt" in r.stdout, r.stdout
