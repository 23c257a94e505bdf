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

from ..api import KnowledgeBase
from ..bm25 import BM25
from ..config import Settings
from ..embeddings import Encoder
from ..indexing import context_text, footnote_context
from ..korean import bm25_terms_batch, kiwi, morphemes_batch
from ..retrieval import rrf, score_fusion
from ..types import SourceDoc
from .evaluate import percentile

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
    hits = {k: 0.0 for k in (1, 3, 5, 10)}
    mrr = 0.0
    for ranking, g in zip(doc_rankings, gold):
        top = ranking[:10]
        if g in top:
            rank = top.index(g) + 1
            mrr += 1.0 / rank
            for k in hits:
                hits[k] += rank <= k
    n = max(len(gold), 1)
    return {**{f"R@{k}": v / n for k, v in hits.items()}, "MRR@10": mrr / n}


def hit_at_k(chunk_rankings: list[list[str]], text_of: dict[str, str], answers: list[list[str]], k: int = 5) -> float:
    hits = sum(any(any(a in text_of[c] for a in ans) for c in ranking[:k])
               for ranking, ans in zip(chunk_rankings, answers))
    return hits / max(len(answers), 1)




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
                        latency: bool, log: Callable = print, extra: Callable | None = None,
                        plots: bool = False) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    encoder = Encoder(settings)
    results: dict = {"settings": {k: getattr(settings, k) for k in (
        "embedding_model", "chunk_size", "chunk_overlap", "fusion", "dense_weight", "sparse_weight", "rrf_k",
        "candidates")}}

    # dev set over our corpus
    log("dev set: indexing corpus/")
    from ..loaders import load_file

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

    if extra is not None:
        results.update(extra(settings, encoder, kb_dev, log))
    report = render(results)
    out.mkdir(parents=True, exist_ok=True)
    if plots:
        report += plot(results, out)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
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
                              "p50_ms": statistics.median(times), "p95_ms": percentile(times, 95), "times": times}

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
                          "p50_ms": statistics.median(times), "p95_ms": percentile(times, 95), "times": times}
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


# -- serving: ask latency per backend, a real `kbot ui` process under load ------------------------------------
def available_backends(settings: Settings) -> list[str]:
    out = ["extractive"]
    if settings.local_model:
        out.append("local")
    if settings.openai_api_key or settings.openai_base_url:
        out.append("openai")
    return out


def ask_latency(settings: Settings, kb: KnowledgeBase, questions: list[str], log: Callable,
                backends: list[str] | None = None) -> dict:
    """p50/p95 of kb.ask over `questions` for each backend available with these settings (model loads excluded)."""
    out = {}
    for backend in backends or available_backends(settings):
        b = KnowledgeBase(settings.model_copy(update={"llm": backend}), kb.store, kb.encoder)
        b.ask(questions[0])  # warm: model loaded, BM25 built
        times = []
        for q in questions:
            t = time.perf_counter()
            b.ask(q)
            times.append((time.perf_counter() - t) * 1000)
        out[b.backend] = {"questions": len(times), "p50_ms": statistics.median(times),
                          "p95_ms": percentile(times, 95), "times": times}
        log(f"  ask {b.backend}: p50 {out[b.backend]['p50_ms']:.0f} ms, p95 {out[b.backend]['p95_ms']:.0f} ms")
    return out


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spawn_ui(env: dict, port: int):
    """A `kbot ui` subprocess on 127.0.0.1:`port`, and a gradio_client connected to it once it serves."""
    import subprocess
    import sys

    from gradio_client import Client

    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ui", "--port", str(port)],
                            env={**os.environ, **env, "GRADIO_ANALYTICS_ENABLED": "False"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"kbot ui exited with {proc.returncode}")
        try:
            return proc, Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("kbot ui did not start in 5 minutes")


