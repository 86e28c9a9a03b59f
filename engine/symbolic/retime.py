"""Re-timing a cue's tokens: the same notes, moved along a piecewise-linear map of the 50 Hz grid.

Why: after a trim of a few frames a cue's hits no longer land on the cuts. Tokens make the fix
exact without new music: each note's onset frame moves to where the map sends it (one tempo per
stretch between anchors), holds and rests fill in between, and the style stays what it was at
the frame it came from. Drums are one-shots, so their frames between onsets are rests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.symbolic.score import STREAMS
from engine.symbolic.tokens import HOLD, ONSET_BASE, REST

_STYLE = STREAMS.index("style")
_DRUMS = STREAMS.index("drums")


def frame_map(anchors: Sequence[tuple[float, float]]):
    """f(old frame) -> new frame (float), through the anchors (old frame, new frame); past the
    last anchor the tempo is unchanged (slope 1: the handle keeps its length)."""
    old = np.asarray([a for a, _ in anchors], dtype=np.float64)
    new = np.asarray([b for _, b in anchors], dtype=np.float64)

    def f(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        inside = np.interp(x, old, new)
        return np.where(x > old[-1], new[-1] + (x - old[-1]), inside)

    return f


def retime_tokens(tokens: np.ndarray, anchors: Sequence[tuple[float, float]], frames: int) -> np.ndarray:
    """`tokens` [streams, T] re-timed to [streams, frames]: anchors are (old frame, new frame)
    pairs, increasing, starting at (0, 0)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[0] != len(STREAMS):
        raise ValueError(f"tokens must be [{len(STREAMS)} streams, frames], got {tokens.shape}")
    forward = frame_map(anchors)
    backward = frame_map([(b, a) for a, b in anchors])
    length = tokens.shape[1]
    source = np.clip(np.rint(backward(np.arange(frames))).astype(np.int64), 0, max(length - 1, 0))
    out = tokens[:, source].copy()
    for k in range(len(STREAMS)):
        if k == _STYLE:
            continue  # one id per frame: the style of the frame each new frame comes from
        row = out[k]
        row[row >= ONSET_BASE] = REST if k == _DRUMS else HOLD  # onsets are placed below
        onsets = np.nonzero(tokens[k] >= ONSET_BASE)[0]
        targets = np.rint(forward(onsets)).astype(np.int64)
        keep = (targets >= 0) & (targets < frames)
        row[targets[keep]] = tokens[k, onsets[keep]]  # a later onset on the same frame wins
        if k != _DRUMS:  # a hold with no note before it (the note moved later) is a rest
            sounding = False
            for j in range(frames):
                if row[j] >= ONSET_BASE:
                    sounding = True
                elif row[j] == REST:
                    sounding = False
                elif not sounding:
                    row[j] = REST
    return out.astype(tokens.dtype, copy=False)
