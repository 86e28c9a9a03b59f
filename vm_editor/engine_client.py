"""How the editor side reaches the engine: the local service (default) or this process.

Both implement `engine.api.Engine` (score with typed progress events, conditioning, shot
embeddings, preview, info). The service client finds a running
engine through its user-only runtime file, starts one when there is none, and talks to it over
loopback with the per-launch token, with timeouts and retries. A running engine started from
another build of the install (`engine.build_id`: code or model files updated since) is replaced
when it is idle, and refused with the fix when it is busy: never silently used. The in-process
engine lives in `engine.in_process` (standard library at import), so `vm_editor` never loads
torch, onnxruntime or av itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from engine.api import (
    MAX_SCENES,
    CancelSignal,
    ConditioningRequest,
    CueConditioning,
    CueResult,
    EngineInfo,
    Job,
    Preview,
    PreviewRequest,
    ProgramSegmentSpec,
    ProgressCallback,
    ProgressEvent,
    RefitRequest,
    RegenerateRequest,
    SceneRequest,
    SchemaError,
    ScoreRequest,
    ScoreResult,
    ScoringCancelled,
    ShotPicture,
    ShotsRequest,
    from_dict,
    to_dict,
)
from engine.build_id import build_fingerprint, environment_settings
from vm_editor.errors import EditorInputError

_log = logging.getLogger(__name__)
T = TypeVar("T")


class EngineError(EditorInputError):
    """The engine refused the request or could not be reached; the message says why."""


class ScoringInterrupted(KeyboardInterrupt):
    """Ctrl-C while the engine worked: the job was cancelled there; the message says so."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


START_LOCK = "start.lock"
START_TIME_FILE = "start_seconds"
FIRST_START_S = 12.0  # measured on a 2-core machine with the tiny preset; later starts use their own


def _expected_start_s(folder: Path) -> float:
    """How long the last start took here (the estimate shown while the engine starts)."""
    try:
        return max(float((folder / START_TIME_FILE).read_text()), 0.5)
    except (OSError, ValueError):
        return FIRST_START_S


