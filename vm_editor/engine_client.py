"""How the editor side reaches the engine: the local service (default) or this process.

Both expose `score(request, progress) -> ScoreResult`. The service client finds a running
engine through its user-only runtime file, starts one when there is none, and talks to it over
loopback with the per-launch token, with timeouts and retries. The in-process engine lives in
`engine.in_process` (standard library at import), so `vm_editor` never loads torch, onnxruntime
or av itself.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from engine.api import ScoreRequest, ScoreResult, cue_from_dict
from vm_editor.errors import EditorInputError


class EngineError(EditorInputError):
    """The engine refused the request or could not be reached; the message says why."""


@dataclass(frozen=True)
class ServiceProgress:
    status: str
    fraction: float
    stage: str


def state_dir() -> Path:
    """Same rule as the engine's: VIDMUSICIAN_STATE_DIR, else $XDG_STATE_HOME/vidmusician."""
    if os.environ.get("VIDMUSICIAN_STATE_DIR"):
        return Path(os.environ["VIDMUSICIAN_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vidmusician"


class ServiceEngine:
    """A typed client of `vm-engine serve`, starting the engine when it is not running."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        start: bool = True,
        timeout_s: float = 30.0,
        start_timeout_s: float = 180.0,
        retries: int = 3,
    ):
        self.folder = folder or state_dir()
        self.start = start
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.retries = retries
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()  # the panel calls from several threads: start one engine only

    # -- connection -------------------------------------------------------------------------
    def _runtime(self) -> dict | None:
        try:
            return json.loads((self.folder / "engine.json").read_text())
        except (OSError, ValueError):
            return None

    def _try_connect(self, runtime: dict | None) -> httpx.Client | None:
        if not runtime:
            return None
        client = httpx.Client(
            base_url=runtime["url"],
            headers={"Authorization": f"Bearer {runtime['token']}"},
            timeout=self.timeout_s,
            transport=httpx.HTTPTransport(retries=self.retries),
        )
        try:
            if client.get("/health").status_code == 200:
                return client
        except httpx.HTTPError:
            pass
        client.close()
        return None

    def _launch(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = open(self.folder / "engine.log", "ab")  # noqa: SIM115 - handed to the child
        env = dict(os.environ, VIDMUSICIAN_STATE_DIR=str(self.folder))
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--state-dir", str(self.folder)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # outlives this command: the next one finds it warm
        )
        ready, _, _ = select.select([process.stdout], [], [], self.start_timeout_s)
        line = process.stdout.readline() if ready else b""
        if not line:
            process.kill()
            raise EngineError(f"the engine did not start; see {self.folder / 'engine.log'}")

    def client(self) -> httpx.Client:
        with self._lock:
            return self._connect_or_start()

    def _connect_or_start(self) -> httpx.Client:
        if self._client is None:
            self._client = self._try_connect(self._runtime())
        if self._client is None:
            if not self.start:
                raise EngineError("no engine is running; start one with `vm-engine serve`")
            self._launch()
            self._client = self._try_connect(self._runtime())
        if self._client is None:
            raise EngineError(f"cannot reach the engine; see {self.folder / 'engine.log'}")
        return self._client

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.client().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise EngineError(f"lost the connection to the engine ({exc}); run the command again") from exc
        if response.status_code >= 400:
            detail = response.json().get("detail") if response.content else response.reason_phrase
            raise EngineError(f"engine refused the request ({response.status_code}): {detail}")
        return response.json()

    # -- API --------------------------------------------------------------------------------
    def info(self) -> dict:
        return self._call("GET", "/info")

    def submit(self, request: ScoreRequest) -> dict:
        return self._call("POST", "/jobs", json=json.loads(json.dumps(asdict(request))))

    def status(self, job_id: str) -> dict:
        return self._call("GET", f"/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict:
        return self._call("POST", f"/jobs/{job_id}/cancel")

    def regenerate(
        self, job_id: str, cue_index: int, seed: int | None = None, prompt: str | None = None
    ) -> dict:
        body = {"cue_index": cue_index, "seed": seed, "prompt": prompt}
        return self._call("POST", f"/jobs/{job_id}/regenerate", json=body)

    def preview(self, path: str, start_s: float, end_s: float) -> dict:
        """A still (base64 PNG), the rhythm curve and the cuts of a media range, for the panel."""
        return self._call("POST", "/media/preview", json={"path": path, "start_s": start_s, "end_s": end_s})

    def wait(self, job_id: str, progress: Callable[[ServiceProgress], None] | None = None) -> dict:
        while True:
            job = self.status(job_id)
            if progress is not None:
                progress(ServiceProgress(job["status"], job["progress"], job["stage"]))
            if job["status"] in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.2)

    def score(self, request: ScoreRequest, progress: Callable[[Any], None] | None = None) -> ScoreResult:
        job = self.wait(self.submit(request)["id"], progress)
        if job["status"] != "done":
            raise EngineError(f"job {job['status']}: {job.get('error') or 'no reason given'}")
        cues = tuple(cue_from_dict(c) for c in job["cues"])
        return ScoreResult(cues=cues, warnings=tuple(job["warnings"]))
