"""MCP (Model Context Protocol) over the knowledge base, with the official `mcp` SDK (2.x: `MCPServer`).

Tools `search`, `ask`, `calculate` and `list_documents` return structured content (citations included) and a text
rendering with the sources; every indexed document is a resource `kbot://documents/{doc_id}`. `kbot mcp` serves it
over stdio (the local user: no key, no scope); `kbot serve` at `/mcp` over streamable HTTP, behind the same keys
and scopes as the REST API (the Gate in app.py sets the request's principal before the SDK sees it).
"""

# No `from __future__ import annotations`: the SDK reads the tools' real signatures. Imported only when MCP is served.
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import CallToolResult, Resource, TextContent

from .. import render
from ..errors import KbotError, NoMatchError, user_message
from ..types import Answer, Filters
from .auth import LOCAL, Principal, effective, redact

URI = "kbot://documents/{doc_id}"


def _principal() -> Principal:
    from .app import principal_var

    return principal_var.get()


def _filters(since: str | None, until: str | None, publisher: list[str] | None, doc: list[str] | None):
    f = Filters(date_from=since or None, date_to=until or None, publishers=publisher or (), docs=doc or ())
    return None if f.empty else f


def build(service) -> MCPServer:
    """The MCPServer over `service` (an app.Service, or anything with `kb`, `slots` and `settings`)."""
    kb = service.kb

    class KbotMCP(MCPServer):
        async def list_resources(self) -> list[Resource]:
            from anyio import to_thread

            from .rest import visible_documents

            docs = await to_thread.run_sync(visible_documents, service, _principal())
            return [Resource(uri=URI.format(doc_id=d["doc_id"]), name=d["doc_id"], title=d["title"],
                             description=" · ".join(x for x in (d["publisher"], d["published"]) if x) or None,
                             mime_type="text/plain") for d in docs]

    mcp = KbotMCP("kbot", instructions="Korean knowledge base: ask questions in Korean and cite the sources "
                                       "([n] markers and the citations array).")

    def result(text: str, data: dict, error: bool = False) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data, is_error=error)

    def failure(e: BaseException) -> CallToolResult:
        message = user_message(e)
        return result(message, {"error": {"message": message, "hint": e.hint if isinstance(e, KbotError) else ""}},
                      error=True)

    async def run(fn, *args):
        from anyio import to_thread

        def guarded():
            with service.slots:
                return fn(*args)

        return await to_thread.run_sync(guarded)

    @mcp.tool(description="Answer a question in Korean from the indexed documents, with numbered citations "
                          "(title, publisher, date, quoted sentence). Optional filters: since/until (ISO dates), "
                          "publisher names, document titles. Optional history: the conversation so far as "
                          "[{role: user|assistant, content}], so a follow-up such as '빌드는?' is understood.")
    async def ask(question: str, since: str | None = None, until: str | None = None,
                  publisher: list[str] | None = None, doc: list[str] | None = None,
                  history: list[dict[str, str]] | None = None) -> CallToolResult:
        from pydantic import TypeAdapter, ValidationError

        from .rest import Turn, history_of

        who = _principal()
        try:  # each turn as /v1/ask takes it
            turns = history_of(TypeAdapter(list[Turn]).validate_python(history or []))
        except ValidationError:
            msg = ('history의 각 항목은 {"role": "user" 또는 "assistant", "content": 2만 자 이하의 문자열} '
                   '형태여야 합니다.')
            return result(msg, {"error": {"message": msg}}, error=True)
        if len(turns or ()) > service.settings.api_max_messages:
            msg = f"대화가 너무 깁니다 (메시지 {service.settings.api_max_messages}개까지). 최근 대화만 보내 주세요."
            return result(msg, {"error": {"message": msg}}, error=True)

        def work() -> Answer:
            try:
                scope = effective(kb, who, _filters(since, until, publisher, doc))
            except NoMatchError as e:
                return Answer("no_match", body=e.user_message, backend=kb.flow.backend)
            return redact(kb, who, kb.ask(question, turns, filters=scope))

        try:
            answer = await run(work)
        except Exception as e:
            return failure(e)
        return result(render.openai_content(answer), render.answer_json(answer))

    @mcp.tool(description="Hybrid search over the indexed documents: ranked chunks with scores, metadata and "
                          "character spans.")
    async def search(query: str, k: int = 5, since: str | None = None, until: str | None = None,
                     publisher: list[str] | None = None, doc: list[str] | None = None) -> CallToolResult:
        who = _principal()

        def work():
            from .auth import allowed_docs

            scope = effective(kb, who, _filters(since, until, publisher, doc))
            hits = kb.search(query, k=max(1, min(int(k), 50)), filters=scope)
            return [h for h in hits if h.doc_id in allowed_docs(kb, who.scope)] if who.scoped else hits

        try:
            hits = await run(work)
        except Exception as e:
            return failure(e)
        text = "\n\n".join(f"[{i}] {render.inert(h.title)} ({render.inert(h.publisher or '')} "
                           f"{h.published or render.NO_DATE}) score {h.score:.3f}\n{render.inert(h.text)}"
                           for i, h in enumerate(hits, 1)) or "검색 결과가 없습니다."
        return result(text, {"query": query, "hits": [render.hit_json(h) for h in hits]})

    @mcp.tool(description="Exact cost arithmetic with quoted sources: tool = plan (tokens, plan), break_even (a, "
                          "b), memory (params, precision, gpu, training), flops (params, tokens), energy (node, "
                          "nodes, hours, krw_per_kwh) or question (a numeric question in Korean). Numbers may be "
                          "written the Korean way (1750억, 175B, 500만).")
    async def calculate(tool: str, question: str | None = None, tokens: str | None = None, plan: str | None = None,
                        params: str | None = None, precision: str = "fp16", gpu: str | None = None,
                        training: bool = False, node: str | None = None, nodes: float | None = None,
                        hours: float | None = None, krw_per_kwh: float | None = None) -> CallToolResult:
        from pydantic import ValidationError

        from .rest import CalculateIn, cost_result

        who = _principal()
        try:
            body = CalculateIn(tool=tool, question=question, tokens=tokens, plan=plan, params=params,
                               precision=precision, gpu=gpu, training=training, node=node, nodes=nodes, hours=hours,
                               krw_per_kwh=krw_per_kwh)
        except ValidationError as e:
            msg = "계산 입력을 확인해 주세요: " + "; ".join(".".join(map(str, x["loc"])) for x in e.errors()[:5])
            return result(msg, {"error": {"message": msg}}, error=True)
        try:
            answer = await run(lambda: redact(kb, who, kb.cost_answer(cost_result(body))))
        except Exception as e:
            return failure(e)
        return result(render.openai_content(answer), render.answer_json(answer))

    @mcp.tool(description="The indexed documents: id, title, publisher, date, chunk count. Each is also the "
                          "resource kbot://documents/{doc_id}.")
    async def list_documents() -> CallToolResult:
        from anyio import to_thread

        from .rest import visible_documents

        docs = await to_thread.run_sync(visible_documents, service, _principal())
        text = "\n".join(f"- {render.inert(d['title'])} ({render.inert(d['publisher'] or '')}, "
                         f"{d['published'] or render.NO_DATE}) {URI.format(doc_id=d['doc_id'])}" for d in docs)
        return result(text or "색인된 문서가 없습니다.", {"documents": docs})

    @mcp.resource(URI, name="document", description="An indexed document's text with its title, publisher and "
                                                     "date.", mime_type="text/plain")
    async def document(doc_id: str) -> str:
        from anyio import to_thread

        from .rest import document_text

        try:
            d = await to_thread.run_sync(document_text, service, _principal(), doc_id)
        except KbotError as e:
            raise ResourceError(e.user_message) from None
        head = " · ".join(x for x in (d["publisher"], d["date"], d["url"]) if x)
        return f"{d['title']}\n{head}\n\n{d['text']}"

    return mcp


