"""Load check for the Slack bot: N concurrent signed mentions -> N threaded replies, none lost or duplicated.

Runs the real Bolt app behind uvicorn on 127.0.0.1 against the fake Slack Web API of the tests, on the index
of the current settings (KBOT_DATA_DIR, ...). Prints ack and answer latencies. Not a test: a measurement.

    KBOT_DATA_DIR=.kbot .venv/bin/python scripts/load_slack.py --mentions 20
"""

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mentions", type=int, default=20)
    args = ap.parse_args()
    from fake_slack import FakeSlack
    from pydantic import SecretStr
    from test_slack import SECRET, Server, mention

    from bot.api import KnowledgeBase
    from bot.config import load_settings

    fake = FakeSlack()
    settings = load_settings(slack_bot_token=SecretStr(fake.token), slack_signing_secret=SecretStr(SECRET),
                             slack_api_url=fake.api_url, llm="extractive")
    kb = KnowledgeBase.open(settings)
    kb.warm()
    server = Server(kb, fake)
    questions = [json.loads(x)["question"] for x in (ROOT.parent / "shared/eval/dev.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    acks: list[float] = []
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def send(i: int) -> None:
        ts = f"1800000000.{i:06d}"
        t = time.perf_counter()
        with lock:
            sent[ts] = t
        r = server.event(mention(questions[i % len(questions)], ts, user=f"U{i:03d}"))
        with lock:
            acks.append(time.perf_counter() - t)
        assert r.status_code == 200, r.status_code

    t0 = time.perf_counter()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(args.mentions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    done: dict[str, float] = {}
    deadline = time.time() + 600
    while time.time() < deadline:
        for p in fake.of("chat.postMessage"):
            done.setdefault(p["thread_ts"], time.perf_counter())
        if len(done) >= args.mentions:
            break
        time.sleep(0.05)
    time.sleep(2.0)  # anything duplicated would arrive now
    posts = Counter(p["thread_ts"] for p in fake.of("chat.postMessage"))
    lost = [ts for ts in sent if ts not in posts]
    dup = {ts: n for ts, n in posts.items() if n > 1}
    answer_s = sorted(done[ts] - sent[ts] for ts in done if ts in sent)
    print(f"{args.mentions} mentions: {len(posts)} threads answered, {sum(posts.values())} replies, lost {len(lost)}, "
          f"duplicated {len(dup)}; all done in {max(done.values()) - t0:.1f}s")
    print(f"ack p50 {statistics.median(acks) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms; "
          f"reply p50 {statistics.median(answer_s):.2f}s, max {answer_s[-1]:.2f}s "
          f"({settings.slack_workers} answering workers)")
    server.stop()
    fake.stop()


if __name__ == "__main__":
    main()
