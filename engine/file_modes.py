"""File modes for what the product writes: the user's umask decides, as for any file they save.

Temporary files come from `mkstemp`, which creates them 0600 whatever the umask; an editor sharing
storage with a team would then get cue WAVs and timelines nobody else can read. `publish_mode`
gives such a file the mode a plain `open(..., "w")` would have, just before it is renamed into place.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where Linux tells it (else set and restore)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    with _lock:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def publish_mode(fd_or_path: int | str | os.PathLike[str]) -> None:
    """Give a finished temporary file the mode 0666 & ~umask (private data stays with os.open)."""
    mode = 0o666 & ~current_umask()
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, mode)
    else:
        os.chmod(fd_or_path, mode)
