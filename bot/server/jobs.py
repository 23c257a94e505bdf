"""Ingest jobs for the HTTP API: one writer at a time, progress as the CLI and the web UI report it."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import KbotError
from ..progress import IngestStatus, format_seconds
from ..types import IngestReport

log = logging.getLogger("bot.server")


@dataclass
class Job:
    id: str
    owner: str
    kind: str  # upload | urls
    items: list[str]
    state: str = "queued"  # queued | running | done | failed
    status: IngestStatus | None = None
    report: IngestReport | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)

    def json(self) -> dict:
        st = self.status
        progress = None
        if st is not None:
            progress = {"files_done": st.files_done, "files_total": st.files_total, "chunks_done": st.chunks_done,
                        "chunks_per_second": round(st.rate, 2), "eta_seconds": st.eta, "eta": format_seconds(st.eta),
                        "fraction": round(st.fraction, 4), "current": st.current or None,
                        "line": st.line(), "korean": st.korean()}
        return {"id": self.id, "kind": self.kind, "state": self.state, "items": self.items, "progress": progress,
                "report": _report(self.report) if self.report else None, "error": self.error}


def _name(p: str) -> str:
    return p if "://" in p else Path(p).name


def _report(r: IngestReport) -> dict:
    return {"added": [_name(p) for p in r.added], "updated": [_name(p) for p in r.updated],
            "unchanged": [_name(p) for p in r.unchanged], "removed": [_name(p) for p in r.removed],
            "failed": [{"item": _name(f.path), "reason": f.reason, "message": f.user_reason} for f in r.failed],
            "chunks_embedded": r.chunks_embedded, "seconds": round(r.seconds, 2), "summary": r.summary()}


class Jobs:
    """Queued ingest runs on one worker thread (the index takes one writer); the last 200 are remembered."""

    def __init__(self, service) -> None:
        self.service = service
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kbot-ingest")

    def submit(self, owner: str, kind: str, items: list[str], *, paths=(), urls=None) -> Job:
        job = Job(uuid.uuid4().hex[:16], owner, kind, items)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-200]:
                del self._jobs[old]
        self._pool.submit(self._run, job, list(paths), urls)
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None  # another key's job does not exist for it

    def _run(self, job: Job, paths: list[Path], urls: list[str] | None) -> None:
        svc = self.service
        job.state = "running"
        svc.first_run.start()
        svc.first_run.wait(None)  # one writer: the first-run indexing finishes first

        def progress(st: IngestStatus) -> None:
            job.status = st

        try:
            job.report = svc.kb.ingest(paths, urls=urls, progress=progress)
            job.state = "done"
        except KbotError as e:
            log.warning("ingest job %s failed: %s (hint: %s)", job.id, e, e.hint)
            job.state, job.error = "failed", e.user_message
        except Exception:
            log.exception("ingest job %s failed", job.id)
            job.state, job.error = "failed", "문서를 색인하지 못했습니다. 잠시 후 다시 시도해 주세요."

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
