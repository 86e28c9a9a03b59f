"""The rhythm channels: patch-token change curve, hard cuts and fades, and the cue channel.

- Rhythm curve (VidMusician's local feature): for the 25 fps frame grid, p_t is the frame's
  patch tokens (CLS excluded, after the tower's final LayerNorm) flattened in raster order into
  one vector of P·W numbers, so patches are compared position by position; d_t = 1 − cos(p_t,
  p_{t−1}) with d_0 = 1; resampled to 50 Hz by linear interpolation on the grid times k/25
  (held at the last value past the final grid frame). The curve the model trains on (`features`,
  through `vm-train prepare`) and the one it is served (`program_features`) are both made by
  `patch_change_curve` then `rhythm_curve`, so the two cannot drift apart.
- Cuts (the scene changes an editor means), from pixels only, inside the single decode pass, on
  every decoded frame of the range downscaled to 256 px wide:
  1. shot-to-shot cuts: PySceneDetect's ContentDetector (threshold 27, HSV weights 1/1/1, no
     edges) — a frame whose score reaches the threshold is a cut at its presentation time,
     unless it or the frame before is black (those are the edges of a fade, see 2);
  2. cuts through black: a run of black frames (mean of all B, G, R samples < 12, i.e.
     PySceneDetect's ThresholdDetector test) with picture on both sides is one cut, placed like
     ThresholdDetector does at t_out + (t_in − t_out)·(1 + bias)/2 with bias 0.2 (bias 0, its
     default, lands 3–5 frames early on testvideo.mp4's labelled cuts; 0.2 was chosen on that
     file, so it is tuned on two transitions), snapped to the nearest decoded frame;
  then cuts closer than `MIN_CUT_GAP_S` to the previous kept cut are dropped (PySceneDetect's
  "suppress" rule, in seconds). Black runs that open or close the range are fades, not cuts.
  Nothing here reads the tower, so cuts do not depend on its (possibly random) weights.
- Fades: every frame where the picture enters or leaves black (same black test).
- Cue channel at 50 Hz in [0, 1]: 1.0 at the bin of each hard cut and marker hit point, 0.5 at
  the bin of each fade boundary, 0 elsewhere (max where they coincide).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scenedetect import ContentDetector, FrameTimecode

from engine.timebase import GRID_FPS, TOKEN_RATE

CUT_THRESHOLD = 27.0
MIN_CUT_GAP_S = 0.5
BLACK_LEVEL = 12.0
FADE_BIAS = 0.2
FADE_CUE = 0.5

_LUMA = np.array([0.114, 0.587, 0.299], dtype=np.float32)  # BGR -> Y'


def patch_change_curve(tokens: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """tokens [M, P, W] -> d [M] float32, d_t = 1 − cos(flat(p_t), flat(p_{t−1})).

    d_0 = 1 (the start of the picture), or its change from `previous` ([P, W], the frame shown
    just before these: a cue's shots are measured one by one and joined at their cuts).
    """
    if previous is not None:
        return patch_change_curve(np.concatenate([previous[None], tokens]))[1:]
    flat = tokens.reshape(len(tokens), -1).astype(np.float64)
    d = np.ones(len(flat), dtype=np.float64)
    if len(flat) > 1:
        a, b = flat[1:], flat[:-1]
        denom = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        cos = np.einsum("ij,ij->i", a, b) / np.maximum(denom, 1e-12)
        d[1:] = 1.0 - np.clip(cos, -1.0, 1.0)
    return d.astype(np.float32)


def rhythm_curve(change_25fps: np.ndarray, duration_s: float) -> np.ndarray:
    """The model's rhythm input: the 25 fps change curve on the 50 Hz token grid, round(duration_s
    * 50) samples. Training (`features`) and serving (`program_features`) both end here."""
    return resample(change_25fps, GRID_FPS, int(round(duration_s * TOKEN_RATE)))


def resample(curve: np.ndarray, src_hz: float, n_out: int, out_hz: float = TOKEN_RATE) -> np.ndarray:
    """Linear interpolation of samples at k/src_hz onto j/out_hz, j < n_out."""
    if n_out <= 0:
        return np.zeros(0, dtype=np.float32)
    t_src = np.arange(len(curve)) / src_hz
    return np.interp(np.arange(n_out) / out_hz, t_src, curve).astype(np.float32)


class CutDetector:
    """Runs inside the decode pass: feed(t, bgr) per decoded frame, then `result()`."""

    def __init__(self, fps: float, threshold: float = CUT_THRESHOLD, min_gap_s: float = MIN_CUT_GAP_S):
        self._fps = fps
        self._detector = ContentDetector(threshold=threshold, min_scene_len=0)
        self._min_gap_s = min_gap_s
        self.times: list[float] = []
        self.level: list[float] = []  # mean of all B, G, R samples, as ThresholdDetector measures it
        self._content: list[int] = []  # frame indices where the content score reached the threshold

    def feed(self, t: float, bgr: np.ndarray) -> None:
        idx = len(self.times)
        self.times.append(t)
        self.level.append(float(bgr.mean()))
        if self._detector.process_frame(FrameTimecode(idx, fps=self._fps), np.ascontiguousarray(bgr)) and idx:
            self._content.append(idx)

    def result(self) -> tuple[list[float], list[float]]:
        """(hard cuts, fade boundaries), seconds relative to the range start."""
        times = np.asarray(self.times)
        black = np.asarray(self.level) < BLACK_LEVEL
        cuts: list[float] = [
            self.times[i] for i in self._content if not (black[i] or black[i - 1])
        ]  # edges of a black run are fades, not cuts between shots
        fades: list[float] = []
        edges = np.flatnonzero(black[1:] != black[:-1]) + 1
        for i in edges:
            fades.append(self.times[i])
        for i_out, i_in in zip(edges[:-1], edges[1:], strict=False):
            if black[i_out] and not black[i_in]:  # picture -> black -> picture: one cut through black
                t_split = times[i_out] + (times[i_in] - times[i_out]) * (1.0 + FADE_BIAS) / 2.0
                cuts.append(float(times[np.abs(times - t_split).argmin()]))
        kept: list[float] = []
        for t in sorted(cuts):
            if not kept or t - kept[-1] >= self._min_gap_s:
                kept.append(t)
        return kept, fades


def cue_channel(
    n: int,
    cuts_s: Sequence[float],
    fades_s: Sequence[float],
    hit_points_s: Sequence[float],
    hz: float = TOKEN_RATE,
) -> np.ndarray:
    """float32 [n] in [0, 1]: 1 at cuts and markers, FADE_CUE at fade boundaries."""
    cues = np.zeros(n, dtype=np.float32)
    for times, value in ((fades_s, FADE_CUE), (cuts_s, 1.0), (hit_points_s, 1.0)):
        for t in times:
            if not 0 <= t * hz < n:  # outside the cue (and any time too large for a frame number)
                continue
            j = int(round(t * hz))
            if j < n:
                cues[j] = max(cues[j], value)
    return cues
