"""The Slack bot: signed HTTP requests to the real uvicorn + Bolt server, Web API calls to a fake Slack on 127.0.0.1."""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from urllib.parse import urlencode

import httpx
import pytest
from conftest import free_port
from fake_slack import BOT_ID, BOT_USER, TEAM, FakeSlack
from pydantic import SecretStr

from bot.api import KnowledgeBase
from bot.errors import ConfigError

pytestmark = pytest.mark.slow
SECRET = "test-signing-secret"
Q = "크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?"


class Trace:
    """What the bot did with each event, by the event's ts: how many deliveries got past the bot's middleware (known
    before the HTTP response), how many reached a handler's end, how many answers the handlers scheduled and how many
    of those finished. A test waits for `settled` instead of sleeping and hoping the bot was done."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.counts = {k: Counter() for k in ("passed", "handled", "scheduled", "finished")}

    def add(self, what: str, ts: str | None) -> None:
        with self.cond:
            self.counts[what][ts] += 1
            self.cond.notify_all()

    def settled(self, *tss: str, timeout: float = 60.0) -> None:
        """Wait until the bot is done with every delivery of these events: each delivery that passed the middleware
        has left its handler, and whatever the handlers scheduled has finished."""
        c = self.counts

        def done() -> bool:
            return all(c["handled"][t] >= c["passed"][t] and c["finished"][t] >= c["scheduled"][t] for t in tss)

        with self.cond:
            assert self.cond.wait_for(done, timeout), {k: {t: v[t] for t in tss} for k, v in c.items()}


def traced_bot(kb: KnowledgeBase):
    """The real SlackBot, reporting to a Trace when its middleware, handlers and answering work are done."""
    from bot.slack import SlackBot

    class TracedBot(SlackBot):
        def __init__(self, kb: KnowledgeBase) -> None:
            self.trace = Trace()
            super().__init__(kb)
            self.pool = TracedPool(self.pool, self.trace)

        def _register(self) -> None:
            super()._register()  # the bot's own middleware (duplicate deliveries) runs before this one

            @self.app.middleware
            def passed(body, next):  # noqa: A002 - Bolt's argument name
                event = body.get("event") if isinstance(body, dict) else None
                if isinstance(event, dict):
                    self.trace.add("passed", event.get("ts"))
                return next()

        def _on_mention(self, event: dict, context) -> None:
            try:
                super()._on_mention(event, context)
            finally:
                self.trace.add("handled", event.get("ts"))

        def _on_message(self, event: dict, context) -> None:
            try:
                super()._on_message(event, context)
            finally:
                self.trace.add("handled", event.get("ts"))

    return TracedBot(kb)


class TracedPool:
    """The bot's answering pool, counting the work scheduled and finished for each event (by its ts)."""

    def __init__(self, pool, trace: Trace) -> None:
        self.pool, self.trace = pool, trace

    def submit(self, fn, *args, **kwargs):
        ts = args[0].get("ts") if args and isinstance(args[0], dict) else None
        self.trace.add("scheduled", ts)

        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                self.trace.add("finished", ts)

        return self.pool.submit(run)

    def __getattr__(self, name: str):
        return getattr(self.pool, name)


