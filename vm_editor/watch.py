"""`vm-editor watch DIR`: score every timeline an editor exports into a folder, next to it.

Why: Premiere, Final Cut, Avid and Kdenlive have no scripting door here; exporting into a
watched folder is one step the editor already knows, and the scored file appears beside it.
A file is scored when its size has not changed between two looks (an export still being
written is left for the next pass), when it is not one of our own outputs (`*.scored.*`,
sidecars, host exchange files), and when it has no scored file newer than itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vm_editor.errors import EditorInputError
from vm_editor.format_fixups import edl_rate_choices
from vm_editor.timeline_io import FORMATS, default_output_path

OURS = (".scored.", ".vidmusician.json", ".sequence.json")
SETTINGS = "vidmusician-watch.json"


def folder_settings(folder: Path) -> dict:
    """The folder's `vidmusician-watch.json` ({"rate": 25}), read on every use: editing it needs
    no restart. Missing: no settings."""
    path = Path(folder) / SETTINGS
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise EditorInputError(f'{path}: not readable JSON ({exc}); write e.g. {{"rate": 25}}') from None
    if not isinstance(doc, dict):
        raise EditorInputError(f'{path}: expected an object such as {{"rate": 25}}')
    return doc


def watch_rate(path: Path, folder: Path, rate: float | None) -> float | None:
    """The frame rate to read `path` at: `watch --rate`, else the folder's setting; an EDL without
    either (and without drop-frame timecode, which means 29.97) is refused with the fix."""
    if rate is not None:
        return rate
    setting = folder_settings(folder).get("rate")
    if setting is not None:
        if isinstance(setting, bool) or not isinstance(setting, (int, float)) or not 0 < setting <= 1000:
            raise EditorInputError(
                f"{Path(folder) / SETTINGS}: rate {setting!r} is not a frame rate; write e.g. 25"
            )
        return float(setting)
    if path.suffix.lower() == ".edl" and edl_rate_choices(path)[0] != [29.97]:
        raise EditorInputError(
            f"{path}: an EDL does not record its frame rate; start watch with --rate 25 (your rate) "
            f'or write {{"rate": 25}} to {Path(folder) / SETTINGS}, then export it again'
        )
    return None


def is_timeline(path: Path) -> bool:
    name = path.name
    if name.startswith(".") or name.endswith((".tmp", ".part")) or any(mark in name for mark in OURS):
        return False
    return path.is_file() and path.suffix.lower() in FORMATS


def is_due(path: Path) -> bool:
    """No scored file yet, or one older than this export (the editor exported again)."""
    out = default_output_path(path)
    return not out.exists() or out.stat().st_mtime < path.stat().st_mtime


@dataclass
class FolderWatch:
    """One folder's state between passes: the sizes seen last time, to tell a finished export."""

    folder: Path
    score: Callable[[Path], bool]  # scores one file; True when it was written
    log: Callable[[str], None] = print
    sizes: dict | None = None
    failed: dict | None = None  # path -> mtime that failed: not retried until exported again

    def look(self) -> dict[Path, int]:
        return {p: p.stat().st_size for p in sorted(self.folder.iterdir()) if is_timeline(p)}

    def one_pass(self, settle_s: float = 0.0) -> list[Path]:
        """Score what is ready; with `settle_s`, look twice that far apart (a single pass)."""
        if self.sizes is None or settle_s:
            self.sizes = self.look()
            if not settle_s:
                return []  # the first look of a running watch: sizes to compare with next time
            time.sleep(settle_s)
        now = self.look()
        before, self.sizes = self.sizes, now
        self.failed = self.failed or {}
        done = []
        for path, size in now.items():
            if not is_due(path) or self.failed.get(path) == path.stat().st_mtime:
                continue
            if size == 0 or before.get(path) != size:
                self.log(f"waiting: {path.name} (still being written)")
                continue
            self.log(f"scoring: {path.name}")
            if self.score(path):
                done.append(path)
            else:
                self.failed[path] = path.stat().st_mtime
                self.log(f"failed: {path.name} (see the error above; export it again to retry)")
        return done

    def run(self, *, once: bool = False, interval_s: float = 2.0, settle_s: float = 1.0) -> list[Path]:
        if once:
            return self.one_pass(settle_s=settle_s)
        self.log(f"watching {self.folder} (Ctrl-C stops)")
        done = []
        while True:
            done += self.one_pass()
            time.sleep(interval_s)
