"""Load test of `kbot serve` on 127.0.0.1, bounded: N concurrent clients, each asking Q questions through /v1/ask
and Q through /v1/chat/completions (every other one streamed), while an upload is ingested.

    .venv/bin/python scripts/load_serve.py [--clients 50] [--questions 10] [--pairs 200]

Prints errors, p50/p95 per endpoint, the server's peak memory (VmHWM), the upload job's outcome, and the HTTP
overhead at p50: the same questions one at a time over HTTP minus in-process `kb.ask` on the same index, measured
as `kbot bench serve --mode process` does (bot/evals/serve.py: warm, alternating, --pairs pairs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.evals.serve import QUESTIONS, free_port, overhead, render, wait_ready

ROOT = Path(__file__).resolve().parents[1]
KEY = "load-test-key-0123456789abcdef"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def open_kb(data: Path):
    """The same index, in this process: corpus/ ingested, models loaded."""
    from bot.api import KnowledgeBase
    from bot.config import Settings

    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=data, llm="extractive"))
    assert kb.ingest([ROOT / "corpus"]).ok
    kb.warm()
    return kb


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client(base: str, n: int, lat: dict, errors: list, done: list) -> None:
    h = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=600) as c:
        for i in range(n):
            q = QUESTIONS[i % len(QUESTIONS)]
            t = time.perf_counter()
            r = await c.post("/v1/ask", json={"question": q})
            (lat["ask"].append(time.perf_counter() - t) if r.status_code == 200 and r.json()["status"]
             else errors.append(("ask", r.status_code)))
            done.append(time.perf_counter())
        for i in range(n):
            q = QUESTIONS[(i + 3) % len(QUESTIONS)]
            body = {"model": "kbot", "messages": [{"role": "user", "content": q}], "stream": i % 2 == 1}
            t = time.perf_counter()
            if body["stream"]:
                async with c.stream("POST", "/v1/chat/completions", json=body) as r:
                    text = (await r.aread()).decode()
                ok = r.status_code == 200 and text.rstrip().endswith("data: [DONE]") and '"error"' not in text
                key = "chat_stream"
            else:
                r = await c.post("/v1/chat/completions", json=body)
                ok = r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
                key = "chat"
            lat[key].append(time.perf_counter() - t) if ok else errors.append((key, r.status_code))
            done.append(time.perf_counter())


async def load(base: str, clients: int, questions: int, upload: Path) -> tuple[dict, list, dict, float]:
    lat: dict[str, list[float]] = {"ask": [], "chat": [], "chat_stream": []}
    errors: list = []
    done: list[float] = []
    h = {"Authorization": f"Bearer {KEY}"}
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(client(base, questions, lat, errors, done)) for _ in range(clients)]
    await asyncio.sleep(2)  # the upload goes in while the clients are asking
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=600) as c:
        start = time.perf_counter()
        r = await c.post("/v1/documents", files={"files": (upload.name, upload.read_bytes(), "text/plain")})
        job = r.json()["job"]
        while job["state"] not in ("done", "failed"):
            await asyncio.sleep(0.5)
            job = (await c.get(f"/v1/jobs/{job['id']}")).json()
        end = time.perf_counter()
    await asyncio.gather(*tasks)
    job["answered_while_ingesting"] = sum(start <= t <= end for t in done)
    job["ingest_seconds"] = end - start
    return lat, errors, job, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=200, help="timed pairs for the overhead measure")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kbot-load-"))
    data = work / "data"
    try:
        kb = open_kb(data)
        port = free_port()
        env = {**os.environ, "KBOT_DATA_DIR": str(data), "KBOT_PORT": str(port), "KBOT_LLM": "extractive",
               "KBOT_API_KEYS": f"load={KEY}", "KBOT_API_RATE_LIMIT": "100000", "HF_HUB_OFFLINE": "1"}
        server = subprocess.Popen([str(Path(sys.executable).parent / "kbot"), "serve"], env=env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, lambda: server.poll() is None)
            over = overhead(kb, base, KEY, QUESTIONS, args.pairs)
            upload = work / "upload.txt"
            para = "람다 프로젝트 {i}단계의 예산은 {b}억 원이다. 이 단계는 {y}년에 시작했고 담당 부서는 연구{i}팀이다."
            upload.write_text("\n\n".join(para.format(i=i, b=i * 7, y=2020 + i % 5) for i in range(400)),
                              encoding="utf-8")
            lat, errors, job, wall = asyncio.run(load(base, args.clients, args.questions, upload))
            peak = peak_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
        total = sum(map(len, lat.values()))
        print(f"clients {args.clients} x ({args.questions} /v1/ask + {args.questions} chat completions, every other "
              f"one streamed): {total} ok, {len(errors)} errors {errors[:5]}, {wall:.1f} s wall, "
              f"{total / wall:.1f} req/s")
        for k, xs in lat.items():
            if xs:
                print(f"  {k:12s} n={len(xs):4d} p50 {pct(xs, 50):8.1f} ms  p95 {pct(xs, 95):8.1f} ms")
        print(f"server peak memory (VmHWM): {peak:.0f} MB")
        print(f"upload during the load: {job['state']}, {job['report'] and job['report']['summary']}; "
              f"{job['answered_while_ingesting']} answers completed during its {job['ingest_seconds']:.1f} s")
        print(render({"modes": {"HTTP overhead (the same `kbot serve` process, before the load)": over}}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
