"""`kbot serve` end to end: a real uvicorn on 127.0.0.1, the real default model on corpus/, the extractive backend.

Clients are the ones users run: httpx for REST, the official `openai` package, the official `mcp` client (stdio and
streamable HTTP). Three keys: alice (everything), bob (인공지능신문 only), carol (래블업 only).
"""

import json
import re
import secrets
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT
from serving import running
from test_server import chroma_server  # noqa: F401, F811 (the `chroma run` fixture)

pytestmark = pytest.mark.slow
KEYS = {name: secrets.token_urlsafe(24) for name in ("alice", "bob", "carol")}
SCOPES = "bob:publisher=인공지능신문;carol:publisher=래블업"
BOB_DOCS = {"인공지능신문"}
CAROL_DOCS = {"래블업(Lablup)"}
V100 = "V100 가격은 얼마야?"
MARKUP = ("---\ntitle: '<img src=x onerror=alert(1)> 마크업 문서'\npublisher: 알파일보\npublished: 2024-05-01\n---\n\n"
          "제타 프로젝트의 예산은 <b>37억 원</b>이며 자세한 내용은 [여기](https://evil.example/x)와 "
          "![추적](https://evil.example/p.png)에 있다. 제타 프로젝트는 2025년에 끝난다.\n")


def auth(name: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[name]}"}


@pytest.fixture(scope="module")
def serve_kb(tmp_path_factory, model_cache, real_encoder):
    """An empty data dir: the server's first run indexes the corpus (what `kbot serve` on a fresh machine does)."""
    from bot.api import KnowledgeBase
    from bot.config import Settings

    corpus = tmp_path_factory.mktemp("serve-corpus")
    for f in (ROOT / "corpus").glob("*.md"):
        shutil.copy(f, corpus / f.name)
    (corpus / "markup.md").write_text(MARKUP, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("serve-data"), model_cache_dir=model_cache,
                        corpus_dir=corpus, api_keys=",".join(f"{k}={v}" for k, v in KEYS.items()),
                        api_scopes=SCOPES, api_rate_limit=10_000)
    return KnowledgeBase.open(settings, encoder=real_encoder)


@pytest.fixture(scope="module")
def base(serve_kb):
    with running(serve_kb) as url:
        yield url


def post(base: str, path: str, who: str = "alice", **kw) -> httpx.Response:
    return httpx.post(f"{base}{path}", headers=auth(who) if who else {}, timeout=120, **kw)


def finished(base: str, job: dict, who: str = "alice") -> dict:
    """The ingest job once it is done or failed (polled as a client would)."""
    for _ in range(1500):
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
        job = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=auth(who), timeout=10).json()  # a stall fails
    raise AssertionError(f"job still {job['state']}")


def publishers(answer: dict) -> set[str]:
    """Every publisher an answer JSON names: citations, related sources, disagreement."""
    return ({c["publisher"] for c in answer["citations"]} | {h["publisher"] for h in answer["related"]}
            | {s["publisher"] for s in answer["disagreement"]})


# -- REST ---------------------------------------------------------------------------------------------------------
def test_health_ready_and_openapi(base):
    assert httpx.get(f"{base}/healthz").json() == {"ok": True}
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["ready"] and ready["documents"] == 6 and ready["backend"] == "extractive"
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/jobs/{job_id}", "/v1/chat/completions"} <= set(paths)


