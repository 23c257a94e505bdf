"""Benchmark: the date-field upgrade of an index from before filters, and what filters cost per search.

Builds an embedded Chroma collection of N synthetic chunks the old way (no date_lo / date_hi, random unit vectors
of the default model's size), then times: a full metadata read (the baseline), the backfill (`ensure_date_fields`),
the next open's check, and hybrid search latency with and without a filter. Prints numbers; asserts nothing.

    .venv/bin/python scripts/bench_backfill.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.retrieval import HybridRetriever
from bot.store import Store
from bot.types import Filters

DIM = 384
PUBLISHERS = ["서울신문", "디지털투데이", "인공지능신문", "래블업(Lablup)", ""]
DATES = ["2020-09", "2021-06-01", "2023-03-21", "2024-03-25", "", "2022"]
WORDS = "GPU 가격 비용 모델 학습 추론 데이터 클라우드 반도체 요금 토큰 파라미터".split()


class RandomEncoder:
    name = "bench-random"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def encode_query(self, text: str) -> np.ndarray:
        v = self.rng.standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)


def build(store: Store, n: int) -> None:
    from bot import filters

    version, filters.DATE_FIELDS_VERSION = filters.DATE_FIELDS_VERSION, 0  # created as before filters existed
    store.open_for(RandomEncoder.name)
    filters.DATE_FIELDS_VERSION = version
    rng = np.random.default_rng(1)
    for start in range(0, n, 2000):
        ids = [f"d{i // 20:06d}:{i % 20:05d}" for i in range(start, min(n, start + 2000))]
        vecs = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        metas = []
        for cid in ids:
            d = int(cid[1:7])
            terms = " ".join(rng.choice(WORDS, 12))
            metas.append({"doc_id": f"d{d:06d}", "title": f"문서 {d}", "source": f"/x/{d}.md", "path": "",
                          "published": DATES[d % len(DATES)], "publisher": PUBLISHERS[d % len(PUBLISHERS)],
                          "author": "", "start": 0, "end": 1, "index": 0, "n_chunks": 20, "content_hash": "h",
                          "terms": terms})
        store.upsert(ids, vecs, [m["terms"] for m in metas], metas)
    store.bump_revision()


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp))
        store = Store(settings)
        t = time.perf_counter()
        build(store, n)
        print(f"built {store.count()} chunks the old way in {time.perf_counter() - t:.1f}s")

        t = time.perf_counter()
        sum(1 for _ in store.iter_all())
        read = time.perf_counter() - t
        t = time.perf_counter()
        updated = store.ensure_date_fields()
        backfill = time.perf_counter() - t
        t = time.perf_counter()
        again = Store(settings).ensure_date_fields()
        check = time.perf_counter() - t
        print(f"full metadata read (baseline): {read:.2f}s")
        print(f"backfill: {updated} chunks in {backfill:.2f}s ({updated / backfill:,.0f} chunks/s, "
              f"{backfill / read:.1f}x the metadata read); nothing re-embedded")
        print(f"next open: {again} chunks updated, check took {check * 1000:.1f} ms")

        retriever = HybridRetriever(settings, store, RandomEncoder())
        retriever.search("GPU 가격", k=5)  # loads the BM25 table
        cases = {"none": None, "date range": Filters(date_from="2023-01-01", date_to="2024-12-31"),
                 "publisher": Filters(publishers="서울신문"), "document": Filters(docs="문서 42"),
                 "date + publisher": Filters(date_from="2021", publishers={"서울신문", "인공지능신문"})}
        base = None
        for label, f in cases.items():
            times = []
            for i in range(30):
                t = time.perf_counter()
                retriever.search(f"GPU 가격 {WORDS[i % len(WORDS)]}", k=5, filters=f)
                times.append(time.perf_counter() - t)
            p50 = statistics.median(times) * 1000
            base = base or p50
            print(f"hybrid search, filter {label:16}: p50 {p50:6.1f} ms ({p50 / base:.2f}x unfiltered)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
