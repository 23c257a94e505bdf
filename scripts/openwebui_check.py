"""Open WebUI pointed at `kbot serve`, driven in Debian's Chromium: the answer, its source titles and the chat title.

Open WebUI is never installed into the project's venv. In a venv of its own (torch first, pinned as the project's):

    python3 -m venv /tmp/owui && /tmp/owui/bin/pip install torch==2.13.0
    echo torch==2.13.0 > /tmp/c.txt && /tmp/owui/bin/pip install -c /tmp/c.txt open-webui==0.12.4
    KBOT_API_KEYS=owui=<key> KBOT_PORT=7999 .venv/bin/kbot serve &
    mkdir -p /tmp/owui-data/run && cd /tmp/owui-data/run && DATA_DIR=/tmp/owui-data WEBUI_AUTH=False \\
      ENABLE_OLLAMA_API=False OPENAI_API_BASE_URL=http://127.0.0.1:7999/v1 OPENAI_API_KEY=<key> DEFAULT_MODELS=kbot \\
      OFFLINE_MODE=True HF_HUB_OFFLINE=1 WEBUI_SECRET_KEY=local /tmp/owui/bin/open-webui serve --host 127.0.0.1 \\
      --port 8088 &
    .venv/bin/python scripts/openwebui_check.py http://127.0.0.1:8088/

(Start Open WebUI from a folder of its own: it puts the folder above its working directory on sys.path.)
"""

import json
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

SHOT = Path(__file__).resolve().parents[1] / "tests" / "artifacts" / "openwebui.png"  # git-ignored
QUESTION = "크리에이트 요금제는 추가 1000개당 얼마야?"


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(locale="ko-KR", viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_timeout(5000)
        for label in ("좋아요, 시작합시다!", "Okay, Let's Go!"):  # the release-notes dialog of a first visit
            if page.get_by_text(label).count():
                page.get_by_text(label).first.click()
                page.wait_for_timeout(1500)
        page.keyboard.press("Escape")
        page.locator("#chat-input").click()
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
        page.get_by_text("출처").first.wait_for(timeout=180_000)
        page.wait_for_timeout(15_000)  # title, tags and follow-up requests come after the answer
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=True)
        body, title = page.locator("body").inner_text(), page.title()
        browser.close()
    result = {"chat_title": title, "sources_shown": "출처:" in body,
              "source_title_shown": "GPT-3 유료화" in body, "title_is_refusal": "찾지 못했습니다" in title}
    print(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if result["sources_shown"] and result["source_title_shown"] and not result["title_is_refusal"] else 1)


if __name__ == "__main__":
    main(sys.argv[1])
