"""The soundfont a symbolic preset renders with, checked before any cue is generated.

Why: the renderer finds the soundfont ($VIDMUSICIAN_SOUNDFONT or the machine's own) only when a
cue's notes are ready, and a wrong file there (missing, empty, a folder, a WAV, garbage) ended
the job with a synthesizer's traceback after the model had worked. Here it is one
`SoundfontError` naming the file and the fix, before the work starts.
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

from engine.errors import EngineInputError
from engine.symbolic.soundfont import ENV_VAR, SoundfontMissing, find_soundfont


class SoundfontError(EngineInputError):
    """The General MIDI soundfont cannot be used; the message names it and the fix."""


def check_soundfont() -> Path:
    """The soundfont the renderer will use, known to load; else `SoundfontError`."""
    try:
        path = find_soundfont()
    except SoundfontMissing as exc:
        raise SoundfontError(_printable(str(exc))) from None
    chosen = os.environ.get(ENV_VAR)
    name = f"{ENV_VAR}={_printable(chosen)}" if chosen else _printable(str(path))
    fix = f"point {ENV_VAR} at a .sf2/.sf3 General MIDI soundfont, or unset it" if chosen else "reinstall it"
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SoundfontError(f"{name}: cannot read it ({exc.strerror}); {fix}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SoundfontError(f"{name}: is not a regular file; {fix}")
    if info.st_size == 0:
        raise SoundfontError(f"{name}: is empty (0 bytes); {fix}")
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as exc:
        raise SoundfontError(f"{name}: cannot read it ({exc.strerror}); {fix}") from None
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        kind = "a WAV file" if head[8:12] == b"WAVE" else "not a SoundFont (no RIFF sfbk header)"
        raise SoundfontError(f"{name}: is {kind}; {fix}")
    problem = _load_problem(str(path), info.st_size, info.st_mtime_ns)
    if problem:
        raise SoundfontError(f"{name}: the synthesizer cannot load it ({problem}); {fix}")
    return path


@lru_cache(maxsize=8)
def _load_problem(path: str, size: int, mtime_ns: int) -> str | None:
    """Why the synthesizer refuses the file (None when it loads); once per file version."""
    import tinysoundfont

    try:
        tinysoundfont.Synth().sfload(Path(path).read_bytes())
    except (RuntimeError, OSError, ValueError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
