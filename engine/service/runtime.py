"""Launching the service: one engine per state folder, loopback socket, per-launch token, warm worker.

The runtime file is how clients find a running engine and prove they belong to this user: it is
created with mode 0600 in a 0700 folder, and the token changes at every launch. It also records
the settings the engine runs with (cue root, preset folder), so a client that asks for others is
told instead of silently served by the wrong engine, and the build it was started from
(`engine.build_id`), so a client can tell an engine that predates an update of the install. The
folder's lock (`instance_lock`) is taken before anything else, so a second start attaches to the
running engine instead of competing.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from engine.build_id import build_fingerprint, environment_settings
from engine.errors import EngineInputError
from engine.service import instance_lock

log = logging.getLogger(__name__)
RUNTIME_FILE = "engine.json"


def state_dir() -> Path:
    if os.environ.get("VIDMUSICIAN_STATE_DIR"):
        return Path(os.environ["VIDMUSICIAN_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vidmusician"


def default_cue_root() -> Path:
    if os.environ.get("VIDMUSICIAN_CUE_ROOT"):
        return Path(os.environ["VIDMUSICIAN_CUE_ROOT"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vidmusician" / "cues"


def runtime_file(folder: Path | None = None) -> Path:
    return (folder or state_dir()) / RUNTIME_FILE


def engine_settings(cue_root: Path) -> dict[str, str]:
    """What a client may need to match: where cues go and which preset folder is served."""
    from engine.presets import presets_root

    return {"cue_root": str(cue_root), "presets_root": str(presets_root()), **environment_settings()}


def write_runtime_file(
    path: Path, url: str, token: str, settings: dict[str, str] | None = None, build: str | None = None
) -> None:
    instance_lock.prepare_state_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    doc = {"url": url, "token": token, "pid": os.getpid(), "settings": settings or {}, "build": build}
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle)
    os.replace(tmp, path)


def read_runtime_file(folder: Path | None = None) -> dict | None:
    try:
        doc = json.loads(runtime_file(folder).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


class EngineBusyError(EngineInputError):
    """The state folder is held by another engine that cannot be attached to (or runs other settings)."""


def stop(folder: Path | None = None, timeout_s: float = 20.0) -> dict | None:
    """Stop the engine holding the folder's lock and wait until it is gone.

    Returns {"pid", "url", "killed"} for the engine that was stopped, or None when none was running
    (a runtime file left by a killed engine is removed then). SIGTERM first, so its jobs resume on
    the next start; SIGKILL only if it has not let go of the lock within `timeout_s`.
    """
    folder = folder or state_dir()
    pid = None
    for _ in range(40):  # a starting engine holds the lock a moment before it writes its pid
        if not instance_lock.is_held(folder):
            break
        pid = instance_lock.holder_pid(folder)
        if pid is not None:
            break
        time.sleep(0.05)
    if pid is None:
        if instance_lock.is_held(folder):
            raise EngineBusyError(
                f"{instance_lock.lock_path(folder)} is held by a process that cannot be told to be an "
                "engine (the pid in the lock is not the one holding it); nothing was signalled: "
                "stop that engine yourself (ps aux | grep 'engine.cli serve')"
            )
        runtime = read_runtime_file(folder)
        if runtime is not None:
            runtime_file(folder).unlink(missing_ok=True)  # left by an engine that was killed
        return None
    start = instance_lock.holder_start(folder, pid)
    url = (read_runtime_file(folder) or {}).get("url")
    _signal(pid, start, signal.SIGTERM)
    killed = False
    if not instance_lock.wait_released(folder, timeout_s):
        killed = True
        _signal(pid, start, signal.SIGKILL)
        instance_lock.wait_released(folder, 10.0)
    _wait_gone(pid, 10.0)  # the lock goes a moment before the process: "stopped" means gone
    return {"pid": pid, "url": url, "killed": killed}


def _signal(pid: int, start: str | None, signum: int) -> None:
    """Signal the engine only while `pid` is still the process that took the lock (pids are reused)."""
    if not instance_lock.is_same_process(pid, start):
        return
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            try:
                os.kill(pid, 0)
            except OSError:
                return
        else:
            if "\nState:\tZ" in status:
                return  # exited; its parent has yet to reap it
        time.sleep(0.02)


def _mismatch(running: dict[str, str], wanted: dict[str, str]) -> str | None:
    for key, value in wanted.items():
        if key in running and Path(running[key]) != Path(value):
            return f"{key.replace('_', ' ')} {running[key]}, not {value}"
    return None


def attach_to_running(
    folder: Path, wanted: dict[str, str], timeout_s: float = 60.0, build: str | None = None
) -> dict | None:
    """The runtime record of the engine holding `folder`'s lock, once it is serving.

    None when the lock turns out to be free (the caller then starts an engine). Raises
    EngineBusyError when the running engine has other settings, was started from another build
    than `build` (an engine that records none predates fingerprints), or never announces itself.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = instance_lock.holder_pid(folder)
        if pid is None and not instance_lock.is_held(folder):
            return None
        runtime = read_runtime_file(folder)
        if pid is not None and runtime is not None and runtime.get("pid") == pid:
            different = _mismatch(runtime.get("settings") or {}, wanted)
            if different:
                raise EngineBusyError(
                    f"an engine (pid {pid}) already serves {folder} with {different}; "
                    f"stop it with `vm-engine stop --state-dir {folder}` and start again"
                )
            if build is not None and runtime.get("build") != build:
                raise EngineBusyError(
                    f"an engine (pid {pid}) from before this install was updated already serves "
                    f"{folder}; once its jobs are done, stop it with `vm-engine stop --state-dir {folder}` "
                    "and start again"
                )
            return runtime
        time.sleep(0.05)
    pid = instance_lock.holder_pid(folder)
    raise EngineBusyError(
        f"{folder} is locked by process {pid if pid is not None else '(unknown)'}, which is not serving; "
        f"stop it with `vm-engine stop --state-dir {folder}`"
    )


