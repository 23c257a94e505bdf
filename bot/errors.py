"""kbot's errors, every class in one place.

Each error speaks to two readers:

- `user_message`: Korean, for people in the web UI and Slack. It says what to do next and never names shell commands,
  settings or internals.
- `hint`: English, for operators (CLI, logs). It may name commands and settings.

`str(err)` is the detail for logs. The UI and Slack show only `user_message`; the CLI prints `user_message` and the
`hint`. Neither ever holds a secret: build them from our own words, never from a library's exception text.
"""

from __future__ import annotations

UNEXPECTED = ("죄송합니다. 답변을 만드는 중에 문제가 생겼습니다. 잠시 후 다시 물어봐 주세요. "
              "계속되면 관리자에게 알려 주세요.")


class KbotError(Exception):
    """Base class of every error kbot raises on purpose."""

    user_message: str = UNEXPECTED
    hint: str = ""

    def __init__(self, message: str = "", *, user_message: str | None = None, hint: str | None = None) -> None:
        super().__init__(message or hint or user_message or self.user_message)
        if user_message is not None:
            self.user_message = user_message
        if hint is not None:
            self.hint = hint
        elif not self.hint and message:
            self.hint = message  # most messages already name the fix (a setting, a command)


def user_message(exc: BaseException) -> str:
    """What a web or Slack user sees for `exc`: kbot's own message, or a generic Korean apology."""
    return exc.user_message if isinstance(exc, KbotError) else UNEXPECTED


class ConfigError(KbotError):
    """A setting is missing or wrong."""

    user_message = "kbot 서버 설정에 문제가 있어 지금은 답할 수 없습니다. 관리자에게 알려 주세요."


class EmptyQueryError(KbotError, ValueError):
    """The question was empty or only whitespace."""

    user_message = "질문이 비어 있습니다. 궁금한 내용을 적어 주세요. 예: 크리에이트 요금제는 얼마야?"

    def __init__(self) -> None:
        super().__init__('The question is empty: type a question, e.g. kbot search "GPT-3 요금제".')


class ModelMismatchError(KbotError):
    """The collection was built with another embedding model than the one configured."""

    user_message = "검색 색인이 지금 설정된 임베딩 모델과 맞지 않아 검색할 수 없습니다. 관리자에게 알려 주세요."


class StoreUnavailableError(KbotError):
    """The Chroma server cannot be reached."""

    user_message = "문서 저장소에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요. 계속되면 관리자에게 알려 주세요."


class LoadError(KbotError):
    """One input file cannot be read; the reason is the message."""

    user_message = ("파일을 읽지 못했습니다. .md, .txt, .html, .pdf, .hwp, .hwpx, .docx, .pptx, .xlsx 형식의 글이 담긴 "
                    "파일인지 확인해 주세요.")


class NotIndexedError(KbotError):
    """Nothing has been ingested yet."""

    user_message = ("아직 색인된 문서가 없어 답할 수 없습니다. 문서 색인이 끝난 뒤 다시 물어봐 주세요. "
                    "계속되면 관리자에게 알려 주세요.")

    def __init__(self) -> None:
        super().__init__("The index is empty: run `kbot ingest corpus/` first (or upload files in the web UI).")


class IndexBusyError(KbotError):
    """Another process is writing to the same embedded index."""

    user_message = "다른 작업이 지금 문서를 색인하고 있습니다. 끝난 뒤 다시 시도해 주세요."


class CostInputError(KbotError, ValueError):
    """A cost-tool input is missing, unknown or out of range. The message is Korean and names the input."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, user_message=message, hint=hint)


class LLMError(KbotError):
    """The chat model (OpenAI or a compatible server, or llama.cpp) failed.

    `reason` is a short Korean phrase for the notice on an answer that falls back to the documents' own sentences.
    """

    user_message = "AI 모델이 지금 응답하지 못했습니다. 잠시 후 다시 물어봐 주세요. 계속되면 관리자에게 알려 주세요."
    reason: str = "응답 오류"

    def __init__(self, message: str, *, reason: str | None = None, user_message: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, user_message=user_message, hint=hint)
        if reason is not None:
            self.reason = reason


class LocalModelError(LLMError):
    """The local model failed while generating."""

    reason = "로컬 모델 오류"


class ModelBuildError(KbotError):
    """A model could not be fetched or failed its checksum."""


class EvalInputError(KbotError):
    """The question file is malformed; the message names the line."""


class FilterError(KbotError, ValueError):
    """A search filter is malformed or names a publisher or document the index does not hold. The Korean message
    lists the valid choices."""

    user_message = "검색 조건을 확인해 주세요."


class NoMatchError(KbotError):
    """No indexed document passes the filter: said instead of silently searching everything."""

    user_message = "조건에 맞는 문서가 없습니다. 기간을 넓히거나 발행처·문서 조건을 빼고 다시 시도해 주세요."


class FetchError(LoadError):
    """A web page could not be fetched or read. The message is the reason (English, for the CLI and the ingest
    report); `user_message` says the same in Korean with what to do next (the UI's per-URL result)."""

    user_message = "웹 페이지를 가져오지 못했습니다. 주소가 맞는지 확인해 주세요."

    def __init__(self, message: str, user_message: str | None = None) -> None:
        super().__init__(message, user_message=user_message, hint=message)


class ApiError(KbotError):
    """An HTTP request `kbot serve` refuses; `status` is the HTTP status, `code` a stable machine-readable name."""

    status: int = 400
    code: str = "bad_request"
    user_message = "요청을 처리할 수 없습니다. 요청 내용을 확인해 주세요."

    def __init__(self, message: str = "", *, user_message: str | None = None, status: int | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, user_message=user_message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = headers or {}


class AuthError(ApiError):
    """No API key, or one kbot does not know (forged or revoked)."""

    status, code = 401, "invalid_api_key"
    user_message = "API 키가 없거나 올바르지 않습니다. 관리자에게 받은 키를 Authorization: Bearer 헤더에 넣어 주세요."


class ForbiddenError(ApiError):
    """The key is valid but this request lies outside its scope."""

    status, code = 403, "forbidden"
    user_message = "이 API 키로는 할 수 없는 요청입니다. 필요하면 관리자에게 권한을 요청해 주세요."


class RateLimitError(ApiError):
    """Too many requests from one key (or address) in a minute."""

    status, code = 429, "rate_limited"
    user_message = "요청이 너무 많습니다. 잠시 뒤에 다시 시도해 주세요."


class TooLargeError(ApiError):
    """The request body is bigger than the server accepts."""

    status, code = 413, "too_large"
    user_message = "요청이 너무 큽니다. 내용을 줄이거나 나눠서 보내 주세요."


class NotReadyError(ApiError):
    """The index is still loading or being built for the first time."""

    status, code = 503, "not_ready"
    user_message = "kbot이 아직 준비 중입니다(문서 색인 중). 잠시 뒤에 다시 시도해 주세요."


class AnswerTimeoutError(ApiError):
    """An answer took longer than KBOT_API_TIMEOUT."""

    status, code = 504, "timeout"
    user_message = "답변을 만드는 데 너무 오래 걸려 중단했습니다. 잠시 뒤에 다시 물어봐 주세요."
