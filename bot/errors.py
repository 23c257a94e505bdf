"""kbot's errors. Each message says what the user can do next; the CLI, UI and Slack print `str(err)`."""


class KbotError(Exception):
    """Base class of every error kbot raises on purpose."""


class ConfigError(KbotError):
    """A setting is missing or wrong."""


class EmptyQueryError(KbotError, ValueError):
    """The question was empty or only whitespace."""

    def __init__(self) -> None:
        super().__init__("The question is empty: type a question, e.g. kbot search \"GPT-3 요금제\".")


class ModelMismatchError(KbotError):
    """The collection was built with another embedding model than the one configured."""


class StoreUnavailableError(KbotError):
    """The Chroma server cannot be reached."""


class LoadError(KbotError):
    """One input file cannot be read; the reason is the message."""


class NotIndexedError(KbotError):
    """Nothing has been ingested yet."""

    def __init__(self) -> None:
        super().__init__("The index is empty: run `kbot ingest corpus/` first.")


class IndexBusyError(KbotError):
    """Another process is writing to the same embedded index."""
