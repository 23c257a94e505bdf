"""Retrieval benchmark: our hybrid vs. the usual LangChain + Chroma setup, whitespace BM25 and our own parts.

Everything is scored in one run on the same document texts: the `fact` questions of the dev set (hit@5: a
top-5 chunk contains an answer string) and KorQuAD 1.0 dev (paragraphs as documents: R@1, R@5, MRR@10).
Indexes live under `work` and are reused by later runs (ingestion is incremental).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .api import KnowledgeBase
from .bm25 import BM25
from .config import Settings
from .embeddings import Encoder
from .indexing import context_text, footnote_context
from .korean import bm25_terms_batch, kiwi, morphemes_batch
from .retrieval import rrf, score_fusion
from .types import SourceDoc

Ranking = list[str]  # chunk ids, best first
N_CAND = 100


# -- data ---------------------------------------------------------------------------------------------------
def load_korquad(path: Path) -> tuple[list[SourceDoc], list[tuple[str, str]]]:
    """Distinct paragraphs as documents, and (question, gold doc id) pairs."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    docs: list[SourceDoc] = []
    by_text: dict[str, str] = {}
    questions: list[tuple[str, str]] = []
    for art in data["data"]:
        for para in art["paragraphs"]:
            ctx = para["context"]
            if ctx not in by_text:
                doc_id = f"kq{len(by_text):04d}"
                by_text[ctx] = doc_id
                docs.append(SourceDoc(doc_id=doc_id, text=ctx, title=art["title"], source=f"korquad:{doc_id}",
                                      path="", content_hash=hashlib.sha256(ctx.encode()).hexdigest()))
            for qa in para["qas"]:
                questions.append((qa["question"], by_text[ctx]))
    return docs, questions


def load_dev_facts(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("type") == "fact"]


# -- metrics ------------------------------------------------------------------------------------------------
def rollup(ranking: list[str], doc_of: dict[str, str], n: int = 10) -> list[str]:
    """Chunk ranking -> document ranking (a document ranks where its best chunk does)."""
    out, seen = [], set()
    for cid in ranking:
        d = doc_of.get(cid)
        if d is not None and d not in seen:
            seen.add(d)
            out.append(d)
            if len(out) == n:
                break
    return out


def recall_mrr(doc_rankings: list[list[str]], gold: list[str]) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for ranking, g in zip(doc_rankings, gold):
        top = ranking[:10]
        if top[:1] == [g]:
            r1 += 1
        if g in top[:5]:
            r5 += 1
        if g in top:
            mrr += 1.0 / (top.index(g) + 1)
    n = max(len(gold), 1)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR@10": mrr / n}


def hit_at_k(chunk_rankings: list[list[str]], text_of: dict[str, str], answers: list[list[str]], k: int = 5) -> float:
    hits = sum(any(any(a in text_of[c] for a in ans) for c in ranking[:k])
               for ranking, ans in zip(chunk_rankings, answers))
    return hits / max(len(answers), 1)


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))
    return xs[i]


# -- the systems --------------------------------------------------------------------------------------------
class Candidates:
    """Dense and sparse candidate lists of our index for a batch of questions (computed once, fused many ways)."""

    def __init__(self, kb: KnowledgeBase, questions: list[str], qvecs: np.ndarray) -> None:
        store = kb.store
        kb.retriever.sparse_index.sync()
        chunks = kb.retriever.sparse_index.chunks
        self.text_of = {c.chunk_id: c.text for c in chunks}
        self.doc_of = {c.chunk_id: c.metadata["doc_id"] for c in chunks}
        col = store._get()
        self.dense: list[list[tuple[str, float]]] = []
        for i in range(0, len(questions), 256):
            res = col.query(query_embeddings=qvecs[i:i + 256], n_results=min(N_CAND, len(chunks)),
                            include=["distances"])
            for ids, dists in zip(res["ids"], res["distances"]):
                self.dense.append([(cid, 1.0 - d) for cid, d in zip(ids, dists)])
        bm25 = kb.retriever.sparse_index.bm25
        self.sparse = [[(chunks[j].chunk_id, s) for j, s in bm25.top(toks, N_CAND)]
                       for toks in bm25_terms_batch(questions)]
        ws = BM25([c.text.lower().split() for c in chunks])
        self.whitespace = [[chunks[j].chunk_id for j, _ in ws.top(q.lower().split(), N_CAND)] for q in questions]
        # ablation: BM25 over kiwi morphemes of the bare chunk (no bigrams, no title), default k1/b
        mo = BM25(morphemes_batch([c.text for c in chunks]))
        self.morph_only = [[chunks[j].chunk_id for j, _ in mo.top(q, N_CAND)] for q in morphemes_batch(questions)]


