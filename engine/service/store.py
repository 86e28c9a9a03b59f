"""Jobs and their finished cues in SQLite, so nothing is lost when the engine dies.

A cue is recorded only after its WAV was renamed into place, so no result ever references a
partial file; a job interrupted by a crash resumes from its recorded cues on the next start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
TERMINAL = frozenset({DONE, FAILED, CANCELLED})
BUSY_TIMEOUT_S = 30.0  # another process writing (a `vm-engine` tool, a test) waits, never fails

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    error TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    event TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(status, priority DESC, created);
CREATE INDEX IF NOT EXISTS jobs_hash ON jobs(request_hash, status);
CREATE TABLE IF NOT EXISTS cues (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    scene_index INTEGER NOT NULL,
    cue TEXT NOT NULL,
    PRIMARY KEY (job_id, scene_index)
);
"""


@dataclass(frozen=True)
class JobRecord:
    id: str
    request: dict[str, Any]
    request_hash: str
    priority: int
    status: str
    progress: float
    stage: str
    error: str | None
    warnings: list[str]
    cancel_requested: bool
    created: float
    updated: float
    event: dict[str, Any] | None = None  # the last progress event (engine.api.ProgressEvent fields)


class JobStore:
    """Thread-safe access to the jobs database (one connection, serialised by a lock)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "event" not in columns:  # a database from before typed progress events
            self._db.execute("ALTER TABLE jobs ADD COLUMN event TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _row(self, row: tuple) -> JobRecord:
        return JobRecord(
            id=row[0],
            request=json.loads(row[1]),
            request_hash=row[2],
            priority=row[3],
            status=row[4],
            progress=row[5],
            stage=row[6],
            error=row[7],
            warnings=json.loads(row[8]),
            cancel_requested=bool(row[9]),
            created=row[10],
            updated=row[11],
            event=json.loads(row[12]) if row[12] else None,
        )

    def create(self, request: dict[str, Any], request_hash: str, priority: int = 0) -> JobRecord:
        job_id = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, request, request_hash, priority, status, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, json.dumps(request, sort_keys=True), request_hash, priority, QUEUED, now, now),
            )
        return self.get(job_id)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else self._row(row)

    def find_done(self, request_hash: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM jobs WHERE request_hash = ? AND status = ? ORDER BY updated DESC LIMIT 1",
                (request_hash, DONE),
            ).fetchone()
        return None if row is None else self._row(row)

    def claim_next(self) -> JobRecord | None:
        """The most urgent queued job, marked running (regenerations have a higher priority).

        One UPDATE ... RETURNING statement picks and marks the job, so the choice and the claim are
        one write transaction: two claimers (threads or processes) never get the same job.
        """
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET status = ?, updated = ? WHERE id = (SELECT id FROM jobs WHERE status = ?"
                " ORDER BY priority DESC, created LIMIT 1) AND status = ? RETURNING *",
                (RUNNING, time.time(), QUEUED, QUEUED),
            ).fetchone()
        return None if row is None else self._row(row)

    def update_progress(
        self, job_id: str, progress: float, stage: str, event: dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET progress = ?, stage = ?, event = ?, updated = ? WHERE id = ?",
                (progress, stage, None if event is None else json.dumps(event), time.time(), job_id),
            )

    def finish(self, job_id: str, status: str, error: str | None = None, warnings: list[str] = ()) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, error = ?, warnings = ?, progress = CASE WHEN ? = 'done'"
                " THEN 1.0 ELSE progress END, updated = ? WHERE id = ?",
                (status, error, json.dumps(list(warnings)), status, time.time(), job_id),
            )

    def request_cancel(self, job_id: str) -> JobRecord | None:
        with self._lock:
            job = self.get(job_id)
            if job is None or job.status in TERMINAL:
                return job
            if job.status == QUEUED:
                self.finish(job_id, CANCELLED, error="cancelled before it started")
            else:
                self._db.execute(
                    "UPDATE jobs SET cancel_requested = 1, updated = ? WHERE id = ?", (time.time(), job_id)
                )
        return self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def add_cue(self, job_id: str, scene_index: int, cue: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cues (job_id, scene_index, cue) VALUES (?, ?, ?)",
                (job_id, scene_index, json.dumps(cue, sort_keys=True)),
            )

    def cues(self, job_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT cue FROM cues WHERE job_id = ? ORDER BY scene_index", (job_id,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def drop_cue(self, job_id: str, scene_index: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM cues WHERE job_id = ? AND scene_index = ?", (job_id, scene_index))

    def recover(self) -> list[str]:
        """After a crash: running jobs go back to the queue; cues whose file vanished are forgotten."""
        with self._lock:
            rows = self._db.execute("SELECT id, cancel_requested FROM jobs WHERE status = ?", (RUNNING,))
            rows = rows.fetchall()
            for job_id, cancel in rows:
                if cancel:
                    self.finish(job_id, CANCELLED, error="cancelled")
            running = [job_id for job_id, cancel in rows if not cancel]
            for job_id in running:
                cue_dir = Path(self.get(job_id).request.get("cue_dir", ""))
                for partial in cue_dir.glob(".*.wav.part") if cue_dir.is_dir() else ():
                    partial.unlink(missing_ok=True)  # a write the crash interrupted
                for cue in self.cues(job_id):
                    if not Path(cue["wav_path"]).is_file():
                        self.drop_cue(job_id, cue["index"])
                self._db.execute(
                    "UPDATE jobs SET status = ?, stage = 'resumed after restart', updated = ? WHERE id = ?",
                    (QUEUED, time.time(), job_id),
                )
        return running

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {status: n for status, n in rows}
