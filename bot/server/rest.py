"""REST API under /v1: ask (JSON or server-sent events), search, calculate, documents, ingest jobs, health."""

# No `from __future__ import annotations`: FastAPI reads the real types of the route parameters below.
import asyncio
import logging
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import render
from ..errors import AnswerTimeoutError, ApiError, KbotError, NoMatchError, TooLargeError, user_message
from ..types import Answer, Filters
from .auth import Principal, admits, allowed_docs, effective, must_write, redact

log = logging.getLogger("bot.server")
router = APIRouter()
UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_URLS = 50


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersIn(Strict):
    """The same filter as the CLI's --since/--until/--publisher/--doc (ISO dates, partial allowed)."""

    since: str | None = Field(None, max_length=10, examples=["2023-01-01"])
    until: str | None = Field(None, max_length=10, examples=["2024-12"])
    publisher: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    doc: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=200)

    def filters(self) -> Filters | None:
        f = Filters(date_from=self.since, date_to=self.until, publishers=self.publisher, docs=self.doc)
        return None if f.empty else f


class Turn(Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskIn(Strict):
    question: str = Field(min_length=1, max_length=4000, examples=["크리에이트 요금제는 추가 1000개당 얼마야?"])
    history: list[Turn] = Field(default_factory=list, max_length=50)
    filters: FiltersIn | None = None
    stream: bool = False


class SearchIn(Strict):
    query: str = Field(min_length=1, max_length=4000, examples=["GPT-3 크리에이트 요금"])
    k: int = Field(5, ge=1, le=50)
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid"
    filters: FiltersIn | None = None


class CalculateIn(Strict):
    """One of the cost tool's calculations (numbers may be written the Korean way: 1750억, 175B, 500만)."""

    tool: Literal["plan", "break_even", "memory", "flops", "energy", "question"]
    question: str | None = Field(None, max_length=2000, description="tool=question: a numeric question in Korean")
    tokens: str | None = Field(None, max_length=40, description="plan: monthly tokens; flops: training tokens")
    plan: Literal["explore", "create", "build"] | None = None
    a: Literal["create", "build"] = "create"
    b: Literal["create", "build"] = "build"
    params: str | None = Field(None, max_length=40, description="memory / flops: parameters")
    precision: Literal["fp32", "fp16", "bf16", "int8", "int4"] = "fp16"
    gpu: str | None = Field(None, max_length=40)
    training: bool = False
    node: Literal["A100", "H100"] | None = None
    nodes: float | None = Field(None, gt=0, le=1e6)
    hours: float | None = Field(None, gt=0, le=1e7)
    krw_per_kwh: float | None = Field(None, gt=0, le=1e6)


class UrlsIn(Strict):
    urls: list[Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=MAX_URLS)


def service(request: Request):
    return request.app.state.service


def principal(request: Request) -> Principal:
    return request.state.principal


def history_of(turns) -> list[tuple[str, str]] | None:
    return [(t.role, t.content) for t in turns] or None


async def answer_for(svc, who: Principal, question: str, history, wanted: Filters | None,
                     timing: dict | None = None) -> Answer:
    """`kb.ask` within the key's scope, on a worker thread, bounded by KBOT_API_TIMEOUT. `timing` gets the seconds
    `kb.ask` itself took (`ask`) and spent waiting for an answer slot (`wait`)."""
    svc.require_ready()
    timing = {} if timing is None else timing

    def work() -> Answer:
        t = time.perf_counter()
        with svc.slots:
            timing["wait"] = time.perf_counter() - t
            try:
                scope = effective(svc.kb, who, wanted)
            except NoMatchError as e:
                return Answer("no_match", body=e.user_message, backend=svc.kb.flow.backend)
            t = time.perf_counter()
            answer = svc.kb.ask(question, history, filters=scope)
            timing["ask"] = time.perf_counter() - t
            return redact(svc.kb, who, answer)

    try:
        return await asyncio.wait_for(run_in_threadpool(work), svc.settings.api_timeout)
    except TimeoutError:
        raise AnswerTimeoutError(f"an answer took over {svc.settings.api_timeout:.0f} s (KBOT_API_TIMEOUT)") from None


def server_timing(timing: dict) -> dict[str, str]:
    """`Server-Timing`: how long kb.ask took and how long the request waited for a slot (what HTTP adds is the
    rest of the client's time)."""
    parts = [f"{k};dur={v * 1000:.1f}" for k, v in timing.items()]
    return {"Server-Timing": ", ".join(parts)} if parts else {}


def stream_events(svc, who: Principal, question: str, history, wanted: Filters | None, render_event,
                  path: str = "/v1/ask"):
    """A generator of server-sent events over `kb.stream`: provisional text pieces, then the final answer (which
    replaces them). Errors become one error event; the connection then ends normally. A stream whose answer is not
    finished within KBOT_API_TIMEOUT ends with the timeout error, as a plain answer gets 504."""
    import queue
    import threading

    from .app import error_body, status_of

    done = object()
    pieces: queue.Queue = queue.Queue()
    gone = threading.Event()  # the client left or the time ran out: stop at the next piece, free the slot

    def produce() -> None:
        # on its own thread, so the wait for the next piece can time out even while the answer is inside a
        # model or an encoder call
        try:
            with svc.slots:
                try:
                    scope = effective(svc.kb, who, wanted)
                except NoMatchError as e:
                    pieces.put(Answer("no_match", body=e.user_message, backend=svc.kb.flow.backend))
                    return
                for event in svc.kb.stream(question, history, filters=scope):
                    if gone.is_set():
                        return
                    pieces.put(redact(svc.kb, who, event) if isinstance(event, Answer) else event)
        except Exception as e:
            pieces.put(e)
        finally:
            pieces.put(done)

    def events():
        deadline = time.monotonic() + svc.settings.api_timeout
        threading.Thread(target=produce, name="kbot-stream", daemon=True).start()
        try:
            while True:
                try:
                    item = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise AnswerTimeoutError(
                        f"a streamed answer took over {svc.settings.api_timeout:.0f} s (KBOT_API_TIMEOUT)") from None
                if item is done:
                    return
                if isinstance(item, Exception):
                    raise item
                yield from render_event(item)
        except Exception as e:  # the stream has started: the status line is sent, the error goes in the stream
            status, code = status_of(e)
            if not isinstance(e, KbotError):
                log.error("stream failed", exc_info=e)
            else:
                log.warning("%s %s: %s", path, code, e.hint or type(e).__name__)
            yield from render_event(error_body(path, status, code, user_message(e),
                                               e.hint if isinstance(e, KbotError) else ""))
        finally:
            gone.set()

    return events()


# -- health ---------------------------------------------------------------------------------------------------
@router.get("/healthz", tags=["health"])
async def healthz() -> dict:
    """The process is up (says nothing about the index)."""
    return {"ok": True}


@router.get("/readyz", tags=["health"])
async def readyz(request: Request):
    """Ready: the index is loaded and a query can run (503 with the Korean reason while not)."""
    svc = service(request)

    def check():
        ready, reason = svc.readiness()
        if not ready:
            return JSONResponse({"ready": False, "reason": reason}, status_code=503, headers={"Retry-After": "5"})
        return {"ready": True, "documents": len(svc.kb.titles()), "chunks": svc.kb.store.count(),
                "backend": svc.kb.backend}

    return await run_in_threadpool(check)


# -- answers --------------------------------------------------------------------------------------------------
@router.post("/v1/ask", tags=["answers"])
async def ask(body: AskIn, request: Request):
    """Answer from the documents with [n] citations. `stream: true`: server-sent events `delta` (provisional text
    pieces) then `answer` (the final structured answer, which replaces the pieces), or `error`."""
    svc, who = service(request), principal(request)
    wanted = body.filters.filters() if body.filters else None
    history = history_of(body.history)
    if not body.stream:
        timing: dict = {}
        answer = await answer_for(svc, who, body.question, history, wanted, timing)
        return JSONResponse({"question": body.question, **render.answer_json(answer)}, headers=server_timing(timing))
    svc.require_ready()
    from .app import sse

    def as_sse(event):
        if isinstance(event, Answer):
            yield sse("answer", {"question": body.question, **render.answer_json(event)})
        elif isinstance(event, str):
            yield sse("delta", {"text": event})
        else:
            yield sse("error", event)

    return StreamingResponse(stream_events(svc, who, body.question, history, wanted, as_sse),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/v1/search", tags=["answers"])
async def search(body: SearchIn, request: Request):
    """Ranked chunks with scores, metadata and character spans."""
    svc, who = service(request), principal(request)
    svc.require_ready()
    wanted = body.filters.filters() if body.filters else None

    def work():
        scope = effective(svc.kb, who, wanted)
        hits = svc.kb.search(body.query, k=body.k, mode=body.mode, filters=scope)
        if who.scoped:  # the same last check as answers
            ok = allowed_docs(svc.kb, who.scope)
            hits = [h for h in hits if h.doc_id in ok]
        return hits

    hits = await run_in_threadpool(work)
    return JSONResponse({"query": body.query, "hits": [render.hit_json(h) for h in hits]})


def cost_result(body: CalculateIn):
    """The cost tool's result for a request (a CostInputError names what is missing, in Korean)."""
    from dataclasses import replace

    from .. import cost
    from ..errors import CostInputError
    from ..numerals import parse_number

    def num(text: str | None, what: str) -> float:
        if not text:
            raise CostInputError(f"{what} 값이 필요합니다.")
        try:
            return parse_number(text)
        except ValueError:
            raise CostInputError(f"{what} 값을 숫자로 읽지 못했습니다: 1750억, 175B, 500만처럼 적어 주세요.") from None

    if body.tool == "plan":
        n = num(body.tokens, "tokens")
        return cost.plan_monthly_cost(body.plan, n) if body.plan else cost.cheapest_plan(n)
    if body.tool == "break_even":
        return cost.break_even(body.a, body.b)
    if body.tool == "memory":
        mem = cost.model_memory(num(body.params, "params"), body.precision, body.training)
        if not body.gpu:
            return mem
        gpus = cost.gpus_needed(mem.value, body.gpu)
        return replace(gpus, formula=f"{mem.formula}; {gpus.formula}", assumptions=mem.assumptions + gpus.assumptions,
                       sources=mem.sources + gpus.sources)
    if body.tool == "flops":
        return cost.training_flops(num(body.params, "params"), num(body.tokens, "tokens"))
    if body.tool == "energy":
        return cost.energy(body.node or "", body.nodes or 0, body.hours or 0, body.krw_per_kwh)
    from ..costq import NeedsInput, route

    result = route(body.question or "")
    if result is None:
        raise CostInputError("계산 질문으로 보이지 않습니다: 요금제·토큰 수, 파라미터 수·정밀도·GPU, 학습 토큰 수, "
                             "노드·시간 같은 수치를 넣어 주세요.")
    if isinstance(result, NeedsInput):
        raise CostInputError(result.message)
    return result


@router.post("/v1/calculate", tags=["answers"])
async def calculate(body: CalculateIn, request: Request) -> dict:
    """The cost tool: a calculation with its formula, assumptions and the quoted sources of its constants."""
    svc, who = service(request), principal(request)

    def work():
        return redact(svc.kb, who, svc.kb.cost_answer(cost_result(body)))

    return render.answer_json(await run_in_threadpool(work))


# -- documents and jobs ---------------------------------------------------------------------------------------
def visible_documents(svc, who: Principal) -> list[dict]:
    docs = svc.kb.documents()
    if who.scoped:
        ok = allowed_docs(svc.kb, who.scope)
        docs = [d for d in docs if d["doc_id"] in ok]
    return [{**d, "source": d["source"] if d.get("url") else Path(d["source"]).name} for d in docs]


def document_text(svc, who: Principal, doc_id: str) -> dict:
    """One document with its text put back together from its chunks (404 outside the key's scope)."""
    if not admits(svc.kb, who, doc_id):
        raise _not_found(doc_id)
    svc.kb.retriever.sparse_index.sync()
    chunks = sorted((c for c in svc.kb.retriever.sparse_index.chunks if c.metadata.get("doc_id") == doc_id),
                    key=lambda c: int(c.metadata.get("start", 0)))
    if not chunks:
        raise _not_found(doc_id)
    text, end = "", 0
    for c in chunks:
        start = int(c.metadata.get("start", 0))
        text += c.text[max(0, end - start):]
        end = max(end, start + len(c.text))
    m = chunks[0].metadata
    return {"doc_id": doc_id, "title": m.get("title", ""), "publisher": m.get("publisher") or None,
            "date": m.get("published") or None, "url": m.get("url") or None, "chunks": len(chunks), "text": text}


def _not_found(doc_id: str) -> ApiError:
    return ApiError(f"no document {doc_id!r} for this key", status=404, code="not_found",
                    user_message="그런 문서가 없습니다. 문서 목록에서 id를 확인해 주세요.")


@router.get("/v1/documents", tags=["documents"])
async def list_documents(request: Request) -> dict:
    """The indexed documents (within the key's scope) with their dates, publishers and chunk counts."""
    svc, who = service(request), principal(request)
    return {"documents": await run_in_threadpool(visible_documents, svc, who)}


@router.get("/v1/documents/{doc_id}", tags=["documents"])
async def get_document(doc_id: str, request: Request) -> dict:
    svc, who = service(request), principal(request)
    return await run_in_threadpool(document_text, svc, who, doc_id)


@router.delete("/v1/documents/{doc_id}", tags=["documents"])
async def delete_document(doc_id: str, request: Request) -> dict:
    """Remove a document from the index (an uploaded file is deleted too). Scoped keys may not."""
    svc, who = service(request), principal(request)
    must_write(who)

    def work():
        row = next((d for d in svc.kb.documents() if d["doc_id"] == doc_id), None)
        if row is None or not svc.kb.delete_document(doc_id):
            raise _not_found(doc_id)
        uploads = (svc.settings.data_dir / "uploads").resolve()
        path = Path(row["source"]).resolve() if not row.get("url") else None
        if path is not None and path.parent == uploads and path.is_file():
            path.unlink()
        return {"deleted": doc_id, "title": row["title"]}

    return await run_in_threadpool(work)


def _bad_file(name: str, why: str, korean: str, status: int = 415) -> ApiError:
    return ApiError(f"{name}: {why}", status=status, code="bad_file", user_message=f"{name}: {korean}")


@router.post("/v1/documents", status_code=202, tags=["documents"])
async def upload(request: Request) -> dict:
    """Upload files (multipart, field `files`; .txt .md .html .pdf, up to KBOT_API_UPLOAD_MAX_MB each) to be
    ingested as a job: `GET /v1/jobs/{id}` follows it."""
    svc, who = service(request), principal(request)
    must_write(who)
    limit = int(svc.settings.api_upload_max_mb * 1024 * 1024)
    try:
        form = await request.form(max_files=20, max_fields=20, max_part_size=limit)
    except Exception:
        raise ApiError("the multipart body could not be parsed", code="bad_multipart",
                       user_message="파일 업로드 형식(multipart/form-data)이 올바르지 않습니다. files 필드로 파일을 "
                                    "보내 주세요.") from None
    files = [f for f in form.getlist("files") if hasattr(f, "filename")]
    if not files:
        raise ApiError("no files in the `files` field", code="no_files",
                       user_message="올릴 파일이 없습니다. files 필드에 파일을 넣어 보내 주세요.")
    folder = svc.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for f in files:
        name = Path((f.filename or "").replace("\\", "/")).name.strip()
        if not name or name.startswith(".") or any(ord(ch) < 32 for ch in name):
            raise _bad_file(name or "(이름 없음)", "no usable file name", "파일 이름이 올바르지 않습니다.", 400)
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            raise _bad_file(name, f"type not accepted (accepted: {' '.join(UPLOAD_TYPES)})",
                            "이 형식은 올릴 수 없습니다. .txt, .md, .html, .pdf 파일만 받습니다.")
        data = await f.read(limit + 1)
        if len(data) > limit:
            raise TooLargeError(f"{name} is over KBOT_API_UPLOAD_MAX_MB ({svc.settings.api_upload_max_mb} MB)",
                                user_message=f"{name}: 파일이 너무 큽니다 "
                                             f"(최대 {svc.settings.api_upload_max_mb:g}MB). 나눠서 올려 주세요.")
        if not data.strip():
            raise _bad_file(name, "empty file", "빈 파일입니다.", 400)
        if name.lower().endswith(".pdf") != data.startswith(b"%PDF-") or (
                not name.lower().endswith(".pdf") and b"\x00" in data[:8192]):
            raise _bad_file(name, "the content does not match the file type",
                            "파일 내용이 확장자와 맞지 않습니다. "
                            "글이 담긴 .txt, .md, .html, .pdf 파일인지 확인해 주세요.")
        saved.append((folder / name, data))
    paths = []
    for dest, data in saved:
        dest.write_bytes(data)
        paths.append(dest)
    job = svc.jobs.submit(who.name, "upload", [p.name for p in paths], paths=paths)
    return {"job": job.json()}


@router.post("/v1/documents/urls", status_code=202, tags=["documents"])
async def ingest_urls(body: UrlsIn, request: Request) -> dict:
    """Fetch and ingest web pages (http/https, up to 50) as a job. Once the server has keys or listens beyond
    loopback, loopback, private and link-local hosts are refused (KBOT_FETCH_PRIVATE_HOSTS allows them)."""
    from ..fetch import normalize_url

    svc, who = service(request), principal(request)
    must_write(who)
    urls = []
    for u in body.urls:
        try:
            urls.append(normalize_url(u))
        except KbotError as e:
            raise ApiError(f"not a web address: {u[:200]!r}", code="bad_url", user_message=e.user_message) from None
        except ValueError:
            raise ApiError(f"not a web address: {u[:200]!r}", code="bad_url",
                           user_message="웹 주소(http:// 또는 https://)만 넣을 수 있습니다.") from None
    job = svc.jobs.submit(who.name, "urls", urls, urls=urls)
    return {"job": job.json()}


@router.get("/v1/jobs/{job_id}", tags=["documents"])
async def get_job(job_id: str, request: Request) -> dict:
    """An ingest job: state (queued, running, done, failed) and the same progress figures as the CLI's."""
    svc, who = service(request), principal(request)
    job = svc.jobs.get(job_id, who.name)
    if job is None:
        raise ApiError(f"no job {job_id!r} for this key", status=404, code="not_found",
                       user_message="그런 작업이 없습니다. 업로드 응답의 job id를 확인해 주세요.")
    return job.json()