def test_ask_returns_the_structured_answer_with_citations(base):
    r = post(base, "/v1/ask", json={"question": "크리에이트 요금제는 추가 1000개당 얼마야?"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["status"] == "answered" and "[1]" in a["body"] and a["citations"]
    c = a["citations"][0]
    assert {"number", "doc_id", "title", "source", "url", "publisher", "date", "quote", "start", "end"} <= set(c)
    assert c["quote"] and c["end"] > c["start"] and c["title"]
    assert "출처" in a["text"]
    v = post(base, "/v1/ask", json={"question": V100}).json()
    assert [s["value"] for s in v["disagreement"]] == ["1500만원", "약 9,000달러(약 1천만원)"]  # newest first


def test_ask_streams_pieces_then_the_final_answer(base):
    with httpx.stream("POST", f"{base}/v1/ask", headers=auth("alice"), timeout=120,
                      json={"question": "크리에이트 요금제는 추가 1000개당 얼마야?", "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("event: ") for line in r.iter_lines() if line.startswith("event: ")]
    assert events[-1] == "answer" and "delta" in events[:-1]


def test_search_filters_and_the_cost_tool(base):
    r = post(base, "/v1/search", json={"query": "GPU 가격", "k": 3, "filters": {"since": "2023-01-01"}})
    hits = r.json()["hits"]
    assert r.status_code == 200 and len(hits) == 3
    assert all(h["date"] >= "2023" and h["end"] > h["start"] and h["score"] > 0 for h in hits)
    calc = post(base, "/v1/calculate", json={"tool": "plan", "tokens": "1200만", "plan": "build"}).json()
    assert calc["status"] == "calculated" and calc["calculation"]["value"] == 520
    assert calc["citations"] and "400" in calc["calculation"]["formula"]
    bad = post(base, "/v1/calculate", json={"tool": "memory", "params": "많이"})
    assert bad.status_code == 400 and "숫자" in bad.json()["error"]["message"]
    nothing = post(base, "/v1/search", json={"query": "GPU", "filters": {"since": "2030"}})
    assert nothing.status_code == 404 and "조건에 맞는 문서가 없습니다" in nothing.json()["error"]["message"]


def test_upload_job_progress_then_delete(base, tmp_path):
    text = "오메가 위성의 발사 비용은 812억 원으로 책정되었다. 오메가 위성은 2027년에 발사된다.\n"
    r = post(base, "/v1/documents", files={"files": ("omega.txt", text.encode(), "text/plain")})
    assert r.status_code == 202, r.text
    job = finished(base, r.json()["job"])
    assert job["state"] == "done" and job["report"]["added"] == ["omega.txt"]
    p = job["progress"]
    assert p["files_done"] == p["files_total"] == 1 and p["line"].startswith("ingest done: files 1/1")
    assert "파일 1/1" in p["korean"]
    assert httpx.get(f"{base}/v1/jobs/{job['id']}", headers=auth("bob")).status_code == 404  # not bob's job
    a = post(base, "/v1/ask", json={"question": "오메가 위성의 발사 비용은 얼마야?"}).json()
    assert a["status"] == "answered" and "812억" in a["body"]
    docs = httpx.get(f"{base}/v1/documents", headers=auth("alice")).json()["documents"]
    omega = next(d for d in docs if d["source"] == "omega.txt")
    assert httpx.delete(f"{base}/v1/documents/{omega['doc_id']}", headers=auth("bob")).status_code == 403
    assert httpx.delete(f"{base}/v1/documents/{omega['doc_id']}", headers=auth("alice")).json()["deleted"]
    assert httpx.delete(f"{base}/v1/documents/{omega['doc_id']}", headers=auth("alice")).status_code == 404
    assert post(base, "/v1/ask", json={"question": "오메가 위성의 발사 비용은 얼마야?"}).json()["status"] != "answered"


def test_uploads_are_checked(base):
    def up(name, data):
        return post(base, "/v1/documents", files={"files": (name, data, "application/octet-stream")})

    assert up("evil.exe", b"MZ....").status_code == 415
    assert up("fake.pdf", b"just text").status_code == 415
    assert up("bin.txt", b"\x00\x01\x02 binary").status_code == 415
    assert up(".hidden.md", b"# x").status_code == 400
    assert up("empty.md", b"   ").status_code == 400
    assert "형식" in up("evil.exe", b"MZ").json()["error"]["message"]
    assert post(base, "/v1/documents", data={"x": "1"}).status_code == 400
    assert post(base, "/v1/documents", "bob", files={"files": ("a.md", b"# a", "text/plain")}).status_code == 403


# -- the OpenAI-compatible endpoint --------------------------------------------------------------------------------
def _client(base: str, who: str = "alice"):
    from openai import OpenAI

    return OpenAI(base_url=f"{base}/v1", api_key=KEYS[who], max_retries=0, timeout=120)


def test_openai_client_gets_a_cited_answer(base):
    client = _client(base)
    assert [m.id for m in client.models.list()] == ["kbot"]
    question = "크리에이트 요금제는 추가 1000개당 얼마야?"
    r = client.chat.completions.create(model="kbot", messages=[{"role": "user", "content": question}])
    content = r.choices[0].message.content
    extra = r.model_extra
    assert "[1]" in content and "\n\n출처:\n[1] " in content
    titles = {c["title"] for c in extra["citations"]}
    assert titles and all(t in content for t in titles)  # a client reading only the content sees the titles
    assert all(c["quote"] for c in extra["citations"])


def test_openai_client_streams_with_citations_in_the_last_chunk(base):
    stream = _client(base).chat.completions.create(model="kbot", stream=True, messages=[
        {"role": "user", "content": "크리에이트 요금제는 추가 1000개당 얼마야?"}])
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "출처:" in content and "[1]" in content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"]
    assert all(not (c.model_extra or {}).get("citations") for c in chunks[:-1])
    assert all(c["title"] in content for c in last.model_extra["citations"])


def test_openai_follow_up_uses_the_history(base):
    client = _client(base)
    first = client.chat.completions.create(model="kbot", messages=[{"role": "user",
                                                                      "content": "크리에이트 요금제는 얼마야?"}])
    follow = client.chat.completions.create(model="kbot", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "크리에이트 요금제는 얼마야?"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "그럼 빌드 요금제는?"}])
    content = follow.choices[0].message.content
    assert follow.model_extra["kbot"]["status"] == "answered" and "출처:" in content
    assert "빌드" in content or "Build" in content


def test_openai_errors_have_openai_shape(base):
    import openai

    forged = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-forged-" + "x" * 20, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        forged.chat.completions.create(model="kbot", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 401
    r = post(base, "/v1/chat/completions", json={"model": "kbot", "messages": [{"role": "assistant",
                                                                                "content": "hi"}]})
    err = r.json()["error"]
    assert r.status_code == 400 and err["type"] == "invalid_request_error" and err["message"]


def test_open_webui_housekeeping_is_quick_and_never_a_refusal(base):
    chat = "<chat_history>\nUSER: 크리에이트 요금제는 얼마야?\nASSISTANT: 월 100달러입니다 [1]\n</chat_history>"
    for task, key in (("Generate a concise, 3-5 word title with an emoji summarizing the chat history.", "title"),
                      # Open WebUI 0.12.4's wording: only its output format names follow-ups
                      ("Predict 3-5 useful messages this user might naturally send next to advance their current "
                       "objective.", "follow_ups"),
                      ("Generate 1-3 broad tags categorizing the main themes of the chat history", "tags")):
        prompt = f"### Task:\n{task}\n### Guidelines:\n- ...\n### Output:\nJSON format: {{ \"{key}\": ... }}\n" \
                 f"### Chat History:\n{chat}"
        r = post(base, "/v1/chat/completions", json={"model": "kbot", "messages": [{"role": "user",
                                                                                    "content": prompt}]})
        content = r.json()["choices"][0]["message"]["content"]
        assert list(json.loads(content)) == [key] and "찾지 못했습니다" not in content
    r = post(base, "/v1/chat/completions", json={"model": "kbot", "messages": [{"role": "user", "content": (
        "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.\n"
        f"### Chat History:\n{chat}")}]})
    title = json.loads(r.json()["choices"][0]["message"]["content"])["title"]
    assert title == "크리에이트 요금제는 얼마야?"


# -- keys and scopes: every path ---------------------------------------------------------------------------------
def test_missing_forged_and_revoked_keys_are_refused(base, serve_kb):
    for headers in ({}, {"Authorization": "Bearer sk-forged-0000000000000000"}, {"X-API-Key": KEYS["bob"] + "x"},
                    {"Authorization": f"Basic {KEYS['alice']}"}):
        for method, path in (("GET", "/v1/documents"), ("POST", "/v1/ask"), ("POST", "/v1/search"),
                             ("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/mcp")):
            r = httpx.request(method, f"{base}{path}", headers=headers, json={})
            assert r.status_code == 401, (headers, path, r.text)
            assert KEYS["alice"] not in r.text and "Traceback" not in r.text
    assert httpx.get(f"{base}/v1/documents", headers={"X-API-Key": KEYS["carol"]}).status_code == 200
    # revoked: a server restarted with carol's key removed refuses it
    from pydantic import SecretStr

    from bot.errors import AuthError
    from bot.server.auth import Keys

    revoked = serve_kb.settings.model_copy(update={"api_keys": SecretStr(f"alice={KEYS['alice']},bob={KEYS['bob']}"),
                                                   "api_scopes": {"bob": serve_kb.settings.api_scopes["bob"]}})
    with pytest.raises(AuthError):
        Keys(revoked).check(KEYS["carol"])
    assert Keys(revoked).check(KEYS["bob"]).name == "bob"


def _everything(base: str, who: str) -> list:
    """What one key receives from every path that can carry documents: (surface, publisher set, raw text)."""
    out = []
    docs = httpx.get(f"{base}/v1/documents", headers=auth(who)).json()["documents"]
    out.append(("documents", {d["publisher"] for d in docs}, json.dumps(docs, ensure_ascii=False)))
    for q in (V100, "GPT-3 요금제 가격", "양자컴퓨터 냉각 장치의 헬륨 소비량은?", "제타 프로젝트 예산"):
        a = post(base, "/v1/ask", who, json={"question": q}).json()
        out.append((f"ask {q}", publishers(a), json.dumps(a, ensure_ascii=False)))
        hits = post(base, "/v1/search", who, json={"query": q, "k": 10}).json()["hits"]
        out.append((f"search {q}", {h["publisher"] for h in hits}, json.dumps(hits, ensure_ascii=False)))
        with httpx.stream("POST", f"{base}/v1/ask", headers=auth(who), timeout=120,
                          json={"question": q, "stream": True}) as r:
            body = r.read().decode()
        final = json.loads(body.rsplit("event: answer\ndata: ", 1)[1])
        out.append((f"ask stream {q}", publishers(final), body))
        r = post(base, "/v1/chat/completions", who, json={"model": "kbot", "stream": True,
                                                          "messages": [{"role": "user", "content": q}]})
        out.append((f"chat stream {q}", set(), r.text))
    return out


def test_scoped_keys_never_see_each_others_documents(base):
    for who, own, other, other_titles in (("bob", BOB_DOCS, CAROL_DOCS, ["Scale entanglement"]),
                                          ("carol", CAROL_DOCS, BOB_DOCS, ["GPT-3 유료화"])):
        seen = _everything(base, who)
        for surface, pubs, raw in seen:
            assert pubs <= own | {None}, (who, surface, pubs)
            assert not any(t in raw for t in other_titles), (who, surface)
            assert not any(p in raw for p in other), (who, surface)
        assert seen[0][1] == own  # its own documents are listed
        # asking for the other scope's documents explicitly gives nothing from them
        r = post(base, "/v1/search", who, json={"query": "GPU", "filters": {"publisher": list(other)}})
        assert r.status_code == 404 and not any(p in r.text for p in other)
    alice = {p for _, pubs, _ in _everything(base, "alice")[:1] for p in pubs}
    assert BOB_DOCS | CAROL_DOCS <= alice


def test_scoped_keys_and_mcp_resources(base):
    for who, own, other in (("bob", BOB_DOCS, CAROL_DOCS), ("carol", CAROL_DOCS, BOB_DOCS)):
        tools, resources, answer, listed, blocked = _mcp_http(base, who, other_doc_id(base, other))
        assert {"search", "ask", "calculate", "list_documents"} <= tools
        assert {d["publisher"] for d in listed} == own
        assert len(resources) == len(listed)
        assert publishers(answer) <= own | {None}
        assert blocked  # reading the other's document as a resource fails


def other_doc_id(base: str, publishers_: set) -> str:
    docs = httpx.get(f"{base}/v1/documents", headers=auth("alice")).json()["documents"]
    return next(d["doc_id"] for d in docs if d["publisher"] in publishers_)


# -- MCP -----------------------------------------------------------------------------------------------------------
def _mcp_http(base: str, who: str, foreign_doc: str | None = None):
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def main():
        http = httpx2.AsyncClient(headers=auth(who), timeout=120)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            resources = (await client.list_resources()).resources
            answer = (await client.call_tool("ask", {"question": V100})).structured_content
            listed = (await client.call_tool("list_documents", {})).structured_content["documents"]
            blocked = False
            if foreign_doc:
                try:
                    res = await client.read_resource(f"kbot://documents/{foreign_doc}")
                    blocked = not res.contents or "없습니다" in str(res.contents[0])
                except Exception:
                    blocked = True
            return tools, resources, answer, listed, blocked

    return anyio.run(main)


def test_mcp_over_http_lists_tools_and_asks_with_citations(base):
    tools, resources, answer, listed, _ = _mcp_http(base, "alice")
    assert tools == {"search", "ask", "calculate", "list_documents"}
    assert answer["status"] == "answered" and answer["citations"] and answer["citations"][0]["title"]
    assert len(resources) == len(listed) >= 6
    assert all(r.uri.startswith("kbot://documents/") for r in resources)


def test_mcp_ask_takes_the_conversation_so_far(base):
    """A follow-up ("언제?") is read with the history the client sends, as on /v1/ask and the OpenAI API; a malformed
    history is a Korean error result, not a crash."""
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    prev = "마이크로소프트가 오픈AI에 얼마 투자했어?"

    async def main():
        http = httpx2.AsyncClient(headers=auth("alice"), timeout=120)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            alone = (await client.call_tool("ask", {"question": "언제?"})).structured_content
            history = [{"role": "user", "content": prev}, {"role": "assistant", "content": "10억 달러입니다 [1]"}]
            follow = (await client.call_tool("ask", {"question": "언제?", "history": history})).structured_content
            bad = await client.call_tool("ask", {"question": "언제?", "history": [{"role": "system", "content": "x"}]})
            return alone, follow, bad

    alone, follow, bad = anyio.run(main)
    assert alone["standalone"] == "언제?" and alone["status"] == "no_answer"
    assert prev in follow["standalone"] and follow["status"] == "answered" and follow["citations"]
    assert bad.is_error and "history" in bad.content[0].text and "Traceback" not in bad.content[0].text


def test_mcp_over_stdio(serve_kb, model_cache):
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "KBOT_DATA_DIR": str(serve_kb.settings.data_dir),
           "KBOT_MODEL_CACHE_DIR": str(model_cache), "KBOT_LLM": "extractive"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], env=env, cwd=str(ROOT))

    async def main():
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("ask", {"question": "크리에이트 요금제는 추가 1000개당 얼마야?"})
            resources = (await client.list_resources()).resources
            doc = await client.read_resource(resources[0].uri)
            return tools, result, resources, doc

    tools, result, resources, doc = anyio.run(main)
    assert tools == {"search", "ask", "calculate", "list_documents"}
    answer = result.structured_content
    assert answer["status"] == "answered" and answer["citations"]
    text = result.content[0].text
    assert "출처:" in text and answer["citations"][0]["title"].split("·")[0][:10] in text
    assert resources and doc.contents[0].text.strip()


