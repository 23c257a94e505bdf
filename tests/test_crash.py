"""Crash safety: SIGKILL a real `kbot ingest` mid-run, re-run, and get the same index as an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bot.api import KnowledgeBase
from bot.config import Settings

SENTENCES = ["GPT-3의 {i}번째 요금제 설명 문장이며 토큰 {i}00만개를 쓸 수 있다.",
             "V100 GPU {i}장의 가격은 약 {i},000달러로 알려졌다.",
             "A100 노드 {i}대는 전력을 {i}kW 정도 쓴다고 한다."]


def _make_docs(folder, n_docs=24, per_doc=12):
    folder.mkdir()
    for d in range(n_docs):
        lines = [SENTENCES[j % 3].format(i=d * 100 + j) for j in range(per_doc)]
        (folder / f"doc{d:02d}.txt").write_text(" ".join(lines), encoding="utf-8")


def _count_in_fresh_process(data_dir, model_cache) -> int:
    # Embedded Chroma is single-process: a client opened here would keep a stale view of later writes.
    code = ("from bot.config import Settings; from bot.store import Store; "
            f"print(Store(Settings(_env_file=None, data_dir={str(data_dir)!r})).count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def _snapshot(kb):
    rows = {}
    for c in kb.store.iter_all(include_documents=True, include_embeddings=True):
        meta = dict(c.metadata)
        emb = meta.pop("_embedding")
        rows[c.chunk_id] = (c.text, tuple(sorted(meta.items())), emb)
    return rows


@pytest.mark.slow
def test_sigkill_during_ingest_then_rerun_equals_clean_run(tmp_path, model_cache, real_encoder):
    docs = tmp_path / "docs"
    _make_docs(docs)
    clean = KnowledgeBase.open(Settings(_env_file=None, data_dir=tmp_path / "clean", model_cache_dir=model_cache,
                                        chunk_size=200), encoder=real_encoder)
    clean.ingest([docs])
    expected = _snapshot(clean)
    total = len(expected)
    assert total > 64  # several write batches of 32, so kills land between and inside batches

    crashed_dir = tmp_path / "crashed"
    env = {**os.environ, "KBOT_DATA_DIR": str(crashed_dir), "KBOT_MODEL_CACHE_DIR": str(model_cache),
           "HF_HUB_OFFLINE": "1", "KBOT_CHUNK_SIZE": "200", "KBOT_INGEST_BATCH": "32"}
    counts = []
    # Kill 1: right after the first batch is committed. Kill 2: mid-way through encoding/writing the next one.
    for extra_delay in (0.0, 1.5):
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", str(docs)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:  # the plain progress line printed once the first batch is committed
            if line.startswith("ingest:") and " 0 chunks embedded" not in line:
                break
        time.sleep(extra_delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts.append(_count_in_fresh_process(crashed_dir, model_cache))
    assert any(0 < c < total for c in counts), counts  # the kills left a half-written index

    resumed = KnowledgeBase.open(Settings(_env_file=None, data_dir=crashed_dir, model_cache_dir=model_cache,
                                          chunk_size=200),
                                 encoder=real_encoder)
    report = resumed.ingest([docs])
    assert report.ok
    got = _snapshot(resumed)
    assert set(got) == set(expected)
    for cid, (text, meta, emb) in expected.items():
        assert got[cid][0] == text and got[cid][1] == meta
        np.testing.assert_allclose(got[cid][2], emb, atol=1e-5)
    # and the resumed index is itself stable
    assert resumed.ingest([docs]).chunks_embedded == 0