class Sender:
    """Slack's side of the HTTP: events, slash commands and button clicks to `url`, signed as Slack signs them
    (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret)."""

    def __init__(self, url: str, fake: FakeSlack) -> None:
        self.url, self.fake = url, fake

    def post(self, body: str, content_type: str, secret: str | None = SECRET, ts: int | None = None,
             headers: dict | None = None) -> httpx.Response:
        h = {"Content-Type": content_type, **(headers or {})}
        if secret is not None:
            stamp = str(int(time.time()) if ts is None else ts)
            sig = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
            h |= {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={sig}"}
        return httpx.post(self.url, content=body.encode(), headers=h, timeout=10)

    def event(self, event: dict, event_id: str | None = None, **kw) -> httpx.Response:
        body = json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "AKBOT", "type": "event_callback",
                           "event_id": event_id or f"Ev{time.time_ns()}", "event_time": int(time.time()),
                           "event": {"event_ts": event.get("ts"), **event},
                           "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]},
                          ensure_ascii=False)
        return self.post(body, "application/json", **kw)

    def command(self, text: str, user: str = "U1", channel: str = "CGENERAL") -> httpx.Response:
        body = urlencode({"token": "legacy", "team_id": TEAM, "channel_id": channel, "channel_name": "general",
                          "user_id": user, "command": "/kbot", "text": text, "api_app_id": "AKBOT",
                          "response_url": self.fake.response_url("cmd"), "trigger_id": "1.2.3"})
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, user: str = "U1") -> httpx.Response:
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "AKBOT",
                   "token": "legacy", "trigger_id": "1.2.3", "response_url": self.fake.response_url("action"),
                   "container": {"type": "message"}, "channel": {"id": "CGENERAL"},
                   "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                                "action_ts": str(time.time())}]}
        return self.post(urlencode({"payload": json.dumps(payload, ensure_ascii=False)}),
                         "application/x-www-form-urlencoded")


