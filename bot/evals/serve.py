"""`kbot bench serve`: what HTTP adds to an answer, measured against in-process `kb.ask` in the same run.

One client asks one question at a time. Every question is first asked once in-process and once over HTTP (untimed),
so both sides meet the same warm caches; then each timed pair asks the same question both ways back to back, in
alternating order (in-process first on even pairs, HTTP first on odd ones), so drift in the machine's load and any
advantage of going second hit both sides alike. Two ways to serve, both on 127.0.0.1:

- `thread`: `create_app(kb)` (UI, REST, OpenAI-compatible chat and MCP, as `kbot serve` builds it) under uvicorn in
  a thread of this process, on the very `KnowledgeBase` the in-process calls use (same index, same caches);
- `process`: a `kbot serve` subprocess on the same data dir (its own caches, warmed by the untimed pass).

Reported: p50/p95 of both sides, the overhead (HTTP p50 minus in-process p50) and their ratio, the median and p95
of the per-pair differences, and the time HTTP adds around the server's own `kb.ask` inside the same requests (the
client's time minus the `Server-Timing` `ask` duration).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from ..api import KnowledgeBase
from ..config import Settings
from .evaluate import percentile

TARGET_MS = 15.0  # issue 22: HTTP overhead over in-process kb.ask at p50
QUESTIONS = ["크리에이트 요금제는 추가 1000개당 얼마야?", "V100 가격은 얼마야?", "GPT-3 파라미터는 몇 개야?",
             "빌드 요금제의 월 요금은?", "GPT-3 학습 비용은 얼마나 들었어?", "H100 가격은?",
             "스케일 요금제는 어떻게 돼?", "오픈소스 LLM의 장점은?", "컴퓨팅 확보가 왜 중요해?",
             "GPT-3가 바꿔놓은 것은?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, alive: Callable[[], bool], seconds: float = 300) -> None:
    """Until `GET /readyz` answers 200 (the index loaded, a query can run)."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server at {base} never became ready")
        time.sleep(0.2)


@contextmanager
def uvicorn_thread(app, ready: bool = True) -> Iterator[str]:
    """Serve the ASGI `app` with uvicorn on 127.0.0.1 (a free port) in a thread of this process, with the options
    `kbot serve` uses; yields the base URL once it listens (and, with `ready`, once /readyz says ready)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_keep_alive=30, h11_max_incomplete_event_size=64 * 1024))
    thread = threading.Thread(target=server.run, name="kbot-uvicorn", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        if ready:
            wait_ready(base, thread.is_alive, deadline - time.monotonic())
        yield base
    finally:
        server.should_exit = True
        thread.join(30)


@contextmanager
def serve_process(settings: Settings, key: str) -> Iterator[str]:
    """A `kbot serve` subprocess on `settings.data_dir` (extractive or the configured backend, one API key)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KBOT_")}
    env |= {"KBOT_DATA_DIR": str(settings.data_dir), "KBOT_MODEL_CACHE_DIR": str(settings.model_cache_dir),
            "KBOT_CORPUS_DIR": str(settings.corpus_dir), "KBOT_LLM": settings.llm, "KBOT_PORT": str(port),
            "KBOT_API_KEYS": f"bench={key}", "KBOT_API_RATE_LIMIT": str(settings.api_rate_limit),
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, lambda: proc.poll() is None)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def server_seconds(r, name: str = "ask") -> float | None:
    """A duration from the response's `Server-Timing` header (`wait;dur=0.0, ask;dur=37.1`), in seconds."""
    for part in r.headers.get("server-timing", "").split(","):
        key, _, dur = part.strip().partition(";dur=")
        if key == name and dur:
            return float(dur) / 1000
    return None


def _ms(xs: list[float]) -> dict:
    return {"p50": statistics.median(xs) * 1000, "p95": percentile(xs, 95) * 1000} if xs else {}


