"""Peak envelopes of cue WAVs for drawing waveforms (read in blocks: cues can be long).

A cue WAV on disk is untrusted by the time it is drawn or played: it may have been emptied,
damaged or replaced by a FIFO (opening one blocks until a writer comes). `open_cue_wav` answers
each of those with a `CueAudioError` naming the file and the fix, never a hang or a crash.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile

from vm_editor.errors import EditorInputError


class CueAudioError(EditorInputError):
    """A cue's WAV cannot be read (missing, empty, damaged, not a file); shown on the cue."""


@contextlib.contextmanager
def open_cue_wav(path: Path | str) -> Iterator[soundfile.SoundFile]:
    """The WAV opened for reading, or a `CueAudioError` saying what is wrong with it."""
    name = Path(path).name
    fix = "regenerate the cue (or restore the file)"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not block
    except OSError as exc:
        raise CueAudioError(f"{name}: cannot open it ({exc.strerror}); {fix}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        os.close(fd)
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "not a regular file"
        what = "is empty (0 bytes)" if stat.S_ISREG(info.st_mode) else f"is {kind}, not a WAV"
        raise CueAudioError(f"{name}: {what}; {fix}")
    with os.fdopen(fd, "rb") as raw:
        try:
            sound = soundfile.SoundFile(raw)
        except (RuntimeError, ValueError, TypeError, OSError, soundfile.SoundFileError) as exc:
            reason = " ".join(str(exc).split()).split(": ")[-1] or type(exc).__name__
            raise CueAudioError(f"{name}: not a readable WAV ({reason}); {fix}") from None
        with sound:
            yield sound


def check_cue_wav(path: Path | str) -> None:
    """Raise `CueAudioError` unless the WAV opens as audio (before a player is given it)."""
    with open_cue_wav(path):
        pass


def peak_envelope(path: Path | str, bins: int = 200) -> np.ndarray:
    """`bins` peak values in [0, 1], one per equal slice of the file."""
    with open_cue_wav(path) as handle:
        frames = handle.frames
        if frames == 0 or bins <= 0:
            return np.zeros(max(bins, 0), dtype=np.float32)
        edges = np.linspace(0, frames, bins + 1).astype(np.int64)
        peaks = np.zeros(bins, dtype=np.float32)
        try:
            for i in range(bins):
                handle.seek(int(edges[i]))
                block = handle.read(max(1, int(edges[i + 1] - edges[i])), dtype="float32", always_2d=True)
                peaks[i] = float(np.abs(block).max()) if block.size else 0.0
        except (RuntimeError, ValueError, OSError) as exc:  # a header that promises more than the file holds
            raise CueAudioError(
                f"{Path(path).name}: damaged after its header ({exc}); regenerate the cue"
            ) from None
    return np.clip(np.nan_to_num(peaks, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
