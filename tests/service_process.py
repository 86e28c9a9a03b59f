"""Run a real `vm-engine serve` process for tests, and stop it afterwards whatever happens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class EngineProcess:
    def __init__(self, state_dir: Path, cue_root: Path):
        self.state_dir, self.cue_root = state_dir, cue_root
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.token = ""

    def start(self, timeout_s: float = 180) -> EngineProcess:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--state-dir",
                str(self.state_dir),
                "--cue-root",
                str(self.cue_root),
            ],
            stdout=subprocess.PIPE,
            stderr=open(self.state_dir.parent / "engine-stderr.log", "ab"),  # noqa: SIM115
            text=True,
        )
        deadline = time.monotonic() + timeout_s
        line = self.process.stdout.readline()
        assert line and time.monotonic() < deadline, "engine did not announce itself"
        announced = json.loads(line)
        self.url = announced["url"]
        self.token = json.loads(Path(announced["token_file"]).read_text())["token"]
        return self

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def wait_for(
    client: httpx.Client, job_id: str, statuses=("done", "failed", "cancelled"), timeout_s: float = 300
) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def kill_engine_in(state_dir: Path) -> None:
    """Stop an engine that a client started on its own (the holder of the folder's lock), and wait."""
    from engine.service.runtime import stop

    if state_dir.is_dir():
        stop(state_dir, timeout_s=20.0)
