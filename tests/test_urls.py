"""Web pages as sources, against a real HTTP server on 127.0.0.1 serving Korean article pages.

The pages go through the real httpx client, trafilatura and an embedded Chroma; the fake encoder keeps the logic
tests fast, and the answer test uses the real default model.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fakes import FakeEncoder
from test_server import chroma_server  # noqa: F401 (the `chroma run` fixture)

from bot.api import KnowledgeBase


def article(title: str, body: str, *, site: str = "테스트뉴스", author: str = "김철수 기자",
            date: str = "2024-03-05", charset: str = "utf-8", meta_charset: str | None = "charset") -> str:
    """A Korean news page: menus and footer around the article, metadata in <meta> tags."""
    if meta_charset == "charset":
        cs = f'<meta charset="{charset}">'
    elif meta_charset == "http-equiv":
        cs = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    else:
        cs = ""
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    return (f"<!doctype html><html lang=ko><head>{cs}<title>{title} | {site}</title>"
            f'<meta property="og:title" content="{title}"><meta property="og:site_name" content="{site}">'
            f'<meta name="author" content="{author}">'
            f'<meta property="article:published_time" content="{date}T09:00:00+09:00"></head>'
            f"<body><nav><a href=/>홈</a> <a href=/news>뉴스</a> <a href=/it>IT</a></nav>"
            f"<article><h1>{title}</h1>{paras}</article>"
            f"<footer>저작권자 ⓒ {site} 무단전재 및 재배포 금지</footer></body></html>")


V100 = article("엔비디아 V100 가격 내려", "엔비디아의 V100 GPU 가격은 1500만원 정도로 알려졌다. 업계에서는 가격이 "
               "더 내려갈 것으로 본다.\n데이터센터 수요가 줄면서 중고 시장에도 매물이 늘었다고 관계자는 말했다.")
EUCKR = article("국산 AI 반도체 양산 시작", "리벨리온의 신경망처리장치 아톰이 올해 하반기 양산에 들어간다. "
                "회사는 전력 효율이 경쟁 제품보다 높다고 설명했다.\n첫 물량은 국내 데이터센터에 공급된다.",
                site="한글일보", author="박영희 기자", date="2023-11-20", charset="euc-kr", meta_charset="http-equiv")
MOVED = article("하이퍼클로바X 공개", "네이버가 초거대 AI 하이퍼클로바X를 공개했다. 한국어 데이터를 대규모로 "
                "학습한 것이 특징이다.\n기업용 서비스도 함께 내놓았다.", date="2023-08-24")


class Site:
    """A tiny news site: routes map a path to (status, headers, body bytes) or a callable; requests are logged."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                site.requests.append((self.path, dict(self.headers)))
                route = site.routes.get(self.path)
                if route is None:
                    route = (404, {"Content-Type": "text/html; charset=utf-8"}, "<h1>없는 페이지</h1>".encode())
                if callable(route):
                    route = route(self)
                    if route is None:
                        return
                status, headers, body = route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, html: str, charset: str = "utf-8", header_charset: bool = True, **headers) -> None:
        ctype = f"text/html; charset={charset}" if header_charset else "text/html"
        self.routes[path] = (200, {"Content-Type": ctype, **headers}, html.encode(charset.replace("euc-kr", "cp949")))

    def seen(self, path: str) -> list[dict]:
        return [h for p, h in self.requests if p == path]


@pytest.fixture
def site():
    s = Site()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def kb(make_settings):
    return KnowledgeBase.open(make_settings(fetch_timeout=0.5, fetch_deadline=2.0, fetch_max_mb=0.05,
                                            fetch_max_redirects=3), encoder=FakeEncoder())


def _docs(kb) -> dict[str, dict]:
    return {d["url"] or d["source"]: d for d in kb.documents()}


