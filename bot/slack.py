"""The Slack bot: a Bolt app over the `KnowledgeBase` facade (mentions, thread follow-ups, DMs, /kbot).

HTTP mode serves Bolt's FastAPI adapter with uvicorn on KBOT_SLACK_HOST:KBOT_SLACK_PORT (127.0.0.1:3000) at
/slack/events; with SLACK_APP_TOKEN it uses Socket Mode. Handlers only schedule work: answers are computed on a
separate pool so Slack gets its acknowledgement at once and slow answers never cause retries.
"""

# No `from __future__ import annotations` here: FastAPI must see the real `Request` type of the route below.
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor

from . import render
from .api import KnowledgeBase
from .config import Settings
from .errors import ConfigError, KbotError, user_message
from .filters import describe
from .types import Answer, Filters

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+>")
ANSWER_EVENT = "kbot_answer"  # message metadata on every answer: which message it answers, read back after a restart
RATE_LIMITED = "질문이 너무 빠르게 이어지고 있어요. 1분쯤 뒤에 다시 물어봐 주세요. 🙏"
EMPTY = "무엇이 궁금한지 질문을 함께 적어 주세요. 예: `@kbot 크리에이트 요금제는 얼마야?`"


# -- state ----------------------------------------------------------------------------------------------------
class RateLimiter:
    """At most `limit` questions per user per `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, user: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._seen[user]
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


class Recent:
    """A bounded set/map remembering the last `size` keys (event ids, answers for buttons)."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key, value=True) -> bool:
        """Remember `key`; False when it was already there."""
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return True

    def get(self, key):
        with self._lock:
            return self._items.get(key)


