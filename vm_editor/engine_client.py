"""How the editor side reaches the engine: the local service (default) or this process.

Both implement `engine.api.Engine` (score with typed progress events, conditioning, shot
embeddings, preview, info). The service client finds a running
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from engine.api import (
    API_VERSION,
    CueConditioning,
    EngineInfo,
    Job,
    Preview,
    ProgramSegmentSpec,
    ProgressCallback,
    SceneRequest,
    ScoreRequest,
    ScoreResult,
    job_from_dict,
)
from vm_editor.errors import EditorInputError


class EngineError(EditorInputError):
    """The engine refused the request or could not be reached; the message says why."""


def _json(obj: Any) -> Any:
    return json.loads(json.dumps(asdict(obj)))


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
    def info(self) -> EngineInfo:
        doc = self._call("GET", "/info")
        return EngineInfo(
            version=doc["version"],
            api_version=int(doc.get("api_version", API_VERSION)),
            presets=tuple(doc.get("presets", ())),
            device=doc.get("device", "?"),
            warm_presets=tuple(doc.get("warm", ())),
        )

    def submit(self, request: ScoreRequest) -> dict:
        return self._call("POST", "/jobs", json=_json(request))

    def status(self, job_id: str) -> dict:
        return self._call("GET", f"/jobs/{job_id}")

    def job(self, job_id: str) -> Job:
        return job_from_dict(self.status(job_id))

    def cancel(self, job_id: str) -> dict:
        return self._call("POST", f"/jobs/{job_id}/cancel")

    def regenerate(
        self, job_id: str, cue_index: int, seed: int | None = None, prompt: str | None = None
    ) -> dict:
        body = {"cue_index": cue_index, "seed": seed, "prompt": prompt}
        return self._call("POST", f"/jobs/{job_id}/regenerate", json=body)

    def preview(self, path: str, start_s: float, end_s: float) -> Preview:
        """A still (base64 PNG), the rhythm curve and the cuts of a media range, for the panel."""
        doc = self._call("POST", "/media/preview", json={"path": path, "start_s": start_s, "end_s": end_s})
        return Preview(tuple(doc["rhythm"]), tuple(doc["cuts_s"]), doc["thumbnail_png_base64"])

    def conditioning(self, scene: SceneRequest, preset: str = "tiny") -> CueConditioning:
        doc = self._call("POST", "/conditioning", json={"scene": _json(scene), "preset": preset})
        return CueConditioning(
            fps=int(doc["fps"]),
            curve=tuple(doc["curve"]),
            cues=tuple(doc["cues"]),
            edit_points_s=tuple(doc["edit_points_s"]),
            cls_frames=int(doc["cls_frames"]),
        )

    def shot_embeddings(
        self, shots: tuple[ProgramSegmentSpec, ...], preset: str = "tiny"
    ) -> list[list[float]]:
        body = {"shots": [_json(s) for s in shots], "preset": preset}
        return self._call("POST", "/shots/embeddings", json=body)["embeddings"]

    def wait(self, job_id: str, progress: Callable[[Job], None] | None = None) -> Job:
        """Poll until the job ends; `progress` sees the typed job at every poll."""
        while True:
            job = self.job(job_id)
            if progress is not None:
                progress(job)
            if job.status in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.2)

    def score(self, request: ScoreRequest, progress: ProgressCallback | None = None) -> ScoreResult:
        """Submit, follow the job's progress events (each new one passed on), return the cues."""
        last = None

        def relay(job: Job) -> None:
            nonlocal last
            if progress is not None and job.event is not None and job.event != last:
                last = job.event
                progress(job.event)

        job = self.wait(self.submit(request)["id"], relay)
        if job.status != "done":
            raise EngineError(f"job {job.status}: {job.error or 'no reason given'}")
        return ScoreResult(cues=job.cues, warnings=job.warnings)
