"""`kbot eval`: how good the bot is on a question file, per backend, with a Markdown + JSON + PNG report.

Question files are JSON lines like ../shared/eval/dev.jsonl:
  {"id": "d01", "type": "fact", "question": "...", "answers": ["크리에이트"]}
  {"id": "c01", "type": "cost", "question": "...", "number": 520, "unit": "USD", "rel_tol": 0.005}
  {"id": "r01", "type": "refuse", "question": "..."}
The metric functions are pure and tested on hand-made inputs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import EvalInputError
from ..numerals import find_numbers
from ..render import plain
from ..types import Answer

TYPES = ("fact", "cost", "refuse")
KS = (1, 3, 5, 10)
RETRIEVERS = ("hybrid", "dense", "sparse")


def load_questions(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(f"No question file at {path}: give a .jsonl like ../shared/eval/dev.jsonl.")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise EvalInputError(f"{path}:{n}: not JSON ({e.msg}).") from None
        kind = row.get("type")
        if kind not in TYPES or not str(row.get("question", "")).strip():
            raise EvalInputError(f"{path}:{n}: needs \"question\" and \"type\" (one of {', '.join(TYPES)}).")
        if kind == "fact" and not row.get("answers"):
            raise EvalInputError(f"{path}:{n}: a fact question needs \"answers\" (a list of strings).")
        if kind == "cost" and not isinstance(row.get("number"), (int, float)):
            raise EvalInputError(f"{path}:{n}: a cost question needs \"number\".")
        row.setdefault("id", f"q{n:03d}")
        rows.append(row)
    if not rows:
        raise EvalInputError(f"{path} holds no questions.")
    return rows


# -- metrics (pure) -------------------------------------------------------------------------------------------
def first_rank(ranking: list[str], answers: list[str]) -> int | None:
    """1-based rank of the first text containing an answer string, or None."""
    return next((i for i, t in enumerate(ranking, 1) if any(a in t for a in answers)), None)


def recall_at(ranks: list[int | None], k: int) -> float:
    return sum(r is not None and r <= k for r in ranks) / len(ranks) if ranks else float("nan")


def mrr(ranks: list[int | None], k: int = 10) -> float:
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else float("nan")


def answer_correct(text: str, answers: list[str]) -> bool:
    return any(a in text for a in answers)


def citation_correct(cited_texts: list[str], answers: list[str]) -> bool:
    return any(a in t for t in cited_texts for a in answers)


def cost_correct(value: float | None, number: float, rel_tol: float = 0.0) -> bool:
    return value is not None and abs(value - number) <= max(rel_tol, 1e-9) * max(abs(number), 1e-12)


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def ungrounded_numbers(answer: str, cited_texts: list[str], tool_values: list[float] = ()) -> list[str]:
    """Numbers of `answer` found neither in a cited text nor among the cost tool's values.

    Compared by value after normalising Korean numerals and units (1750억 = 175B = 175,000,000,000); citation
    markers like [2] are not numbers, nor are digit-less words that parse as numerals (구조, 일조).
    """
    import re

    body = re.sub(r"\[\d+(?:\s*,\s*\d+)*\]", " ", answer)
    known = [q.value for t in cited_texts for q in find_numbers(t)] + list(tool_values)

    def grounded(v: float) -> bool:
        return any(abs(v - k) <= 1e-9 * max(abs(k), 1.0) for k in known)

    # expressions without a digit are skipped: in prose "구조" (structure) or "일조" are words, not 9조 or 1조
    return [q.text for q in find_numbers(body) if re.search(r"\d", q.text) and not grounded(q.value)]


# -- running --------------------------------------------------------------------------------------------------
@dataclass
class Record:
    id: str
    type: str
    question: str
    status: str
    answer: str
    sources: list[str]
    correct: bool
    cited_correct: bool | None
    ungrounded: list[str]
    invented: int
    ask_ms: float
    expected: str
    ranks: dict[str, int | None] = field(default_factory=dict)
    search_ms: float = 0.0


def _expected(row: dict) -> str:
    if row["type"] == "fact":
        return " | ".join(row["answers"])
    if row["type"] == "cost":
        return f"{row['number']:g} {row.get('unit', '')}".strip()
    return "(no answer)"


def evaluate_row(kb, row: dict, k: int = 10) -> Record:
    """Ask one question (and, for facts, rank the chunks with each retriever)."""
    ranks: dict[str, int | None] = {}
    search_ms = 0.0
    if row["type"] == "fact":
        for mode in RETRIEVERS:
            t = time.perf_counter()
            hits = kb.search(row["question"], k=k, mode=mode)
            if mode == "hybrid":
                search_ms = (time.perf_counter() - t) * 1000
            ranks[mode] = first_rank([h.text for h in hits], row["answers"])
    t = time.perf_counter()
    a: Answer = kb.ask(row["question"])
    ask_ms = (time.perf_counter() - t) * 1000
    cited = [c.hit.text for c in a.citations]
    # numbers the user gave, and everything the cost tool computed or assumed, are grounded
    tool_values = [q.value for q in find_numbers(row["question"])]
    if (r := a.calculation) is not None:
        tool_values += [r.value] + [c.value for c in r.sources]
        tool_values += [q.value for t in (r.formula, *r.assumptions) for q in find_numbers(t)]
    if row["type"] == "fact":
        correct, cited_ok = answer_correct(a.body, row["answers"]) and a.status == "answered", \
            citation_correct(cited, row["answers"])
    elif row["type"] == "cost":
        value = r.value if a.status == "calculated" and r is not None else None
        correct, cited_ok = cost_correct(value, row["number"], row.get("rel_tol", 0.0)), None
    else:
        correct, cited_ok = a.status in ("no_answer", "unsupported"), None
    ungrounded = ungrounded_numbers(a.body, cited, tool_values) if a.status == "answered" else []
    return Record(row["id"], row["type"], row["question"], a.status, plain(a),
                  [f"[{c.number}] {c.hit.title}" for c in a.citations], correct, cited_ok, ungrounded,
                  a.removed_citations, ask_ms, _expected(row), ranks, search_ms)


def summarise(records: list[Record]) -> dict:
    facts = [r for r in records if r.type == "fact"]
    costs = [r for r in records if r.type == "cost"]
    refuse = [r for r in records if r.type == "refuse"]

    def share(xs: list, pred: Callable) -> float | None:
        return sum(map(pred, xs)) / len(xs) if xs else None

    out: dict = {
        "questions": len(records),
        "answer_accuracy": share(facts, lambda r: r.correct),
        "citation_accuracy": share(facts, lambda r: r.cited_correct),
        "cost_accuracy": share(costs, lambda r: r.correct),
        "refusal_accuracy": share(refuse, lambda r: r.correct),
        "false_refusal_rate": share(facts + costs, lambda r: r.status in ("no_answer", "unsupported")),
        "invented_citations": sum(r.invented for r in records),
        "ungrounded_numbers": sum(len(r.ungrounded) for r in records),
        "ask_ms_p50": percentile([r.ask_ms for r in records], 50),
        "ask_ms_p95": percentile([r.ask_ms for r in records], 95),
        "search_ms_p50": percentile([r.search_ms for r in facts], 50),
        "search_ms_p95": percentile([r.search_ms for r in facts], 95),
        "retrieval": {},
    }
    for mode in RETRIEVERS:
        ranks = [r.ranks.get(mode) for r in facts]
        if ranks:
            out["retrieval"][mode] = {**{f"hit@{k}": recall_at(ranks, k) for k in KS}, "MRR@10": mrr(ranks)}
    return out


def failures(records: list[Record]) -> list[Record]:
    return [r for r in records if not r.correct or r.cited_correct is False or r.ungrounded]


def run_eval(kb, rows: list[dict], progress: Callable[[int, int, str], None] | None = None) -> dict:
    records = []
    for i, row in enumerate(rows, 1):
        records.append(evaluate_row(kb, row))
        if progress:
            progress(i, len(rows), row["id"])
    return {"backend": kb.backend, "summary": summarise(records), "records": [asdict(r) for r in records]}


# -- report ---------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.1f}"
    return str(v)


def write_report(runs: list[dict], out: Path, title: str, questions: Path, command: str | None = None) -> Path:
    """report.md, report.json and PNG plots in `out` for one or more backends' runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"title": title, "questions": str(questions), "runs": runs},
                                                ensure_ascii=False, indent=1), encoding="utf-8")
    first = runs[0]["summary"]
    # recall@k per retriever (retrieval does not depend on the backend)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for mode, m in first["retrieval"].items():
        ax.plot(KS, [m[f"hit@{k}"] for k in KS], marker="o", label=mode)
    ax.set(xlabel="k", ylabel="hit@k (fact questions)", ylim=(0, 1.05), xticks=KS, title="Recall@k per retriever")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=100)
    plt.close(fig)
    # latency histograms
    fig, axes = plt.subplots(1, len(runs) + 1, figsize=(4 * (len(runs) + 1), 3))
    facts = [r for r in runs[0]["records"] if r["type"] == "fact"]
    axes[0].hist([r["search_ms"] for r in facts], bins=15, color="tab:gray")
    axes[0].set(title="search (hybrid)", xlabel="ms", ylabel="questions")
    for ax, run in zip(axes[1:], runs):
        ax.hist([r["ask_ms"] for r in run["records"]], bins=15)
        ax.set(title=f"ask: {run['backend']}", xlabel="ms")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)
    # per-type accuracy
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    labels = ["fact answer", "fact citation", "cost", "refusal"]
    keys = ["answer_accuracy", "citation_accuracy", "cost_accuracy", "refusal_accuracy"]
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        ax.bar([x + i * width for x in range(len(keys))], [run["summary"][k] or 0 for k in keys], width,
               label=run["backend"])
    ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(keys))], labels)
    ax.set(ylim=(0, 1.05), ylabel="accuracy", title="Accuracy per question type")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=100)
    plt.close(fig)

    command = command or f"kbot eval {questions} --name {out.name}"
    lines = [f"# {title}", "", f"Questions: `{questions}` ({first['questions']}). Regenerate with `{command}`.", "",
             "| backend | answer acc. | citation acc. | cost acc. | refusal acc. | false refusals | invented "
             "citations | ungrounded numbers | ask p50 ms | ask p95 ms |", "|---" * 10 + "|"]
    for run in runs:
        s = run["summary"]
        lines.append(f"| {run['backend']} | " + " | ".join(_fmt(s[k]) for k in (
            "answer_accuracy", "citation_accuracy", "cost_accuracy", "refusal_accuracy", "false_refusal_rate",
            "invented_citations", "ungrounded_numbers", "ask_ms_p50", "ask_ms_p95")) + " |")
    lines += ["", "Retrieval (fact questions; a hit is a chunk containing an answer string):", "",
              "| retriever | " + " | ".join(f"hit@{k}" for k in KS) + " | MRR@10 |", "|---" * (len(KS) + 2) + "|"]
    for mode, m in first["retrieval"].items():
        lines.append(f"| {mode} | " + " | ".join(_fmt(m[f"hit@{k}"]) for k in KS) + f" | {_fmt(m['MRR@10'])} |")
    lines += ["", f"Search (hybrid, k=10) p50 {_fmt(first['search_ms_p50'])} ms, p95 "
              f"{_fmt(first['search_ms_p95'])} ms.", "",
              "![recall@k](recall_at_k.png) ![accuracy](accuracy.png)", "", "![latency](latency.png)", ""]
    for run in runs:
        fails = failures([Record(**r) for r in run["records"]])
        lines += [f"## Failures: {run['backend']} ({len(fails)})", ""]
        for r in fails:
            why = [] if r.correct else ["wrong"]
            why += ["citation misses the answer"] if r.cited_correct is False else []
            why += [f"ungrounded numbers: {', '.join(r.ungrounded)}"] if r.ungrounded else []
            answer = r.answer.replace("\n", " ")[:300]
            lines += [f"- **{r.id}** ({r.type}, {'; '.join(why)}) {r.question}", f"  - expected: {r.expected}",
                      f"  - got ({r.status}): {answer}", f"  - sources: {'; '.join(r.sources) or '–'}"]
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
