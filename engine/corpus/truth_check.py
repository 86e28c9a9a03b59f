"""The corpus's own ground-truth checks: are the events really in the music and in the pictures?

Why: a corpus that claims "beats on the cuts" must prove it from the rendered media alone, the way
an evaluator would see it, not from the plan it was built from. Two measurements:

- music: librosa onset detection (hop 256) on the audio, scored against the event times with
  mir_eval's onset F-measure at +-70 ms (`MUSIC_WINDOW_S`);
- pictures: peaks of the mean absolute frame difference, scored against the event times with
  the same F-measure at +-(half a frame + 2 ms), i.e. the spike must be on the event's own frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MUSIC_WINDOW_S = 0.07
ONSET_HOP = 256


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
    return _score(np.asarray(reference, float), np.asarray(detected, float), window)


def _score(reference: np.ndarray, detected: np.ndarray, window: float) -> Agreement:
    import mir_eval

    f, p, r = mir_eval.onset.f_measure(np.sort(reference), np.sort(detected), window=window)
    return Agreement(float(f), float(p), float(r), len(reference), len(detected))


def music_onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times (s) that librosa finds in mono audio."""
    import librosa

    return librosa.onset.onset_detect(
        y=np.asarray(audio, np.float32), sr=sample_rate, hop_length=ONSET_HOP, units="time"
    )


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


def music_agreement(audio: np.ndarray, sample_rate: int, event_times: np.ndarray) -> Agreement:
    """Onset F-measure (+-70 ms) of the music's detected onsets against `event_times`."""
    return _score(np.asarray(event_times, float), music_onsets(audio, sample_rate), MUSIC_WINDOW_S)


def video_agreement(frames: np.ndarray, fps: float, event_times: np.ndarray) -> Agreement:
    """F-measure of frame-difference spikes against `event_times` (+- half a frame + 2 ms)."""
    return _score(np.asarray(event_times, float), video_spikes(frames, fps), 0.5 / fps + 0.002)