# -- hostile input -------------------------------------------------------------------------------------------------
def test_hostile_input_gets_clear_4xx_and_the_server_keeps_serving(base, serve_kb):
    h = {**auth("alice"), "Content-Type": "application/json"}
    cases = [
        ("/v1/ask", b"{not json", 400),
        ("/v1/ask", b'{"question": 42}', 422),
        ("/v1/ask", b'{"question": "x", "surprise": 1}', 422),
        ("/v1/ask", b'{"question": ""}', 422),
        ("/v1/ask", json.dumps({"question": "x", "history": [{"role": "user", "content": "a"}] * 10_000}).encode(),
         422),
        ("/v1/ask", b'{"question": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413),
        ("/v1/search", b'{"query": "GPU", "k": "many"}', 422),
        ("/v1/search", b'{"query": "GPU", "filters": {"since": "last year"}}', 400),
        ("/v1/chat/completions", b"[1, 2", 400),
        ("/v1/chat/completions", json.dumps({"model": "kbot", "messages": [{"role": "user", "content": "q"}] * 10_000}
                                            ).encode(), 413),
        ("/v1/chat/completions", b'{"model": "kbot", "messages": "hi"}', 422),
    ]
    for path, body, status in cases:
        r = httpx.post(f"{base}{path}", content=body, headers=h, timeout=60)
        assert r.status_code == status, (path, body[:60], r.status_code, r.text[:300])
        err = r.json()["error"]
        assert err["message"] and "Traceback" not in r.text and len(r.text) < 5000
        assert any("\uac00" <= ch <= "\ud7a3" for ch in err["message"])  # Korean for the user
    # control characters are data: answered (or refused) as text, never a 500
    r = post(base, "/v1/ask", json={"question": "크리에이트\x00 요금제는\x1b[31m 얼마야?\u202e"})
    assert r.status_code == 200 and r.json()["status"] in ("answered", "no_answer")
    # markup inside a document is data: JSON carries it as text; the OpenAI content cannot render it live
    a = post(base, "/v1/ask", json={"question": "제타 프로젝트의 예산은 얼마야?"}).json()
    assert a["status"] == "answered" and "<img src=x" in a["citations"][0]["title"]
    c = post(base, "/v1/chat/completions", json={"model": "kbot", "messages": [
        {"role": "user", "content": "제타 프로젝트의 예산은 얼마야?"}]}).json()["choices"][0]["message"]["content"]
    assert "\\<img" in c and "<img" not in c.replace("\\<img", "")
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!\[", c)  # no live link or image: `\](` and `\![` only
    assert "[여기\\](https://evil.example/x)" in c  # shown as written
    assert httpx.get(f"{base}/readyz").status_code == 200


def test_an_answer_over_the_timeout_is_a_504_in_korean_and_the_server_keeps_answering(corpus_kb):
    """KBOT_API_TIMEOUT: an answer still running after it gets 504 with the Korean message at the timeout (kbot's
    error shape on /v1/ask, OpenAI's on /v1/chat/completions; a streamed one, an error event that ends the stream),
    not when the answer ends; the next questions are answered meanwhile. The slow answers wait in the encoder until
    the test lets them go."""
    from fakes import GatedEncoder

    from bot.api import KnowledgeBase

    slow = "느린질문"
    encoder = GatedEncoder(corpus_kb.encoder, slow)
    kb = KnowledgeBase(corpus_kb.settings.model_copy(update={"api_timeout": 3.0}), corpus_kb.store, encoder)
    try:
        with running(kb, ui=False, mcp=False) as url:
            for path, body in (("/v1/ask", {"question": f"{slow} 크리에이트 요금제는 얼마야?"}),
                               ("/v1/chat/completions", {"model": "kbot", "messages": [
                                   {"role": "user", "content": f"{slow} V100 가격은 얼마야?"}]})):
                t = time.monotonic()
                r = httpx.post(f"{url}{path}", json=body, timeout=60)
                took = time.monotonic() - t
                assert r.status_code == 504 and 3 <= took < 15, (path, r.status_code, took, r.text[:300])
                err = r.json()["error"]
                assert err["code"] == "timeout" and "너무 오래 걸려" in err["message"] and "Traceback" not in r.text
                if path.startswith("/v1/chat/"):
                    assert err["type"] == "server_error"
            assert encoder.waiting == 2  # both answers still running (holding 2 of the 4 answer slots)
            # a streamed answer: the stream ends with the same error as its one event at the timeout
            t = time.monotonic()
            with httpx.stream("POST", f"{url}/v1/ask", timeout=60,
                              json={"question": f"{slow} 빌드 요금제는 얼마야?", "stream": True}) as r:
                lines = list(r.iter_lines())
            took = time.monotonic() - t
            events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
            assert r.status_code == 200 and events == ["error"] and 3 <= took < 15, (events, took)
            assert '"timeout"' in "\n".join(lines) and "너무 오래 걸려" in "\n".join(lines)
            assert encoder.waiting == 3
            a = httpx.post(f"{url}/v1/ask", json={"question": "크리에이트 요금제는 추가 1000개당 얼마야?"},
                           timeout=60).json()
            assert a["status"] == "answered" and a["citations"]
            r = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={"model": "kbot", "messages": [
                {"role": "user", "content": "V100 가격은 얼마야?"}]})
            assert r.status_code == 200 and "출처:" in r.json()["choices"][0]["message"]["content"]
            encoder.gate.set()
            assert httpx.get(f"{url}/readyz").status_code == 200
    finally:
        encoder.gate.set()


def test_the_overhead_benchmark_measures_pairs_against_the_server(base, serve_kb):
    """`kbot bench serve`'s measurement runs (it prints numbers; no timing is asserted here): the same KnowledgeBase
    in-process and through the server, pair by pair, with the same answers."""
    from bot.evals.serve import overhead, render

    r = overhead(serve_kb, base, KEYS["alice"], ["크리에이트 요금제는 얼마야?", V100], pairs=4, log=lambda *a: None)
    assert r["pairs"] == len(r["times_ms"]["inproc"]) == len(r["times_ms"]["http"]) == 4
    assert r["status_mismatches"] == 0 and r["around_server_ask_ms"]["p50"] > 0
    assert "overhead at p50" in render({"modes": {"thread": r}})


def test_rate_limit_answers_429_with_retry_after(make_settings, tmp_path):
    from fakes import FakeEncoder

    from bot.api import KnowledgeBase

    kb = KnowledgeBase.open(make_settings(api_keys=f"alice={KEYS['alice']}", api_rate_limit=3,
                                          corpus_dir=tmp_path / "none"), encoder=FakeEncoder())
    with running(kb, ready=False, ui=False, mcp=False) as url:
        codes = [httpx.get(f"{url}/v1/models", headers=auth("alice")).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = httpx.get(f"{url}/v1/models", headers=auth("alice"))
        assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["type"] == "rate_limit_error"
        assert httpx.get(f"{url}/healthz").status_code == 200  # health is never limited
        assert httpx.get(f"{url}/readyz").status_code == 503  # nothing indexed: not ready, says why
        assert "문서" in httpx.get(f"{url}/readyz").json()["reason"]


def test_binding_beyond_loopback_needs_keys_or_the_open_flag(make_settings):
    from fakes import FakeEncoder

    from bot.api import KnowledgeBase
    from bot.errors import ConfigError
    from bot.server import create_app

    with pytest.raises(ConfigError, match="KBOT_API_KEYS"):
        create_app(KnowledgeBase.open(make_settings(host="0.0.0.0"), encoder=FakeEncoder()), ui=False, mcp=False)
    kb = KnowledgeBase.open(make_settings(host="0.0.0.0", serve_open=True), encoder=FakeEncoder())
    create_app(kb, ui=False, mcp=False)
    assert kb.settings.fetch_private_hosts is False  # reachable by others: no URLs into its own network


def test_url_ingestion_refuses_private_hosts_once_keyed(base, serve_kb):
    from test_urls import V100 as PAGE
    from test_urls import Site

    site = Site()
    site.thread.start()
    site.routes["/a"] = (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.encode())
    try:
        r = post(base, "/v1/documents/urls", json={"urls": [site.url("/a"), "http://169.254.169.254/latest"]})
        assert r.status_code == 202, r.text
        job = finished(base, r.json()["job"])
        failed = {f["item"]: f["message"] for f in job["report"]["failed"]}
        assert len(failed) == 2 and all("내부망" in m for m in failed.values())
        assert not site.requests
        assert post(base, "/v1/documents/urls", json={"urls": ["file:///etc/passwd"]}).status_code == 400
    finally:
        site.server.shutdown()


def test_the_address_is_checked_again_at_connect_time(make_settings, monkeypatch):
    """DNS rebinding: the name resolves to a public address for the check, to 127.0.0.1 for the connection."""
    import socket

    from bot.errors import FetchError
    from bot.fetch import Fetcher

    real = socket.getaddrinfo
    calls = []

    def rebinding(host, port, *a, **kw):
        if host == "rebind.example":
            calls.append(host)
            ip = "93.184.216.34" if len(calls) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, port, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Fetcher(make_settings(fetch_private_hosts=False)) as f, pytest.raises(FetchError, match="private"):
        f.fetch("http://rebind.example/x")
    assert len(calls) == 2  # checked by the request hook, and again where the socket connects


# -- the mounted web UI --------------------------------------------------------------------------------------------
def test_chromium_gets_a_cited_answer_from_the_mounted_ui(base):
    from browser import chromium_page
    from test_ui import ask

    with chromium_page(120_000, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(f"{base}/")
        page.locator("#kbot-status").filter(has_text="답변").wait_for()
        ask(page, "크리에이트 요금제는 추가 1000개당 얼마야?")
        chat = page.locator("#kbot-chat").inner_text()
        sources = page.locator("#kbot-sources").inner_text()
    assert "[1]" in chat and "GPT-3 유료화" in sources
    # the same process serves the API meanwhile (one KnowledgeBase: the UI's answer and the API's agree)
    api = post(base, "/v1/ask", json={"question": "크리에이트 요금제는 추가 1000개당 얼마야?"}).json()
    assert api["citations"][0]["title"].startswith("GPT-3 유료화")


# -- two servers, one `chroma run` ----------------------------------------------------------------------------------
def test_two_kbot_serve_processes_share_one_chroma_server(chroma_server, tmp_path, model_cache):  # noqa: F811
    """As a team behind a load balancer: two `kbot serve` processes (own data dirs) on one `chroma run`. Ingested
    through one, answered by the other on its next query (each query checks the collection's revision: no refresh
    interval), and neither keeps a stale BM25 table after a delete."""
    import os

    from conftest import free_port

    (tmp_path / "empty").mkdir()
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        env = {**os.environ, "KBOT_DATA_DIR": str(tmp_path / name), "KBOT_MODEL_CACHE_DIR": str(model_cache),
               "KBOT_CHROMA_HOST": "127.0.0.1", "KBOT_CHROMA_PORT": str(chroma_server), "KBOT_COLLECTION": "team",
               "KBOT_PORT": str(port), "KBOT_LLM": "extractive", "KBOT_CORPUS_DIR": str(tmp_path / "empty"),
               "KBOT_API_KEYS": f"alice={KEYS['alice']}", "HF_HUB_OFFLINE": "1"}
        procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            for _ in range(1500):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise AssertionError("kbot serve did not start")
        a, b = urls
        question = "오메가 위성의 발사 비용은 얼마야?"
        text = "오메가 위성의 발사 비용은 812억 원으로 책정되었다. 오메가 위성은 2027년에 발사된다.\n"
        job = post(a, "/v1/documents", files={"files": ("omega.txt", text.encode(), "text/plain")}).json()["job"]
        assert finished(a, job)["state"] == "done"
        answer = post(b, "/v1/ask", json={"question": question}).json()  # the other process, at once
        assert answer["status"] == "answered" and "812억" in answer["body"], answer
        hits = post(b, "/v1/search", json={"query": "오메가 위성 발사 비용", "mode": "sparse", "k": 1}).json()["hits"]
        assert "812억" in hits[0]["text"]  # its BM25 table has the new chunk
        other = "V100 GPU는 개당 약 9,000달러이다. V100은 2017년에 나왔다.\n"
        job = post(a, "/v1/documents", files={"files": ("v100.txt", other.encode(), "text/plain")}).json()["job"]
        assert finished(a, job)["state"] == "done"
        doc = hits[0]["doc_id"]
        assert httpx.delete(f"{a}/v1/documents/{doc}", headers=auth("alice"), timeout=120).status_code == 200
        for query in ("오메가 위성 발사 비용", "V100 가격"):  # the other process loses the deleted one: not stale
            hits = post(b, "/v1/search", json={"query": query, "mode": "sparse", "k": 3}).json()["hits"]
            assert all(h["doc_id"] != doc for h in hits)
        assert "9,000달러" in hits[0]["text"]
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


# -- the command line ------------------------------------------------------------------------------------------------
def test_kbot_serve_refuses_an_open_bind_and_bad_keys_with_a_message(tmp_path, model_cache):
    from test_cli import kbot

    r = kbot(["serve", "--host", "0.0.0.0"], tmp_path, model_cache)
    assert r.returncode == 2 and "refusing to listen on 0.0.0.0" in r.stderr and "Traceback" not in r.stderr
    secret = "short-key"
    r = kbot(["serve"], tmp_path, model_cache, KBOT_API_KEYS=f"ops={secret}")
    assert r.returncode == 2 and "shorter than 16" in r.stderr and secret not in r.stderr + r.stdout


def test_ui_login_when_ui_users_are_set(make_settings, tmp_path):
    from fakes import FakeEncoder

    from bot.api import KnowledgeBase

    kb = KnowledgeBase.open(make_settings(ui_users="kim=correct-horse", corpus_dir=tmp_path / "none"),
                            encoder=FakeEncoder())
    with running(kb, ready=False, mcp=False) as url:
        assert httpx.get(f"{url}/config").status_code == 401
        assert httpx.post(f"{url}/login", data={"username": "kim", "password": "wrong"}).status_code >= 400
        with httpx.Client(base_url=url) as c:
            assert c.post("/login", data={"username": "kim", "password": "correct-horse"}).status_code == 200
            assert c.get("/config").status_code == 200
