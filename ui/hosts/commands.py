"""What a host launcher asks of this install: its Python, run as commands, and the project folder.

Standard library only (it runs inside Resolve's and Hiero's own Python). The Python is the
absolute path `vm-editor install-host` baked into the launcher: inside a host, `sys.executable`
is the host program, never this install's Python.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from vm_editor.host_cues import HostCue, cues_from_json, project_folder, safe_name

__all__ = ["BackgroundCommand", "InstallCommands", "LauncherError", "project_folder", "safe_name"]


class LauncherError(RuntimeError):
    """Something the editor can fix; the message says what."""


Runner = Callable[[list], subprocess.CompletedProcess]


def run_command(command: list) -> subprocess.CompletedProcess:
    """A short command whose answer is read whole (the cue list as JSON)."""
    return subprocess.run(command, capture_output=True, text=True)


class BackgroundCommand:
    """A child process whose output is said line by line as it comes, from a reader thread.

    Why: a long `vm-editor score` run with `subprocess.run(capture_output=True)` says nothing until
    it ends; here each progress line (stdout and stderr merged; a carriage return counts as a line
    end, so "starting engine... 40 %" shows as it moves) reaches `log` at once, and the caller
    may do other things until `wait()`.
    """

    def __init__(self, command: list, log: Callable[[str], None]):
        self.command, self.log = [str(c) for c in command], log
        self.errors: list[str] = []
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,  # universal newlines: "\r" ends a line too
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise LauncherError(f"cannot run {self.command[0]} ({exc.strerror or exc})") from None
        self._reader = threading.Thread(target=self._read, name="vidmusician-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        previous = None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            if not line.strip() or line == previous:  # a redrawn progress line said once
                continue
            previous = line
            if line.startswith("error:"):
                self.errors.append(line[len("error:") :].strip())
            self.log(line)
        self.process.stdout.close()

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        code = self.process.wait(timeout)
        self._reader.join()
        return code


class InstallCommands:
    """`vm-editor score`, the cue list and the sequence export, run with this install's Python."""

    def __init__(
        self,
        python: str,
        *,
        score_args: tuple[str, ...] = (),
        run: Runner = run_command,
        log: Callable[[str], None] | None = None,
    ):
        log = log or (lambda line: print(line, flush=True))
        if not python or not Path(python).is_file():
            raise LauncherError(
                f"this install's Python {python!r} is missing; run `vm-editor install-host` again"
            )
        self.python, self.score_args, self.run, self.log = python, tuple(score_args), run, log

    def score_command(self, exported: Path, scored: Path) -> list[str]:
        command = [self.python, "-m", "vm_editor.cli", "score", str(exported), "-o", str(scored), "--force"]
        return [*command, *self.score_args]

    def start_score(self, exported: Path, scored: Path) -> BackgroundCommand:
        """`vm-editor score` in a child process, its progress said line by line as it comes."""
        self.log("VidMusician: scoring in the background (the first run starts the engine)...")
        return BackgroundCommand(self.score_command(exported, scored), self.log)

    def finish_score(self, job: BackgroundCommand, scored: Path) -> Path:
        if job.wait() != 0:
            raise LauncherError(job.errors[-1] if job.errors else "`vm_editor.cli score` failed")
        return scored

    def score(self, exported: Path, scored: Path) -> Path:
        return self.finish_score(self.start_score(exported, scored), scored)

    def cues(self, scored: Path, rate) -> list[HostCue]:
        if not Path(scored).is_file():
            raise LauncherError(f"{scored}: no scored timeline yet; score it first")
        out = self._call(
            [self.python, "-m", "vm_editor.host_bridge", "cues", str(scored), "--rate", str(rate)]
        )
        return cues_from_json(out.stdout)

    def sequence_otio(self, description: dict, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        spec = out.with_name(out.name + ".sequence.json")
        spec.write_text(json.dumps(description))
        self._call([self.python, "-m", "vm_editor.host_bridge", "sequence-otio", str(spec), str(out)])
        return out

    def open_panel(self, scored: Path) -> subprocess.Popen:
        if not Path(scored).is_file():
            raise LauncherError(f"{scored}: no scored timeline yet; score it first")
        return subprocess.Popen([self.python, "-m", "ui", str(scored)])

    def _call(self, command: list) -> subprocess.CompletedProcess:
        result = self.run(command)
        for line in (result.stderr or "").splitlines():
            self.log(line)
        if result.returncode != 0:
            errors = [x for x in (result.stderr or "").splitlines() if x.startswith("error:")]
            what = " ".join(str(c) for c in command[2:4])
            raise LauncherError(errors[-1][len("error:") :].strip() if errors else f"`{what}` failed")
        return result
