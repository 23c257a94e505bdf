"""Every style of question (`kbot bench answerability`): factoid, colloquial, explanatory and multi-part.

The sets, each split with a fixed seed into a tuning half and a test half before anything was tuned:

- *KorQuAD factoid*: `answerability.build` (read from ../shared, never copied).
- *KorQuAD colloquial*: the same halves' questions rewritten by `colloquial.rewrite` as people type them into a chat
  box (spoken endings, synonyms, dropped particles, other word order, no two-word phrase of the paragraph), made at
  run time so no derivative of KorQuAD is stored.
- *Reports*: 26 report-like documents written for kbot (law, public administration, finance, commerce, technology;
  numbers, dates, tables written as rows; `tests/data/styles/docs_*.jsonl`) with 12 questions each in four styles
  (`questions_*.jsonl`). The documents are split by document; in each, two of six sections are held out of the
  index. A question whose sections are all indexed is answerable, one whose sections are all held out is a
  near-miss (its document is in the index, its passage is not), a multi-part question with one of each is partial.
- *Corpus styles*: colloquial, explanatory and multi-part questions written about `corpus/`, answerable, not
  (near-misses on the articles' own topics) or partial (`tests/data/styles/corpus_styles.jsonl`).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..types import SourceDoc

SEED = 20261207
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "styles"
HELD_OUT = 2  # sections of six held out of the index per report
# The passage shape, chosen on the tuning halves' answerable open parts (gold strings inside the passage): widths
# 2 / 3 / 4 / 6 sentences held 0.59 / 0.67 / 0.76 / 0.77 of them with the semantic shortlist, 0.49 / 0.62 / 0.74 /
# 0.77 without; the cosine's weight moved it by one question between 0.5 and 4.
WIDTH = 4
SEMANTIC = 1.0


@dataclass(frozen=True)
class StyleItem:
    qid: str
    set: str  # korquad | reports | corpus
    style: str  # factoid | colloquial | explanatory | multi
    question: str
    kind: str  # answerable | near_miss | partial
    golds: tuple[tuple[str, ...], ...]  # per part; () for a part the index lacks

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def _split(n: int, seed: int) -> tuple[set[int], set[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return set(order[: n // 2]), set(order[n // 2:])


def _rows(pattern: str) -> list[dict]:
    out = []
    for path in sorted(DATA.glob(pattern)):
        out += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


def report_halves(seed: int = SEED) -> dict[str, tuple[list[SourceDoc], list[StyleItem]]]:
    """Per half: the report documents to index (held-out sections removed) and their questions."""
    docs = sorted(_rows("docs_*.jsonl"), key=lambda d: d["doc_id"])
    questions = _rows("questions_*.jsonl")
    tune, _ = _split(len(docs), seed)
    rng = random.Random(seed + 1)
    out: dict[str, tuple[list[SourceDoc], list[StyleItem]]] = {"tune": ([], []), "test": ([], [])}
    for i, d in enumerate(docs):
        half = out["tune" if i in tune else "test"]
        ids = [s["id"] for s in d["sections"]]
        held = set(rng.sample(ids, HELD_OUT))
        kept = [s for s in d["sections"] if s["id"] not in held]
        text = "\n\n".join(f"{s['heading']}\n{s['text']}" for s in kept)
        half[0].append(SourceDoc(doc_id=f"rep-{d['doc_id']}", text=text, title=d["title"],
                                 source=f"styles:{d['doc_id']}", path="",
                                 content_hash=hashlib.sha256(text.encode()).hexdigest(),
                                 published=d.get("published"), publisher=d.get("publisher")))
        for q in (q for q in questions if q["doc"] == d["doc_id"]):
            indexed = [p["section"] not in held for p in q["parts"]]
            golds = tuple(tuple(p["gold"]) if ok else () for p, ok in zip(q["parts"], indexed))
            if all(indexed):
                kind = "answerable"
            elif not any(indexed):
                kind = "near_miss"
                if any(g in text for p in q["parts"] for g in p["gold"]):
                    continue  # the held-out fact is stated elsewhere after all: not a near-miss
            else:
                kind = "partial"
            half[1].append(StyleItem(q["id"], "reports", q["style"], q["q"], kind, golds))
    return out


def corpus_halves(seed: int = SEED) -> dict[str, list[StyleItem]]:
    rows = _rows("corpus_styles.jsonl")
    tune, _ = _split(len(rows), seed)
    out: dict[str, list[StyleItem]] = {"tune": [], "test": []}
    for i, r in enumerate(rows):
        kind = {True: "answerable", False: "near_miss", "partial": "partial"}[r["answerable"]]
        golds = tuple(tuple(g) for g in r["gold"])
        out["tune" if i in tune else "test"].append(StyleItem(r["id"], "corpus", r["style"], r["q"], kind, golds))
    return out


def korquad_items(half, korquad: Path, rewrite_n: int, seed: int = SEED) -> list[StyleItem]:
    """KorQuAD's questions of one half as factoid items, plus up to `rewrite_n` colloquial rewrites."""
    items = [StyleItem(it.qid, "korquad", "factoid", it.question,
                       "answerable" if it.answerable else "near_miss", (it.answers,)) for it in half.items]
    if rewrite_n <= 0:
        return items
    from .colloquial import load_contexts, rewrite_many

    for it, text in rewrite_many(half.items, load_contexts(korquad), seed, rewrite_n):
        items.append(StyleItem(f"{it.qid}-col", "korquad", "colloquial", text,
                               "answerable" if it.answerable else "near_miss", (it.answers,)))
    return items


