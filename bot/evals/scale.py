"""Scale benchmark: the int8 passage encoder against fp32, ingest end to end, and one process serving ~100K chunks.

Everything that is compared is measured in the same run, interleaved where it can be (the machine is shared, so
absolute numbers move; ratios measured back to back are what count):
- encoder throughput: fp32 sentence-transformers vs the int8 ONNX Runtime encoder, batch by batch on the same
  chunk texts, then `Indexer` ingest end to end on those documents against the int8 encoder timed around it;
- retrieval cost: KorQuAD 1.0 dev R@1/R@5 (hybrid and dense side) and the dev set's hit@5, fp32 index vs int8
  index (and int8 passages with fp32 queries);
- serving: KorQuAD chunks replicated with new ids (vectors reused) to ~100K, then a fresh process is timed from
  start to its first answer (BM25 table rebuilt from Chroma), its resident memory by stage, and search p50/p95.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..api import KnowledgeBase
from ..config import Settings
from ..embeddings import Encoder
from ..indexing import context_text
from ..korean import bm25_terms_batch, kiwi
from ..types import SourceDoc
from .bench import hit_at_k, load_dev_facts, load_korquad, recall_mrr, rollup
from .evaluate import percentile

# KorQuAD paragraphs for the throughput run: ~1,000 chunks, four ingest batches, so the run overlaps committing a batch
# with embedding the next as any real corpus does (120 paragraphs were 226 chunks: one batch, nothing to overlap).
THROUGHPUT_DOCS = 520


def _open(settings: Settings, data_dir: Path, encoder: Encoder) -> KnowledgeBase:
    s = settings.model_copy(update={"data_dir": data_dir, "chroma_host": None, "collection": "kbot"})
    return KnowledgeBase.open(s, encoder=encoder)


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- encoder and ingest throughput ----------------------------------------------------------------------------
def throughput(settings: Settings, fp32: Encoder, int8: Encoder, docs: list[SourceDoc], work: Path,
               log: Callable, batch: int = 16, ingest_rounds: int = 5) -> dict:
    """chunks/s of both encoders on the same chunk texts (interleaved per batch), and ingest vs the int8 one."""
    from ..chunking import chunk_documents

    kiwi()
    texts = [context_text(settings, d.title, c.text) for d, chs in zip(docs, chunk_documents(
        docs, settings.chunk_size, settings.chunk_overlap)) for c in chs]
    fp32.encode_passages(texts[:4])  # loads outside the timings
    int8.encode_passages(texts[:4])
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # both get the same length-sorted batches
    t_fp32 = t_int8 = 0.0
    for start in range(0, len(order), batch):
        sel = [texts[i] for i in order[start:start + batch]]
        t = time.perf_counter()
        fp32.encode_passages(sel)
        t_fp32 += time.perf_counter() - t
        t = time.perf_counter()
        int8.encode_passages(sel)
        t_int8 += time.perf_counter() - t
    log(f"  encoders on {len(texts)} chunks: fp32 {len(texts) / t_fp32:.2f}/s, int8 {len(texts) / t_int8:.2f}/s")

    # Ingest end to end (int8), alternating with the int8 encoder on the same texts: E I E I ... E. This VM's
    # speed swings by a third between identical runs seconds apart (other tenants), so one ingest against one
    # encoder run says little: the figure pools all rounds (all ingest chunks over all ingest seconds, against
    # all encoder chunks over all encoder seconds), with each round's own ratio kept to show the spread.
    def encoder_seconds() -> float:
        t = time.perf_counter()
        int8.encode_passages(texts)
        return time.perf_counter() - t

    enc = [encoder_seconds()]
    rounds = []
    for _ in range(ingest_rounds):
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            rep = _open(settings, Path(tmp), int8).ingest_documents(docs)
        enc.append(encoder_seconds())
        rounds.append({"ingest_chunks": rep.chunks_embedded, "ingest_seconds": rep.seconds,
                       "encoder_before": len(texts) / enc[-2], "encoder_after": len(texts) / enc[-1]})
        r = rounds[-1]
        r["ratio"] = rep.chunks_embedded / rep.seconds / ((r["encoder_before"] + r["encoder_after"]) / 2)
        log(f"  ingest {rep.chunks_embedded / rep.seconds:.2f} chunks/s vs int8 encoder {r['encoder_before']:.2f}"
            f" / {r['encoder_after']:.2f} chunks/s: {r['ratio']:.2f}x")
    ingest = sum(r["ingest_chunks"] for r in rounds) / sum(r["ingest_seconds"] for r in rounds)
    encoder = len(texts) * len(enc) / sum(enc)
    return {"chunks": len(texts), "fp32_chunks_per_s": len(texts) / t_fp32, "int8_chunks_per_s": len(texts) / t_int8,
            "speedup": t_fp32 / t_int8, "ingest_chunks": rep.chunks_embedded, "ingest_chunks_per_s": ingest,
            "int8_encoder_pooled": encoder, "ingest_ratio": ingest / encoder, "ingest_rounds": rounds}


# -- retrieval cost -------------------------------------------------------------------------------------------
def _rankings(kb: KnowledgeBase, questions: list[str], qvecs: np.ndarray, n: int = 50) -> dict[str, list]:
    kb.retriever.sparse_index.sync()
    col = kb.store._get()
    dense = []
    for i in range(0, len(questions), 256):
        res = col.query(query_embeddings=qvecs[i:i + 256], n_results=n, include=["distances"])
        dense += [[(c, 1.0 - d) for c, d in zip(ids, ds)] for ids, ds in zip(res["ids"], res["distances"])]
    bm25, chunks = kb.retriever.sparse_index.bm25, kb.retriever.sparse_index.chunks
    sparse = [[(chunks[j].chunk_id, s) for j, s in bm25.top(t, n)] for t in bm25_terms_batch(questions)]
    return {"hybrid": [[c for c, _ in kb.retriever.fuse(d, s)] for d, s in zip(dense, sparse)],
            "dense": [[c for c, _ in d] for d in dense]}


def quality(settings: Settings, encoders: dict[str, Encoder], kq_docs: list[SourceDoc], kq_questions: list,
            dev_docs: list[SourceDoc], facts: list[dict], work: Path, log: Callable) -> dict:
    out: dict = {}
    qs = [q for q, _ in kq_questions]
    gold = [g for _, g in kq_questions]
    dev_qs = [f["question"] for f in facts]
    answers = [f["answers"] for f in facts]
    fp32_queries = Encoder(settings.model_copy(update={"embedding_variant": "fp32", "onnx_queries": True}))
    for name, enc in encoders.items():
        for folder in (f"korquad-{name}", f"dev-{name}"):  # built afresh: an index kept from older code would
            shutil.rmtree(work / folder, ignore_errors=True)  # keep its chunks' old BM25 terms
        kb = _open(settings, work / f"korquad-{name}", enc)
        t = time.perf_counter()
        rep = kb.ingest_documents(kq_docs)
        log(f"  {name}: KorQuAD index {rep.summary()} ({time.perf_counter() - t:.0f}s)")
        kb_dev = _open(settings, work / f"dev-{name}", enc)
        kb_dev.ingest_documents(dev_docs)
        query_sets = {name: enc}
        if name == "int8":  # the other choice for int8 passages: fp32 (ONNX) queries
            query_sets["int8 passages + fp32 queries"] = fp32_queries
        for label, qenc in query_sets.items():
            r = _rankings(kb, qs, qenc.encode_queries(qs))
            doc_of = {c.chunk_id: c.metadata["doc_id"] for c in kb.retriever.sparse_index.chunks}
            d = _rankings(kb_dev, dev_qs, qenc.encode_queries(dev_qs))
            text_of = {c.chunk_id: c.text for c in kb_dev.retriever.sparse_index.chunks}
            row = {}
            for side in ("hybrid", "dense"):
                m = recall_mrr([rollup(x, doc_of) for x in r[side]], gold)
                row[side] = {"R@1": m["R@1"], "R@5": m["R@5"], "dev_hit@5": hit_at_k(d[side], text_of, answers)}
            out[label] = row
            log(f"  {label}: hybrid R@1 {row['hybrid']['R@1']:.4f} R@5 {row['hybrid']['R@5']:.4f} dev hit@5 "
                f"{row['hybrid']['dev_hit@5']:.3f}; dense R@1 {row['dense']['R@1']:.4f}")
    return out


# -- serving ~100K chunks -------------------------------------------------------------------------------------
def build_replicated(settings: Settings, source: KnowledgeBase, encoder: Encoder, target: int, work: Path,
                     log: Callable) -> Path:
    """An index of about `target` chunks: copies of `source`'s chunks with new ids, reusing their vectors."""
    data = work / f"scale-{target}-{encoder.variant}"
    kb = _open(settings, data, encoder)
    src = list(source.store.iter_all(include_documents=True, include_embeddings=True))
    copies = -(-target // len(src))
    if kb.store.count() == copies * len(src):
        return data
    kb.store.reset()
    kb.store.open_for(encoder.name, variant=encoder.variant)
    vecs = np.stack([c.metadata["_embedding"] for c in src])
    t = time.perf_counter()
    for r in range(copies):
        metas = [{k: v for k, v in c.metadata.items() if k != "_embedding"} | {"doc_id": f"r{r}-{c.metadata['doc_id']}"}
                 for c in src]
        kb.store.upsert([f"r{r}-{c.chunk_id}" for c in src], vecs, [c.text for c in src], metas)
        if r % 10 == 0:
            log(f"  replicated {(r + 1) * len(src)} chunks ({time.perf_counter() - t:.0f}s)")
    kb.store.bump_revision()
    return data


def probe(questions: list[str]) -> dict:
    """Run in a fresh process: time and memory from start to the first answer, by stage, then search latency."""
    t0 = float(os.environ.get("KBOT_PROBE_T0", time.time()))
    stages = [("python started", time.time() - t0, rss_mb())]
    from ..api import KnowledgeBase as KB
    from ..config import load_settings

    kb = KB.open(load_settings())
    stages.append(("kbot imported, index opened", time.time() - t0, rss_mb()))
    kb.encoder.encode_query("warm up")
    stages.append(("query encoder loaded", time.time() - t0, rss_mb()))
    kb.store.query(kb.encoder.encode_query("warm up"), 5, with_data=False)
    stages.append(("Chroma vector index loaded", time.time() - t0, rss_mb()))
    index = kb.retriever.sparse_index
    index.sync()
    how = "loaded from the saved file" if index.loaded_from == "cache" else "rebuilt from Chroma"
    stages.append((f"chunk table + BM25 {how}", time.time() - t0, rss_mb()))
    answer = kb.ask(questions[0])
    first = time.time() - t0
    stages.append(("first answer", first, rss_mb()))
    times = []
    for q in questions[1:]:
        t = time.perf_counter()
        kb.search(q, k=5)
        times.append((time.perf_counter() - t) * 1000)
    stages.append(("after searches", time.time() - t0, rss_mb()))
    return {"chunks": kb.store.count(), "first_answer_s": first, "answer_status": answer.status,
            "stages": stages, "search_p50_ms": statistics.median(times), "search_p95_ms": percentile(times, 95),
            "queries": len(times), "bm25_terms": len(index.bm25.vocab), "table_from": index.loaded_from}


def serve_probe(settings: Settings, data: Path, questions: list[str], log: Callable) -> dict:
    env = {**os.environ, "KBOT_DATA_DIR": str(data), "KBOT_MODEL_CACHE_DIR": str(settings.model_cache_dir),
           "KBOT_LLM": "extractive", "KBOT_EMBEDDING_VARIANT": settings.embedding_variant, "HF_HUB_OFFLINE": "1",
           "KBOT_PROBE_T0": repr(time.time())}
    code = ("import json, sys; from bot.evals.scale import probe; "
            "print('PROBE' + json.dumps(probe(json.loads(sys.stdin.read()))))")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(questions), env=env, capture_output=True,
                         text=True, check=True, cwd=os.getcwd())
    line = next(x for x in out.stdout.splitlines() if x.startswith("PROBE"))
    result = json.loads(line[5:])
    for name, at, mem in result["stages"]:
        log(f"    {at:6.1f}s {mem:7.0f} MB  {name}")
    log(f"  first answer after {result['first_answer_s']:.1f}s; search p50 {result['search_p50_ms']:.1f} ms, "
        f"p95 {result['search_p95_ms']:.1f} ms over {result['queries']} queries at {result['chunks']} chunks")
    return result


