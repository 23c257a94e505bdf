"""OpenAI-compatible chat: `POST /v1/chat/completions` (streaming and not) and `GET /v1/models`.

The message content is the answer with [n] markers and a short 출처 list (so a client reading only
`choices[0].message.content` shows the sources); a structured `citations` array travels beside `choices` (in a
stream: in the last chunk). Chat front-ends' housekeeping requests ("### Task:" title / tags / follow-ups) are
answered without a search by the extractive backend, and passed to the model by the generative ones.
"""

# No `from __future__ import annotations`: FastAPI reads the real types of the route parameters below.
import json
import re
import time
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import render
from ..errors import ApiError
from ..types import Answer
from .rest import answer_for, principal, service, stream_events

router = APIRouter(tags=["openai"])
MODEL = "kbot"
TASK = "### Task:"


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "text"
    text: str | None = Field(None, max_length=100_000)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")  # clients send name, tool_calls, ...
    role: Literal["system", "user", "assistant", "tool", "developer", "function"]
    content: str | list[Part] | None = Field(None)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, top_p, user, ...: accepted, not used
    model: str = Field(MODEL, max_length=200)
    messages: Annotated[list[Message], Field(min_length=1)]
    stream: bool = False


def openai_error(message: str, hint: str, status: int = 400, code: str = "invalid_request") -> ApiError:
    return ApiError(hint, status=status, code=code, user_message=message)


def conversation(svc, messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the history before it, from the messages."""
    if len(messages) > svc.settings.api_max_messages:
        raise openai_error(f"대화가 너무 깁니다 (메시지 {svc.settings.api_max_messages}개까지). "
                           "새 대화를 시작해 주세요.",
                           f"{len(messages)} messages over KBOT_API_MAX_MESSAGES ({svc.settings.api_max_messages})",
                           413, "too_many_messages")
    turns = [(m.role, m.text()) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise openai_error("마지막 메시지가 사용자 질문이어야 합니다. 질문을 보내 주세요.",
                           "the last message must be a non-empty user message")
    question = turns[-1][1]
    history = [(r, _without_sources(t) if r == "assistant" else t) for r, t in turns[:-1]]
    return question, history[-20:]


def _without_sources(text: str) -> str:
    """An earlier answer as history: its 출처 list cut off (the follow-up rewriter wants the words)."""
    return text.split(f"\n\n{render.SOURCES}:\n", 1)[0]


# -- housekeeping requests (Open WebUI: title, tags, follow-ups) ---------------------------------------------
_HISTORY = re.compile(r"<chat_history>(.*?)</chat_history>", re.S)
_OUTPUT_KEY = re.compile(r'JSON format:\s*\{\s*"(\w+)"')


def is_task(question: str) -> bool:
    return question.lstrip().startswith(TASK)


def task_reply(question: str) -> str:
    """A quick, search-free reply to a front-end's housekeeping request, in the JSON it asks for. The title is the
    chat's first question: never a refusal or a search result. The reply's shape follows the key the request's
    output format names (Open WebUI: `JSON format: { "follow_ups": [...] }`), whatever its task is worded like."""
    found = _HISTORY.search(question)
    history = found.group(1) if found else ""
    first = next((line.split(":", 1)[1].strip() for line in history.splitlines()
                  if line.strip().upper().startswith("USER:") and line.split(":", 1)[1].strip()), "")
    own = question.split("<chat_history>", 1)[0]  # the chat itself is data: its words choose nothing
    named = _OUTPUT_KEY.search(own)
    key = named.group(1).lower() if named else ""
    task = own.split("###", 3)[1].lower() if own.count("###") >= 2 else own.lower()

    def asks(name: str, word: str) -> bool:
        return key == name if key else word in task

    if asks("title", "title"):
        title = " ".join(first.split())[:60] or "kbot 대화"
        return json.dumps({"title": title}, ensure_ascii=False)
    if asks("follow_ups", "follow"):
        return json.dumps({"follow_ups": []})
    if asks("tags", "tag"):
        return json.dumps({"tags": ["kbot"]})
    if asks("queries", "quer"):
        return json.dumps({"queries": [first] if first else []}, ensure_ascii=False)
    return json.dumps({"text": ""})


def run_task(svc, question: str) -> str:
    if svc.kb.settings.backend == "extractive":
        return task_reply(question)
    model = svc.kb.chat_model()
    with svc.slots:
        return str(model.invoke([("user", question)]).content)


# -- the endpoints --------------------------------------------------------------------------------------------
def _completion(content: str, citations: list[dict], model: str, status: str | None = None) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "citations": citations, "kbot": {"status": status}}


def _chunk(cid: str, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


@router.get("/v1/models")
async def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "kbot"}]}


@router.post("/v1/chat/completions")
async def chat_completions(body: ChatIn, request: Request):
    """The OpenAI chat API over the knowledge base. Streamed content is the final, verified answer (sent when it
    is ready), never provisional text a client could not take back."""
    svc, who = service(request), principal(request)
    question, history = conversation(svc, body.messages)
    model = body.model or MODEL
    if is_task(question):
        text = await run_in_threadpool(run_task, svc, question)
        if not body.stream:
            return _completion(text, [], model, "task")
        cid = f"chatcmpl-{uuid.uuid4().hex}"

        def task_events():
            yield _chunk(cid, model, {"role": "assistant", "content": text})
            yield _chunk(cid, model, {}, "stop", citations=[])
            yield "data: [DONE]\n\n"

        return StreamingResponse(task_events(), media_type="text/event-stream")
    if not body.stream:
        answer = await answer_for(svc, who, question, history or None, None)
        return _completion(render.openai_content(answer), [render.citation_json(c) for c in answer.citations],
                           model, answer.status)
    svc.require_ready()
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    started = [False]

    def as_chunks(event):
        if not started[0]:
            started[0] = True
            yield _chunk(cid, model, {"role": "assistant", "content": ""})
        if isinstance(event, Answer):
            content = render.openai_content(event)
            for i in range(0, len(content), 200):
                yield _chunk(cid, model, {"content": content[i:i + 200]})
            yield _chunk(cid, model, {}, "stop", citations=[render.citation_json(c) for c in event.citations],
                         kbot={"status": event.status})
            yield "data: [DONE]\n\n"
        elif isinstance(event, dict):  # an error after the stream began: OpenAI's error object, then the end
            yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

    return StreamingResponse(stream_events(svc, who, question, history or None, None, as_chunks,
                                           "/v1/chat/completions"),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