# -- scoring ----------------------------------------------------------------------------------------------------
@dataclass
class StyleOutcome:
    item: StyleItem
    status: str
    prob: float
    answered: bool
    answer_ok: bool
    cited_ok: bool
    partial_ok: bool
    seconds: float
    body: str
    stated: bool = True  # answered and presented as the answer (not as the nearest passage)


def _norm(s: str) -> str:
    return " ".join(s.split())


def _has(gold: tuple[str, ...], text: str) -> bool:
    t = _norm(text)
    return all(_norm(g) in t for g in gold)


def score(item: StyleItem, answer, seconds: float) -> StyleOutcome:
    """Right answers hold every gold string of every part in the body (KorQuAD: any of its answers); a cited
    chunk must hold them too. A partial question is handled when the found part is answered and the other is
    reported missing."""
    answered = answer.status in ("answered", "calculated")
    body = answer.body or ""
    cited = "\n".join(c.hit.text for c in answer.citations)
    if item.set == "korquad":
        ok = answered and any(_norm(a) in _norm(body) for a in item.golds[0])
        cited_ok = answered and any(_norm(a) in _norm(cited) for a in item.golds[0])
    else:
        parts = [g for g in item.golds if g]
        ok = answered and all(_has(g, body) for g in parts)
        cited_ok = answered and all(_has(g, cited) for g in parts)
    partial_ok = item.kind == "partial" and ok and bool(getattr(answer, "missing_parts", None))
    stated = answered and getattr(answer, "support", "stated") == "stated"
    prob = answer.confidence if answer.confidence is not None else float(answered)
    return StyleOutcome(item, answer.status, float(prob), answered, ok, cited_ok, partial_ok, seconds, body[:300],
                        stated)