def serve_twice(settings: Settings, data: Path, questions: list[str], log: Callable) -> dict:
    """A start with no saved table (read back from Chroma, then saved: what `kbot ingest` now does as its last
    step, so this is also that step's price), then a start with the saved table (after an ingest, or a restart)."""
    from ..tablecache import TableCache

    TableCache(data / "bm25", settings.collection).path.unlink(missing_ok=True)
    log("  start with no saved table (BM25 table rebuilt from Chroma, then saved)")
    first = serve_probe(settings, data, questions, log)
    log("  start after an ingest or a restart (BM25 table loaded from the saved file)")
    return serve_probe(settings, data, questions, log) | {"first_start": first}


# -- the run --------------------------------------------------------------------------------------------------
def run_scale_bench(settings: Settings, dev: Path, korquad: Path, out: Path, work: Path, log: Callable = print,
                    target: int = 100_000, parts: tuple[str, ...] = ("throughput", "quality", "serving"),
                    big_mb: tuple[float, ...] = (4, 40)) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    path = out / "scale.json"
    fp32 = Encoder(settings.model_copy(update={"embedding_variant": "fp32"}))
    int8 = Encoder(settings.model_copy(update={"embedding_variant": "int8"}))
    kq_docs, kq_questions = load_korquad(korquad)
    from ..loaders import load_file

    dev_docs = [load_file(p) for p in sorted(Path("corpus").glob("*.md"))]
    results["machine"] = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    if "throughput" in parts:
        log("throughput: fp32 vs int8 encoder, then ingest")
        results["throughput"] = throughput(settings, fp32, int8, kq_docs[:THROUGHPUT_DOCS], work, log)
    if "quality" in parts:
        log("quality: KorQuAD and dev, fp32 vs int8 indexes")
        results["quality"] = quality(settings, {"fp32": fp32, "int8": int8}, kq_docs, kq_questions, dev_docs,
                                     load_dev_facts(dev), work, log)
    for part in parts:  # parts are often run separately: each records the load it ran under
        results[f"{part}_machine"] = results["machine"]
    if "bigfile" in parts:
        log(f"big files: peak memory of the real ingest pipeline (stand-in encoder) at {big_mb} MB")
        results["bigfile"] = bigfiles(work, big_mb, log, [d.text for d in kq_docs])
    if "serving" in parts:
        log(f"serving: ~{target} chunks in one process")
        source = _open(settings, work / "korquad-int8", int8)
        if source.store.count() == 0:
            source.ingest_documents(kq_docs)
        data = build_replicated(settings, source, int8, target, work, log)
        sample = [q for q, _ in kq_questions][:: max(1, len(kq_questions) // 300)][:301]
        results["serving"] = serve_twice(settings.model_copy(update={"embedding_variant": "int8"}), data, sample,
                                         log)
    out.mkdir(parents=True, exist_ok=True)
    # parts may be run separately: keep the other parts' latest results
    results = (json.loads(path.read_text()) if path.exists() else {}) | results
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    report = render(results)
    (out / "scale.md").write_text(report, encoding="utf-8")
    return report


def _f(x: float | None, missing: str, digits: int = 1) -> str:
    return missing if x is None else f"{x:.{digits}f}"


def _load(r: dict, part: str) -> list[str]:
    m = r.get(f"{part}_machine")
    if not m:
        return []
    return [f"Run with load average {', '.join(f'{x:.1f}' for x in m['load_avg_at_start'])} at its start.", ""]


def _ingest_line(t: dict) -> str:
    rounds = t["ingest_rounds"]
    return (f"- Ingest end to end (chunking, encoder, BM25 terms, Chroma writes): {t['ingest_chunks_per_s']:.2f} "
            f"chunks/s against the int8 encoder's {t['int8_encoder_pooled']:.2f} chunks/s: "
            f"**{t['ingest_ratio']:.2f}x**, pooled over {len(rounds)} ingests alternating with {len(rounds) + 1} "
            f"encoder runs on the same chunks "
            f"(each ingest against the encoder runs around it: " + ", ".join(f"{x['ratio']:.2f}x" for x in rounds)
            + "; the machine's speed swings between runs).")


def render(r: dict) -> str:
    lines = ["# Scale benchmark (`kbot bench scale`)", "",
             f"Machine: {r.get('machine', {}).get('cpus')} cores, load average at start "
             f"{', '.join(f'{x:.1f}' for x in r.get('machine', {}).get('load_avg_at_start', []))} (shared machine: "
             "compare the ratios, measured back to back in one run).", ""]
    t = r.get("throughput")
    if t:
        lines += ["## Encoder and ingest throughput", "",
                  f"- On the same {t['chunks']} KorQuAD chunks, interleaved batch by batch: fp32 sentence-transformers "
                  f"{t['fp32_chunks_per_s']:.2f} chunks/s, int8 ONNX Runtime {t['int8_chunks_per_s']:.2f} chunks/s: "
                  f"**{t['speedup']:.2f}x**.",
                  _ingest_line(t), ""]
    q = r.get("quality")
    if q:
        lines += ["## Retrieval cost of the int8 encoder", ""] + _load(r, "quality") + [
                  "| encoder | KorQuAD R@1 | KorQuAD R@5 | dev hit@5 | dense-only R@1 | dense-only R@5 | "
                  "dense-only dev hit@5 |", "|---|---|---|---|---|---|---|"]
        for name, row in q.items():
            h, d = row["hybrid"], row["dense"]
            lines.append(f"| {name} | {h['R@1']:.4f} | {h['R@5']:.4f} | {h['dev_hit@5']:.3f} | {d['R@1']:.4f} | "
                         f"{d['R@5']:.4f} | {d['dev_hit@5']:.3f} |")
        if "fp32" in q and "int8" in q:
            drop = q["fp32"]["hybrid"]["R@1"] - q["int8"]["hybrid"]["R@1"]
            lines += ["", f"Hybrid R@1 change fp32 -> int8: {-drop:+.4f} (allowed drop 0.005: "
                          f"{'met, int8 is the default' if drop <= 0.005 else 'NOT met'})."]
        lines.append("")
    b = r.get("bigfile")
    if b:
        lines += ["## One big text file", ""] + _load(r, "bigfile") + [
                  "The real pipeline (sentence split, chunking, BM25 terms, Chroma writes, batches of 256) with a "
                  "stand-in encoder (embedding 40 MB takes hours on 2 cores; the encoder holds one batch either way), "
                  "in a fresh process per file:", "",
                  "| file | chunks | seconds | chunks/s | first progress line (s) | first chunk (s) | RSS at first "
                  "chunk MB | peak RSS while ingesting the file MB | peak RSS with the search table rebuilt after it "
                  "MB | progress updates within the file |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        na = "-"
        lines += [f"| {x['file_mb']:.0f} MB | {x['chunks']} | {x['seconds']:.0f} | {x['chunks'] / x['seconds']:.0f} | "
                  f"{_f(x.get('first_progress_s'), na)} | {_f(x.get('first_chunk_s'), na)} | "
                  f"{_f(x.get('rss_at_first_chunk_mb'), na, 0)} | {_f(x.get('peak_rss_file_mb'), na, 0)} | "
                  f"{x['peak_rss_mb']:.0f} | "
                  f"{x.get('progress_updates_within_file', na)} |" for x in b]
        for x in b:
            res = x.get("resume")
            if res:
                lines += ["", f"Killed with SIGKILL half-way through the {x['file_mb']:.0f} MB file, then run again: "
                              f"{res['embedded_after_kill']} of {res['index_chunks']} chunks embedded on the "
                              f"second run "
                              f"({res['seconds']:.0f} s, peak RSS {res['peak_rss_mb']:.0f} MB); chunk count "
                              f"{'equal to' if res['same_count_as_uninterrupted'] else 'DIFFERENT from'} the "
                              f"uninterrupted run's."]
        lines.append("")
    s = r.get("serving")
    if s:
        lines += [f"## One process serving {s['chunks']} chunks (int8, extractive answers)", ""] + _load(r, "serving")
        runs = ([("Start with no saved table (read back from Chroma, then saved; `kbot ingest` now does this as "
                  "its last step)", s["first_start"])] if "first_start" in s else []) + \
               [("Start after `kbot ingest`, or a restart (table loaded from the file the ingest saved)"
                 if "first_start" in s else "Process start", s)]
        for title, x in runs:
            lines += [f"### {title}", "",
                      f"- Process start to first answer: **{x['first_answer_s']:.1f} s**.",
                      f"- Search (hybrid, k=5, query encoding included) over {x['queries']} KorQuAD questions: "
                      f"p50 **{x['search_p50_ms']:.1f} ms**, p95 **{x['search_p95_ms']:.1f} ms**.",
                      "- Time and resident memory by stage:", "", "| stage | s since start | RSS MB |",
                      "|---|---|---|"]
            lines += [f"| {name} | {at:.1f} | {mem:.0f} |" for name, at, mem in x["stages"]]
            lines.append("")
    return "\n".join(lines) + "\n"


# -- a big file: memory against file size --------------------------------------------------------------------
class _HashEncoder:
    """Stands in for the model when only the pipeline's memory is measured (embedding 40 MB takes hours on 2 cores):
    deterministic unit vectors, same shape, same batch flow."""

    name = "hash-384"
    variant = "int8"
    dim = 384

    def encode_passages(self, texts, batch_size=None):
        rng = np.random.default_rng(len(texts))
        v = rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def encode_queries(self, texts):
        return self.encode_passages(texts)

    def encode_sentences(self, texts):
        return self.encode_passages(texts)

    def encode_query(self, text):
        return self.encode_passages([text])[0]


def big_text(mb: float, paragraphs: list[str] | None = None) -> str:
    """About `mb` MB of Korean text: `paragraphs` (KorQuAD's) repeated, else a generated line; numbered copies."""
    line = "{i}번째 줄: GPU {i}장의 가격은 약 {i},000달러이고 학습에 {i}일이 걸렸다고 보고서는 밝혔다."
    out, size, i = [], 0, 0
    while size < mb * 1024 * 1024:
        s = f"{i}. {paragraphs[i % len(paragraphs)]}\n" if paragraphs else line.format(i=i)
        out.append(s)
        size += len(s.encode()) + 1
        i += 1
    return "\n".join(out) + "\n"


def bigfile_probe(path: str, data_dir: str) -> dict:
    """In a fresh process: ingest one big file through the real pipeline (stand-in encoder); peak RSS and time.
    Prints the plain progress lines on stderr, as `kbot ingest` does in a pipe."""
    from ..config import Settings as S
    from ..progress import PlainProgress

    settings = S(_env_file=None, data_dir=Path(data_dir))
    base = rss_mb()
    kb = KnowledgeBase.open(settings, encoder=_HashEncoder())
    kiwi()
    t = time.perf_counter()
    plain = PlainProgress(interval=2.0, stream=sys.stderr)
    seen: list[tuple[float, int, int, bool]] = []  # (seconds, chunks done in the file, its chunks, splitting)
    first_chunk_rss: list[float] = []
    peak_file: list[float] = []  # peak RSS when the file is committed, before the search table is rebuilt

    def progress(st) -> None:
        plain(st)
        seen.append((time.perf_counter() - t, st.current_done, st.current_total, st.current_split is not None))
        if st.chunks_done and not first_chunk_rss:
            first_chunk_rss.append(rss_mb())
        if st.finished:
            peak_file.append(_peak_mb())

    rep = kb.ingest([path], progress=progress)
    peak = _peak_mb()
    return {"peak_rss_file_mb": peak_file[-1] if peak_file else None,
            "file_mb": Path(path).stat().st_size / 1024 / 1024, "chunks": rep.chunks_embedded,
            "index_chunks": kb.store.count(), "seconds": time.perf_counter() - t, "rss_before_mb": base,
            "rss_at_first_chunk_mb": first_chunk_rss[0] if first_chunk_rss else None, "peak_rss_mb": peak,
            "table_seconds": rep.table_seconds,
            "progress_updates_within_file": sum(1 for _, done, total, split in seen if split or 0 < done < total),
            "first_progress_s": next((at for at, done, _, split in seen if split or done), None),
            "first_chunk_s": next((at for at, done, _, _ in seen if done), None)}


def _probe_bigfile(f: Path, data: Path, kill_at: float | None = None) -> dict | None:
    """Run `bigfile_probe` in a child process; with `kill_at`, SIGKILL it once that fraction of the file's chunks is
    embedded (read from its progress lines) and return None."""
    import re
    import signal

    code = ("import json, sys; from bot.evals.scale import bigfile_probe; "
            "print('PROBE' + json.dumps(bigfile_probe(sys.argv[1], sys.argv[2])))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(f), str(data)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if kill_at is not None:
        for line in proc.stderr:
            m = re.search(r"\((\d+)/(\d+) chunks\)", line)
            if m and int(m.group(1)) >= kill_at * int(m.group(2)):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
        return None
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"big-file probe failed: {err[-2000:]}")
    return json.loads(next(x for x in out.splitlines() if x.startswith("PROBE"))[5:])


def bigfiles(work: Path, sizes: tuple[float, ...], log: Callable, paragraphs: list[str] | None = None) -> list[dict]:
    """Per size: an uninterrupted ingest, then (largest file only) a run killed half-way and resumed."""

    out = []
    for mb in sizes:
        folder = work / f"big-{mb:g}{'-korquad' if paragraphs else ''}"
        folder.mkdir(parents=True, exist_ok=True)
        f = folder / "big.txt"
        if not f.exists():
            f.write_text(big_text(mb, paragraphs), encoding="utf-8")
        data = Path(tempfile.mkdtemp(dir=work))
        r = _probe_bigfile(f, data)
        log(f"  {r['file_mb']:.0f} MB file: {r['chunks']} chunks in {r['seconds']:.0f}s, peak RSS "
            f"{r['peak_rss_file_mb']:.0f} MB while ingesting, {r['peak_rss_mb']:.0f} MB with the table, "
            f"first progress after {r['first_progress_s']:.1f}s, first chunk after "
            f"{r['first_chunk_s']:.0f}s")
        shutil.rmtree(data, ignore_errors=True)
        if mb == max(sizes):
            data = Path(tempfile.mkdtemp(dir=work))
            _probe_bigfile(f, data, kill_at=0.5)
            resumed = _probe_bigfile(f, data)
            r["resume"] = {"embedded_after_kill": resumed["chunks"], "index_chunks": resumed["index_chunks"],
                           "seconds": resumed["seconds"], "peak_rss_mb": resumed["peak_rss_mb"],
                           "same_count_as_uninterrupted": resumed["index_chunks"] == r["index_chunks"]}
            log(f"  killed (SIGKILL) half-way, then resumed: {resumed['chunks']} of {resumed['index_chunks']} chunks "
                f"embedded again in {resumed['seconds']:.0f}s")
            shutil.rmtree(data, ignore_errors=True)
        out.append(r)
    return out