@dataclass
class HttpMcp:
    """The streamable HTTP side mounted at /mcp: the ASGI handler and the session manager the app's lifespan runs."""

    asgi: Any
    session_manager: Any


def http_app(service) -> HttpMcp:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    mcp = build(service)
    # Stateless: every request carries its own key, so no session outlives the key that opened it. The Gate checks
    # keys; the SDK's Host/Origin check stays on for loopback (DNS rebinding from a browser).
    security = None
    from .auth import is_loopback

    if is_loopback(service.settings.host):
        from mcp.server.transport_security import TransportSecuritySettings

        security = TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                             allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                                             allowed_origins=["http://127.0.0.1:*", "http://localhost:*",
                                                              "http://[::1]:*"])
    manager = StreamableHTTPSessionManager(app=mcp._lowlevel_server, stateless=True, json_response=True,
                                           security_settings=security)

    return HttpMcp(_Handler(manager), manager)


class _Handler:
    """An ASGI app (a class instance, so Starlette's Route passes it the raw scope, not a Request)."""

    def __init__(self, manager) -> None:
        self.manager = manager

    async def __call__(self, scope, receive, send) -> None:
        await self.manager.handle_request(scope, receive, send)


def run_stdio(kb) -> None:
    """`kbot mcp`: the MCP server on stdin/stdout for desktop clients (the local user: no key, no scope)."""
    import threading

    @dataclass
    class Local:
        kb: Any
        settings: Any
        slots: Any

    service = Local(kb, kb.settings, threading.BoundedSemaphore(kb.settings.ui_concurrency))
    assert _principal() is LOCAL
    build(service).run("stdio")
