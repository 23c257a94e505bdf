"""Open WebUI pointed at `kbot serve`, driven in Debian's Chromium: the answer, its source titles and the chat title.

Open WebUI is never installed into the project's venv. In a venv of its own (torch first, pinned as the project's):

    python3 -m venv /tmp/owui && /tmp/owui/bin/pip install torch==2.13.0
    echo torch==2.13.0 > /tmp/c.txt && /tmp/owui/bin/pip install -c /tmp/c.txt open-webui==0.12.4
    KBOT_API_KEYS=owui=<key> KBOT_PORT=7999 HF_HUB_OFFLINE=1 .venv/bin/kbot serve &   # indexes corpus/ if empty
    mkdir -p /tmp/owui-data/run && cd /tmp/owui-data/run && DATA_DIR=/tmp/owui-data WEBUI_AUTH=False \\
      ENABLE_OLLAMA_API=False OPENAI_API_BASE_URL=http://127.0.0.1:7999/v1 OPENAI_API_KEY=<key> DEFAULT_MODELS=kbot \\
      OFFLINE_MODE=True HF_HUB_OFFLINE=1 WEBUI_SECRET_KEY=local /tmp/owui/bin/open-webui serve --host 127.0.0.1 \\
      --port 8088 &
    .venv/bin/python scripts/openwebui_check.py http://127.0.0.1:8088/

(Start Open WebUI from a folder of its own: it puts the folder above its working directory on sys.path. Its
connection settings are kept in DATA_DIR after the first start: use a fresh DATA_DIR to point it elsewhere. Its log
line about a missing SentenceTransformer is its own document search, offline: harmless here.)

The chat's title is read where Open WebUI keeps and shows it: the stored chat (`/api/v1/chats/{id}`, waited for until
it is no longer the default "New Chat" / "새 채팅"), its entry in the sidebar and the document title. Open WebUI asks
the chat's model for the title with a '### Task:' request to /v1/chat/completions; the same request is sent once more
through Open WebUI (`/api/v1/tasks/title/completions`) to show what kbot answers it. Prints one JSON line; exits 1 when
the title is a refusal or still the default, or the sources are not shown. Screenshot: tests/artifacts/openwebui.png.
"""

import json
import shutil
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

SHOT = Path(__file__).resolve().parents[1] / "tests" / "artifacts" / "openwebui.png"  # git-ignored
QUESTION = "크리에이트 요금제는 추가 1000개당 얼마야?"
SOURCE_TITLE = "GPT-3 유료화"
REFUSAL = "찾지 못했습니다"
DEFAULT_TITLES = ("", "New Chat", "새 채팅")
TITLE_WAIT_S = 120

# Open WebUI's REST API from inside the page: the browser's own session token (localStorage.token).
API = """async ([method, path, body]) => {
    const r = await fetch(path, {method, headers: {'Content-Type': 'application/json',
        Authorization: 'Bearer ' + localStorage.token}, body: body ? JSON.stringify(body) : undefined});
    return {status: r.status, json: await r.json().catch(() => null)};
}"""
# An element a person sees: not under another one (the closed sidebar keeps its list beneath the icon rail).
ON_TOP = """e => { const r = e.getBoundingClientRect(), at = document.elementFromPoint(r.x + 4, r.y + r.height / 2);
    return r.width > 0 && at !== null && (at === e || e.contains(at)); }"""


def api(page, path: str, body: dict | None = None) -> dict:
    got = page.evaluate(API, ["POST" if body else "GET", path, body])
    if got["status"] != 200 or got["json"] is None:
        raise RuntimeError(f"{path}: HTTP {got['status']} {got['json']}")
    return got["json"]


def stored_title(page, chat_id: str) -> str:
    return (api(page, f"/api/v1/chats/{chat_id}").get("title") or "").strip()


def main(url: str) -> None:
    started = time.monotonic()
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
        page.wait_for_url("**/c/**")  # the chat is saved: /c/{id}
        chat_id = page.url.split("/c/", 1)[1].split("?")[0].split("#")[0]
        page.get_by_text("출처").first.wait_for(timeout=180_000)
        answered = time.monotonic()

        # The title request goes to the model around the answer; its reply is stored, then pushed to the page.
        title, deadline = stored_title(page, chat_id), time.monotonic() + TITLE_WAIT_S
        while title in DEFAULT_TITLES and time.monotonic() < deadline:
            page.wait_for_timeout(1000)
            title = stored_title(page, chat_id)
        title_wait = round(time.monotonic() - answered, 1)
        opener = page.locator('[aria-label="사이드바 열기"], [aria-label="Open Sidebar"]')  # closed at first visit
        if opener.count() and opener.first.is_visible():
            opener.first.click()
            page.wait_for_timeout(1500)
        entry = page.locator(f'a[href="/c/{chat_id}"] div[dir="auto"]').first  # its name in the sidebar's list
        try:
            expect(entry).to_have_text(title, timeout=15_000)
        except AssertionError:
            pass  # reported below as sidebar_title
        page.wait_for_timeout(5000)  # tags and follow-up requests come after the title
        sidebar = entry.inner_text().strip() if entry.count() else None
        sidebar_on_top = entry.count() > 0 and entry.evaluate(ON_TOP)
        document_title = page.title()
        messages = list(api(page, f"/api/v1/chats/{chat_id}")["chat"].get("history", {}).get("messages", {}).values())
        answer = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "assistant"), "")
        # What kbot answers Open WebUI's title request (its own, '### Task:' prompt), through Open WebUI.
        task = api(page, "/api/v1/tasks/title/completions",
                   {"model": "kbot", "messages": [{"role": "user", "content": QUESTION}]})
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=True)
        body = page.locator("body").inner_text()
        browser.close()
    reply = task.get("choices", [{}])[0].get("message", {}).get("content", "")
    try:
        kbot_title = json.loads(reply[reply.find("{"):reply.rfind("}") + 1]).get("title")
    except ValueError:
        kbot_title = None
    result = {
        "chat_id": chat_id, "chat_title": title, "sidebar_title": sidebar, "document_title": document_title,
        "title_equals_question": title == QUESTION, "title_contains_question": QUESTION in title,
        "title_is_default": title in DEFAULT_TITLES, "title_is_refusal": REFUSAL in title,
        "kbot_title_reply": reply, "kbot_task_status": (task.get("kbot") or {}).get("status"),
        "title_is_kbots": bool(kbot_title) and title == kbot_title,
        "sidebar_shows_title": sidebar == title and sidebar_on_top,
        "document_title_shows_title": document_title.startswith(title),
        "answer": answer[:200], "answer_is_refusal": REFUSAL in answer,
        "sources_shown": "출처:" in body, "source_title_shown": SOURCE_TITLE in body,
        "title_wait_s": title_wait, "seconds": round(time.monotonic() - started, 1), "screenshot": str(SHOT),
    }
    print(json.dumps(result, ensure_ascii=False))
    ok = (result["sources_shown"] and result["source_title_shown"] and not result["title_is_refusal"]
          and not result["title_is_default"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1])