def ui_load(url: str, questions: list[str], users: int, per_user: int) -> dict:
    """`users` concurrent gradio_client users each asking `per_user` questions through the UI's /ask endpoint."""
    import threading

    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(i: int) -> None:
        client = Client(url, verbose=False)
        for j in range(per_user):
            q = questions[(i * per_user + j) % len(questions)]
            t = time.perf_counter()
            try:
                chat = client.predict(q, [], api_name="/ask")[0]
                reply = str(chat[-1]["content"]) if chat else ""
                if not reply or reply == "…" or reply.startswith("⚠️ 답변 중 오류"):
                    raise RuntimeError(f"no answer to {q!r}: {reply[:80]}")
                with lock:
                    latencies.append(time.perf_counter() - t)
            except Exception as e:  # counted: this is a measurement
                with lock:
                    errors.append(f"user {i}: {type(e).__name__}: {str(e)[:200]}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    return {"users": users, "per_user": per_user, "answered": len(latencies), "errors": errors, "wall_s": wall,
            "p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p95_s": percentile(latencies, 95), "times_s": latencies}


def serving(settings: Settings, work: Path, questions: list[str], log: Callable, users: int = 20,
            per_user: int = 5) -> dict:
    """Peak RSS and latency of a real `kbot ui` process over the dev index while `users` ask concurrently."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"KBOT_DATA_DIR": str(work / "dev"), "KBOT_MODEL_CACHE_DIR": str(settings.model_cache_dir),
           "KBOT_LLM": "extractive", "HF_HUB_OFFLINE": "1"}
    log(f"serving: kbot ui with {users} concurrent users x {per_user} questions")
    proc, _ = spawn_ui(env, port)
    try:
        idle = peak_rss_mb(proc.pid)
        load = ui_load(f"http://127.0.0.1:{port}/", questions, users, per_user)
        load |= {"rss_idle_mb": idle, "rss_peak_mb": peak_rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(30)
    log(f"  {load['answered']} answered, {len(load['errors'])} errors, p50 {load['p50_s']:.2f}s "
        f"p95 {load['p95_s']:.2f}s, peak RSS {load['rss_peak_mb']:.0f} MB")
    return load


def plot(results: dict, out: Path) -> str:
    """PNG plots beside the report; returns the Markdown that shows them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [1, 3, 5, 10]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, m in results["korquad"].items():
        if name.startswith("variant"):
            continue
        ax.plot(ks, [m.get(f"R@{k}", float("nan")) for k in ks], marker="o", label=name.split(" (")[0])
    ax.set(xlabel="k", ylabel="R@k", xticks=ks, title="KorQuAD recall@k per retriever")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=100)
    plt.close(fig)
    md = ["", "![KorQuAD recall@k](recall_at_k.png)"]
    series = []
    perf = results.get("performance", {})
    for key, label in (("search_korquad", "search, 1x KorQuAD"), ("search_20k", "search, 20x KorQuAD")):
        if "times" in perf.get(key, {}):
            series.append((f"{label} ({perf[key]['chunks']} chunks)", perf[key]["times"]))
    for backend, a in results.get("ask", {}).items():
        series.append((f"ask: {backend}", a["times"]))
    if results.get("serving", {}).get("times_s"):
        series.append(("UI under load (20 users)", [t * 1000 for t in results["serving"]["times_s"]]))
    if series:
        fig, axes = plt.subplots(1, len(series), figsize=(3.6 * len(series), 3))
        for ax, (label, xs) in zip(np.atleast_1d(axes), series):
            ax.hist(xs, bins=20)
            ax.set(title=label, xlabel="ms")
            ax.title.set_fontsize(8)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=100)
        plt.close(fig)
        md.append("![latency histograms](latency.png)")
    lines = []
    if results.get("ask"):
        lines += ["", "## Ask latency (dev questions, model loads excluded)", "", "| backend | questions | p50 ms | "
                  "p95 ms |", "|---|---|---|---|"]
        lines += [f"| {b} | {a['questions']} | {a['p50_ms']:.0f} | {a['p95_ms']:.0f} |"
                  for b, a in results["ask"].items()]
    srv = results.get("serving")
    if srv:
        lines += ["", "## Serving (`kbot ui` process, extractive)", "",
                  f"{srv['users']} concurrent gradio_client users x {srv['per_user']} dev questions: "
                  f"{srv['answered']} answered, {len(srv['errors'])} errors in {srv['wall_s']:.1f} s; latency p50 "
                  f"{srv['p50_s']:.2f} s, p95 {srv['p95_s']:.2f} s; RSS {srv['rss_idle_mb']:.0f} MB idle, "
                  f"{srv['rss_peak_mb']:.0f} MB peak."]
    return "\n".join(lines + md) + "\n"