def fusion_variants() -> dict[str, Callable]:
    def rrf_v(wd: float, ws: float, k: int = 60):
        return lambda d, s: sorted(rrf([[c for c, _ in d], [c for c, _ in s]], [wd, ws], k).items(),
                                   key=lambda kv: -kv[1])

    def score_v(wd: float, ws: float):
        return lambda d, s: sorted(score_fusion([d, s], [wd, ws]).items(), key=lambda kv: -kv[1])

    return {
        "rrf 1:1 k60": rrf_v(1, 1), "rrf 1:2 k60": rrf_v(1, 2), "rrf 1:1 k10": rrf_v(1, 1, 10),
        "score 0.6:0.4": score_v(0.6, 0.4), "score 0.5:0.5": score_v(0.5, 0.5), "score 0.4:0.6": score_v(0.4, 0.6),
        "score 0.3:0.7": score_v(0.3, 0.7),
    }


class LangChainBaseline:
    """The usual LangChain setup: RecursiveCharacterTextSplitter(1000, 200) + langchain-chroma, same encoder."""

    def __init__(self, client, name: str, encoder: Encoder, docs: list[SourceDoc], log: Callable) -> None:
        from langchain_chroma import Chroma
        from langchain_core.embeddings import Embeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        class SameEncoder(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return encoder.encode_passages(texts).tolist()

            def embed_query(self, text: str) -> list[float]:
                return encoder.encode_query(text).tolist()

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts, metas, ids = [], [], []
        for d in docs:
            for j, piece in enumerate(splitter.split_text(d.text)):
                texts.append(piece)
                metas.append({"doc_id": d.doc_id})
                ids.append(f"{d.doc_id}:{j}")
        self.vs = Chroma(collection_name=name, embedding_function=SameEncoder(), client=client,
                         collection_metadata={"hnsw:space": "cosine"})
        have = set(self.vs.get(include=[])["ids"])
        missing = [i for i, x in enumerate(ids) if x not in have]
        if missing:
            log(f"  langchain baseline: embedding {len(missing)} chunks")
            for i in range(0, len(missing), 256):
                sel = missing[i:i + 256]
                self.vs.add_texts([texts[j] for j in sel], metadatas=[metas[j] for j in sel],
                                  ids=[ids[j] for j in sel])
        self.text_of = dict(zip(ids, texts))
        self.doc_of = {i: m["doc_id"] for i, m in zip(ids, metas)}

    def rank(self, qvecs: np.ndarray, k: int = 30) -> list[Ranking]:
        out = []
        for v in qvecs:
            docs = self.vs.similarity_search_by_vector(v.tolist(), k=k)
            out.append([d.id for d in docs])
        return out


# -- the run ------------------------------------------------------------------------------------------------
def _open(settings: Settings, data_dir: Path, encoder: Encoder, collection: str = "kbot") -> KnowledgeBase:
    s = settings.model_copy(update={"data_dir": data_dir, "collection": collection, "chroma_host": None})
    return KnowledgeBase.open(s, encoder=encoder)


def _evaluate(kb: KnowledgeBase, encoder: Encoder, questions: list[str], lc: LangChainBaseline,
              log: Callable) -> tuple[dict[str, list[Ranking]], dict, dict]:
    t = time.perf_counter()
    qvecs = encoder.encode_queries(questions)
    log(f"  encoded {len(questions)} questions in {time.perf_counter() - t:.0f}s")
    cand = Candidates(kb, questions, qvecs)
    systems: dict[str, list[Ranking]] = {
        "ours: hybrid (default settings)": [[c for c, _ in kb.retriever.fuse(d, s)]
                                            for d, s in zip(cand.dense, cand.sparse)],
        "ours: dense side (Chroma, e5)": [[c for c, _ in d] for d in cand.dense],
        "ours: BM25 side (kiwi morphemes + bigrams, title)": [[c for c, _ in s] for s in cand.sparse],
        "ablation: BM25 kiwi morphemes only, no title": cand.morph_only,
        "LangChain + Chroma, dense only": lc.rank(qvecs),
        "BM25, whitespace tokens": cand.whitespace,
    }
    for name, fn in fusion_variants().items():
        systems[f"variant: {name}"] = [[c for c, _ in fn(d, s)] for d, s in zip(cand.dense, cand.sparse)]
    text_of = {**cand.text_of, **lc.text_of}
    doc_of = {**cand.doc_of, **lc.doc_of}
    return systems, text_of, doc_of


def run_retrieval_bench(settings: Settings, dev: Path, korquad: Path, limit: int, out: Path, work: Path,
                        latency: bool, log: Callable = print) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    encoder = Encoder(settings)
    results: dict = {"settings": {k: getattr(settings, k) for k in (
        "embedding_model", "chunk_size", "chunk_overlap", "fusion", "dense_weight", "sparse_weight", "rrf_k",
        "candidates")}}

    # dev set over our corpus
    log("dev set: indexing corpus/")
    from .loaders import load_file

    dev_docs = [load_file(p) for p in sorted(Path("corpus").glob("*.md"))]
    kb_dev = _open(settings, work / "dev", encoder)
    kb_dev.ingest_documents(dev_docs)
    facts = load_dev_facts(dev)
    lc_dev = LangChainBaseline(kb_dev.store.client, "langchain-dev", encoder, dev_docs, log)
    systems, text_of, _ = _evaluate(kb_dev, encoder, [f["question"] for f in facts], lc_dev, log)
    answers = [f["answers"] for f in facts]
    results["dev"] = {name: {"hit@5": hit_at_k(r, text_of, answers)} for name, r in systems.items()}
    results["dev_misses"] = {name: [f["id"] for f, r in zip(facts, rk)
                                    if not any(any(a in text_of[c] for a in f["answers"]) for c in r[:5])]
                             for name, rk in systems.items() if not name.startswith("variant")}

    # KorQuAD
    log("KorQuAD: indexing paragraphs")
    docs, qs = load_korquad(korquad)
    if limit:
        qs = qs[:limit]
    kb_kq = _open(settings, work / "korquad", encoder)
    t = time.perf_counter()
    rep = kb_kq.ingest_documents(docs, progress=lambda d, n, m: None)
    log(f"  {rep.summary()} ({time.perf_counter() - t:.0f}s)")
    lc_kq = LangChainBaseline(kb_kq.store.client, "langchain-korquad", encoder, docs, log)
    systems, _, doc_of = _evaluate(kb_kq, encoder, [q for q, _ in qs], lc_kq, log)
    gold = [g for _, g in qs]
    results["korquad"] = {name: recall_mrr([rollup(r, doc_of) for r in rk], gold) for name, rk in systems.items()}
    results["korquad_size"] = {"documents": len(docs), "questions": len(qs), "chunks": kb_kq.store.count(),
                               "langchain_chunks": len(lc_kq.text_of)}

    if latency:
        results["performance"] = performance(settings, encoder, kb_kq, docs, [q for q, _ in qs], work, log)

    report = render(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    (out / "report.md").write_text(report, encoding="utf-8")
    return report


def _timed_searches(kb: KnowledgeBase, questions: list[str]) -> list[float]:
    kb.search(questions[0], k=5)  # warm: BM25 built, model loaded
    times = []
    for q in questions:
        t = time.perf_counter()
        kb.search(q, k=5)
        times.append((time.perf_counter() - t) * 1000)
    return times


def performance(settings: Settings, encoder: Encoder, kb_kq: KnowledgeBase, docs: list[SourceDoc],
                questions: list[str], work: Path, log: Callable) -> dict:
    perf: dict = {}
    sample = questions[:: max(1, len(questions) // 300)][:300]

    # ingest throughput vs. the raw encoder on the same chunks (model already loaded for both)
    log("performance: ingest throughput")
    subset = docs[:150]
    kiwi()  # one-time loads (kiwi here, the model above) stay out of both timings
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        kb_tmp = _open(settings, Path(tmp), encoder)
        rep = kb_tmp.ingest_documents(subset)
        # the exact strings the pipeline encoded (title header + chunk + cited-note sentences)
        doc_text = {d.doc_id: d.text for d in subset}
        texts = [context_text(settings, c.metadata["title"], c.text,
                              footnote_context(doc_text[c.metadata["doc_id"]], c.text))
                 for c in kb_tmp.store.iter_all(include_documents=True)]
    t = time.perf_counter()
    encoder.encode_passages(texts)
    raw = len(texts) / (time.perf_counter() - t)
    ingest = rep.chunks_embedded / rep.seconds
    perf["ingest"] = {"chunks": rep.chunks_embedded, "ingest_chunks_per_s": ingest, "encoder_chunks_per_s": raw,
                      "ratio": ingest / raw}

    log("performance: search latency at KorQuAD size")
    times = _timed_searches(kb_kq, sample)
    perf["search_korquad"] = {"chunks": kb_kq.store.count(), "queries": len(times),
                              "p50_ms": statistics.median(times), "p95_ms": percentile(times, 95)}

    log("performance: search latency at >= 20,000 chunks (replicated vectors)")
    kb_big = _open(settings, work / "scale", encoder)
    src = list(kb_kq.store.iter_all(include_documents=True, include_embeddings=True))
    copies = -(-20000 // len(src))
    if kb_big.store.count() != copies * len(src):
        kb_big.store.reset()
        kb_big.store.open_for(encoder.name)
        for r in range(copies):
            metas = [{k: v for k, v in c.metadata.items() if k != "_embedding"}
                     | {"doc_id": f"r{r}-{c.metadata['doc_id']}"} for c in src]
            kb_big.store.upsert([f"r{r}-{c.chunk_id}" for c in src],
                                np.stack([c.metadata["_embedding"] for c in src]), [c.text for c in src], metas)
        kb_big.store.bump_revision()
    times = _timed_searches(kb_big, sample)
    perf["search_20k"] = {"chunks": kb_big.store.count(), "queries": len(times),
                          "p50_ms": statistics.median(times), "p95_ms": percentile(times, 95)}
    return perf


def render(results: dict) -> str:
    lines = ["# Retrieval benchmark", "", "Settings: " + ", ".join(f"{k}={v}" for k, v in results["settings"].items()),
             "", f"KorQuAD: {results['korquad_size']}", "",
             "| system | dev hit@5 | KorQuAD R@1 | KorQuAD R@5 | KorQuAD MRR@10 |", "|---|---|---|---|---|"]
    for name, kq in results["korquad"].items():
        d = results["dev"].get(name, {}).get("hit@5", float("nan"))
        lines.append(f"| {name} | {d:.3f} | {kq['R@1']:.4f} | {kq['R@5']:.4f} | {kq['MRR@10']:.4f} |")
    lines += ["", "Dev misses (question ids not found in the top 5):"]
    for name, miss in results.get("dev_misses", {}).items():
        lines.append(f"- {name}: {', '.join(miss) or 'none'}")
    perf = results.get("performance")
    if perf:
        i = perf["ingest"]
        lines += ["", "## Performance", "",
                  f"- Ingest: {i['ingest_chunks_per_s']:.2f} chunks/s through the pipeline vs "
                  f"{i['encoder_chunks_per_s']:.2f} chunks/s raw encoder on the same {i['chunks']} chunks "
                  f"(ratio {i['ratio']:.2f})"]
        for key in ("search_korquad", "search_20k"):
            p = perf[key]
            lines.append(f"- Search at {p['chunks']} chunks: p50 {p['p50_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms "
                         f"({p['queries']} queries, k=5, hybrid, query encoding included)")
    return "\n".join(lines) + "\n"
