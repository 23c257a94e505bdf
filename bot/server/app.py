"""The `kbot serve` application: one FastAPI app, one `KnowledgeBase`, every surface.

`/v1/...` REST (rest.py), `/v1/chat/completions` + `/v1/models` (openai_api.py), `/mcp` (mcp_server.py), the Slack
events endpoint when Slack is configured, and the Gradio UI at `/`. Readiness, the first-run indexing, ingest jobs,
keys and limits live in one `Service` that all of them share.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading

from ..api import KnowledgeBase
from ..errors import KbotError, NotReadyError, TooLargeError, user_message
from .auth import LOCAL, Keys, Limiter, Principal, check_bind, is_loopback, presented_key

log = logging.getLogger("bot.server")
principal_var: contextvars.ContextVar[Principal] = contextvars.ContextVar("kbot_principal", default=LOCAL)
OPENAI_PATHS = ("/v1/chat/", "/v1/models")
GATED = ("/v1/", "/mcp")
UPLOAD_PATH = "/v1/documents"


class Service:
    """What every surface shares: the knowledge base, readiness, the first-run indexing, ingest jobs, keys, limits."""

    def __init__(self, kb: KnowledgeBase) -> None:
        from ..ui import FirstRun
        from .jobs import Jobs

        self.kb = kb
        self.settings = s = kb.settings
        self.keys = Keys(s)
        self.limiter = Limiter(s.api_rate_limit)
        self.first_run = FirstRun(kb)
        self.jobs = Jobs(self)
        self.slots = threading.BoundedSemaphore(s.ui_concurrency)  # answers computed at once, all surfaces
        self._warm = threading.Event()
        self.warm_error: str | None = None
        # Once the server is reachable by others, URL ingestion must not reach into its own network, unless the
        # operator said so explicitly (KBOT_FETCH_PRIVATE_HOSTS=true).
        if (self.keys.enabled or not is_loopback(s.host)) and "fetch_private_hosts" not in s.model_fields_set:
            s.fetch_private_hosts = False

    def start(self) -> None:
        """Index an empty data dir in the background and load the models, so the first question does not wait."""
        self.first_run.start()
        threading.Thread(target=self._warm_up, name="kbot-warm", daemon=True).start()

    def _warm_up(self) -> None:
        self.first_run.wait(None)
        try:
            self.kb.warm()
        except Exception as e:  # readyz says why; questions still get their own error
            log.warning("warm-up failed: %s", e if isinstance(e, KbotError) else type(e).__name__)
            self.warm_error = type(e).__name__
        self._warm.set()

    def readiness(self) -> tuple[bool, str]:
        """(ready, the Korean reason when not): the index loaded and a query can run."""
        if self.first_run.running:
            return False, self.first_run.describe()
        if not self._warm.is_set():
            return False, "검색 모델과 색인을 불러오는 중입니다."
        try:
            if self.kb.store.count() == 0:
                return False, "아직 색인된 문서가 없습니다. 문서를 올려 색인해 주세요."
        except KbotError as e:
            return False, e.user_message
        return True, ""

    def require_ready(self) -> None:
        if self.first_run.running:
            raise NotReadyError("the first-run indexing is still running", user_message=self.first_run.describe()
                                + " 끝난 뒤 다시 시도해 주세요.", headers={"Retry-After": "5"})

    def body_limit(self, path: str) -> int:
        s = self.settings
        if path.rstrip("/") == UPLOAD_PATH:
            return int(s.api_upload_max_mb * 1024 * 1024) + 64 * 1024  # the multipart envelope on top
        return s.api_max_body_kb * 1024


# -- errors ---------------------------------------------------------------------------------------------------
def error_body(path: str, status: int, code: str, message: str, hint: str = "") -> dict:
    """kbot's error JSON, or OpenAI's shape on the OpenAI-compatible paths. Messages are kbot's own words."""
    if path.startswith(OPENAI_PATHS):
        kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                429: "rate_limit_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return {"error": {"code": code, "message": message, "hint": hint}}


STATUS = {"EmptyQueryError": (400, "empty_question"), "FilterError": (400, "bad_filter"),
          "CostInputError": (400, "bad_input"), "NoMatchError": (404, "no_match"), "LoadError": (400, "bad_file"),
          "FetchError": (400, "fetch_failed"), "IndexBusyError": (409, "busy"), "NotIndexedError": (503, "not_indexed"),
          "StoreUnavailableError": (503, "store_unavailable"), "LLMError": (502, "llm_failed"),
          "LocalModelError": (502, "llm_failed"), "ConfigError": (500, "config")}


def status_of(e: BaseException) -> tuple[int, str]:
    from ..errors import ApiError

    if isinstance(e, ApiError):
        return e.status, e.code
    for cls in type(e).__mro__:
        if cls.__name__ in STATUS:
            return STATUS[cls.__name__]
    return 500, "internal"


def error_response(path: str, e: BaseException):
    from fastapi.responses import JSONResponse

    status, code = status_of(e)
    hint = e.hint if isinstance(e, KbotError) else ""
    if status >= 500 or not isinstance(e, KbotError):
        log.warning("%s %s: %s", path, code, hint or type(e).__name__)
    return JSONResponse(error_body(path, status, code, user_message(e), hint), status_code=status,
                        headers=getattr(e, "headers", None) or None)


