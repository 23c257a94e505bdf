"""Chat models: OpenAI (or any OpenAI-compatible server) and an in-process GGUF model via llama-cpp-python.

Both are LangChain chat models, so the chain in `bot/chain.py` treats them alike. The extractive backend has no
model: `make_chat_model` returns None for it.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from .config import Settings
from .errors import ConfigError, LLMError, LocalModelError

log = logging.getLogger(__name__)

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def describe(settings: Settings) -> str:
    """Who answers, for status lines: 'openai:gpt-4o-mini', 'local:qwen.gguf' or 'extractive'."""
    backend = settings.backend
    if backend == "openai":
        return f"openai:{settings.openai_model}"
    if backend == "local":
        return f"local:{Path(settings.local_model).name if settings.local_model else '?'}"
    return "extractive"


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model of the configured backend (None for extractive). Raises ConfigError with the fix."""
    backend = settings.backend
    if backend == "openai":
        return _openai(settings)
    if backend == "local":
        return LlamaCppChat.from_settings(settings)
    return None


def _openai(settings: Settings) -> BaseChatModel:
    if not settings.openai_api_key and not settings.openai_base_url:
        raise ConfigError("No OpenAI key: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server), "
                          "or KBOT_LLM=local / KBOT_LLM=extractive.")
    from langchain_openai import ChatOpenAI

    # Compatible servers (Ollama, llama.cpp) need no key, but the client insists on one.
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "no-key"
    return ChatOpenAI(model=settings.openai_model, api_key=key, base_url=settings.openai_base_url,
                      timeout=settings.llm_timeout, max_retries=settings.llm_max_retries,
                      temperature=settings.temperature, max_completion_tokens=settings.max_answer_tokens,
                      use_responses_api=False, stream_usage=False)


def model_failure(exc: BaseException) -> LLMError | None:
    """`exc` as an LLMError when it is the chat model's service failing (OpenAI or a compatible server, llama.cpp);
    None for anything else. Built from the error's type and status only: a server's message may echo the API key."""
    if isinstance(exc, LLMError):
        return exc
    try:
        import openai
    except ImportError:  # pragma: no cover - openai ships with the base install
        return None
    name = type(exc).__name__
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"OpenAI {name}", reason="시간 초과",
                        hint="the model server did not answer in time: raise KBOT_LLM_TIMEOUT or check the server.")
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(f"OpenAI {name} (HTTP 401)", reason="인증 실패",
                        hint="the model server rejected the API key: check OPENAI_API_KEY.")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"OpenAI {name} (HTTP 429)", reason="요청 한도 초과(429)",
                        hint="rate limited after KBOT_LLM_MAX_RETRIES retries: check the account's limits and quota.")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(f"OpenAI {name} (HTTP 404)", reason="HTTP 404",
                        hint="the model or endpoint does not exist: check OPENAI_MODEL and OPENAI_BASE_URL.")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"OpenAI {name} (HTTP {exc.status_code})", reason=f"HTTP {exc.status_code}",
                        hint=f"the model server answered HTTP {exc.status_code}: check its status and logs.")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"OpenAI {name}", reason="연결 실패",
                        hint="cannot connect to the model server: check OPENAI_BASE_URL and the network.")
    if isinstance(exc, openai.APIError):
        return LLMError(f"OpenAI {name}", reason="응답 오류",
                        hint="the model server sent an unusable response: check OPENAI_BASE_URL and OPENAI_MODEL.")
    return None


def service_failure(exc: BaseException) -> str | None:
    """A short Korean, secret-free reason when `exc` is the chat model failing (logged with the operator's hint);
    None for anything else."""
    failure = model_failure(exc)
    if failure is None:
        return None
    log.warning("chat model failed: %s. Hint: %s", failure, failure.hint)
    return failure.reason


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a LangChain chat model (with streaming).

    The model is loaded on first use and shared; llama.cpp contexts are not thread-safe, so calls are serialised.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 0
    max_tokens: int = 400
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaCppChat:
        if not settings.local_model:
            raise ConfigError("No local model: set KBOT_LOCAL_MODEL to a .gguf file (`kbot model qwen` builds one), "
                              "or KBOT_LLM=extractive.")
        path = Path(settings.local_model)
        if not path.is_file():
            raise ConfigError(f"KBOT_LOCAL_MODEL points to a missing file: {path}. Run `kbot model qwen` or fix "
                              "the path.")
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise ConfigError("The local backend needs llama-cpp-python: "
                              "CMAKE_ARGS=\"-DLLAVA_BUILD=OFF\" pip install -e '.[local]' (builds in ~6 min), "
                              "or KBOT_LLM=extractive.") from None
        return cls(model_path=path, n_ctx=settings.local_context, n_threads=settings.local_threads,
                   max_tokens=settings.max_answer_tokens, temperature=settings.temperature)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _model(self):
        if self._llama is None:
            import os

            from llama_cpp import Llama

            threads = self.n_threads or os.cpu_count() or 1
            self._llama = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=threads,
                                n_threads_batch=threads, verbose=False)
        return self._llama

    def prompt_tokens(self, messages: list[BaseMessage]) -> int:
        """Tokens the chat-formatted `messages` take (what must fit in n_ctx with the answer)."""
        model = self._model()
        text = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in self._messages(messages))
        return len(model.tokenize(text.encode("utf-8"), add_bos=True)) + 8 * len(messages)

    @property
    def prompt_budget(self) -> int:
        return self.n_ctx - self.max_tokens

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]

    def _complete(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool):
        """llama.cpp's chat completion; with `stream`, the prompt is evaluated before returning, so a prompt too
        long for the context fails here as a LocalModelError rather than mid-answer."""
        try:
            out = self._model().create_chat_completion(messages=self._messages(messages), stop=stop,
                                                       max_tokens=self.max_tokens, temperature=self.temperature,
                                                       stream=stream)
            if stream:
                first = next(out, None)
                return itertools.chain([first] if first is not None else [], out)
            return out
        except (ValueError, RuntimeError) as e:
            if "context window" in str(e):
                raise LocalModelError(f"llama.cpp: {str(e)[:200]}", reason="질문과 문서가 로컬 모델의 입력 한도를 넘음",
                                      hint="the prompt does not fit the local model's context: raise "
                                           "KBOT_LOCAL_CONTEXT or lower KBOT_ANSWER_CHUNKS.") from e
            raise LocalModelError(f"llama.cpp: {str(e)[:200]}",
                                  hint="the local model failed while generating: check KBOT_LOCAL_MODEL and "
                                       "the log above.") from e

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        with self._lock:
            out = self._complete(messages, stop, stream=False)
        text = out["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self._complete(messages, stop, stream=True):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
