"""Where a frame sits in the music: beat, bar, 4-bar phrase and 8-bar period, as LM inputs.

Why: a language model that only sees tokens must infer the bar from what it has played, and on
a 6 s window it often cannot; repetition at bar lags and a cadence at a phrase's end were then
hoped for rather than learned. The grid the decoder already chooses (`tempo_grid.TempoGrid`) and
the grid the corpus was written on (`engine.corpus.meter.Span`, the real pieces' bars) say it
exactly, so each frame carries the phase of each level as a (sin, cos) pair, plus a flag that
a grid is known at all (0 on frames with no grid: a row trained without one, a preset whose
decoder picks none). `GridPosition` projects them onto the LM's width and adds them to the first
block's input, on every row of a guidance batch (where a frame is is not a condition to drop).

Bars count from `bar0`: the first bar of a cue (what `form.plan_form` counts periods from), or
the form's bar 0 of a composed span (its sections start there).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

PHRASE_BARS = 4
PERIOD_BARS = 8
# (sin, cos) of the phase in the beat, the bar, the phrase and the period, then the known flag
GRID_CHANNELS = 9


@dataclass(frozen=True)
class GridSegment:
    """Frames [start, end) on one steady grid: beats `beat_frames` apart from a downbeat at
    `origin` (a frame, may be fractional or before `start`), bars of `beats_per_bar`, bar
    number 0 at the downbeat `bar0` bars after `origin`'s."""

    start: int
    end: int
    origin: float
    beat_frames: float
    beats_per_bar: int
    bar0: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.origin) and self.beat_frames > 0 and self.beats_per_bar > 0):
            raise ValueError(f"not a grid: {self}")


def grid_features(segments: Iterable[GridSegment], first: int, frames: int) -> np.ndarray:
    """float32 [frames, GRID_CHANNELS] for frames first .. first + frames - 1 (zeros where no
    segment lies)."""
    out = np.zeros((frames, GRID_CHANNELS), np.float32)
    for seg in segments:
        lo, hi = max(seg.start, first), min(seg.end, first + frames)
        if lo >= hi:
            continue
        beats = (np.arange(lo, hi, dtype=np.float64) - seg.origin) / seg.beat_frames
        bars = beats / seg.beats_per_bar - seg.bar0
        rows = out[lo - first : hi - first]
        for i, phase in enumerate((beats, bars, bars / PHRASE_BARS, bars / PERIOD_BARS)):
            angle = 2.0 * math.pi * np.mod(phase, 1.0)
            rows[:, 2 * i] = np.sin(angle)
            rows[:, 2 * i + 1] = np.cos(angle)
        rows[:, 8] = 1.0
    return out


def cue_segment(grid, first: int, frames: int) -> GridSegment:
    """A decoder's `TempoGrid` over a cue's frames [first, frames) (first < 0: its prompt), bars
    counted from the cue's first bar, as the form plan counts them."""
    bar_frames = grid.beat_frames * grid.beats_per_bar
    bar0 = math.floor((0 - grid.origin) / bar_frames + 1e-6)
    return GridSegment(
        first, frames, float(grid.origin), float(grid.beat_frames), int(grid.beats_per_bar), bar0
    )


class GridPosition(nn.Module):
    """The grid features onto the LM's width; zero at init, so a model without them is unchanged."""

    def __init__(self, dim: int, channels: int = GRID_CHANNELS):
        super().__init__()
        self.channels = int(channels)
        self.proj = nn.Linear(self.channels, dim, bias=False)
        nn.init.zeros_(self.proj.weight)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(features.to(self.proj.weight))
