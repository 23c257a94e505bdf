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


if __name__ == "__main__":
    main()
