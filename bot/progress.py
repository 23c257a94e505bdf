"""Ingest progress: one status object, shown as a rich bar, a plain log line or a Korean UI line.

The figures are the same everywhere: files done/total, chunks embedded, chunks/s, estimated time left, and for a
large file how far into it the run is.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class IngestStatus:
    """Where an ingest run is. The estimate is by size: bytes of the files still to embed at the current rate."""

    files_total: int
    files_done: int = 0
    chunks_done: int = 0
    bytes_total: int = 0  # of the files that need embedding (unchanged ones are taken out when found)
    bytes_done: float = 0.0
    current: str = ""  # the file being embedded
    current_done: int = 0  # its chunks embedded so far
    current_total: int = 0
    current_split: float | None = None  # while a big file's sentences are being found: how far (0..1)
    finished: bool = False
    started: float = field(default_factory=time.monotonic)
    embed_started: float | None = None
    current_step: str | None = None  # a slow step reading the current file, shown as is ("OCR 3/10쪽")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Chunks embedded per second since the first chunk was sent to the encoder."""
        if not self.chunks_done or self.embed_started is None:
            return 0.0
        return self.chunks_done / max(time.monotonic() - self.embed_started, 1e-6)

    @property
    def eta(self) -> float | None:
        """Seconds left, or None before there is anything to extrapolate from."""
        if self.finished:
            return 0.0
        if not self.bytes_done or self.embed_started is None:
            return None
        spent = time.monotonic() - self.embed_started
        return max(self.bytes_total - self.bytes_done, 0) * spent / self.bytes_done

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return min(self.bytes_done / self.bytes_total, 1.0) if self.bytes_total else 0.0

    def _within(self) -> tuple[str, int] | None:
        """The current file and its percentage, when it is big enough to be worth showing (several batches)."""
        if self.current and self.current_total >= 100 and not self.finished:
            return self.current, int(100 * self.current_done / self.current_total)
        return None

    def _splitting(self) -> tuple[str, int] | None:
        """The big file whose sentences are being found before its first chunk is embedded, and how far."""
        if self.current and self.current_split is not None and not self.finished:
            return self.current, int(100 * self.current_split)
        return None

    @property
    def key(self) -> tuple:
        """What a new progress line must differ in: chunks embedded, or how far into the current file."""
        within, split = self._within(), self._splitting()
        return self.chunks_done, within and within[1], split and split[1], self.current_step

    def line(self) -> str:
        """One plain English line for logs: `ingest: files 3/10, 1200 chunks embedded, 25.1 chunks/s, ETA 2m10s`."""
        parts = [f"files {self.files_done}/{self.files_total}", f"{self.chunks_done} chunks embedded",
                 f"{self.rate:.1f} chunks/s", f"ETA {format_seconds(self.eta)}"]
        within, split = self._within(), self._splitting()
        if self.current_step and not self.finished:
            parts.append(f"{self.current} {self.current_step}")
        elif split:
            parts.append(f"{split[0]} splitting sentences {split[1]}%")
        elif within:
            parts.append(f"{within[0]} {within[1]}% ({self.current_done}/{self.current_total} chunks)")
        return ("ingest done: " if self.finished else "ingest: ") + ", ".join(parts)

    def korean(self) -> str:
        """The same figures for the web UI."""
        parts = [f"파일 {self.files_done}/{self.files_total}", f"청크 {self.chunks_done}개 임베딩",
                 f"초당 {self.rate:.1f}개", f"남은 시간 {format_seconds(self.eta, korean=True)}"]
        within, split = self._within(), self._splitting()
        if self.current_step and not self.finished:
            parts.append(f"{self.current} {self.current_step}")
        elif split:
            parts.append(f"{split[0]} 문장 나누는 중 {split[1]}%")
        elif within:
            parts.append(f"{within[0]} {within[1]}%")
        return " · ".join(parts)


def format_seconds(seconds: float | None, korean: bool = False) -> str:
    if seconds is None:
        return "계산 중" if korean else "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    if korean:
        return f"{h}시간 {m}분" if h else f"{m}분 {s}초" if m else f"{s}초"
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


Progress = Callable[[IngestStatus], None]


class PlainProgress:
    """Prints `IngestStatus.line()` at most every `interval` seconds when something moved (chunks embedded, or
    progress inside a big file), plus the first embedded batch and the end."""

    def __init__(self, interval: float = 5.0, stream: TextIO | None = None) -> None:
        self.interval = interval
        self.stream = stream
        self._last: float | None = None
        self._printed_chunks = -1
        self._printed_key: tuple | None = None

    def __call__(self, status: IngestStatus) -> None:
        now = time.monotonic()
        first_batch = status.chunks_done > 0 and self._printed_chunks <= 0
        due = self._last is None or now - self._last >= self.interval
        if status.finished or first_batch or (due and status.key != self._printed_key):
            print(status.line(), file=self.stream or sys.stderr, flush=True)
            self._last = now
            self._printed_chunks = status.chunks_done
            self._printed_key = status.key
