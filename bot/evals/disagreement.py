"""How well `bot.disagree` flags sources that differ: questions written about corpus/ (tests/data/disagreement.jsonl),
each labelled whether its evidence truly disagrees, split with a fixed seed into a tuning half (where the tolerance
is chosen) and a test half (what is reported).

A flag is right when the question truly has a disagreement and every expected value is shown; precision is right
flags over flags, recall right flags over true disagreements. Questions are asked through the public API
(`kb.ask`), so a question the answer gate refuses cannot be flagged.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

SEED = 14
TOLERANCES = (0.05, 0.10, 0.15, 0.20, 0.30, 0.40)


@dataclass(frozen=True)
class Item:
    q: str
    disagree: bool
    values: tuple[str, ...]


def split(path: Path, seed: int = SEED) -> dict[str, list[Item]]:
    rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    items = [Item(r["q"], bool(r["disagree"]), tuple(r.get("values", ()))) for r in rows]
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    half = len(order) // 2
    return {"tuning": [items[i] for i in order[:half]], "test": [items[i] for i in order[half:]]}


def score(kb, items: list[Item], tolerance: float | None = None) -> dict:
    """Ask each question; count flags, right flags, true disagreements caught. `tolerance` overrides the default."""
    from .. import disagree

    old = disagree.TOLERANCE
    if tolerance is not None:
        disagree.TOLERANCE = tolerance
    try:
        rows = []
        for it in items:
            a = kb.ask(it.q)
            shown = [s.text for s in a.disagreement]
            flagged = bool(shown)
            right = flagged and it.disagree and all(any(v in s for s in shown) for v in it.values)
            rows.append({"q": it.q, "truth": it.disagree, "flagged": flagged, "right": right, "shown": shown})
    finally:
        disagree.TOLERANCE = old
    flags = sum(r["flagged"] for r in rows)
    right = sum(r["right"] for r in rows)
    true = sum(it.disagree for it in items)
    return {"questions": len(items), "true": true, "flagged": flags, "right": right,
            "precision": right / flags if flags else None, "recall": right / true if true else None, "rows": rows}
