"""Launching the service: loopback socket, per-launch token in a user-only file, warm worker.

The runtime file is how clients find a running engine and prove they belong to this user: it is
created with mode 0600 in a 0700 folder, and the token changes at every launch.
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
from pathlib import Path

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


def write_runtime_file(path: Path, url: str, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, handle)
    os.replace(tmp, path)


def stop(folder: Path | None = None, timeout_s: float = 20.0) -> bool:
    """Ask the engine named in the runtime file to shut down (SIGTERM); True if one was running."""
    import time

    path = runtime_file(folder)
    try:
        pid = int(json.loads(path.read_text())["pid"])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and path.exists():  # the engine removes it on its way out
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.05)
    return True


def serve(port: int = 0, cue_root: Path | None = None, folder: Path | None = None) -> int:
    """Run until interrupted; print one JSON line with the URL and token file once ready."""
    import uvicorn

    from engine.service.app import create_app
    from engine.service.store import JobStore
    from engine.service.worker import Worker

    folder = folder or state_dir()
    cue_root = (cue_root or default_cue_root()).resolve()
    cue_root.mkdir(parents=True, exist_ok=True)
    store = JobStore(folder / "jobs.sqlite")
    resumed = store.recover()
    if resumed:
        log.warning("resuming %d interrupted job(s)", len(resumed))
    worker = Worker(store)
    worker.start()
    token = secrets.token_urlsafe(32)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(store, worker, token=token, cue_root=cue_root)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    token_path = runtime_file(folder)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            write_runtime_file(token_path, url, token)
            print(json.dumps({"url": url, "token_file": str(token_path)}), flush=True)

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
