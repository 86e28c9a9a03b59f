"""What a host launcher asks of this install: its Python, run as commands, and the project folder.

Standard library only (it runs inside Resolve's and Hiero's own Python). The Python is the
absolute path `vm-editor install-host` baked into the launcher: inside a host, `sys.executable`
is the host program, never this install's Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from vm_editor.host_cues import HostCue, cues_from_json


class LauncherError(RuntimeError):
    """Something the editor can fix; the message says what."""


def safe_name(text: str) -> str:
    """A file name from a project or timeline name (no separators or characters Windows refuses)."""
    return re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", str(text)).strip(" .") or "untitled"


def project_folder(project_name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where a project's exports, scored timelines and cues live: `~/VidMusician/<project>/`
    (or `$VIDMUSICIAN_PROJECTS/<project>/`), never a temporary folder."""
    base = Path(root or os.environ.get("VIDMUSICIAN_PROJECTS") or Path.home() / "VidMusician")
    return base / safe_name(project_name)


Runner = Callable[[list], subprocess.CompletedProcess]


def run_command(command: list) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True)


class InstallCommands:
    """`vm-editor score`, the cue list and the sequence export, run with this install's Python."""

    def __init__(
        self,
        python: str,
        *,
        score_args: tuple[str, ...] = (),
        run: Runner = run_command,
        log: Callable[[str], None] = print,
    ):
        if not python or not Path(python).is_file():
            raise LauncherError(
                f"this install's Python {python!r} is missing; run `vm-editor install-host` again"
            )
        self.python, self.score_args, self.run, self.log = python, tuple(score_args), run, log

    def score(self, exported: Path, scored: Path) -> Path:
        self.log("VidMusician: scoring (the first run starts the engine)...")
        command = [self.python, "-m", "vm_editor.cli", "score", str(exported), "-o", str(scored), "--force"]
        self._call([*command, *self.score_args])
        return scored

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
