"""A fake Slack Web API on 127.0.0.1: the endpoints kbot calls, with Slack's request and response shapes.

auth.test, chat.postMessage, chat.postEphemeral, reactions.add/remove, conversations.replies, and response_url
posts (/response/<id>). Every call is recorded; posted messages (with their message metadata) are kept per thread so
conversations.replies returns the real thread, like Slack does. The threads outlive a bot, as Slack's do: a test can
restart the bot against the same fake.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER, BOT_ID, TEAM = "UKBOT", "BKBOT", "T0001"


@dataclass
class FakeSlack:
    token: str = "xoxb-test-token-123"
    calls: list[tuple[str, dict]] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: float = 1_700_000_000.0

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if "json" in self.headers.get("Content-Type", ""):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                if self.path.startswith("/response/"):
                    fake.record("response_url", {"path": self.path, **args})
                    return self._send({"ok": True})
                method = self.path.rsplit("/", 1)[-1]
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send({"ok": False, "error": "invalid_auth"})
                self._send(fake.handle(method, args))

            def _send(self, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/{name}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_ts(self) -> str:
        with self.lock:
            self._ts += 1
            return f"{self._ts:.6f}"

    def record(self, method: str, args: dict) -> None:
        with self.lock:
            self.calls.append((method, args))

    def add_message(self, channel: str, thread_ts: str, msg: dict) -> None:
        with self.lock:
            self.threads.setdefault((channel, thread_ts), []).append(msg)

    def handle(self, method: str, args: dict) -> dict:
        self.record(method, args)
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "team": "kbot-team", "user": "kbot",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        if method == "chat.postMessage":
            ts = self.next_ts()
            msg = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": args.get("text", ""), "ts": ts}
            metadata = args.get("metadata")
            if isinstance(metadata, str):  # form-encoded posts carry it as a JSON string
                metadata = json.loads(metadata)
            thread = args.get("thread_ts") or ts
            self.add_message(args["channel"], thread, {**msg, "thread_ts": thread,
                                                       **({"metadata": metadata} if metadata else {})})
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": msg}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method in ("reactions.add", "reactions.remove"):
            return {"ok": True}
        if method == "conversations.replies":
            # like Slack: message metadata only with include_all_metadata
            full = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            with self.lock:
                messages = [m if full else {k: v for k, v in m.items() if k != "metadata"}
                            for m in self.threads.get((args["channel"], args["ts"]), [])]
            return {"ok": True, "messages": messages, "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    # -- assertions helpers
    def of(self, method: str) -> list[dict]:
        with self.lock:
            return [a for m, a in self.calls if m == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 60.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{method}: expected {count} call(s), got {len(self.of(method))}: {self.calls[-5:]}")
