"""Temporary files named so that a later run finds and removes the ones a killed run left.

Every file the product writes (timelines, cue WAVs, token files, launchers) goes through a hidden
temporary file that is renamed into place; a kill -9 between the two used to leave it forever.
The name says whose it is: `.NAME.vmtmp-PID-RANDOM.SUFFIX`. A later writer in the same folder
removes those whose process is gone (and never a link, a folder or a file named otherwise).
Standard library only: the editor side uses it too.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat

MARK = "vmtmp"
_OURS = re.compile(rf"^\..+\.{MARK}-(\d+)-[A-Za-z0-9_]+(\.[A-Za-z0-9]+)*$")


def temp_prefix(final_name: str) -> str:
    """The start of a temporary name for `final_name` (for `tempfile.mkstemp(prefix=...)`)."""
    return f".{final_name}.{MARK}-{os.getpid()}-"


def temp_name(final_name: str, suffix: str = ".part") -> str:
    """A fresh temporary name for `final_name`, created by the caller with O_EXCL."""
    return f"{temp_prefix(final_name)}{secrets.token_hex(6)}{suffix}"


def is_stale(name: str) -> bool:
    """One of our temporary names whose writing process no longer runs."""
    match = _OURS.match(name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def remove_stale(folder: str | os.PathLike[str] | int) -> int:
    """Remove the stale temporary files directly in `folder` (a path or an open folder's fd)."""
    dir_fd = folder if isinstance(folder, int) else None
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for name in names:
        if not is_stale(name):
            continue
        with contextlib.suppress(OSError):
            if dir_fd is None:
                path = os.path.join(folder, name)
                info = os.stat(path, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    os.unlink(path)
                    removed += 1
            else:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    os.unlink(name, dir_fd=dir_fd)
                    removed += 1
    return removed