class Server(Sender):
    """uvicorn serving the bot's FastAPI app (`kbot slack`) in a thread, and a signed-request sender."""

    def __init__(self, kb: KnowledgeBase, fake: FakeSlack) -> None:
        import uvicorn

        from bot.slack import http_app

        self.bot = traced_bot(kb)
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(http_app(self.bot), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        super().__init__(f"http://127.0.0.1:{self.port}/slack/events", fake)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.bot.pool.shutdown(wait=True)


class GatedKB:
    """The real knowledge base, whose answers wait until the test opens the gate (a deliberately slow answer)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb, self.gate = kb, threading.Event()

    def ask(self, *args, **kwargs):
        assert self.gate.wait(60), "the test never opened the gate"
        return self.kb.ask(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.kb, name)


@pytest.fixture
def fake():
    f = FakeSlack()
    yield f
    f.stop()


def slack_kb(base: KnowledgeBase, fake: FakeSlack, tmp_path, **kw) -> KnowledgeBase:
    update = {"slack_bot_token": SecretStr(fake.token), "slack_signing_secret": SecretStr(SECRET),
              "slack_api_url": fake.api_url, "slack_channels": "CGENERAL,CTEAM", "data_dir": tmp_path, **kw}
    return KnowledgeBase(base.settings.model_copy(update=update), base.store, base.encoder)


@pytest.fixture
def server(corpus_kb, fake, tmp_path):
    s = Server(slack_kb(corpus_kb, fake, tmp_path), fake)
    yield s
    s.stop()


def mention(text: str, ts: str, channel: str = "CGENERAL", user: str = "U1", **extra) -> dict:
    return {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
            **extra}


@pytest.fixture
def gated(corpus_kb, fake, tmp_path):
    kb = GatedKB(slack_kb(corpus_kb, fake, tmp_path))
    s = Server(kb, fake)
    yield s, kb.gate
    kb.gate.set()
    s.stop()


def test_mention_is_acked_while_answering_then_gets_one_threaded_reply_with_sources(gated, fake):
    server, gate = gated
    r = server.event(mention(Q, "1700000001.000100"))
    assert r.status_code == 200 and not fake.of("chat.postMessage")  # acknowledged while the answer is pending
    fake.wait_for("reactions.add")
    gate.set()
    post = fake.wait_for("chat.postMessage")[0]
    assert post["channel"] == "CGENERAL" and post["thread_ts"] == "1700000001.000100"
    assert "8센트" in post["text"] and "[1]" in post["text"]
    blocks = json.loads(post["blocks"]) if isinstance(post["blocks"], str) else post["blocks"]
    sources = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert sources.startswith("*출처*") and "GPT-3 유료화" in sources and "인공지능신문" in sources
    assert {e["action_id"] for e in blocks[-1]["elements"]} == {"kbot_feedback_up", "kbot_feedback_down"}
    fake.wait_for("reactions.remove")  # removed right after the reply: it may still be on its way
    order = [m for m, _ in fake.calls if m in ("reactions.add", "chat.postMessage", "reactions.remove")]
    assert order == ["reactions.add", "chat.postMessage", "reactions.remove"]
    assert fake.of("reactions.add")[0]["name"] == "eyes"
    assert fake.token not in post["text"] and SECRET not in post["text"]


def test_thread_follow_up_uses_the_thread_as_history(server, fake):
    ts = "1700000002.000100"
    fake.add_message("CGENERAL", ts, {"type": "message", "user": "U1", "text": f"<@{BOT_USER}> {Q}", "ts": ts})
    server.event(mention(Q, ts))
    fake.wait_for("chat.postMessage")
    r = server.event({"type": "message", "channel_type": "channel", "channel": "CGENERAL", "user": "U1",
                      "text": "빌드는?", "ts": "1700000002.000200", "thread_ts": ts})
    assert r.status_code == 200
    follow = fake.wait_for("chat.postMessage", 2)[1]
    assert follow["thread_ts"] == ts and "빌드" in follow["text"] and "6센트" in follow["text"]
    replies = fake.of("conversations.replies")
    assert replies and replies[-1]["ts"] == ts
    # a message in a thread the bot never joined is not for the bot
    server.event({"type": "message", "channel_type": "channel", "channel": "CGENERAL", "user": "U2",
                  "text": "점심 뭐 먹지?", "ts": "1700000003.000200", "thread_ts": "1700000003.000100"})
    server.bot.trace.settled("1700000003.000200")  # the bot has looked at the thread and is done with the message
    assert server.bot.trace.counts["handled"]["1700000003.000200"] == 1  # it reached the bot, not lost on the way
    assert len(fake.of("chat.postMessage")) == 2 and not fake.of("reactions.add")[2:]


def test_after_a_restart_thread_follow_ups_are_answered_and_a_retried_mention_is_not_answered_twice(
        corpus_kb, fake, tmp_path):
    ts = "1700000010.000100"
    first = mention(Q, ts)
    fake.add_message("CGENERAL", ts, {**first, "type": "message"})
    before = Server(slack_kb(corpus_kb, fake, tmp_path), fake)
    try:
        before.event(first, event_id="EvBEFORE")
        fake.wait_for("chat.postMessage")
        fake.wait_for("reactions.remove")
    finally:
        before.stop()  # a deploy: the new process remembers nothing
    after = Server(slack_kb(corpus_kb, fake, tmp_path), fake)
    try:
        follow = {"type": "message", "channel_type": "channel", "channel": "CGENERAL", "user": "U1",
                  "text": "빌드는?", "ts": "1700000010.000200", "thread_ts": ts}
        fake.add_message("CGENERAL", ts, follow)
        after.event(follow)
        reply = fake.wait_for("chat.postMessage", 2)[1]
        assert reply["thread_ts"] == ts and "6센트" in reply["text"]  # answered with the thread as history
        # Slack redelivers the first mention (its ack was lost in the restart): it was answered before, so no repeat
        r = after.event(first, event_id="EvBEFORE", headers={"X-Slack-Retry-Num": "1",
                                                             "X-Slack-Retry-Reason": "http_timeout"})
        assert r.status_code == 200
        # a thread only people wrote in stays theirs, after a restart too
        people = "1700000011.000100"
        fake.add_message("CGENERAL", people, {"type": "message", "user": "U2", "text": "회의 언제죠?", "ts": people})
        after.event({"type": "message", "channel_type": "channel", "channel": "CGENERAL", "user": "U3",
                     "text": "3시요", "ts": "1700000011.000200", "thread_ts": people})
        after.bot.trace.settled(ts, "1700000011.000200")  # done with the redelivery and the people's thread
        assert after.bot.trace.counts["handled"][ts] == after.bot.trace.counts["handled"]["1700000011.000200"] == 1
        posts = fake.of("chat.postMessage")
        assert len(posts) == 2, [p["text"][:40] for p in posts]
    finally:
        after.stop()


def test_direct_message_is_answered(server, fake):
    server.event({"type": "message", "channel_type": "im", "channel": "D0001", "user": "U1",
                  "text": "V100 GPU 한 개 가격은 대략 얼마라고 했어?", "ts": "1700000004.000100"})
    post = fake.wait_for("chat.postMessage")[0]
    assert post["channel"] == "D0001" and "9,000달러" in post["text"]


def test_slash_command_is_acked_at_once_answered_ephemerally_and_can_be_shared(gated, fake):
    server, gate = gated
    r = server.command("빌드 요금제로 한 달에 토큰 1200만 개를 쓰면 얼마야?")
    assert r.status_code == 200 and not fake.of("response_url")  # the ack does not wait for the answer
    gate.set()
    reply = fake.wait_for("response_url")[0]
    assert reply["response_type"] == "ephemeral" and "520 USD" in reply["text"] and "계산:" in reply["text"]
    share = next(e for e in reply["blocks"][-1]["elements"] if e["action_id"] == "kbot_share")
    assert server.click("kbot_share", share["value"]).status_code == 200
    shared = fake.wait_for("response_url", 2)[1]
    assert shared["response_type"] == "in_channel" and "520 USD" in shared["text"]
    assert server.click("kbot_feedback_down", share["value"]).status_code == 200
    fake.wait_for("response_url", 3)
    row = json.loads(server.bot.kb.feedback_path.read_text(encoding="utf-8").splitlines()[-1])
    assert row["liked"] is False and row["channel"] == "slack" and row["user"] == "U1" and row["status"] == "calculated"


def test_out_of_corpus_mention_says_so_with_related_sources(server, fake):
    server.event(mention("2030년 월드컵 개최국은 어디야?", "1700000005.000100"))
    post = fake.wait_for("chat.postMessage")[0]
    assert "찾지 못했습니다" in post["text"] and "관련 있을 수 있는 문서" in post["text"]


def test_bad_signatures_stale_and_unsigned_requests_are_rejected_and_nothing_posted(server, fake):
    ev = mention(Q, "1700000006.000100")
    assert server.event(ev, secret="forged-secret").status_code == 401
    assert server.event(ev, ts=int(time.time()) - 600).status_code == 401
    assert server.event(ev, secret=None).status_code == 401
    assert not server.bot.trace.counts["passed"]["1700000006.000100"]  # rejected before reaching the bot
    assert not fake.of("chat.postMessage") and not fake.of("reactions.add")
    # the same event, signed: answered once, so nothing before it was taken in (or answered) on the side
    assert server.event(ev).status_code == 200
    server.bot.trace.settled("1700000006.000100")
    assert len(fake.of("chat.postMessage")) == 1 and len(fake.of("reactions.add")) == 1


def test_retried_event_is_answered_once_and_bots_and_other_channels_are_ignored(server, fake):
    ev = mention(Q, "1700000007.000100")
    assert server.event(ev, event_id="EvSAME").status_code == 200
    assert server.event(ev, event_id="EvSAME", headers={"X-Slack-Retry-Num": "1",
                                                        "X-Slack-Retry-Reason": "http_timeout"}).status_code == 200
    server.event(mention("다른 봇의 질문", "1700000007.000200", bot_id="BOTHER"))
    server.event({"type": "message", "channel_type": "im", "channel": "D0002", "user": BOT_USER, "bot_id": BOT_ID,
                  "text": "내가 쓴 답", "ts": "1700000007.000300"})
    server.event(mention(Q, "1700000007.000400", channel="CRANDOM"))  # not in KBOT_SLACK_CHANNELS
    fake.wait_for("chat.postMessage")
    server.bot.trace.settled(*(f"1700000007.000{n}00" for n in range(1, 5)))  # done with every delivery
    posts = fake.of("chat.postMessage")
    assert len(posts) == 1 and posts[0]["thread_ts"] == "1700000007.000100"


def test_rate_limit_is_polite(corpus_kb, fake, tmp_path):
    s = Server(slack_kb(corpus_kb, fake, tmp_path, slack_rate_limit=2), fake)
    try:
        for i in range(3):
            s.event(mention(Q, f"1700000008.00010{i}"))
        fake.wait_for("chat.postMessage", 2)
        eph = fake.wait_for("chat.postEphemeral")[0]
        assert eph["user"] == "U1" and "1분" in eph["text"]
    finally:
        s.stop()


def test_failure_becomes_an_apology_and_a_clean_log_line(corpus_kb, fake, tmp_path, caplog):
    kb = slack_kb(corpus_kb, fake, tmp_path, llm="local", local_model=tmp_path / "missing.gguf")
    s = Server(kb, fake)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.slack"):
            s.event(mention(Q, "1700000009.000100"))
            post = fake.wait_for("chat.postMessage")[0]
        # the user reads what to do (Korean, no settings or commands); the operator's log has the detail and the fix
        assert "관리자에게 알려 주세요" in post["text"] and "Traceback" not in post["text"]
        assert "KBOT_LOCAL_MODEL" not in post["text"] and "kbot model" not in post["text"]
        assert "ConfigError" in caplog.text and "KBOT_LOCAL_MODEL" in caplog.text and fake.token not in caplog.text
        assert fake.wait_for("reactions.remove")  # the eyes go away even when answering fails
    finally:
        s.stop()


def test_refuses_to_start_without_credentials(corpus_kb, fake, tmp_path):
    from bot.slack import SlackBot

    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackBot(slack_kb(corpus_kb, fake, tmp_path, slack_bot_token=None))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackBot(slack_kb(corpus_kb, fake, tmp_path, slack_signing_secret=None))


def test_manifest_matches_what_the_bot_serves():
    import yaml
    from conftest import ROOT

    m = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    settings = m["settings"]
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/kbot"]
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"],
            m["features"]["slash_commands"][0]["url"]]
    assert all(u.endswith("/slack/events") for u in urls)
    assert {"app_mention", "message.channels", "message.im"} <= set(settings["event_subscriptions"]["bot_events"])
    needed = {"app_mentions:read", "chat:write", "commands", "reactions:write", "channels:history", "im:history",
              "metadata.message:read"}
    assert needed <= set(m["oauth_config"]["scopes"]["bot"])


def test_channel_scopes_apply_to_mentions_follow_ups_and_the_command(corpus_kb, fake, tmp_path):
    from bot.types import Filters

    v100 = "V100 GPU 한 개 가격은 대략 얼마라고 했어?"
    scopes = {"CTEAM": Filters(date_from="2023-01-01"), "CNONE": Filters(publishers="서울신문", date_to="2020")}
    s = Server(slack_kb(corpus_kb, fake, tmp_path, slack_scopes=scopes, slack_channels="CGENERAL,CTEAM,CNONE"),
               fake)
    try:
        s.event(mention(v100, "1700000020.000100", channel="CGENERAL"))  # no scope: the 2020 article answers
        post = fake.wait_for("chat.postMessage")[0]
        assert "9,000달러" in post["text"] and "검색 범위" not in post["text"]
        ts = "1700000021.000100"
        fake.add_message("CTEAM", ts, {"type": "message", "user": "U1", "text": f"<@{BOT_USER}> {v100}", "ts": ts})
        s.event(mention(v100, ts, channel="CTEAM"))
        post = fake.wait_for("chat.postMessage", 2)[1]
        assert post["channel"] == "CTEAM" and "9,000달러" not in post["text"]
        assert "이 채널의 검색 범위: 기간 2023-01-01 ~ 현재" in post["text"]
        blocks = json.loads(post["blocks"]) if isinstance(post["blocks"], str) else post["blocks"]
        assert any("검색 범위" in e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
        s.event({"type": "message", "channel_type": "channel", "channel": "CTEAM", "user": "U1",
                 "text": "V100 가격을 다시 알려줘", "ts": "1700000021.000200", "thread_ts": ts})
        follow = fake.wait_for("chat.postMessage", 3)[2]
        assert follow["thread_ts"] == ts and "9,000달러" not in follow["text"] and "검색 범위" in follow["text"]
        s.command(v100, channel="CTEAM")
        reply = fake.wait_for("response_url")[0]
        assert "9,000달러" not in reply["text"] and "검색 범위" in reply["text"]
        s.event(mention(v100, "1700000022.000100", channel="CNONE"))
        post = fake.wait_for("chat.postMessage", 4)[3]
        assert "조건에 맞는 문서가 없습니다" in post["text"] and "9,000달러" not in post["text"]
        assert "발행처 서울신문" in post["text"]
    finally:
        s.stop()


def test_scopes_setting_is_parsed_once_and_checked(monkeypatch):
    from bot.config import load_settings
    from bot.errors import ConfigError
    from bot.types import Filters

    monkeypatch.setenv("KBOT_SLACK_SCOPES", "CTEAM:publisher=서울신문|래블업(Lablup),since=2023-01-01;*:until=2024")
    s = load_settings(_env_file=None)
    assert s.slack_scope("CTEAM") == Filters(publishers={"서울신문", "래블업(Lablup)"}, date_from="2023-01-01")
    assert s.slack_scope("CELSE") == s.slack_scope("D0001") == Filters(date_to="2024")
    monkeypatch.setenv("KBOT_SLACK_SCOPES", '{"CTEAM": {"publisher": ["서울신문"], "until": "2024-12-31"}}')
    assert load_settings(_env_file=None).slack_scope("CTEAM") == Filters(publishers="서울신문", date_to="2024-12-31")
    assert load_settings(_env_file=None).slack_scope("COTHER") is None
    for bad in ("CTEAM:since=2023-13-01", "CTEAM", "CTEAM:color=red", '{"CTEAM": ', '{"CTEAM": {}}'):
        monkeypatch.setenv("KBOT_SLACK_SCOPES", bad)
        with pytest.raises(ConfigError, match="KBOT_SLACK_SCOPES"):
            load_settings(_env_file=None)


def test_kbot_serve_mounts_the_bot_and_refuses_unsigned_events(corpus_kb, fake, tmp_path):
    """`kbot serve` with a Slack token and signing secret (and API keys): the events endpoint is served beside the UI,
    the API and MCP. Slack signs its requests instead of sending a key, so the keys do not gate it, the signature
    does: forged, stale and unsigned events are refused before the bot sees them; a signed mention gets one threaded
    reply with its sources through the Slack Web API."""
    from serving import running

    key = "ops-key-0123456789abcdef"
    with running(slack_kb(corpus_kb, fake, tmp_path, api_keys=SecretStr(f"ops={key}"))) as base:
        slack = Sender(f"{base}/slack/events", fake)
        ev = mention(Q, "1700000030.000100")
        assert slack.event(ev, secret="forged-secret").status_code == 401
        assert slack.event(ev, ts=int(time.time()) - 600).status_code == 401
        assert slack.event(ev, secret=None).status_code == 401
        assert not fake.of("reactions.add") and not fake.of("chat.postMessage")
        assert slack.event(ev).status_code == 200
        post = fake.wait_for("chat.postMessage")[0]
        assert post["channel"] == "CGENERAL" and post["thread_ts"] == "1700000030.000100"
        assert "8센트" in post["text"] and "[1]" in post["text"]
        blocks = json.loads(post["blocks"]) if isinstance(post["blocks"], str) else post["blocks"]
        sources = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
        assert sources.startswith("*출처*") and "GPT-3 유료화" in sources
        fake.wait_for("reactions.remove")  # the bot is done with the mention
        assert len(fake.of("chat.postMessage")) == 1  # the refused deliveries were never taken in
        # the same process still gates its API with the keys
        assert httpx.get(f"{base}/v1/documents").status_code == 401
        assert httpx.get(f"{base}/v1/documents", headers={"X-API-Key": key}).status_code == 200
