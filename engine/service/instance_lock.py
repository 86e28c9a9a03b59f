"""One engine per state folder: an exclusive `flock` on `engine.lock`, taken before binding.

The kernel drops the lock when its holder dies (even by kill -9), so a stale lock cannot keep a
new engine out, and two engines can never share one jobs database. The holder writes its pid
into the lock file so that a second start and `vm-engine stop` can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_FILE = "engine.lock"


def lock_path(folder: Path) -> Path:
    return Path(folder) / LOCK_FILE


def prepare_state_folder(folder: Path) -> None:
    """The state folder is the user's own (0700): it holds the token and the jobs."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


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
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
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
    """The pid written by the lock's holder (None when nobody holds it or it is not written yet)."""
    if not is_held(folder):
        return None
    try:
        return int(lock_path(folder).read_text().strip())
    except (OSError, ValueError):
        return None


def wait_released(folder: Path, timeout_s: float) -> bool:
    """Wait until no process holds the lock; True when it was released within the time."""
    deadline = time.monotonic() + timeout_s
    while is_held(folder):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
