"""Writing result files inside a root folder, checked when the file is written, not before.

A cue folder is validated when a job is submitted, but the job may run minutes later: a symlink
swapped in meanwhile would send the WAV elsewhere if the write followed the path again. So the
folder is opened one component at a time from the root with O_NOFOLLOW (a symlink fails to open),
and the file is created and renamed through that open directory's descriptor.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

from engine import temp_files
from engine.errors import EngineInputError
from engine.file_modes import publish_mode

_ROOT: ContextVar[Path | None] = ContextVar("write_root", default=None)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class WriteNotAllowed(EngineInputError):
    """The folder left the root since the job was accepted (a symlink or `..` in the way)."""


class WriteFailed(EngineInputError):
    """The disk refused the write (full, quota, read-only); nothing partial is left behind."""


@contextlib.contextmanager
def confined_to(root: Path) -> Iterator[None]:
    """Within this block (this thread/context), `write_atomic` only writes under `root`."""
    token = _ROOT.set(Path(root).resolve())
    try:
        yield
    finally:
        _ROOT.reset(token)


def open_folder(folder: Path) -> int:
    """A descriptor of `folder` (created if missing); under a confinement root, symlinks refused."""
    root = _ROOT.get()
    if root is None:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder, _DIR_FLAGS)
    try:
        parts = Path(folder).relative_to(root).parts
    except ValueError:
        raise WriteNotAllowed(f"{folder} is outside the cue root {root}; nothing was written") from None
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            if part in (".", ".."):
                raise WriteNotAllowed(f"{folder}: '..' is not allowed in a cue folder")
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                raise WriteNotAllowed(
                    f"{folder}: {part!r} is a symbolic link or not a folder ({exc.strerror}); cues are only "
                    f"written to real folders inside {root}"
                ) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write `path` through a hidden temporary file in the same (opened) folder, then rename it."""
    path = Path(path)
    folder_fd = open_folder(path.parent)
    temp_files.remove_stale(folder_fd)  # what a killed writer left here
    tmp = temp_files.temp_name(path.stem, f"{path.suffix}.part")  # .cue.vmtmp-PID-X.wav.part
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder_fd
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                publish_mode(handle.fileno())  # the user's umask, not mkstemp's 0600
            os.replace(tmp, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder_fd)
            if isinstance(exc, OSError):
                raise WriteFailed(
                    f"{path}: writing failed ({exc.strerror or exc}); free space and run again"
                ) from exc
            raise
    finally:
        os.close(folder_fd)
    return path
