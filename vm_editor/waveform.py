"""Peak envelopes of cue WAVs for drawing waveforms (read in blocks: cues can be long)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile


def peak_envelope(path: Path | str, bins: int = 200) -> np.ndarray:
    """`bins` peak values in [0, 1], one per equal slice of the file."""
    info = soundfile.info(str(path))
    if info.frames == 0 or bins <= 0:
        return np.zeros(max(bins, 0), dtype=np.float32)
    edges = np.linspace(0, info.frames, bins + 1).astype(np.int64)
    peaks = np.zeros(bins, dtype=np.float32)
    with soundfile.SoundFile(str(path)) as handle:
        for i in range(bins):
            handle.seek(int(edges[i]))
            block = handle.read(max(1, int(edges[i + 1] - edges[i])), dtype="float32", always_2d=True)
            peaks[i] = float(np.abs(block).max()) if block.size else 0.0
    return np.clip(peaks, 0.0, 1.0)
