"""One engine per state folder: an exclusive `flock` on `engine.lock`, taken before binding.

The kernel drops the lock when its holder dies (even by kill -9), so a stale lock cannot keep a
new engine out, and two engines can never share one jobs database. The holder writes its pid
and start time into the lock file so that a second start and `vm-engine stop` can say who holds
it; `holder_pid` verifies that claim before anyone signals the pid.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from engine.errors import EngineInputError

LOCK_FILE = "engine.lock"


def lock_path(folder: Path) -> Path:
    return Path(folder) / LOCK_FILE


class StateFolderError(EngineInputError):
    """The state folder cannot be made or used (a file in its place, no permission)."""


def prepare_state_folder(folder: Path) -> None:
    """The state folder is the user's own (0700): it holds the token and the jobs."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise StateFolderError(
            f"the engine's state folder {folder} cannot be used ({exc.strerror or exc}); give "
            "--state-dir (or VIDMUSICIAN_STATE_DIR) a folder you own, or remove what is in its way"
        ) from None


class EngineLock:
    """The held lock; `release()` (or process exit) lets the next engine start."""

    def __init__(self, fd: int, path: Path):
        self.fd, self.path = fd, path

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only descriptor releases the flock
            self.fd = -1


def _open(folder: Path) -> int:
    prepare_state_folder(folder)
    return os.open(lock_path(folder), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def try_acquire(folder: Path) -> EngineLock | None:
    """The lock with this process's pid written in it, or None when another process holds it."""
    fd = _open(folder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {process_start(os.getpid()) or '-'}\n".encode(), 0)
    os.fsync(fd)
    return EngineLock(fd, lock_path(folder))


def is_held(folder: Path) -> bool:
    """True while an engine holds the folder's lock (probing never blocks and never keeps it)."""
    path = lock_path(folder)
    if not path.is_file():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's shared lock
    return False


def holder_pid(folder: Path) -> int | None:
    """The pid of the engine holding the lock, verified (None when nobody holds it or it cannot
    be told yet).

    The pid written in the file is only a claim: anyone can edit the file, and a pid is reused
    once its process ends. Where the kernel lists lock owners (/proc/locks) its answer wins; the
    claim is believed only when the process with that pid started when the lock says it did.
    """
    if not is_held(folder):
        return None
    owners = _kernel_owners(lock_path(folder))
    if owners is not None:
        return owners[0] if len(owners) == 1 else None
    claim = _recorded(folder)
    if claim is None:
        return None
    pid, start = claim
    return pid if start is not None and process_start(pid) == start else None


def is_same_process(pid: int, start: str | None) -> bool:
    """True while `pid` is still the process that started at `start` (checked before a signal)."""
    return start is None or process_start(pid) == start


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which a reused pid does not share."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return fields[19] if len(fields) > 19 else None


def _recorded(folder: Path) -> tuple[int, str | None] | None:
    try:
        words = lock_path(folder).read_text().split()
        pid = int(words[0])
    except (OSError, ValueError, IndexError):
        return None
    start = words[1] if len(words) > 1 and words[1] != "-" else None
    return (pid, start) if pid > 0 else None


def _kernel_owners(path: Path) -> list[int] | None:
    """Pids the kernel lists as holding an exclusive flock on `path`; None without /proc/locks."""
    try:
        inode = os.stat(path).st_ino
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    owners = []
    for line in table.splitlines():
        fields = line.split()  # "1: FLOCK  ADVISORY  WRITE 12234 fe:00:2146338 0 EOF"; waiters have "->"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[3] == "WRITE" and "->" not in fields:
            pid, where = fields[4], fields[5].rsplit(":", 1)
            if len(where) == 2 and where[1] == str(inode) and pid.isdigit() and int(pid) > 0:
                owners.append(int(pid))
    return sorted(set(owners))


def holder_start(folder: Path, pid: int) -> str | None:
    """The start time the lock records for `pid` (None when it records another pid or none)."""
    claim = _recorded(folder)
    if claim is not None and claim[0] == pid:
        return claim[1]
    return process_start(pid)


def wait_released(folder: Path, timeout_s: float) -> bool:
    """Wait until no process holds the lock; True when it was released within the time."""
    deadline = time.monotonic() + timeout_s
    while is_held(folder):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
