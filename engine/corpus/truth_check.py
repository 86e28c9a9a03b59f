"""The corpus's own ground-truth checks on the pictures: are the cuts and events really there?

Why: a corpus that claims "accents on the cuts" must prove it from the rendered media alone, the
way an evaluator would see them, not from the plan it was built from. The pictures' measurement:
peaks of the mean absolute frame difference, scored against the event times with mir_eval's onset
F-measure at +-(half a frame + 2 ms), i.e. the spike must be on the event's own frame. (The music
side is exact: the score is composed, `corpus_check` reads its accents.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Agreement:
    """F-measure, precision and recall of detected times against reference times."""

    f_measure: float
    precision: float
    recall: float
    n_reference: int
    n_detected: int


def agreement(reference: np.ndarray, detected: np.ndarray, window: float) -> Agreement:
    """F-measure of detected times against reference times within +-`window` seconds."""
    import mir_eval

    reference, detected = np.asarray(reference, float), np.asarray(detected, float)
    f, p, r = mir_eval.onset.f_measure(np.sort(reference), np.sort(detected), window=window)
    return Agreement(float(f), float(p), float(r), len(reference), len(detected))


def frame_difference(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each frame to the previous one; entry 0 is 0."""
    f = np.asarray(frames)
    d = np.zeros(len(f), np.float64)
    for k in range(1, len(f)):  # frame by frame: no (T, H, W, 3) int16 copy in memory
        d[k] = np.abs(f[k].astype(np.int16) - f[k - 1].astype(np.int16)).mean()
    return d


def video_spikes(frames: np.ndarray, fps: float, ratio: float = 4.0, floor: float = 2.0) -> np.ndarray:
    """Times (s) of frames whose difference is a local peak (+-2 frames) above
    max(`ratio` x median difference, `floor` grey levels)."""
    d = frame_difference(frames)
    threshold = max(ratio * float(np.median(d[1:])), floor)
    peaks = [k for k in range(1, len(d)) if d[k] >= threshold and d[k] == d[max(1, k - 2) : k + 3].max()]
    return np.asarray(peaks, np.float64) / fps