def overhead(kb: KnowledgeBase, base: str, key: str | None, questions: list[str], pairs: int = 200,
             log: Callable = print) -> dict:
    """Time `pairs` questions in-process and through `POST /v1/ask` at `base`, alternately (see the module)."""
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request (the MCP SDK turns INFO on)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=600) as c:
        def http(q: str) -> tuple[float, float | None, str]:
            t = time.perf_counter()
            r = c.post("/v1/ask", json={"question": q})
            took = time.perf_counter() - t
            r.raise_for_status()
            return took, server_seconds(r), r.json()["status"]

        def local(q: str) -> tuple[float, str]:
            t = time.perf_counter()
            answer = kb.ask(q)
            return time.perf_counter() - t, answer.status

        log(f"  warming: {len(questions)} questions once each way")
        for q in questions:
            local(q)
            http(q)
        inproc, over, outside, differ = [], [], [], 0
        load = os.getloadavg()[0]
        for i in range(pairs):
            q = questions[i % len(questions)]
            if i % 2:
                (h, inside, h_status), (a, a_status) = http(q), local(q)
            else:
                (a, a_status), (h, inside, h_status) = local(q), http(q)
            inproc.append(a)
            over.append(h)
            if inside is not None:
                outside.append(h - inside)
            differ += a_status != h_status
    diffs = [h - a for a, h in zip(inproc, over)]
    p_in, p_http = statistics.median(inproc) * 1000, statistics.median(over) * 1000
    return {"pairs": pairs, "questions": len(questions), "inproc_ms": _ms(inproc), "http_ms": _ms(over),
            "overhead_p50_ms": p_http - p_in, "ratio_p50": p_http / p_in,
            "pair_difference_ms": {"p50": statistics.median(diffs) * 1000, "p95": percentile(diffs, 95) * 1000,
                                   "min": min(diffs) * 1000, "max": max(diffs) * 1000},
            "around_server_ask_ms": _ms(outside), "status_mismatches": differ,
            "loadavg_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
            "times_ms": {"inproc": [round(x * 1000, 2) for x in inproc], "http": [round(x * 1000, 2) for x in over]}}


def render(results: dict) -> str:
    """The numbers as lines of text, one block per way of serving."""
    lines = []
    for mode, r in results["modes"].items():
        i, h, d, o = r["inproc_ms"], r["http_ms"], r["pair_difference_ms"], r["around_server_ask_ms"]
        verdict = "within" if r["overhead_p50_ms"] <= TARGET_MS else "OVER"
        lines += [f"{mode}: {r['pairs']} pairs over {r['questions']} questions, one client, one at a time, warm, "
                  f"alternating (load average {r['loadavg_1m'][0]} -> {r['loadavg_1m'][1]})",
                  f"  in-process kb.ask   p50 {i['p50']:7.1f} ms   p95 {i['p95']:7.1f} ms",
                  f"  HTTP POST /v1/ask   p50 {h['p50']:7.1f} ms   p95 {h['p95']:7.1f} ms",
                  f"  overhead at p50: {r['overhead_p50_ms']:.1f} ms ({verdict} the {TARGET_MS:g} ms target), "
                  f"ratio {r['ratio_p50']:.2f}x",
                  f"  per-pair difference (HTTP - in-process): median {d['p50']:.1f} ms, p95 {d['p95']:.1f} ms, "
                  f"range {d['min']:.1f} .. {d['max']:.1f} ms",
                  f"  inside the same requests, client time minus the server's kb.ask (Server-Timing): "
                  f"p50 {o['p50']:.1f} ms, p95 {o['p95']:.1f} ms"]
        if r["status_mismatches"]:
            lines.append(f"  warning: {r['status_mismatches']} pairs got different answer statuses")
    return "\n".join(lines)


def run_serve_bench(settings: Settings, questions: list[str], out: Path, work: Path, pairs: int = 200,
                    modes: tuple[str, ...] = ("thread", "process"), log: Callable = print) -> str:
    """Index the corpus in `work` (incremental: kept for re-runs), then measure each way of serving; writes
    `out/serve.json` (with every timing) and returns the text report."""
    from ..server import create_app

    key = secrets.token_urlsafe(24)
    s = settings.model_copy(update={"data_dir": work, "chroma_host": None, "collection": "kbot", "host": "127.0.0.1",
                                    "api_keys": SecretStr(f"bench={key}"), "api_scopes": {},
                                    "api_rate_limit": 1_000_000})
    kb = KnowledgeBase.open(s)
    log(f"serve overhead: indexing {s.corpus_dir} in {work}")
    report = kb.ingest([s.corpus_dir])
    if not report.ok or kb.store.count() == 0:
        raise RuntimeError(f"indexing {s.corpus_dir} failed: {report.summary}")
    kb.warm()
    results = {"backend": kb.backend, "command": f"kbot bench serve --pairs {pairs}", "modes": {}}
    for mode in modes:
        log(f"serve overhead, {mode}: {pairs} pairs")
        if mode == "thread":
            with uvicorn_thread(create_app(kb)) as base:
                results["modes"][mode] = overhead(kb, base, key, questions, pairs, log)
        else:
            with serve_process(s, key) as base:
                results["modes"][mode] = overhead(kb, base, key, questions, pairs, log)
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return render(results)