# -- the gate: keys, rate limit and body size before anything reads a request ----------------------------------
class Gate:
    """Pure ASGI middleware for /v1 and /mcp: 401/403 keys, 429 per key, 413 bodies. Sets the request's principal
    (scope state, and a context variable the MCP tools read)."""

    def __init__(self, app, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GATED):
            return await self.app(scope, receive, send)
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        try:
            principal = self.service.keys.check(presented_key(headers))
            who = principal.name if self.service.keys.enabled else f"addr:{(scope.get('client') or ('?',))[0]}"
            self.service.limiter.check(who)
            limit = self.service.body_limit(path)
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise TooLargeError(f"request body of {declared} bytes over the {limit}-byte limit "
                                    "(KBOT_API_MAX_BODY_KB / KBOT_API_UPLOAD_MAX_MB)")
        except KbotError as e:
            return await error_response(path, e)(scope, receive, send)
        scope.setdefault("state", {})["principal"] = principal
        principal_var.set(principal)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a chunked body without a length: stop reading at the limit
                    raise TooLargeError(f"request body over the {limit}-byte limit")
            return message

        await self.app(scope, counted, send)


# -- the app --------------------------------------------------------------------------------------------------
def create_app(kb: KnowledgeBase, *, ui: bool = True, slack: bool | None = None, mcp: bool = True):
    """The ASGI app over `kb`. `slack=None`: mounted when a Slack token and signing secret are set."""
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from . import openai_api, rest

    service = Service(kb)
    check_bind(kb.settings, service.keys)
    mcp_app = None
    if mcp:
        from .mcp_server import http_app

        mcp_app = http_app(service)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import anyio

        # Answers wait for a slot on worker threads: room for many waiting requests beside the cheap ones.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 200
        # kiwi and the encoder hold the GIL for seconds while they load: load them before the port opens, or every
        # request (even /healthz and a job's status) stalls while a worker thread loads them.
        try:
            kb.warm_models()
        except Exception as e:  # the warm-up thread meets it again and readyz says why
            log.warning("loading the models failed: %s", e if isinstance(e, KbotError) else type(e).__name__)
        service.start()
        if mcp_app is not None:
            async with mcp_app.session_manager.run():
                yield
        else:
            yield
        service.jobs.shutdown()

    app = FastAPI(title="kbot", version="1", lifespan=lifespan,
                  description="Korean knowledge-base answers with citations: REST, OpenAI-compatible chat, MCP.")
    app.state.service = service

    @app.exception_handler(KbotError)
    async def kbot_error(request: Request, e: KbotError):
        return error_response(request.url.path, e)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        errors = e.errors()
        path = request.url.path
        if any(err.get("type") == "json_invalid" for err in errors):
            body = error_body(path, 400, "invalid_json", "요청 본문이 올바른 JSON이 아닙니다. "
                              "JSON 형식을 확인해 주세요.", "the request body is not valid JSON")
            return JSONResponse(body, status_code=400)
        where = "; ".join(f"{'.'.join(str(x) for x in err.get('loc', ())[1:]) or 'body'}: {err.get('msg', '')}"
                          for err in errors[:5])  # never the input itself: it may be huge or hostile
        body = error_body(path, 422, "invalid_request", "요청 형식이 맞지 않습니다. "
                          "필드 이름과 값의 형식을 확인해 주세요.", where[:1000])
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request.url.path, e)

    app.include_router(rest.router)
    app.include_router(openai_api.router)
    if mcp_app is not None:
        app.add_route("/mcp", mcp_app.asgi, methods=["GET", "POST", "DELETE"])
        app.add_route("/mcp/", mcp_app.asgi, methods=["GET", "POST", "DELETE"])
    s = kb.settings
    if slack or (slack is None and s.slack_bot_token and s.slack_signing_secret):
        _mount_slack(app, kb)
    app.add_middleware(Gate, service=service)
    if ui:
        app = _mount_ui(app, service)
    return app


def _mount_slack(app, kb: KnowledgeBase) -> None:
    from slack_bolt.adapter.fastapi import SlackRequestHandler

    from ..slack import SlackBot, check_scopes

    bot = SlackBot(kb)
    check_scopes(kb)
    handler = SlackRequestHandler(bot.app)

    async def events(req):
        return await handler.handle(req)

    # A plain Starlette route: the request goes to Bolt as it came. (An API route would have FastAPI read `req` from
    # its annotation, a string under `from __future__ import annotations`, as a required query parameter: 422.)
    app.add_route("/slack/events", events, methods=["POST"], include_in_schema=False)


def _users(settings) -> list[tuple[str, str]] | None:
    raw = settings.ui_users.get_secret_value() if settings.ui_users else ""
    pairs = [p.strip().partition("=") for p in raw.split(",") if p.strip()]
    from ..errors import ConfigError

    if any(not u.strip() or not eq or not pw for u, eq, pw in pairs):
        raise ConfigError("KBOT_UI_USERS: write user=password pairs separated by commas")
    return [(u.strip(), pw) for u, _, pw in pairs] or None


def _mount_ui(app, service: Service):
    import gradio as gr

    from ..ui import CSS, build_ui

    demo = build_ui(service.kb, service.first_run)
    theme = gr.themes.Soft(font=["NanumGothic", "Noto Sans KR", "sans-serif"],
                           font_mono=["NanumGothicCoding", "monospace"])
    return gr.mount_gradio_app(app, demo, path="/", auth=_users(service.settings), css=CSS, theme=theme,
                               show_error=False, ssr_mode=False)


def sse(event: str, data) -> str:
    """One server-sent event; the data is JSON (document text inside it is data, never markup)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
