"""One generation worker: takes the most urgent job, runs it scene by scene, records each cue.

Models stay loaded between jobs (the generator caches them per preset), so only the first job
pays for loading. Cancellation is checked on every progress event, which the generator emits
every few decoding steps, so a cancel lands within a fraction of a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from pathlib import Path

from engine.api import score_request_from_dict
from engine.errors import EngineInputError
from engine.safe_write import confined_to
from engine.service.store import CANCELLED, DONE, FAILED, JobRecord, JobStore

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.1


class JobCancelled(Exception):
    """Raised from the progress callback to unwind a cancelled job."""


class Worker(threading.Thread):
    def __init__(self, store: JobStore, cue_root: Path | None = None):
        super().__init__(name="generation-worker", daemon=True)
        self.store = store
        self.cue_root = cue_root  # every WAV is written inside it, checked at write time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._cancelled: set[str] = set()
        self.current_job: str | None = None
        self.warm_presets: set[str] = set()

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            job = self.store.claim_next()
            if job is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            self.current_job = job.id
            try:
                self._run(job)
            finally:
                self.current_job = None

    def _run(self, job: JobRecord) -> None:
        from engine.pipeline import iter_cues, score_warnings

        request = score_request_from_dict(job.request)
        done = frozenset(c["index"] for c in self.store.cues(job.id))
        last_write = 0.0

        def on_progress(event) -> None:
            nonlocal last_write
            if job.id in self._cancelled or self._stopping.is_set():
                raise JobCancelled()
            now = time.monotonic()
            if now - last_write >= PROGRESS_INTERVAL_S or event.stage == "done":
                last_write = now
                if self.store.cancel_requested(job.id):
                    raise JobCancelled()
                self.store.update_progress(job.id, event.fraction, event.stage, dataclasses.asdict(event))

        trained = True
        confined = confined_to(self.cue_root) if self.cue_root is not None else contextlib.nullcontext()
        try:
            with confined:
                for cue in iter_cues(request, on_progress, skip=done):
                    self.store.add_cue(job.id, cue.index, dataclasses.asdict(cue))
                    trained = trained and cue.model_trained
            self.warm_presets.add(request.preset)
            self.store.finish(job.id, DONE, warnings=list(score_warnings(request, trained)))
        except JobCancelled:
            if self._stopping.is_set() and job.id not in self._cancelled:
                return  # shutting down: stays "running" and resumes on the next start
            self.store.finish(job.id, CANCELLED, error="cancelled")
        except EngineInputError as exc:
            self.store.finish(job.id, FAILED, error=str(exc))
        except Exception as exc:  # a bug: keep the job's reason, keep serving others
            log.exception("job %s failed", job.id)
            self.store.finish(job.id, FAILED, error=f"internal error: {exc!r}")
        finally:
            self._cancelled.discard(job.id)
