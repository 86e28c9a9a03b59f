"""A whole score as one signal: is it music? (`make demo` prints this and draws it.)

The cue WAVs are mixed at their record positions into one mono signal; its spectrogram is drawn
with the picture's marks (cuts) in red, and two numbers say whether it is tonal (spectral
flatness) and whether it has a steady pulse (rhythmicity), both defined in `engine.eval.metrics`.
Each cue is also measured on its own the way the owner measures a score (`music_measures`: stereo,
48 kHz, flatness, bandwidth, chroma movement, rhythmicity), with the thresholds it fails, if any.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.eval import metrics
from engine.eval.music_measures import failures, music_measures
from engine.eval.report import spectrogram_png
from engine.timebase import CUE_SAMPLE_RATE


def mix_cues(cues: list[tuple[str, float]]) -> tuple[np.ndarray, int]:
    """(mono mix, sample rate) of WAV files placed at their start times in seconds."""
    import soundfile as sf

    pieces, rate = [], None
    for path, start in cues:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        if rate is not None and sr != rate:
            raise ValueError(f"{path}: {sr} Hz, the other cues are {rate} Hz")
        rate = sr
        pieces.append((start, audio.mean(axis=1)))
    if not pieces:
        raise ValueError("no cues to mix")
    end = max(start + len(a) / rate for start, a in pieces)
    mix = np.zeros(int(round(end * rate)), dtype=np.float32)
    for start, audio in pieces:
        i = int(round(start * rate))
        mix[i : i + len(audio)] += audio[: len(mix) - i]
    return mix, rate


def describe_score(cues: list[tuple[str, float]], marks_s: list[float], png: str | Path, title: str) -> dict:
    """Draw the mixed score's spectrogram to `png`; return its flatness and rhythmicity, and every
    cue's own measures (with the names of the thresholds it misses under "fails")."""
    mix, rate = mix_cues(cues)
    spectrogram_png(mix, rate, marks_s, Path(png), title)
    return {
        "spectral_flatness": metrics.spectral_flatness(mix, rate),
        "rhythmicity": metrics.rhythmicity(mix, rate),
        "seconds": len(mix) / rate,
        "cues": [cue_measures(path) for path, _ in cues],
    }


def cue_measures(path: str | Path) -> dict:
    """One cue WAV measured as the owner does (`music_measures`), plus its rate and its failures."""
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    m = music_measures(audio.T, sr)
    fails = failures(m) + ([f"{sr} Hz, not 48 kHz"] if sr != CUE_SAMPLE_RATE else [])
    return {"wav": Path(path).name, "sample_rate": sr, **m, "fails": fails}
