"""Train the answerability model on the tuning half of the KorQuAD benchmark and write bot/data/answerability.json.

    .venv/bin/python scripts/train_answerability.py [--korquad ../shared/bench/korquad/KorQuAD_v1.0_dev.json]

Reproducible: the split has a fixed seed, the index is rebuilt from the same paragraphs, and the solver is
deterministic; tests/test_answerability.py retrains and compares with the committed parameters.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def train(korquad: Path, work: Path, log=print, rows: list | None = None, corpus_weight: float = 20.0) -> dict:
    """The model's parameters; `rows`, when given, receives the candidates' feature rows.

    Training data: KorQuAD's tuning half, plus the tuning half of the questions written about corpus/
    (tests/data/corpus_answerability.jsonl), each of those weighted `corpus_weight` times (they are 28 against
    about 2,400, and they are the domain kbot serves).
    """
    from bot.config import Settings
    from bot.embeddings import Encoder
    from bot.evals.answerability import build, corpus_items, fit, open_corpus, open_half, training_rows

    settings = Settings(_env_file=None)
    encoder = Encoder(settings)
    tune = build(korquad)["tune"]
    kb = open_half(settings, tune, work, encoder, log)
    xs, ys, groups = training_rows(kb, tune.items, log)
    weights = [1.0] * len(ys)
    written = corpus_items(ROOT / "tests" / "data" / "corpus_answerability.jsonl")["tune"]
    ckb = open_corpus(settings, ROOT / "corpus", work, encoder, log)
    cx, cy, cg = training_rows(ckb, written, log)
    xs += cx
    ys += cy
    groups += [len(tune.items) + g for g in cg]
    weights += [corpus_weight] * len(cy)
    if rows is not None:
        rows.extend(xs)
    return fit(xs, ys, groups, tune.items + written, weights=weights)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--korquad", type=Path, default=ROOT.parent / "shared/bench/korquad/KorQuAD_v1.0_dev.json")
    ap.add_argument("--work", type=Path, default=None, help="Where the tuning index is built (default: a temp dir).")
    ap.add_argument("--out", type=Path, default=ROOT / "bot/data/answerability.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        params = train(args.korquad, args.work or Path(tmp))
    args.out.write_text(json.dumps(params, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: threshold {params['threshold']}, {params['meta']}")


if __name__ == "__main__":
    main()