# -- the app --------------------------------------------------------------------------------------------------
class SlackBot:
    """Bolt handlers over a KnowledgeBase. `bot.app` is the Bolt App; `bot.pool` answers questions."""

    def __init__(self, kb: KnowledgeBase, settings: Settings | None = None, client=None) -> None:
        from slack_bolt import App
        from slack_sdk import WebClient

        self.kb = kb
        self.settings = s = settings or kb.settings
        if not s.slack_bot_token:
            raise ConfigError("No Slack bot token: set SLACK_BOT_TOKEN (xoxb-...). See README, 'The Slack bot'.")
        if not s.slack_signing_secret and not s.slack_app_token:
            raise ConfigError("No Slack signing secret: set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN "
                              "(Socket Mode). See README, 'The Slack bot'.")
        token = s.slack_bot_token.get_secret_value()
        if client is None:
            client = WebClient(token=token, base_url=s.slack_api_url) if s.slack_api_url else WebClient(token=token)
        self.client = client
        identity = client.auth_test()
        self.bot_user_id, self.bot_id = identity.get("user_id"), identity.get("bot_id")
        secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None
        self.app = App(client=client, signing_secret=secret, token_verification_enabled=False,
                       request_verification_enabled=secret is not None, logger=logging.getLogger("bot.slack.bolt"))
        self.pool = ThreadPoolExecutor(max_workers=s.slack_workers, thread_name_prefix="kbot-slack")
        self.limiter = RateLimiter(s.slack_rate_limit)
        self.events = Recent()
        self.answers = Recent(5000)  # button key -> (question, Answer)
        self.started = time.time()
        self._register()

    # -- wiring
    def _register(self) -> None:
        app = self.app

        @app.middleware
        def once_per_event(req, body, context, next, logger):  # noqa: A002 - Bolt's argument name
            from slack_bolt import BoltResponse

            event_id = body.get("event_id") if isinstance(body, dict) else None
            if event_id and not self.events.add(event_id):
                logger.info("duplicate delivery of %s ignored", event_id)
                return BoltResponse(status=200, body="")
            # A retry, or an event from before this process started, may have been answered by an earlier process:
            # the worker then looks for that answer in the thread before answering.
            event_time = body.get("event_time") if isinstance(body, dict) else None
            context["kbot_recheck"] = bool(req.headers.get("x-slack-retry-num")) or (
                isinstance(event_time, int | float) and event_time < self.started - 1)
            return next()

        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command("/kbot")(self._on_command)
        app.action("kbot_feedback_up")(self._on_feedback)
        app.action("kbot_feedback_down")(self._on_feedback)
        app.action("kbot_share")(self._on_share)

    def _from_bot(self, event: dict) -> bool:
        return bool(event.get("bot_id") or event.get("subtype") in ("bot_message", "message_changed",
                                                                     "message_deleted")
                    or (self.bot_user_id and event.get("user") == self.bot_user_id))

    def _allowed(self, channel: str, channel_type: str | None = None) -> bool:
        ids = self.settings.slack_channel_ids
        return not ids or channel_type == "im" or channel in ids

    # -- handlers (fast: they only schedule work)
    def _on_mention(self, event: dict, context) -> None:
        if self._from_bot(event) or not self._allowed(event["channel"], event.get("channel_type")):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        self.pool.submit(self._answer_in_thread, event, thread_ts, True, context.get("kbot_recheck", False))

    def _on_message(self, event: dict, context) -> None:
        if self._from_bot(event) or event.get("subtype"):
            return
        text = event.get("text") or ""
        if self.bot_user_id and f"<@{self.bot_user_id}>" in text and event.get("channel_type") != "im":
            return  # app_mention answers it
        channel, thread_ts = event["channel"], event.get("thread_ts")
        recheck = context.get("kbot_recheck", False)
        if event.get("channel_type") == "im":
            self.pool.submit(self._answer_in_thread, event, thread_ts or event["ts"], False, recheck)
        elif thread_ts and self._allowed(channel):  # answered only in threads the bot replied in (see the worker)
            self.pool.submit(self._answer_in_thread, event, thread_ts, False, recheck, True)

    def _on_command(self, ack, command: dict, respond) -> None:
        question = (command.get("text") or "").strip()
        if not question:
            ack(EMPTY)
            return
        if not self._allowed(command.get("channel_id", ""), "im" if command.get("channel_name") ==
                             "directmessage" else None):
            ack("이 채널에서는 kbot을 쓸 수 없게 설정되어 있습니다.")
            return
        if not self.limiter.allow(command.get("user_id", "")):
            ack(RATE_LIMITED)
            return
        ack()
        self.pool.submit(self._answer_command, question, command.get("user_id"), respond,
                         self.settings.slack_scope(command.get("channel_id")))

    def _stored(self, ack, action: dict, respond) -> tuple[str, Answer] | None:
        """Acknowledge a button click and find the answer it belongs to (kept for the last 5,000 answers)."""
        ack()
        stored = self.answers.get(action.get("value"))
        if stored is None:
            respond(text="이 답변은 더 이상 기록되어 있지 않습니다. 다시 물어봐 주세요.", response_type="ephemeral",
                    replace_original=False)
        return stored

    def _on_feedback(self, ack, body: dict, action: dict, respond) -> None:
        if (stored := self._stored(ack, action, respond)) is None:
            return
        question, answer = stored
        user = (body.get("user") or {}).get("id")
        self.kb.record_feedback(question, answer, action["action_id"] == "kbot_feedback_up", channel="slack",
                                user=user)
        respond(text="피드백 고맙습니다!", response_type="ephemeral", replace_original=False)

    def _on_share(self, ack, action: dict, respond) -> None:
        if (stored := self._stored(ack, action, respond)) is None:
            return
        question, answer = stored
        text, blocks = scoped(answer, action["value"], question=question)
        respond(text=text, response_type="in_channel", replace_original=False, blocks=blocks)

    # -- work (on the pool)
    def _ask(self, question: str, history: list[tuple[str, str]], scope: Filters | None = None
             ) -> tuple[str, Answer]:
        answer = self.kb.ask(question, history=history or None, **({"filters": scope} if scope else {}))
        key = uuid.uuid4().hex
        self.answers.add(key, (question, answer))
        return key, answer

    def _thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The thread's messages as Slack has them (the parent first), with their metadata."""
        replies = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200, include_all_metadata=True)
        return replies.get("messages", [])

    def _by_bot(self, m: dict) -> bool:
        return bool((self.bot_id and m.get("bot_id") == self.bot_id)
                    or (self.bot_user_id and m.get("user") == self.bot_user_id))

    def _answered(self, thread: list[dict], ts: str) -> bool:
        """Whether the bot already posted its answer to message `ts` (an earlier process, before a restart)."""
        return any(self._by_bot(m) and (m.get("metadata") or {}).get("event_type") == ANSWER_EVENT
                   and ((m.get("metadata") or {}).get("event_payload") or {}).get("question_ts") == ts
                   for m in thread)

    def _history(self, thread: list[dict], current_ts: str) -> list[tuple[str, str]]:
        out = []
        for m in thread:
            if m.get("ts") == current_ts:
                continue
            text = MENTION.sub("", m.get("text") or "").strip()
            if text:
                out.append(("assistant" if self._by_bot(m) else "user", text))
        return out[-10:]

    def _answer_in_thread(self, event: dict, thread_ts: str, mention: bool, recheck: bool = False,
                          follow_up: bool = False) -> None:
        """Answer `event` in its thread. A `follow_up` (no mention) is answered only when the bot has replied in the
        thread before, read from Slack so it holds across restarts; a `recheck` skips a message already answered."""
        channel, ts, user = event["channel"], event["ts"], event.get("user", "")
        question = MENTION.sub("", event.get("text") or "").strip()
        if follow_up:  # a thread the bot may not be in: on any doubt, stay out of people's conversation
            try:
                thread = self._thread(channel, thread_ts)
            except Exception as e:
                log.warning("reading thread %s in %s failed: %s", thread_ts, channel, _safe(e))
                return
            if not any(self._by_bot(m) for m in thread):
                return  # a people-only thread: not for the bot
        try:
            if not follow_up:
                thread = self._thread(channel, thread_ts) if (thread_ts != ts or recheck) else []
            if recheck and self._answered(thread, ts):
                log.info("message %s in %s was answered before; retried delivery ignored", ts, channel)
                return
            if not question:
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=EMPTY)
                return
            if not self.limiter.allow(user):
                self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=RATE_LIMITED)
                return
            self.client.reactions_add(channel=channel, timestamp=ts, name="eyes")
            try:
                key, answer = self._ask(question, self._history(thread, ts), self.settings.slack_scope(channel))
                text, blocks = scoped(answer, key)
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text,
                                             blocks=blocks, unfurl_links=False,
                                             metadata={"event_type": ANSWER_EVENT,
                                                       "event_payload": {"question_ts": ts}})
            finally:
                self.client.reactions_remove(channel=channel, timestamp=ts, name="eyes")
        except Exception as e:  # a failure becomes a Korean message in the thread and one log line, never a trace
            log.error("answering in %s failed: %s", channel, _safe(e))
            try:
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=user_message(e),
                                             metadata={"event_type": ANSWER_EVENT,
                                                       "event_payload": {"question_ts": ts}})
            except Exception as e2:  # Slack itself is down: nothing more to do than log
                log.error("posting the apology failed: %s", _safe(e2))

    def _answer_command(self, question: str, user: str | None, respond, scope: Filters | None = None) -> None:
        try:
            key, answer = self._ask(question, [], scope)
            text, blocks = scoped(answer, key, share=True)
            respond(text=text, blocks=blocks, response_type="ephemeral")
        except Exception as e:
            log.error("slash command failed: %s", _safe(e))
            try:
                respond(text=user_message(e), response_type="ephemeral")
            except Exception as e2:
                log.error("responding failed: %s", _safe(e2))