def clean_stale_temp_files(folder: Path, cue_root: Path) -> int:
    """Hidden partial files a killed engine left (runtime file, cue WAVs); only the lock holder runs this."""
    removed = 0
    stale = list(folder.glob(f".{RUNTIME_FILE}.*"))
    if cue_root.is_dir():  # cue WAVs and token files (engine.safe_write's temporary names)
        stale += [p for p in cue_root.rglob(".*.part") if not p.is_symlink() and p.is_file()]
    for path in stale:
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _listening_socket(port: int) -> socket.socket:
    """The loopback socket the service answers on; a bad or taken port is the user's to change."""
    if not 0 <= port <= 65535:
        raise EngineInputError(
            f"--port {port}: give a TCP port from 1 to 65535, or leave it out for a free one"
        )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise EngineInputError(
            f"--port {port}: cannot listen on it ({exc.strerror}); choose another port or leave it out"
        ) from None
    return sock


def serve(port: int = 0, cue_root: Path | None = None, folder: Path | None = None) -> int:
    """Run until interrupted; print one JSON line with the URL and token file once ready.

    When another engine already serves the folder, print its line instead (with "attached": true)
    and return: there is never a second engine on one jobs database.
    """
    if not 0 <= port <= 65535:
        raise EngineInputError(
            f"--port {port}: give a TCP port from 1 to 65535, or leave it out for a free one"
        )
    folder = folder or state_dir()
    build = build_fingerprint()  # what this engine starts from, before it loads anything
    cue_root = (cue_root or default_cue_root()).resolve()
    settings = engine_settings(cue_root)
    lock = None
    while lock is None:  # a client probing the lock holds it for an instant: retry, or attach
        lock = instance_lock.try_acquire(folder)
        if lock is None:
            running = attach_to_running(folder, settings, build=build)
            if running is not None:
                print(
                    f"an engine (pid {running['pid']}) already serves {folder}; attached to it",
                    file=sys.stderr,
                )
                announced = {"url": running["url"], "token_file": str(runtime_file(folder))}
                print(json.dumps({**announced, "pid": running["pid"], "attached": True}), flush=True)
                return 0
    try:
        return _serve_locked(port, cue_root, folder, settings, build)
    finally:
        lock.release()


def _serve_locked(port: int, cue_root: Path, folder: Path, settings: dict[str, str], build: str) -> int:
    import uvicorn

    from engine.service.app import create_app
    from engine.service.store import JobStore
    from engine.service.worker import Worker

    sock = _listening_socket(port)  # a port that cannot be had: one error before any work starts
    cue_root.mkdir(parents=True, exist_ok=True)
    removed = clean_stale_temp_files(folder, cue_root)
    if removed:
        log.warning("removed %d partial file(s) a previous engine left behind", removed)
    store = JobStore(folder / "jobs.sqlite")
    resumed = store.recover()
    if resumed:
        log.warning("resuming %d interrupted job(s)", len(resumed))
    worker = Worker(store, cue_root)
    worker.start()
    token = secrets.token_urlsafe(32)

    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(store, worker, token=token, cue_root=cue_root, build=build)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    token_path = runtime_file(folder)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            write_runtime_file(token_path, url, token, settings, build)
            print(json.dumps({"url": url, "token_file": str(token_path), "pid": os.getpid()}), flush=True)

    threading.Thread(target=announce, daemon=True).start()

    def leave(signum, _frame):  # uvicorn re-raises the signal after its graceful shutdown
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    try:
        server.run(sockets=[sock])
    finally:
        worker.stop()
        worker.join(timeout=5)
        store.close()
        if token_path.is_file():
            try:
                if json.loads(token_path.read_text()).get("pid") == os.getpid():
                    token_path.unlink()
            except (OSError, ValueError):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(serve())