def _decoded(kind: type[T], data: Any, what: str) -> T:
    """A response as its contract type (engine.api's decoder, the one the service's own tests
    read back with): an answer that does not decode is the engine's error, said in one line."""
    try:
        return from_dict(kind, data)
    except SchemaError as exc:
        raise EngineError(f"the engine's answer to {what} does not read ({exc})") from None


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
        cue_root: Path | None = None,
        on_start: Callable[[float, float], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ):
        self.folder = folder or state_dir()
        self.on_start = on_start  # (elapsed_s, expected_s) while an engine starts; last call: equal
        self.on_notice = on_notice or _log.warning  # one line for the user (the CLI prints it)
        self.start = start
        # The cue root this client expects the engine to write to (VIDMUSICIAN_CUE_ROOT when it
        # starts engines); a running engine with another one is reported, not silently used.
        env_root = os.environ.get("VIDMUSICIAN_CUE_ROOT")
        self.cue_root = cue_root or (Path(env_root) if start and env_root else None)
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

    def _launch(self, cue_root: str | None = None) -> None:
        """Start `vm-engine serve` (writing under `cue_root` when given, else the engine's default);
        it attaches instead when another engine holds the folder."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_path = self.folder / "engine.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
        env = dict(os.environ, VIDMUSICIAN_STATE_DIR=str(self.folder))
        command = [sys.executable, "-m", "engine.cli", "serve", "--state-dir", str(self.folder)]
        if cue_root is not None:
            command += ["--cue-root", cue_root]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # outlives this command: the next one finds it warm
        )
        log.close()
        line, started = b"", time.monotonic()
        expected = _expected_start_s(self.folder)
        if self.on_start is not None:
            self.on_start(0.0, expected)  # the step shows at once: 0 % and the estimate
        while (elapsed := time.monotonic() - started) < self.start_timeout_s:
            ready, _, _ = select.select([process.stdout], [], [], min(0.5, self.start_timeout_s - elapsed))
            if ready:
                line = process.stdout.readline()
                break
            if self.on_start is not None:
                self.on_start(elapsed, max(expected, elapsed + 0.5))  # late: still under 100 %
        if line:
            elapsed = time.monotonic() - started
            (self.folder / START_TIME_FILE).write_text(f"{elapsed:.2f}")  # the next estimate
            if self.on_start is not None:
                self.on_start(elapsed, elapsed)
        if not line:
            if process.poll() is None:
                process.kill()
            process.wait()
            raise EngineError(f"the engine did not start ({_last_error(log_path)}); see {log_path}")

    def client(self) -> httpx.Client:
        with self._lock:
            return self._connect_or_start()

    def _connect_or_start(self) -> httpx.Client:
        if self._client is None:
            runtime = self._runtime()
            self._client = self._try_connect(runtime)
            if self._client is not None and is_outdated(runtime):
                self._drop_client()
                if not self.start:
                    raise EngineError(
                        f"the running engine (pid {runtime.get('pid')}) {replace_reason(runtime)}; "
                        f"stop it with `{self._stop_command()}` and start it again"
                    )
        if self._client is None:
            if not self.start:
                raise EngineError("no engine is running; start one with `vm-engine serve`")
            with _start_lock(self.folder, self.start_timeout_s):  # one client starts it, others wait
                runtime = self._runtime()
                self._client = self._try_connect(runtime)
                cue_root = None
                if self._client is not None and is_outdated(runtime):
                    self._stop_outdated(runtime)
                    # restarted as it ran: its cue root, unless this client asks for one
                    cue_root = str(self.cue_root or (runtime.get("settings") or {}).get("cue_root") or "")
                if self._client is None:
                    self._launch(cue_root or None)
                    self._client = self._try_connect(self._runtime())
        if self._client is None:
            raise EngineError(f"cannot reach the engine; see {self.folder / 'engine.log'}")
        self._check_settings()
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _stop_command(self) -> str:
        default = self.folder == state_dir()
        return "vm-engine stop" if default else f"vm-engine stop --state-dir {self.folder}"

    def _stop_outdated(self, runtime: dict) -> None:
        """Replace an engine from another build (or other environment settings): stop it when idle (as `vm-engine stop` does, in a
        subprocess of the engine's CLI), refuse when it works on a job (that job is never killed)."""
        pid = runtime.get("pid")
        why = replace_reason(runtime) or "is from before this install was updated"
        try:
            open_jobs = from_dict(EngineInfo, self._client.get("/info").json()).open_jobs
        except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
            self._drop_client()
            raise EngineError(
                f"the running engine (pid {pid}) {why} and does not "
                f"say whether it is busy ({exc}); stop it with `{self._stop_command()}` and run again"
            ) from exc
        self._drop_client()
        if open_jobs:
            raise EngineError(
                f"the running engine (pid {pid}) {why} and is still "
                f"working on {open_jobs} job(s); wait for them to finish and run again, or run "
                f"`{self._stop_command()}` after them (it would restart as this command asks)"
            )
        self.on_notice(f"the running engine (pid {pid}) {why}; restarting it")
        env = dict(os.environ, VIDMUSICIAN_STATE_DIR=str(self.folder))
        try:
            done = subprocess.run(
                [sys.executable, "-m", "engine.cli", "stop", "--state-dir", str(self.folder)],
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            why = "it took over 60 s" if done is None else (done.stderr.strip().splitlines() or ["?"])[-1]
            raise EngineError(
                f"could not stop the outdated engine (pid {pid}): {why}; run `{self._stop_command()}`"
            )

    def _check_settings(self) -> None:
        runtime = self._runtime() or {}
        running = (runtime.get("settings") or {}).get("cue_root")
        if self.cue_root is None or running is None:
            return
        if Path(running).resolve() != self.cue_root.resolve():
            self._client.close()
            self._client = None
            raise EngineError(
                f"the running engine (pid {runtime.get('pid')}) writes cues under {running}, not "
                f"VIDMUSICIAN_CUE_ROOT={self.cue_root}; stop it with `vm-engine stop` and run again"
            )

    def _call(self, method: str, path: str, **kwargs) -> dict:
        for attempt in (1, 2):
            client = self.client()
            try:
                response = client.request(method, path, **kwargs)
                break
            except httpx.HTTPError as exc:
                with self._lock:  # the engine went away (stopped, or restarted after an update):
                    if self._client is client:  # find the running one again (not closed here:
                        self._client = None  # another thread may still be using it)
                if attempt == 1 and isinstance(exc, httpx.ConnectError):
                    continue  # nothing reached the old engine: safe to send to the current one
                raise EngineError(
                    f"lost the connection to the engine ({exc}); run the command again"
                ) from exc
        if response.status_code >= 400:
            raise EngineError(f"engine refused the request ({response.status_code}): {_detail(response)}")
        return response.json()

    def running_cue_root(self) -> Path | None:
        """The folder the engine may write cues under (`--cue-root`): the one this client starts
        engines with (VIDMUSICIAN_CUE_ROOT; a running engine with another is refused), else the
        running engine's as it recorded it, else None. Starts nothing (the panel asks on its GUI
        thread)."""
        if self.cue_root is not None:
            return Path(self.cue_root).resolve()
        root = ((self._runtime() or {}).get("settings") or {}).get("cue_root")
        return Path(root).resolve() if isinstance(root, str) and root else None

    # -- API --------------------------------------------------------------------------------
    def info(self) -> EngineInfo:
        return _decoded(EngineInfo, self._call("GET", "/info"), "GET /info")

    def submit(self, request: ScoreRequest) -> dict:
        return self._call("POST", "/jobs", json=to_dict(request))

    def status(self, job_id: str) -> dict:
        return self._call("GET", f"/jobs/{job_id}")

    def job(self, job_id: str) -> Job:
        return _decoded(Job, self.status(job_id), f"GET /jobs/{job_id}")

    def cancel(self, job_id: str) -> dict:
        return self._call("POST", f"/jobs/{job_id}/cancel")

    def regenerate(
        self,
        job_id: str,
        cue_index: int,
        seed: int | None = None,
        prompt: str | None = None,
        mood: str | None = None,
        energy: str | None = None,
    ) -> dict:
        """A new take of one cue of a job; None keeps what the cue was scored with."""
        body = to_dict(RegenerateRequest(cue_index, seed, prompt, mood, energy))
        return self._call("POST", f"/jobs/{job_id}/regenerate", json=body)

    def refit(self, request: RefitRequest) -> CueResult:
        """A finished cue re-timed onto a recut span (`engine.api.RefitRequest`), in the service's
        cue root (a folder name there); the caller moves it into the chosen folder."""
        return _decoded(CueResult, self._call("POST", "/refit", json=to_dict(request)), "POST /refit")

    def preview(self, path: str, start_s: float, end_s: float) -> Preview:
        """A still (base64 PNG), the rhythm curve and the cuts of a media range, for the panel."""
        body = to_dict(PreviewRequest(path, start_s, end_s))
        return _decoded(Preview, self._call("POST", "/media/preview", json=body), "POST /media/preview")

    def conditioning(self, scene: SceneRequest, preset: str = "tiny") -> CueConditioning:
        body = to_dict(ConditioningRequest(scene, preset))
        return _decoded(CueConditioning, self._call("POST", "/conditioning", json=body), "POST /conditioning")

    def shot_embeddings(
        self, shots: tuple[ProgramSegmentSpec, ...], preset: str = "tiny"
    ) -> list[list[float]]:
        found = []
        for batch in _batches(shots):  # a feature film has more shots than one request holds
            body = to_dict(ShotsRequest(batch, preset))
            found += self._call("POST", "/shots/embeddings", json=body)["embeddings"]
        return found

    def shot_pictures(self, shots: tuple[ProgramSegmentSpec, ...]) -> list[ShotPicture | None]:
        found = []
        for batch in _batches(shots):
            body = to_dict(ShotsRequest(batch))
            pictures = self._call("POST", "/shots/pictures", json=body)["pictures"]
            found += [_decoded(ShotPicture, p, "POST /shots/pictures") for p in pictures]
        return found

    def wait(self, job_id: str, progress: Callable[[Job], None] | None = None) -> Job:
        """Poll until the job ends; `progress` sees the typed job at every poll."""
        while True:
            job = self.job(job_id)
            if progress is not None:
                progress(job)
            if job.status in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.2)

    def score(
        self,
        request: ScoreRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> ScoreResult:
        """Submit, follow the job's progress events (each new one passed on, each finished cue
        once on a "done" event), return the cues. Setting `cancel` cancels the job in the engine
        (`ScoringCancelled` with the cues it finished); Ctrl-C does too (`ScoringInterrupted`)."""
        last = None
        relayed: set[str] = set()
        positions = {s.index: k for k, s in enumerate(request.scenes, start=1)}
        cancel_sent = False

        def relay(job: Job) -> None:
            nonlocal last, cancel_sent
            if (
                cancel is not None
                and cancel.is_set()
                and not cancel_sent
                and job.status in ("queued", "running")
            ):
                cancel_sent = True
                self.cancel(job.id)
            if progress is None:
                return
            if job.event is not None and job.event != last:
                last = job.event
                if job.event.cue is None:  # finished cues are relayed from job.cues, below
                    progress(job.event)
            for cue in job.cues:  # polling can miss a "done" event: the cue list cannot
                if cue.wav_path not in relayed:
                    relayed.add(cue.wav_path)
                    k = positions.get(cue.index, 0)
                    event = job.event
                    progress(
                        ProgressEvent(
                            cue.index,
                            k,
                            len(request.scenes),
                            cue.name,
                            "done",
                            k / max(len(request.scenes), 1),
                            event.elapsed_s if event is not None else 0.0,
                            cue,
                        )
                    )

        with _interrupt_deferred() as interrupted:  # Ctrl-C here would lose the job's id
            job_id = self.submit(request)["id"]
        if interrupted:
            raise ScoringInterrupted(self._cancel_after_interrupt(job_id))
        try:
            job = self.wait(job_id, relay)
        except KeyboardInterrupt:
            raise ScoringInterrupted(self._cancel_after_interrupt(job_id)) from None
        if job.status == "cancelled" and cancel is not None and cancel.is_set():
            raise ScoringCancelled(job.cues)
        if job.status != "done":
            raise EngineError(f"job {job.status}: {job.error or 'no reason given'}")
        return ScoreResult(cues=job.cues, warnings=job.warnings)

    def _cancel_after_interrupt(self, job_id: str) -> str:
        try:
            self.cancel(job_id)
        except (EngineError, KeyboardInterrupt):
            return f"interrupted; job {job_id} may still run in the engine (cancel it from the panel)"
        return f"interrupted; job {job_id} was cancelled in the engine"


class _interrupt_deferred:
    """Hold Ctrl-C back while a job is submitted (main thread only), so it can be cancelled after."""

    def __enter__(self) -> list[bool]:
        self.seen: list[bool] = []
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            self.previous = signal.signal(signal.SIGINT, lambda *_: self.seen.append(True))
        return self.seen

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self.previous)


class _start_lock:
    """An flock on the state folder's start.lock: concurrent clients start one engine, not several."""

    def __init__(self, folder: Path, timeout_s: float):
        self.path, self.timeout_s = folder / START_LOCK, timeout_s

    def __enter__(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise EngineError(
                f"the engine's state folder {self.path.parent} cannot be used ({exc.strerror or exc}); "
                "set VIDMUSICIAN_STATE_DIR to a folder you own, or remove what is in its way"
            ) from None
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise EngineError(
                        f"another command is still starting the engine; see {self.path.parent}"
                    ) from None
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


def _batches(shots: tuple[ProgramSegmentSpec, ...]) -> list[tuple[ProgramSegmentSpec, ...]]:
    """`shots` in runs of at most MAX_SCENES, the most one /shots request may hold."""
    return [shots[i : i + MAX_SCENES] for i in range(0, len(shots), MAX_SCENES)]


def is_outdated(runtime: dict | None) -> bool:
    """True when a running engine must be replaced before it serves this command: it is from
    another build than this install's (or older than build fingerprints, which records none), or
    it runs with other environment settings than this command's (`replace_reason`)."""
    return replace_reason(runtime) is not None


def replace_reason(runtime: dict | None) -> str | None:
    """Why the running engine cannot serve this command as it is, in words; None when it can."""
    if runtime is None:
        return None
    if runtime.get("build") != build_fingerprint():
        return "is from before this install was updated"
    running = runtime.get("settings") or {}
    for key, wanted in environment_settings().items():
        had = running.get(key, "")
        if had != wanted:
            variable = {"soundfont": "VIDMUSICIAN_SOUNDFONT"}.get(key, key)
            return f"renders with {variable}={had or '(unset)'}, this command with {wanted or '(unset)'}"
    return None


def _detail(response: httpx.Response, limit: int = 300) -> str:
    """The engine's reason on one line, however it came (an older engine sends pydantic's list)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list) and detail:
        first = detail[0] if isinstance(detail[0], dict) else {"msg": str(detail[0])}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        more = f"; and {len(detail) - 1} more problem(s)" if len(detail) > 1 else ""
        detail = f"{where}: {first.get('msg', '')}{more}" if where else f"{first.get('msg', '')}{more}"
    text = " ".join(str(detail or response.reason_phrase).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _last_error(log_path: Path) -> str:
    """The engine's own last `error:` line, or its last line, to say why it did not start."""
    try:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    errors = [line for line in lines if line.startswith("error:")]
    last = (errors or lines or ["no log"])[-1]
    return last.removeprefix("error: ")[:300]
