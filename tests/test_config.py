"""Settings: environment prefix, .env.example completeness, clear errors for bad values."""

import pytest
from conftest import ROOT

from bot.config import Settings, load_settings
from bot.errors import ConfigError


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"KBOT_{name.upper()}" not in text]
    assert not missing


def test_environment_is_read_with_the_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("KBOT_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("KBOT_CHROMA_HOST", "127.0.0.1")
    s = load_settings()
    assert s.data_dir == tmp_path / "x" and s.server_mode


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("KBOT_COLLECTION", "a b")
    with pytest.raises(ConfigError, match="KBOT_COLLECTION"):
        load_settings()
