"""Measure disagreement flags on the corpus questions (tests/data/disagreement.jsonl): the tolerance is chosen on the
tuning half, precision and recall are reported on the test half. Not a test: a measurement.

    .venv/bin/python scripts/eval_disagreement.py [--data-dir DIR]

Indexes corpus/ into DIR (default: a temporary folder) with the default embedding model, extractive backend.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true", help="list the tuning half's questions and flags")
    args = ap.parse_args()
    from bot import disagree
    from bot.api import KnowledgeBase
    from bot.config import Settings
    from bot.evals.disagreement import TOLERANCES, score, split

    data = args.data_dir or Path(tempfile.mkdtemp(prefix="kbot-disagree-"))
    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=data, llm="extractive"))
    if kb.store.count() == 0:
        print(kb.ingest([ROOT / "corpus"]).summary())
    halves = split(ROOT / "tests/data/disagreement.jsonl")

    def line(name: str, r: dict) -> str:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        c = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        return (f"{name}: {r['questions']} questions, {r['true']} true disagreements, {r['flagged']} flagged, "
                f"{r['right']} right; precision {p}, recall {c}")

    print(f"default tolerance {disagree.TOLERANCE:.2f}")
    for t in TOLERANCES:
        print(line(f"tuning  tol={t:.2f}", score(kb, halves["tuning"], t)))
    if args.verbose:  # the tuning half's questions only: the test half is read for its numbers, never its errors
        for r in score(kb, halves["tuning"])["rows"]:
            print(("OK  " if r["flagged"] == r["truth"] else "BAD ") + f"{r['q']}  flagged={r['flagged']} {r['shown']}")
    print(line(f"TEST    tol={disagree.TOLERANCE:.2f}", score(kb, halves["test"])))
    timing(kb, [i.q for h in halves.values() for i in h])


def timing(kb, questions: list[str], rounds: int = 3) -> None:
    """What the disagreement check adds to an extractive answer: median ask time with and without it, same run."""
    import statistics
    import time

    flow = kb.flow
    real = flow.compare
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(rounds):
        for name, compare in (("without", lambda q, a, h, filters=None: a), ("with", real)):
            flow.compare = compare
            for q in questions:
                t = time.perf_counter()
                kb.ask(q)
                times[name].append(time.perf_counter() - t)
    flow.compare = real
    a, b = statistics.median(times["without"]), statistics.median(times["with"])
    print(f"ask p50 without the check {a * 1000:.0f} ms, with it {b * 1000:.0f} ms (x{b / a:.2f}), "
          f"{len(questions)} questions x {rounds}")


if __name__ == "__main__":
    main()