def scoped(answer: Answer, key: str, **kw) -> tuple[str, list[dict]]:
    """The answer's fallback text and blocks, with the channel's search scope said when one applied."""
    text, blocks = render.slack_text(answer, kw.get("question")), render.slack_blocks(answer, key, **kw)
    if answer.filters is not None and not answer.filters.empty:
        note = f":mag: 이 채널의 검색 범위: {render.slack_escape(describe(answer.filters))}"
        text = f"{note}\n{text}"
        blocks.insert(len(blocks) - 1, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return text, blocks


def check_scopes(kb: KnowledgeBase) -> None:
    """Log each channel scope that names a publisher or document the index lacks, or matches nothing (asked there,
    the user reads the same thing in Korean)."""
    for channel, scope in kb.settings.slack_scopes.items():
        try:
            kb.retriever.scope(scope)
        except KbotError as e:
            log.warning("KBOT_SLACK_SCOPES for %s: %s", channel, e)


def _safe(e: BaseException) -> str:
    """A log-safe description: the error type and, for kbot's own errors, the message (never tokens)."""
    if isinstance(e, KbotError):
        return f"{type(e).__name__}: {e}" + (f" (hint: {e.hint})" if e.hint and e.hint != str(e) else "")
    return re.sub(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+", "[token]", f"{type(e).__name__}: {e}")[:300]


def http_app(bot: SlackBot):
    """A FastAPI app serving Bolt at POST /slack/events (and GET /healthz)."""
    from fastapi import FastAPI, Request
    from slack_bolt.adapter.fastapi import SlackRequestHandler

    handler = SlackRequestHandler(bot.app)
    api = FastAPI(title="kbot slack", docs_url=None, redoc_url=None, openapi_url=None)

    @api.post("/slack/events")
    async def events(req: Request):
        return await handler.handle(req)

    @api.get("/healthz")
    async def healthz():
        return {"ok": True}

    return api


def run(kb: KnowledgeBase) -> None:
    """Serve the bot: Socket Mode with an app token, else HTTP on KBOT_SLACK_HOST:KBOT_SLACK_PORT."""
    bot = SlackBot(kb)
    kb.warm()
    check_scopes(kb)
    s = bot.settings
    if s.slack_app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(bot.app, s.slack_app_token.get_secret_value()).start()
        return
    import uvicorn

    uvicorn.run(http_app(bot), host=s.slack_host, port=s.slack_port, log_level="warning")