def metrics(outcomes: list[StyleOutcome]) -> dict:
    ans = [o for o in outcomes if o.item.kind == "answerable"]
    near = [o for o in outcomes if o.item.kind == "near_miss"]
    part = [o for o in outcomes if o.item.kind == "partial"]
    answered = [o for o in ans if o.answered]
    times = sorted(o.seconds for o in outcomes)

    def r(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "answerable": len(ans), "near_miss": len(near), "partial": len(part),
        "answer_accuracy": r(sum(o.answer_ok for o in ans), len(ans)),
        "citation_accuracy": r(sum(o.cited_ok for o in answered), len(answered)),
        "false_refusal_rate": r(sum(not o.answered for o in ans), len(ans)),
        "refusal_accuracy": r(sum(not o.answered for o in near), len(near)),
        # the worst outcome: a near-miss answered and presented as the answer (not marked as the nearest passage)
        "near_miss_stated": r(sum(o.stated for o in near), len(near)),
        "answerable_stated": r(sum(o.stated and o.answer_ok for o in ans), len(ans)),
        "partial_handled": r(sum(o.partial_ok for o in part), len(part)),
        "ask_p50_ms": round(times[len(times) // 2] * 1000, 1) if times else None,
        "ask_p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))] * 1000, 1) if times else None,
    }


def by_style(outcomes: list[StyleOutcome]) -> dict[str, dict]:
    """Metrics per style over all sets, and per (set, style)."""
    out: dict[str, dict] = {}
    for style in ("factoid", "colloquial", "explanatory", "multi"):
        sub = [o for o in outcomes if o.item.style == style]
        if sub:
            out[style] = metrics(sub)
    for key in sorted({(o.item.set, o.item.style) for o in outcomes}):
        out[f"{key[0]}/{key[1]}"] = metrics([o for o in outcomes if (o.item.set, o.item.style) == key])
    return out


def curve(outcomes: list[StyleOutcome]) -> list[dict]:
    """Refusals against false refusals as a threshold on the answer's confidence moves."""
    ans = [o.prob for o in outcomes if o.item.kind == "answerable"]
    near = [o.prob for o in outcomes if o.item.kind == "near_miss"]
    pts = []
    for t in sorted({round(p, 3) for p in ans + near} | {0.0, 1.01}):
        pts.append({"threshold": t, "false_refusal": round(sum(p < t for p in ans) / max(len(ans), 1), 4),
                    "refusal_accuracy": round(sum(p < t for p in near) / max(len(near), 1), 4)})
    return pts


# -- running -------------------------------------------------------------------------------------------------
def open_reports(settings, docs: list[SourceDoc], name: str, work: Path, encoder, log):
    from ..api import KnowledgeBase

    s = settings.model_copy(update={"data_dir": work / name, "chroma_host": None, "llm": "extractive"})
    kb = KnowledgeBase.open(s, encoder=encoder)
    kb.ingest_documents(docs)
    log(f"{name}: {len(docs)} reports, {kb.store.count()} chunks")
    return kb


def test_sets(settings, korquad: Path, work: Path, encoder, log, half: str = "test", rewrite_n: int = 600):
    """[(knowledge base, items)] for one half of every set."""
    from .answerability import build, corpus_items, open_corpus, open_half

    kq = build(korquad)[half]
    out = [(open_half(settings, kq, work, encoder, log), korquad_items(kq, korquad, rewrite_n))]
    docs, items = report_halves()[half]
    out.append((open_reports(settings, docs, f"reports-{half}", work, encoder, log), items))
    written = [StyleItem(it.qid, "corpus", "factoid", it.question,
                         "answerable" if it.answerable else "near_miss", (it.answers,))
               for it in corpus_items(ROOT / "tests" / "data" / "corpus_answerability.jsonl")[half]]
    out.append((open_corpus(settings, ROOT / "corpus", work, encoder, log), written + corpus_halves()[half]))
    return out


def ask_all(kb, items: list[StyleItem], log, ask=None) -> list[StyleOutcome]:
    import time

    ask = ask or kb.ask
    out = []
    for i, it in enumerate(items):
        t = time.perf_counter()
        ans = ask(it.question)
        out.append(score(it, ans, time.perf_counter() - t))
        if (i + 1) % 500 == 0:
            log(f"  {i + 1}/{len(items)}")
    return out


class CountingChat:
    """An in-process chat model that counts its calls and answers like a careful reader of the prompt: the
    sentence of the numbered chunks sharing most words with the question, cited (tests/fakes.py has its twin
    for the test suite). What the flow's checks then keep or drop is measured, not assumed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self):
        import re

        from langchain_core.language_models.chat_models import BaseChatModel
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        outer = self

        def reply(messages) -> str:
            outer.calls += 1
            user = next(m.content for m in reversed(messages) if m.type == "human")
            docs = re.findall(r'<document number="(\d+)"[^>]*>\n(.*?)\n</document>', user, re.S)
            question = user.rsplit("질문:", 1)[-1]
            words = set(re.findall(r"[가-힣A-Za-z0-9]{2,}", question))
            best = max(((len(words & set(re.findall(r"[가-힣A-Za-z0-9]{2,}", s))), n, s.strip())
                        for n, text in docs for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()),
                       default=None)
            return f"{best[2]} [{best[1]}]" if best else "제공된 문서에서 이 질문의 답을 찾지 못했습니다."

        class Counting(BaseChatModel):
            @property
            def _llm_type(self) -> str:
                return "counting-fake"

            def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
                return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply(messages)))])

        return Counting()


def reach(kb, items: list[StyleItem], log) -> list[tuple[StyleItem, bool, str]]:
    """Each item asked through the generative flow (the OpenAI flow's, without the cost tools a fake cannot call)
    with a counting in-process model: (item, reached the model, status after the checks)."""
    from ..answer.generative import GenerativeFlow

    chat = CountingChat()
    flow = GenerativeFlow(kb.settings, kb.retriever, corpus=kb.corpus, search=kb.search, chat_model=chat,
                          backend="fake")
    out = []
    for it in items:
        before = chat.calls
        answer = [e for e in flow.answer(it.question)][-1]
        out.append((it, chat.calls > before, answer.status))
    return out


def reach_metrics(rows: list[tuple[StyleItem, bool, str]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for style in ("factoid", "colloquial", "explanatory", "multi"):
        ans = [(r, s) for it, r, s in rows if it.style == style and it.kind == "answerable"]
        near = [(r, s) for it, r, s in rows if it.style == style and it.kind == "near_miss"]
        if ans:
            out[style] = {"answerable": len(ans), "reached_model": round(sum(r for r, _ in ans) / len(ans), 4),
                          "answered_after_checks": round(sum(s == "answered" for _, s in ans) / len(ans), 4),
                          "near_miss": len(near),
                          "near_miss_reached_model": round(sum(r for r, _ in near) / max(len(near), 1), 4)}
    return out


def run(settings, korquad: Path, out: Path, work: Path, log, rewrite_n: int = 600, reach_n: int = 400) -> dict:
    """Every set's test half through the public API (extractive), the generative flow's reach with a counting
    fake model, report + plot."""
    from ..embeddings import Encoder

    encoder = Encoder(settings)
    sets = test_sets(settings, korquad, work, encoder, log, "test", rewrite_n)
    outcomes: list[StyleOutcome] = []
    rows: list[tuple[StyleItem, bool, str]] = []
    for kb, items in sets:
        log(f"asking {len(items)} questions ({items[0].set if items else '-'})")
        outcomes += ask_all(kb, items, log)
        for style in sorted({it.style for it in items}):  # up to reach_n of each style: KorQuAD's set has two
            of = [it for it in items if it.style == style]
            rows += reach(kb, of if len(of) <= reach_n else random.Random(SEED).sample(of, reach_n), log)
    result = {"seed": SEED, "styles": by_style(outcomes), "generative_reach": reach_metrics(rows),
              "curves": {s: curve([o for o in outcomes if o.item.style == s])
                         for s in ("factoid", "colloquial", "explanatory", "multi")},
              "failures": [{"set": o.item.set, "style": o.item.style, "kind": o.item.kind,
                            "question": o.item.question, "status": o.status, "answer": o.body}
                           for o in outcomes if (o.item.kind == "answerable" and not o.answer_ok)
                           or (o.item.kind == "near_miss" and o.answered)],
              "not_reaching_the_model": [{"set": it.set, "style": it.style, "question": it.question}
                                         for it, reached, _ in rows if it.kind == "answerable" and not reached]}
    out.mkdir(parents=True, exist_ok=True)
    plot(result, out / "answerability.png")
    slim = dict(result)
    slim["curves"] = {k: v[:: max(1, len(v) // 150)] for k, v in result["curves"].items()}
    (out / "answerability.json").write_text(json.dumps(slim, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "answerability.md").write_text(render(result), encoding="utf-8")
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for style, pts in result["curves"].items():
        if not pts:
            continue
        line, = ax.plot([p["false_refusal"] for p in pts], [p["refusal_accuracy"] for p in pts], label=style)
        m = result["styles"].get(style)
        if m and m["false_refusal_rate"] is not None and m["refusal_accuracy"] is not None:
            ax.scatter([m["false_refusal_rate"]], [m["refusal_accuracy"]], color=line.get_color(), zorder=3)
    ax.axvline(0.05, color="grey", ls=":", lw=1)
    ax.axhline(0.90, color="grey", ls=":", lw=1)
    ax.axhline(0.60, color="grey", ls=":", lw=1)
    ax.set(xlabel="false refusals (answerable questions refused)", ylabel="near-misses refused",
           title="Answerability per question style, test halves (dots: shipped)", xlim=(0, 0.6), ylim=(0, 1.0))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(result: dict) -> str:
    def f(v) -> str:
        return "–" if v is None else f"{v:.3f}"

    lines = ["# Answerability in every question style (test halves)", "",
             f"Seed {result['seed']}. Every threshold and weight was chosen on the tuning halves; these are the "
             "test halves, asked through `KnowledgeBase.ask` (extractive backend).", "",
             "| style | answerable | near-misses | answer acc. | citation acc. | false refusals | near-misses refused "
             "| near-misses presented as answers | partial handled | ask p50 / p95 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for style, m in result["styles"].items():
        name = f"**{style}**" if "/" not in style else style
        lines.append(f"| {name} | {m['answerable']} | {m['near_miss']} | {f(m['answer_accuracy'])} | "
                     f"{f(m['citation_accuracy'])} | {f(m['false_refusal_rate'])} | {f(m['refusal_accuracy'])} | "
                     f"{f(m['near_miss_stated'])} | {f(m['partial_handled'])} | "
                     f"{m['ask_p50_ms']:.0f} / {m['ask_p95_ms']:.0f} ms |")
    lines += ["", "Generative flow (with an in-process model that counts its calls), a seeded sample:", "",
              "| style | answerable | reached the model | answered after the checks | near-misses reaching the model |",
              "|---|---|---|---|---|"]
    for style, m in result["generative_reach"].items():
        lines.append(f"| {style} | {m['answerable']} | {m['reached_model']:.3f} | {m['answered_after_checks']:.3f} | "
                     f"{m['near_miss_reached_model']:.3f} |")
    lines += ["", "![refusals against false refusals per style](answerability.png)", "", "## First failures", "",
              "| set | style | kind | question | status | answer |", "|---|---|---|---|---|---|"]
    for x in result["failures"][:40]:
        q = x["question"].replace("|", "\\|")
        a = x["answer"].replace("|", "\\|").replace("\n", " ")[:120]
        lines.append(f"| {x['set']} | {x['style']} | {x['kind']} | {q} | {x['status']} | {a} |")
    return "\n".join(lines) + "\n"


# -- training rows (scripts/train_answerability.py) ----------------------------------------------------------
def parts_of(item: StyleItem) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(part question, part kind, gold, answerable) for each part `questions.shape` finds. When it finds another
    number of parts than the item has, the question is one unit whose gold is every part's."""
    from ..questions import shape

    sh = shape(item.question)
    if len(sh.parts) == len(item.golds):
        return [(p, k, g, item.kind != "near_miss" and bool(g)) for p, k, g in zip(sh.parts, sh.part_kinds, item.golds)]
    if item.kind == "partial":
        return []
    gold = tuple(g for part in item.golds for g in part)
    kind = "open" if "open" in sh.part_kinds else "factoid"
    return [(item.question, kind, gold, item.kind == "answerable")]


def judge_rows(kb, items: list[StyleItem], log) -> tuple[list, list, list, list]:
    """The answerability model's candidate rows for the factoid parts of `items`: features, labels (the candidate
    holds the part's gold), part index, and the part as an `answerability.Item` with its style and register."""
    from ..answerability import Judge, register
    from .answerability import Item

    judge = Judge(kb.corpus.stats(), vectors=kb.retriever.sentences)
    xs, ys, groups, units = [], [], [], []
    for it in items:
        parts = parts_of(it)
        for pi, (q, kind, gold, answerable) in enumerate(parts):
            if kind != "factoid":
                continue
            hits = kb.search(q, k=5)
            g = len(units)
            units.append((Item(f"{it.qid}#{pi}", q, "answerable" if answerable else "held_out", gold, it.set),
                          f"{it.set}/{it.style}", register(q, len(parts) > 1)))
            for c in judge.candidates(q, hits):
                span = hits[c.hit_index].text[c.start:c.end]
                hit_gold = _has(gold, span) if it.set != "korquad" else any(_norm(a) in _norm(span) for a in gold)
                xs.append(c.x)
                ys.append(int(answerable and bool(gold) and hit_gold))
                groups.append(g)
    log(f"  judge rows: {len(xs)} candidates of {len(units)} parts")
    return xs, ys, groups, units


def passage_rows(kb, items: list[StyleItem], log) -> list[tuple[list[float], int, str, str]]:
    """(features, answerable, style, part kind) of every part's best passage: the passage model learns on the open
    parts; the relevance bar is set on all of them."""
    from ..passages import best_passage

    stats = kb.corpus.stats()
    vectors = kb.retriever.sentences
    out = []
    for it in items:
        for q, kind, _gold, answerable in parts_of(it):
            p = best_passage(q, kb.search(q, k=5), stats, WIDTH, vectors if kind == "open" else None, SEMANTIC)
            if p is not None:
                out.append((p.x, int(answerable), f"{it.set}/{it.style}", kind))
    log(f"  passage rows: {len(out)}")
    return out


REPEATS = 50  # two-fold splits the passage model's out-of-fold scores are averaged over


def fit_passages(rows: list[tuple[list[float], int, str, str]], max_false_refusal: float = 0.04,
                 reach: float = 0.995, precision: float = 0.9) -> dict:
    """Logistic regression on the open parts; out-of-fold scores (averaged over REPEATS two-fold splits) set the
    thresholds: `refuse` keeps false refusals within `max_false_refusal` in every style with 20 or more answerable
    open parts; `stated` is the lowest score above which `precision` of the open parts answered are answerable;
    `relevant` lets `reach` of the answerable parts of every style (open or not) through."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from ..passages import FEATURES

    x = np.asarray([r[0] for r in rows], dtype=np.float64)
    y = np.asarray([r[1] for r in rows])
    style = np.asarray([r[2] for r in rows])
    is_open = np.asarray([r[3] == "open" for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale

    def make():
        return LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")

    # Out-of-fold scores averaged over REPEATS seeded two-fold splits: with ~50 answerable open parts, one split's
    # bar moved from 0.153 to 0.057 when two training rows changed; averaged, 0.158 and 0.135
    probs = np.zeros(len(y))
    for r in range(REPEATS):
        fold = np.random.RandomState((SEED + r) % 2**32).randint(0, 2, len(y))
        for f in (0, 1):
            tr = (fold != f) & is_open
            probs[fold == f] += make().fit(z[tr], y[tr]).predict_proba(z[fold == f])[:, 1] / REPEATS
    model = make().fit(z[is_open], y[is_open])
    ans = y == 1
    style = np.asarray([s.split("/")[1] for s in style])  # per style, whichever set the question came from
    open_styles = [s for s in sorted(set(style[is_open])) if int(np.sum(ans & is_open & (style == s))) >= 20]
    refuse, best_ref = 0.0, -1.0
    for t in np.unique(np.round(probs[is_open], 4)):
        fr = max(float(np.mean(probs[ans & is_open & (style == s)] < t)) for s in open_styles)
        ref = float(np.mean(probs[~ans & is_open] < t))
        if fr <= max_false_refusal and ref > best_ref:
            refuse, best_ref = float(t), ref
    stated = 1.0
    for t in sorted(np.unique(np.round(probs[is_open], 4)), reverse=True):
        above = is_open & (probs >= t)
        if above.sum() >= 10 and float(np.mean(y[above])) >= precision:
            stated = float(t)
    all_styles = [s for s in sorted(set(style)) if int(np.sum(ans & (style == s))) >= 20]
    # "retrieval found something relevant" is one feature, the best chunk's coverage of the question's words (a
    # probability trained on near-misses that share the topic says little about off-topic questions): the bar is
    # the coverage that `reach` of every style's answerable questions clear
    cov_best = x[:, FEATURES.index("cov_ctx_best")]
    relevant = min(float(np.quantile(cov_best[ans & (style == s)], 1 - reach)) for s in all_styles)
    return {"features": FEATURES, "weights": [float(w) for w in model.coef_[0]],
            "bias": float(model.intercept_[0]), "mean": [float(v) for v in mean], "scale": [float(v) for v in scale],
            "refuse": round(refuse, 4), "stated": round(max(stated, refuse), 4), "relevant": round(relevant, 4),
            "width": WIDTH, "semantic": SEMANTIC,
            "meta": {"model": "sklearn LogisticRegression(C=1, class_weight=balanced) on standardised features",
                     "trained_on": "tuning halves: reports, corpus styles, KorQuAD (open parts)", "seed": SEED,
                     "open_parts": int(is_open.sum()), "parts": len(rows),
                     "tuning_false_refusal": {s: round(float(np.mean(probs[ans & is_open & (style == s)] < refuse)), 4)
                                              for s in open_styles},
                     "tuning_refusal": round(best_ref, 4),
                     "tuning_reach": {s: round(float(np.mean(_clears(cov_best[ans & (style == s)], relevant))), 4)
                                      for s in all_styles},
                     "tuning_near_miss_reach": round(float(np.mean(_clears(cov_best[~ans], relevant))), 4)}}


def _clears(cov, bar: float):
    """Whether a best-chunk coverage clears the relevance bar: at least the bar, and some word in common."""
    import numpy as np

    cov = np.asarray(cov)
    return (cov >= bar) & (cov > 0)
