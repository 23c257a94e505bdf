"""Train the answerability models on the tuning halves of every question style and write bot/data/answerability.json
(which sentence answers a factoid question, and whether) and bot/data/passages.json (whether a passage answers an
open question, and whether retrieval found anything relevant at all).

    .venv/bin/python scripts/train_answerability.py [--korquad ../shared/bench/korquad/KorQuAD_v1.0_dev.json]
    .venv/bin/python scripts/train_answerability.py --rows ROWS --nested   # the bar policy on held-out articles

Reproducible up to retrieval: every split has a fixed seed, the indexes are rebuilt from the same texts, the encoder
runs one text at a time and the solvers are deterministic, but Chroma's approximate (HNSW) search can return a
slightly different dense candidate list from one process to the next (2 of 300 KorQuAD questions' top 20 differed
between two runs on one index), so a few candidates' features move and the bars with them (three runs: written bars
0.129-0.167). `--refit --rows FILE` is bit-identical. tests/test_answerability.py retrains and compares with the
committed parameters within those tolerances.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REWRITES = 600  # colloquial rewrites of the KorQuAD tuning half's questions
# The false-refusal bound every bar is tuned to, out of fold on the tuning halves. The guide's limit is 0.05 on unseen
# questions; tuned to 0.04, the test halves ran 0.054-0.059 (factoid, explanatory) in two runs, so the bound keeps
# that gap in hand.
MAX_FALSE_REFUSAL = 0.03
# The written register's bar (KorQuAD-style questions) ran further over its bound on unseen articles than the others:
# 0.051 on the factoid test half at 0.03, where the spoken register's styles ran at or under it (0.027). KorQuAD's
# articles are large clusters (one article held 12 of those 86 refusals), so the written bar keeps a wider margin.
WRITTEN_BOUND = 0.025


def train(korquad: Path, work: Path, log=print, rows: list | None = None, corpus_weight: float = 20.0,
          style_weight: float = 5.0, passages: dict | None = None, cache: Path | None = None) -> dict:
    """The factoid model's parameters; `rows`, when given, receives its candidates' feature rows, and `passages`,
    when given, the passage model's parameters.

    Training data, tuning halves only: KorQuAD's questions and their colloquial rewrites; the questions written
    about corpus/ (tests/data/corpus_answerability.jsonl, weighted `corpus_weight`: 28 against about 2,400, and the
    domain kbot serves) and in every style (tests/data/styles/corpus_styles.jsonl); the report questions
    (tests/data/styles/, weighted `style_weight`). The factoid threshold keeps out-of-fold false refusals within
    MAX_FALSE_REFUSAL in every style.
    """
    from bot.answerability import register
    from bot.config import Settings
    from bot.embeddings import Encoder
    from bot.evals.answerability import build, corpus_items, fit, open_corpus, open_half, training_rows
    from bot.evals.styles import (
        corpus_halves,
        fit_passages,
        judge_rows,
        korquad_items,
        open_reports,
        report_halves,
    )

    settings = Settings(_env_file=None)
    encoder = Encoder(settings)
    tune = build(korquad)["tune"]
    kb = open_half(settings, tune, work, encoder, log)
    xs, ys, groups = training_rows(kb, tune.items, log)
    weights = [1.0] * len(ys)
    items, styles = list(tune.items), ["factoid"] * len(tune.items)
    registers = [register(it.question) for it in tune.items]
    written = corpus_items(ROOT / "tests" / "data" / "corpus_answerability.jsonl")["tune"]
    ckb = open_corpus(settings, ROOT / "corpus", work, encoder, log)
    cx, cy, cg = training_rows(ckb, written, log)
    xs += cx
    ys += cy
    groups += [len(items) + g for g in cg]
    weights += [corpus_weight] * len(cy)
    items += written
    styles += ["factoid"] * len(written)
    registers += [register(it.question) for it in written]

    docs, reports = report_halves()["tune"]
    rkb = open_reports(settings, docs, "reports-tune", work, encoder, log)
    colloquial = [it for it in korquad_items(tune, korquad, REWRITES) if it.style == "colloquial"]
    written_styles = corpus_halves()["tune"]
    for skb, sitems, w in ((kb, colloquial, 1.0), (rkb, reports, style_weight), (ckb, written_styles, corpus_weight)):
        sx, sy, sg, units = judge_rows(skb, sitems, log)
        xs += sx
        ys += sy
        groups += [len(items) + g for g in sg]
        weights += [w] * len(sy)
        items += [u for u, _, _ in units]
        styles += [s.split("/")[1] for _, s, _ in units]
        registers += [r for _, _, r in units]
    if rows is not None:
        rows.extend(xs)
    prows: list = []
    if passages is not None:
        prows = _passage_rows(kb, ckb, rkb, tune, reports, written_styles, colloquial, korquad, log)
        passages.update(fit_passages(prows, MAX_FALSE_REFUSAL))
    if cache is not None:
        import pickle

        cache.write_bytes(pickle.dumps((xs, ys, groups, items, weights, styles, registers, prows)))
    return fit(xs, ys, groups, items, MAX_FALSE_REFUSAL, weights=weights, styles=styles, registers=registers,
               written_bound=WRITTEN_BOUND)


def train_passages(korquad: Path, work: Path, log=print) -> dict:
    """The passage model alone, from the same tuning sets and indexes as `train`."""
    from bot.config import Settings
    from bot.embeddings import Encoder
    from bot.evals.answerability import build, open_corpus, open_half
    from bot.evals.styles import corpus_halves, fit_passages, korquad_items, open_reports, report_halves

    settings = Settings(_env_file=None)
    encoder = Encoder(settings)
    tune = build(korquad)["tune"]
    kb = open_half(settings, tune, work, encoder, log)
    ckb = open_corpus(settings, ROOT / "corpus", work, encoder, log)
    docs, reports = report_halves()["tune"]
    rkb = open_reports(settings, docs, "reports-tune", work, encoder, log)
    colloquial = [it for it in korquad_items(tune, korquad, REWRITES) if it.style == "colloquial"]
    return fit_passages(_passage_rows(kb, ckb, rkb, tune, reports, corpus_halves()["tune"], colloquial, korquad, log),
                        MAX_FALSE_REFUSAL)


def _passage_rows(kb, ckb, rkb, tune, reports, written_styles, colloquial, korquad: Path, log) -> list:
    """The passage model's rows: every report and corpus-style question, 300 colloquial rewrites and every eighth
    KorQuAD question of the tuning half (so the relevance bar sees factoid questions too)."""
    from bot.evals.styles import korquad_items, passage_rows

    prows = passage_rows(rkb, reports, log) + passage_rows(ckb, written_styles, log)
    prows += passage_rows(kb, colloquial[:300], log)
    return prows + passage_rows(kb, korquad_items(tune, korquad, 0)[::8], log)


def refit(cache: Path, passages: dict | None = None) -> dict:
    """Fit again from the rows a previous `train` saved (to try fitting choices without recomputing features)."""
    import pickle

    from bot.evals.answerability import fit
    from bot.evals.styles import fit_passages

    xs, ys, groups, items, weights, styles, registers, prows = pickle.loads(cache.read_bytes())
    if passages is not None:
        passages.update(fit_passages(prows, MAX_FALSE_REFUSAL))
    return fit(xs, ys, groups, items, MAX_FALSE_REFUSAL, weights=weights, styles=styles, registers=registers,
               written_bound=WRITTEN_BOUND)


def nested(cache: Path, bound: float = MAX_FALSE_REFUSAL, splits: int = 3, log=print) -> list[dict]:
    """What the bar policy gives on articles it never saw, from the tuning half alone: the saved rows' articles are
    split in two (seeded, as the folds are drawn); bars set out of fold on one half at `bound` are applied to the
    other half's questions, and the other way round. Returns each run's held-out false refusals and refusals."""
    import pickle

    import numpy as np

    from bot.answerability import Model
    from bot.evals.answerability import SEED, article_halves, fit

    xs, ys, groups, items, weights, styles, registers, _ = pickle.loads(cache.read_bytes())
    g, w = np.asarray(groups), np.asarray(weights)
    runs = []
    for seed in range(1, splits + 1):
        side = article_halves(items, SEED + seed)
        for half in (0, 1):
            own, other = np.where(side == half)[0], np.where(side != half)[0]
            renumber = {int(i): j for j, i in enumerate(own)}
            rows = np.where(np.isin(g, own))[0]
            params = fit([xs[i] for i in rows], [ys[i] for i in rows], [renumber[int(g[i])] for i in rows],
                         [items[i] for i in own], bound, weights=list(w[rows]), styles=[styles[i] for i in own],
                         registers=[registers[i] for i in own], written_bound=WRITTEN_BOUND)
            held = np.where(np.isin(g, other))[0]
            best: dict[int, float] = {}
            for i, p in zip(held, Model.from_dict(params).probs([xs[i] for i in held])):
                best[int(g[i])] = max(best.get(int(g[i]), 0.0), float(p))
            bars = params["thresholds"]
            run = {"seed": seed, "half": half, "bars": bars}
            for style in ("factoid", "colloquial"):
                refused = {i: best.get(i, 0.0) < bars[registers[i]] for i in other if styles[i] == style}
                ans = [r for i, r in refused.items() if items[i].answerable]
                near = [r for i, r in refused.items() if not items[i].answerable]
                run[style] = {"false_refusal": round(float(np.mean(ans)), 4), "refusal": round(float(np.mean(near)), 4),
                              "answerable": len(ans)}
            log(json.dumps(run, ensure_ascii=False))
            runs.append(run)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--korquad", type=Path, default=ROOT.parent / "shared/bench/korquad/KorQuAD_v1.0_dev.json")
    ap.add_argument("--work", type=Path, default=None, help="Where the tuning indexes are built (default: a temp dir).")
    ap.add_argument("--out", type=Path, default=ROOT / "bot/data/answerability.json")
    ap.add_argument("--passages-out", type=Path, default=ROOT / "bot/data/passages.json")
    ap.add_argument("--rows", type=Path, default=None, help="Save the feature rows here (or, with --refit, read them).")
    ap.add_argument("--refit", action="store_true", help="Fit from the rows saved by an earlier run.")
    ap.add_argument("--passages-only", action="store_true", help="Only the passage model (needs --work's indexes).")
    ap.add_argument("--nested", action="store_true", help="From --rows: the bars' false refusals on held-out "
                                                          "tuning articles (nothing is written).")
    args = ap.parse_args()
    if args.nested:
        nested(args.rows)
        return
    passages: dict = {}
    if args.passages_only:
        args.passages_out.write_text(json.dumps(train_passages(args.korquad, args.work), ensure_ascii=False,
                                                indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.passages_out}")
        return
    if args.refit:
        params = refit(args.rows, passages)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            params = train(args.korquad, args.work or Path(tmp), passages=passages, cache=args.rows)
    args.out.write_text(json.dumps(params, separators=(",", ":")) + "\n", encoding="utf-8")
    args.passages_out.write_text(json.dumps(passages, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: threshold {params['threshold']}, {params['meta']}")
    print(f"wrote {args.passages_out}: refuse {passages['refuse']}, stated {passages['stated']}, "
          f"relevant {passages['relevant']}, {passages['meta']}")


if __name__ == "__main__":
    main()
