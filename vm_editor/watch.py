"""`vm-editor watch DIR`: score every timeline an editor exports into a folder, next to it.

Why: Premiere, Final Cut, Avid and Kdenlive have no scripting door here; exporting into a
watched folder is one step the editor already knows, and the scored file appears beside it.
A file is scored when its size has not changed between two looks (an export still being
written is left for the next pass), when it is not one of our own outputs (`*.scored.*`,
sidecars, host exchange files), and when it has no scored file newer than itself.

Every file in the folder is untrusted: one that fails (bad input, an unexpected error, a file
deleted mid-pass) costs one `failed:` line and the watch goes on with the others. A file
overwritten while it was scored gets a scored file dated before it, so the next pass scores it
again (its size, time and content are compared with what they were when scoring started).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vm_editor.errors import EditorInputError
from vm_editor.format_fixups import edl_rate_choices
from vm_editor.input_guard import shown
from vm_editor.timeline_io import FORMATS, default_output_path

OURS = (".scored.", ".vidmusician.json", ".sequence.json")
log = logging.getLogger(__name__)
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
    try:
        return out.stat().st_mtime_ns < path.stat().st_mtime_ns
    except FileNotFoundError:
        return path.exists()


@dataclass(frozen=True)
class Snapshot:
    """What a file was when scoring started: a later difference means it was overwritten."""

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO swapped in must not block the watch
        with open(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise IsADirectoryError(f"{shown(path)}: not a regular file")
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return cls(info.st_mtime_ns, info.st_size, digest.hexdigest())


def failure_reason(exc: BaseException, user_errors: tuple[type[BaseException], ...]) -> str:
    """One line for the log: the user error's own message, or the kind of an unexpected one."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, user_errors):
        return text
    if isinstance(exc, FileNotFoundError):
        return "it was deleted or moved while it was scored"
    return (
        f"internal error ({type(exc).__name__}: {text or 'no message'}); run `vm-editor --debug score` on it"
    )


@dataclass
class FolderWatch:
    """One folder's state between passes: the sizes seen last time, to tell a finished export."""

    folder: Path
    score: Callable[[Path], bool]  # scores one file; True when written, False or an exception when not
    log: Callable[[str], None] = print
    sizes: dict | None = None
    failed: dict = field(default_factory=dict)  # path -> mtime that failed: not retried until exported again
    user_errors: tuple[type[BaseException], ...] = (EditorInputError,)  # said as they are, not as bugs
    folder_problem: str | None = None  # why the folder could not be listed (said once)

    def look(self) -> dict[Path, int]:
        sizes = {}
        try:
            listing = sorted(self.folder.iterdir())
        except OSError as exc:  # the folder itself went away (an unmounted drive): said once, watched on
            problem = f"cannot read {shown(self.folder)} ({exc.strerror or exc}); waiting for it to come back"
            if problem != self.folder_problem:
                self.log(problem)
            self.folder_problem = problem
            return sizes
        self.folder_problem = None
        for path in listing:
            try:
                if is_timeline(path):
                    sizes[path] = path.stat().st_size
            except OSError:  # deleted between listing and looking, or unreadable: not this pass
                continue
        return sizes

    def one_pass(self, settle_s: float = 0.0) -> list[Path]:
        """Score what is ready; with `settle_s`, look twice that far apart (a single pass)."""
        if self.sizes is None or settle_s:
            self.sizes = self.look()
            if not settle_s:
                return []  # the first look of a running watch: sizes to compare with next time
            time.sleep(settle_s)
        now = self.look()
        before, self.sizes = self.sizes, now
        done = []
        for path, size in now.items():
            try:
                if not is_due(path) or self.failed.get(path) == path.stat().st_mtime_ns:
                    continue
            except OSError:
                continue  # deleted since the look
            if size == 0 or before.get(path) != size:
                self.log(f"waiting: {shown(path.name)} (still being written)")
                continue
            if self._score_one(path):
                done.append(path)
        return done

    def _score_one(self, path: Path) -> bool:
        try:
            started = Snapshot.of(path)
        except OSError:
            return False  # deleted (or made unreadable) since the look: nothing to score
        self.log(f"scoring: {shown(path.name)}")
        try:
            written = self.score(path)
            reason = None if written else "see the error above"
        except Exception as exc:  # one file's fault never ends the watch
            log.debug("scoring %s failed", path, exc_info=True)
            written, reason = False, failure_reason(exc, self.user_errors)
        try:
            changed = Snapshot.of(path) != started
        except OSError:
            changed = None  # deleted while it was scored: nothing to score again
        if changed:
            self._date_output_before(path)
            self.log(
                f"changed: {shown(path.name)} was overwritten while it was scored; scoring it again next pass"
            )
            return False
        if written:
            return True
        if changed is not None:
            self.failed[path] = started.mtime_ns
        self.log(f"failed: {shown(path.name)}: {reason}; export it again to retry")
        return False

    @staticmethod
    def _date_output_before(path: Path) -> None:
        """A scored file of an older export: dated before the input, so `is_due` holds again."""
        out = default_output_path(path)
        try:
            mtime = path.stat().st_mtime_ns
            if out.exists() and out.stat().st_mtime_ns >= mtime:
                os.utime(out, ns=(mtime - 1_000_000_000, mtime - 1_000_000_000))
        except OSError:
            pass

    def run(self, *, once: bool = False, interval_s: float = 2.0, settle_s: float = 1.0) -> list[Path]:
        if once:
            return self.one_pass(settle_s=settle_s)
        self.log(f"watching {self.folder} (Ctrl-C stops)")
        done = []
        while True:
            done += self.one_pass()
            time.sleep(interval_s)