def _folder(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text("---\ntitle: 메모\n---\n\nGPT-3 크리에이트 요금제는 월 100달러다.\n",
                                    encoding="utf-8")
    return folder


def _reasons(report) -> dict[str, str]:
    return {f.path: f.reason for f in report.failed}


def test_pages_are_fetched_decoded_and_described(kb, site):
    """UTF-8, EUC-KR declared only in <meta http-equiv> (header without charset), and a redirect."""
    site.page("/v100", V100)
    site.page("/euckr", EUCKR, charset="euc-kr", header_charset=False)
    site.page("/2023/08/hyperclova", MOVED)
    site.routes["/moved"] = (301, {"Location": "/2023/08/hyperclova"}, b"")
    urls = [site.url(p) for p in ("/v100", "/euckr", "/moved")]
    report = kb.ingest(urls=urls)
    assert report.ok and sorted(report.added) == sorted(urls)
    docs = _docs(kb)
    v = docs[site.url("/v100")]
    assert (v["title"], v["publisher"], v["published"], v["author"]) == \
        ("엔비디아 V100 가격 내려", "테스트뉴스", "2024-03-05", "김철수 기자")
    assert v["source"] == site.url("/v100")
    e = docs[site.url("/euckr")]
    assert (e["title"], e["publisher"], e["published"]) == ("국산 AI 반도체 양산 시작", "한글일보", "2023-11-20")
    texts = " ".join(c.text for c in kb.store.iter_all(include_documents=True))
    assert "리벨리온의 신경망처리장치 아톰이 올해 하반기 양산에 들어간다" in texts  # Korean text decoded right
    assert "저작권자" not in texts and "홈" not in texts.split()  # menus and footer are not the article
    m = docs[site.url("/moved")]  # listed as /moved, stored as the page it ended at
    assert m["source"] == site.url("/2023/08/hyperclova") and m["title"] == "하이퍼클로바X 공개"
    # every request said who is asking
    assert all(h.get("User-Agent", "").startswith("kbot/") for _, h in site.requests)


def test_euc_kr_declared_in_the_header(kb, site):
    html = EUCKR.replace('<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">', "")
    site.page("/h", html, charset="euc-kr")
    report = kb.ingest(urls=[site.url("/h")])
    assert report.ok
    assert _docs(kb)[site.url("/h")]["title"] == "국산 AI 반도체 양산 시작"


def test_each_failure_is_listed_with_its_reason_and_the_rest_proceed(kb, site):
    site.page("/ok", V100)

    def slow(handler):
        time.sleep(1.5)
        return 200, {"Content-Type": "text/html"}, V100.encode()

    def huge(handler):  # no Content-Length: the cap must stop the stream itself
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        try:
            handler.wfile.write(b"<html><body><p>" + "가".encode() * 20_000)
            for _ in range(200):
                handler.wfile.write("데이터센터 ".encode() * 1000)
        except OSError:
            pass  # the client hung up at the cap

    site.routes["/slow"] = slow
    site.routes["/huge"] = huge
    site.routes["/paper.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ...")
    site.page("/app", "<html><head><title>앱</title></head><body><div id=root></div>"  # rendered by script only
                      "<script>document.getElementById('root').textContent = '기사 본문'</script></body></html>")
    site.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    site.routes["/error"] = (503, {"Content-Type": "text/html"}, b"busy")
    site.routes["/to-file"] = (302, {"Location": "file:///etc/passwd"}, b"")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/x"
    bad = {site.url("/missing"): "404", site.url("/slow"): "timed out", site.url("/huge"): "larger than 0.05 MB",
           site.url("/paper.pdf"): "not an HTML page", site.url("/app"): "no main text",
           site.url("/loop"): "redirects", site.url("/error"): "503", closed: "cannot connect",
           site.url("/to-file"): "not http or https",
           "http://no-such-host.invalid/a": "cannot resolve", "file:///etc/passwd": "only http and https",
           "ftp://127.0.0.1/x": "only http and https"}
    t0 = time.perf_counter()
    report = kb.ingest(urls=[site.url("/ok"), *bad])
    took = time.perf_counter() - t0
    assert report.added == [site.url("/ok")] and list(_docs(kb)) == [site.url("/ok")]
    reasons = _reasons(report)
    for url, why in bad.items():
        assert why in reasons.get(url, ""), (url, reasons.get(url))
    assert all(f.user_reason and any("가" <= ch <= "힣" for ch in f.user_reason) for f in report.failed)
    assert took < 10  # the slow page cost the timeout, not its full delay; the huge one stopped at the cap
    assert not any(p == "/etc/passwd" for p, _ in site.requests)


def test_only_changed_pages_are_re_embedded_and_etags_get_304(kb, site):
    site.page("/same", V100)
    site.page("/euckr", EUCKR, charset="euc-kr")
    state = {"body": MOVED}
    site.routes["/changing"] = lambda h: (200, {"Content-Type": "text/html; charset=utf-8"}, state["body"].encode())

    def etag_page(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}, V100.replace("V100", "A100").encode()

    site.routes["/etag"] = etag_page
    site.routes["/dated"] = lambda h: ((304, {}, b"") if h.headers.get("If-Modified-Since") else
                                       (200, {"Content-Type": "text/html", "Last-Modified":
                                              "Tue, 05 Mar 2024 00:00:00 GMT"}, EUCKR.encode("cp949")))
    urls = [site.url(p) for p in ("/same", "/euckr", "/changing", "/etag", "/dated")]
    first = kb.ingest(urls=urls)
    assert first.ok and len(first.added) == 5 and first.chunks_embedded > 0
    assert "If-None-Match" not in site.seen("/etag")[0]

    state["body"] = MOVED.replace("한국어 데이터를 대규모로", "한국어와 영어 데이터를 대규모로")
    embedded_before = kb.encoder.passages_encoded
    second = kb.ingest(urls=urls)
    assert second.updated == [site.url("/changing")]
    assert sorted(second.unchanged) == sorted(set(urls) - {site.url("/changing")})
    n_changing = sum(1 for c in kb.store.iter_all() if c.metadata["url"] == site.url("/changing"))
    assert second.chunks_embedded == n_changing == kb.encoder.passages_encoded - embedded_before
    # the server saw the validators and answered 304: nothing to download, nothing embedded
    assert site.seen("/etag")[-1].get("If-None-Match") == '"v1"'
    assert site.seen("/dated")[-1].get("If-Modified-Since") == "Tue, 05 Mar 2024 00:00:00 GMT"
    texts = " ".join(c.text for c in kb.store.iter_all(include_documents=True))
    assert "한국어와 영어 데이터를" in texts and "A100" in texts

    third = kb.ingest(urls=urls)
    assert third.chunks_embedded == 0 and len(third.unchanged) == 5


def test_new_validators_for_the_same_text_are_kept_for_the_next_fetch(kb, site):
    state = {"etag": '"a"'}

    def rotating(handler):  # the server changes its ETag though the article stays the same
        if handler.headers.get("If-None-Match") == state["etag"]:
            return 304, {"ETag": state["etag"]}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": state["etag"]}, V100.encode()

    site.routes["/r"] = rotating
    kb.ingest(urls=[site.url("/r")])
    state["etag"] = '"b"'
    second = kb.ingest(urls=[site.url("/r")])
    assert second.unchanged == [site.url("/r")] and second.chunks_embedded == 0
    third = kb.ingest(urls=[site.url("/r")])
    assert site.seen("/r")[-1].get("If-None-Match") == '"b"' and third.unchanged == [site.url("/r")]
    assert {c.metadata["etag"] for c in kb.store.iter_all()} == {'"b"'}


def test_a_half_written_page_is_fetched_whole_not_answered_by_304(kb, site):
    body = "\n".join(f"{y}년 데이터센터 GPU 출하량은 전년보다 {y - 2000}% 늘었다고 조사업체가 밝혔다. 같은 해 "
                     f"서버 한 대의 평균 가격도 함께 올랐다." for y in range(2010, 2024))
    long = article("GPU 시장 동향", body)
    site.routes["/etag"] = lambda h: ((304, {"ETag": '"v1"'}, b"") if h.headers.get("If-None-Match") else
                                      (200, {"Content-Type": "text/html", "ETag": '"v1"'}, long.encode()))
    kb.ingest(urls=[site.url("/etag")])
    ids = [c.chunk_id for c in kb.store.iter_all()]
    assert len(ids) > 1
    kb.store.delete(ids[-1:])  # as if a crash had left the page incomplete
    report = kb.ingest(urls=[site.url("/etag")])
    assert report.updated == [site.url("/etag")] and "If-None-Match" not in site.seen("/etag")[-1]
    assert sorted(c.chunk_id for c in kb.store.iter_all()) == sorted(ids)


def test_prune_removes_unlisted_pages_and_a_folder_ingest_keeps_pages(kb, site, tmp_path):
    site.page("/a", V100)
    site.page("/b", MOVED)
    folder = _folder(tmp_path)
    kb.ingest([folder], urls=[site.url("/a"), site.url("/b")])
    assert len(kb.documents()) == 3
    kept = kb.ingest([folder], prune=True)  # an ordinary folder ingest never touches web pages
    assert kept.removed == [] and len(kb.documents()) == 3
    pruned = kb.ingest(urls=[site.url("/a")], prune=True)
    assert pruned.removed == [site.url("/b")] and pruned.unchanged == [site.url("/a")]
    assert sorted(_docs(kb)) == sorted([site.url("/a"), str(folder / "note.md")])
    site.routes.pop("/a")  # a listed page that fails is kept (it is still listed), with the failure shown
    failing = kb.ingest(urls=[site.url("/a")], prune=True)
    assert failing.removed == [] and site.url("/a") in _reasons(failing) and site.url("/a") in _docs(kb)


def test_private_hosts_can_be_refused(make_settings, site):
    site.page("/a", V100)
    kb = KnowledgeBase.open(make_settings(fetch_private_hosts=False), encoder=FakeEncoder())
    report = kb.ingest(urls=[site.url("/a")])
    assert "private address" in _reasons(report)[site.url("/a")] and not site.requests


def test_url_list_file(tmp_path):
    from bot.fetch import read_url_list

    f = tmp_path / "urls.txt"
    f.write_text("# 읽을 기사\nhttps://a.example/1\n\n  https://b.example/2#top  # 두 번째\n#https://c.example\n",
                 encoding="utf-8")
    assert read_url_list(f) == ["https://a.example/1", "https://b.example/2#top"]


@pytest.mark.slow
def test_a_page_is_answerable_with_a_citation_linking_to_it(make_settings, real_encoder, site):
    from bot import render

    site.page("/v100", V100)
    site.page("/euckr", EUCKR, charset="euc-kr")
    kb = KnowledgeBase.open(make_settings(), encoder=real_encoder)
    assert kb.ingest(urls=[site.url("/v100"), site.url("/euckr")]).ok
    answer = kb.ask("엔비디아 V100 GPU 가격은 얼마 정도야?")
    assert answer.status == "answered" and "1500만원" in answer.body
    hit = answer.citations[0].hit
    assert hit.source == hit.url == site.url("/v100")
    assert f'href="{site.url("/v100")}"' in render.source_html(hit, answer.citations[0])
    assert f"<{site.url('/v100')}|" in render.slack_sources(answer)


def test_ui_url_box_reports_each_url_in_korean_and_inertly(kb, site):
    from bot.ui import documents_table, ingest_urls

    site.page("/v100", V100)
    hostile = "<img src=x onerror=alert(1)>"  # not a URL: echoed back as typed
    text = f"# 오늘 읽은 기사\n{site.url('/v100')}\n\n{site.url('/missing')}\n{hostile}\nfile:///etc/passwd\n"
    out = ingest_urls(kb, text)
    assert out.startswith("웹 주소 4개 중 1개를 색인했습니다 (실패 3개).")
    lines = [re.sub(r"\\(.)", r"\1", ln) for ln in out.splitlines()]  # as Markdown shows it
    assert any(ln.startswith("- 추가: ") and "v100" in ln for ln in lines)
    assert any("missing" in ln and "페이지를 찾을 수 없습니다(HTTP 404)" in ln for ln in lines)
    assert any("passwd" in ln and "http:// 또는 https://로 시작하는 웹 주소만" in ln for ln in lines)
    assert "<img" not in out and "&lt;img" in out  # a URL is data: no tag, no autolink
    assert [row[4] for row in documents_table(kb)] == [site.url("/v100")]
    assert ingest_urls(kb, "  \n# 주석만\n").startswith("웹 주소를 한 줄에 하나씩")
    again = ingest_urls(kb, site.url("/v100"))
    assert "변경 없음" in again and "1개 중 1개" in again


@pytest.mark.slow
def test_cli_ingests_urls_mixed_with_paths_and_from_a_list(site, tmp_path, model_cache):
    from test_cli import kbot

    site.page("/v100", V100)
    site.page("/euckr", EUCKR, charset="euc-kr")
    folder = _folder(tmp_path)
    r = kbot(["ingest", site.url("/v100"), str(folder), site.url("/missing"), "file:///etc/passwd"], tmp_path,
             model_cache)
    assert r.returncode == 1, r.stderr[-500:]  # two failed, the rest went in
    assert f"added    {site.url('/v100')}" in r.stdout and f"added    {folder / 'note.md'}" in r.stdout
    assert f"{site.url('/missing')}: HTTP 404" in r.stdout and "file:///etc/passwd: only http and https" in r.stdout
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# 기사 목록\n{site.url('/euckr')}\n", encoding="utf-8")
    r = kbot(["ingest", "--urls", str(listing), "--prune"], tmp_path, model_cache)
    assert r.returncode == 0, r.stdout + r.stderr[-500:]
    assert f"added    {site.url('/euckr')}" in r.stdout and f"removed  {site.url('/v100')}" in r.stdout
    r = kbot(["ask", "리벨리온의 아톰은 언제 양산에 들어가?"], tmp_path, model_cache)
    assert r.returncode == 0 and "하반기" in r.stdout and site.url("/euckr") in r.stdout


def test_only_fetched_http_pages_become_links_and_they_stay_escaped():
    from bot import render
    from bot.retrieval import hit_from
    from bot.store import StoredChunk
    from bot.types import Answer, Citation

    def hit(**meta):
        m = {"doc_id": "d", "title": "<b>제목</b> *굵게*", "start": 0, "end": 5, **meta}
        return hit_from(StoredChunk("d:00000", "본문 문장.", m), 1.0)

    evil = 'https://evil.example/a?x="><script>alert(1)</script>|<!channel>'
    page = hit(source=evil, url="https://evil.example/a")
    assert page.url == evil
    html = render.source_html(page)
    assert "<script>" not in html and "<b>" not in html
    assert 'href="https://evil.example/a?x=&quot;&gt;&lt;script&gt;' in html
    answer = Answer("answered", body="본문 [1]", citations=[Citation(1, page, "본문", 0, 2)])
    slack = render.slack_sources(answer)
    assert "<!channel>" not in slack and "<script>" not in slack
    link = slack[slack.index("<https://"):]
    assert link.startswith("<https://evil.example/a?x=\"%3E%3Cscript%3Ealert(1)%3C/script%3E%7C%3C!channel%3E|")
    # a file, a document given through the API, or a non-web scheme: never a link
    for meta in ({"source": "/docs/a.md"}, {"source": "https://x.example/y"},
                 {"source": "javascript:alert(1)", "url": "https://x.example/"},
                 {"source": "https://x.example/a b", "url": "https://x.example/"}):
        h = hit(**meta)
        assert h.url is None and "<a " not in render.source_html(h)


def test_validators_are_shared_through_a_chroma_server(chroma_server, make_settings, site, tmp_path):  # noqa: F811
    """Another machine's kbot (its own data dir) re-ingests with the first one's ETag: no local state file."""
    site.routes["/etag"] = lambda h: ((304, {"ETag": '"v1"'}, b"") if h.headers.get("If-None-Match") == '"v1"' else
                                      (200, {"Content-Type": "text/html", "ETag": '"v1"'}, V100.encode()))
    common = dict(chroma_host="127.0.0.1", chroma_port=chroma_server, collection="team-kb")
    first = KnowledgeBase.open(make_settings(**common), encoder=FakeEncoder())
    assert first.ingest(urls=[site.url("/etag")]).added == [site.url("/etag")]
    other = KnowledgeBase.open(make_settings(data_dir=tmp_path / "elsewhere", **common), encoder=FakeEncoder())
    report = other.ingest(urls=[site.url("/etag")])
    assert report.unchanged == [site.url("/etag")] and report.chunks_embedded == 0
    assert site.seen("/etag")[-1].get("If-None-Match") == '"v1"'
