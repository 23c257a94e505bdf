from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RAW_CORPUS = SHARED / "corpus"
DEV = SHARED / "eval" / "dev.jsonl"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_kbot_env(monkeypatch):
    """Tests never read the developer's KBOT_*, OPENAI_* or SLACK_* variables or .env file."""
    for key in list(os.environ):
        if key.startswith(("KBOT_", "OPENAI_", "SLACK_")):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """The converted default model, built once per test session (about 3 s)."""
    from bot.e5convert import ensure_folder

    cache = tmp_path_factory.mktemp("models")
    ensure_folder(cache)
    return cache


@pytest.fixture
def make_settings(tmp_path, model_cache):
    from bot.config import Settings

    def make(**kw):
        kw.setdefault("data_dir", tmp_path / "data")
        kw.setdefault("model_cache_dir", model_cache)
        return Settings(_env_file=None, **kw)

    return make


@pytest.fixture
def fake_kb(make_settings):
    """A KnowledgeBase on a real embedded Chroma with the fake encoder."""
    from fakes import FakeEncoder

    from bot.api import KnowledgeBase

    return KnowledgeBase.open(make_settings(), encoder=FakeEncoder())


@pytest.fixture(scope="session")
def real_encoder(model_cache):
    from bot.config import Settings
    from bot.embeddings import Encoder

    return Encoder(Settings(_env_file=None, model_cache_dir=model_cache))


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory, model_cache, real_encoder):
    """The five articles of corpus/ indexed with the real default model (shared by the slow tests)."""
    from bot.api import KnowledgeBase
    from bot.config import Settings

    data = tmp_path_factory.mktemp("corpus-index")
    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=data, model_cache_dir=model_cache),
                            encoder=real_encoder)
    report = kb.ingest([ROOT / "corpus"])
    assert report.ok and len(report.added) == 5
    return kb


@pytest.fixture
def chroma_bin() -> str:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(exe).exists():
        pytest.fail("the `chroma` command is missing: it ships with the chromadb package")
    return exe
