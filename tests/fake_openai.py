"""A fake OpenAI-compatible server on 127.0.0.1 that the real `openai` client talks to over HTTP.

It speaks the chat-completions wire protocol (JSON and SSE streaming, tool calls, error bodies) and replays a
script: each request takes the next queued behaviour (a reply, a tool call, an HTTP error, a delay). A reply may
be a function of the request, so a test can answer like a model that read the numbered documents.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict], str]


@dataclass
class Step:
    reply: Reply | None = None
    tool: tuple[str, dict] | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeOpenAI:
    api_key: str = "sk-test-secret-123"
    model: str = "fake-gpt"
    script: deque = field(default_factory=deque)
    default: Step = field(default_factory=lambda: Step(reply="기본 응답입니다."))
    requests: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    presented = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    # like OpenAI (which masks part of it) and proxies that don't: the error echoes the key
                    return self._error(401, f"Incorrect API key provided: {presented}.", "invalid_api_key")
                if not self.path.endswith("/chat/completions"):
                    return self._error(404, f"Unknown path {self.path}", "not_found")
                step = fake.script.popleft() if fake.script else fake.default
                if step.delay:
                    time.sleep(step.delay)
                if step.status != 200:
                    return self._error(step.status, f"scripted error {step.status}", "server_error")
                if body.get("stream"):
                    return self._stream(body, step)
                return self._json(200, fake.completion(body, step))

            def _json(self, status: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, message: str, code: str) -> None:
                self._json(status, {"error": {"message": message, "type": "fake_error", "param": None,
                                              "code": code}})

            def _stream(self, body: dict, step: Step) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in fake.chunks(body, step):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def queue(self, *steps: Step) -> None:
        self.script.extend(steps)

    def completions(self) -> list[dict]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def _text(self, body: dict, step: Step) -> str:
        return step.reply(body) if callable(step.reply) else (step.reply or "")

    def _head(self, obj: str) -> dict:
        return {"id": f"chatcmpl-{len(self.requests)}", "object": obj, "created": int(time.time()),
                "model": self.model}

    def completion(self, body: dict, step: Step) -> dict:
        if step.tool:
            name, args = step.tool
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": self._text(body, step)}
            finish = "stop"
        return {**self._head("chat.completion"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

    def chunks(self, body: dict, step: Step):
        head = self._head("chat.completion.chunk")

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

        yield chunk({"role": "assistant", "content": ""})
        if step.tool:
            name, args = step.tool
            yield chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": name, "arguments": ""}}]})
            text = json.dumps(args)
            for i in range(0, len(text), 8):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": text[i:i + 8]}}]})
            yield chunk({}, "tool_calls")
            return
        text = self._text(body, step)
        for i in range(0, len(text), 4):
            yield chunk({"content": text[i:i + 4]})
        yield chunk({}, "stop")


def documents(body: dict) -> dict[int, str]:
    """The numbered documents a request showed the model: {number: text}."""
    import re

    user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    return {int(n): t for n, t in re.findall(r'<document number="(\d+)"[^>]*>\n(.*?)\n</document>', user, re.S)}


def cite(needle: str, claim: str) -> Callable[[dict], str]:
    """A reply that states `claim` citing the document that contains `needle` (like a model that read them)."""

    def reply(body: dict) -> str:
        for n, text in documents(body).items():
            if needle in text:
                return f"{claim} [{n}]"
        return "제공된 문서에서 이 질문의 답을 찾지 못했습니다."

    return reply
