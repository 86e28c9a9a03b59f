"""A cue's tempo grid: one steady tempo, laid on the 50 Hz token frames, where notes may start.

Why: the tiny symbolic LM picks good notes and drum sets but cannot count frames — trained on two
CPU cores, its onsets land anywhere between the grid's steps (14 % on the composed grid's exact
frames, chance), so its music has no pulse. A music editor does what the decoder does here: pick
one tempo for the cue that puts its hit points (cuts, markers) on beats, within the tempo range of
the style the pictures call for, and play to that click. Sampling then only allows onsets on the
grid's frames (constrained sampling: the model's own distribution renormalised over rest/hold
elsewhere), so the tempo holds exactly across the cue and a continued cue keeps its predecessor's.

Meters (tempo range, steps per beat, beats per bar) are the styles' a model was trained on; a model
folder carries them in `style_meters.json` (the corpus is not part of the product path).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.api import CueTempo

STYLE_METERS_FILE = "style_meters.json"

# Which steps of the grid each note stream may start on (1 = every step, "beat" = beats only):
# drums and melody on any step; bass on eighths (beats in a triplet feel); chords on beats.
STREAM_LEVELS = {"drums": "step", "bass": "eighth", "harmony": "beat", "melody": "step"}
# How much of the odds of the frames where a stream may not start a note its grid frame gets:
# 1 keeps the LM's unconstrained note rate (see `onset_boost`), 0 drops every off-grid note.
GRID_ODDS = 1.0
# The groove memory: log-odds for playing again, on a stream's grid frame, what it played one
# groove earlier (drums: the same drum set; the others: a note start, any pitch), and against an
# onset where it rested. 0 turns a stream's memory off. Harmony changes with the chords.
GROOVE_ODDS = {"drums": 2.0, "bass": 1.0, "harmony": 0.0, "melody": 1.0}
GROOVE_EXACT = {"drums": True, "bass": False, "harmony": False, "melody": False}
GROOVE_MAX_S = 1.5  # the longest groove: a pulse a listener still hears as one (at most a bar)


@dataclass(frozen=True)
class Meter:
    """A style's tempo range and bar: what the grid is fitted within."""

    tempo_bpm: tuple[float, float] = (72.0, 140.0)
    steps_per_beat: int = 4  # 4 = straight sixteenths; 3 = triplets (swing)
    beats_per_bar: int = 4
    # stream -> the steps within the beat (0 = on it) where the style starts that stream's notes;
    # a stream not named may start on any step its level allows
    onset_positions: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> Meter:
        lo, hi = (float(x) for x in d["tempo_bpm"])
        if not (20.0 <= lo <= hi <= 300.0):
            raise ValueError(f"tempo range {lo}..{hi} bpm is not a musical tempo range")
        steps = int(d.get("steps_per_beat", 4))
        positions = {
            str(k): tuple(sorted({int(p) for p in v})) for k, v in d.get("onset_positions", {}).items()
        }
        bad = {
            k: v
            for k, v in positions.items()
            if k not in STREAM_LEVELS or not v or not set(v) <= set(range(steps))
        }
        if bad:
            raise ValueError(f"onset positions {bad} are not steps 0..{steps - 1} of a note stream")
        return cls((lo, hi), steps, int(d.get("beats_per_bar", 4)), tuple(sorted(positions.items())))


DEFAULT_METER = Meter()


@dataclass(frozen=True)
class TempoGrid:
    """Beats at `bpm` from a downbeat at `origin` (a frame, may be fractional or negative)."""

    bpm: float
    origin: float
    steps_per_beat: int = 4
    beats_per_bar: int = 4
    frame_rate: float = 50.0
    onset_positions: tuple[tuple[str, tuple[int, ...]], ...] = ()  # the meter's (see `Meter`)

    @property
    def beat_frames(self) -> float:
        return self.frame_rate * 60.0 / self.bpm

    @property
    def step_frames(self) -> float:
        return self.beat_frames / self.steps_per_beat

    def steps_per(self, level: str) -> int:
        """Grid steps between allowed onsets at `level` (step, eighth, beat, bar)."""
        if level == "step":
            return 1
        if level == "eighth":
            return self.steps_per_beat // 2 if self.steps_per_beat % 2 == 0 else self.steps_per_beat
        if level == "beat":
            return self.steps_per_beat
        if level == "bar":
            return self.steps_per_beat * self.beats_per_bar
        raise ValueError(f"unknown grid level {level!r}")

    def positions(self, stream: str) -> tuple[int, ...]:
        """The steps within the beat where `stream` may start a note: those of its level
        (`STREAM_LEVELS`) that its style uses."""
        level = tuple(range(0, self.steps_per_beat, self.steps_per(STREAM_LEVELS[stream])))
        used = dict(self.onset_positions).get(stream)
        return level if used is None else tuple(p for p in level if p in used) or (0,)

    def onset_frames(self, start: int, end: int, stream: str) -> np.ndarray:
        """The frames in [start, end) where `stream` may start a note (see `positions`)."""
        f = self.frames(start, end, "step")
        at = np.round((f - self.origin) / self.step_frames).astype(np.int64) % self.steps_per_beat
        return f[np.isin(at, self.positions(stream))]

    def frames(self, start: int, end: int, level: str = "step") -> np.ndarray:
        """Every grid frame in [start, end) at `level`: round(origin + k * spacing), sorted, unique."""
        spacing = self.step_frames * self.steps_per(level)
        k0 = math.floor((start - self.origin) / spacing) - 1
        k1 = math.ceil((end - self.origin) / spacing) + 1
        f = np.round(self.origin + np.arange(k0, k1 + 1) * spacing).astype(np.int64)
        return np.unique(f[(f >= start) & (f < end)])


def to_cue_tempo(grid: TempoGrid) -> CueTempo:
    """The grid as a cue records it (`engine.api.CueTempo`): bpm, meter and its first bar line
    at or after the cue's start, in seconds."""
    bar = grid.step_frames * grid.steps_per("bar")
    return CueTempo(
        bpm=round(float(grid.bpm), 4),
        downbeat_s=round(float(grid.origin % bar) / grid.frame_rate, 6),
        beats_per_bar=int(grid.beats_per_bar),
        steps_per_beat=int(grid.steps_per_beat),
    )


def from_cue_tempo(
    tempo: CueTempo, frame_rate: float = 50.0, onset_positions: tuple[tuple[str, tuple[int, ...]], ...] = ()
) -> TempoGrid:
    """The grid a cue recorded (`to_cue_tempo`), in frames of that cue."""
    return TempoGrid(
        tempo.bpm, tempo.downbeat_s * frame_rate, tempo.steps_per_beat, tempo.beats_per_bar, frame_rate, onset_positions
    )


def groove_steps(grid: TempoGrid) -> int:
    """Grid steps in one groove: a bar, or the longest whole number of beats of it that lasts at
    most `GROOVE_MAX_S` (two beats of a 4/4 bar at 120 bpm, one beat at 60 bpm)."""
    limit = GROOVE_MAX_S * grid.frame_rate
    for beats in range(grid.beats_per_bar, 0, -1):
        if grid.beats_per_bar % beats == 0 and beats * grid.beat_frames <= limit:
            return beats * grid.steps_per_beat
    return grid.steps_per_beat


def groove_sources(grid: TempoGrid, start: int, end: int, level: str) -> dict[int, int]:
    """Each grid frame at `level` in [start, end) -> the grid frame one groove earlier, exactly
    (both from the grid's own steps, so a fractional step never drifts the lookup by a frame)."""
    back = groove_steps(grid)
    out = {}
    for f in grid.frames(start, end, level).tolist():
        k = round((f - grid.origin) / grid.step_frames)
        then = int(round(grid.origin + (k - back) * grid.step_frames))
        if then >= start:
            out[int(f)] = then
    return out


def onset_boost(grid: TempoGrid, stream: str) -> float:
    """Log-odds added to a stream's onsets on its grid frames: a grid frame stands for the
    `spacing` frames around it where notes may not start, so its onsets get (a share
    `GRID_ODDS` of) the odds of the whole span instead of losing every note the LM would have
    started a frame early or late."""
    spacing = grid.beat_frames / len(grid.positions(stream))
    return GRID_ODDS * math.log(max(spacing, 1.0))


def fit_to_hits(hits: list[int] | tuple[int, ...], frames: int, meter: Meter = DEFAULT_METER) -> TempoGrid:
    """The grid that puts the most hit frames on beats (eighths count half), tempo within `meter`.

    Ties go to the tempo nearest the middle of the range; with no hits, the middle tempo from a
    downbeat at frame 0. One hit is a downbeat.
    """
    lo, hi = meter.tempo_bpm
    mid = (lo + hi) / 2
    make = lambda bpm, origin: TempoGrid(  # noqa: E731
        float(bpm),
        float(origin),
        meter.steps_per_beat,
        meter.beats_per_bar,
        onset_positions=meter.onset_positions,
    )
    hits = sorted({int(h) for h in hits if 0 <= int(h) < frames})
    if not hits:
        return make(mid, 0.0)
    if len(hits) == 1:
        return make(mid, hits[0])
    h = np.asarray(hits, dtype=np.float64)
    bpms = np.arange(lo, hi + 1e-9, 0.1)
    beat = 50.0 * 60.0 / bpms  # [B]
    best = (-np.inf, mid, float(hits[0]))
    for origin in hits:  # one of the hits is a beat of the best grid (a downbeat: bars count from it)
        pos = (h[None, :] - origin) / beat[:, None]  # [B, H] in beats
        on_beat = np.abs(np.round(origin + np.round(pos) * beat[:, None]) - h[None, :])
        on_eighth = np.abs(np.round(origin + np.round(pos * 2) * beat[:, None] / 2) - h[None, :])
        score = np.clip(1.5 - on_beat, 0, 1).sum(1) + 0.5 * np.clip(1.5 - on_eighth, 0, 1).sum(1)
        score -= 0.05 * np.abs(bpms - mid) / max(hi - lo, 1.0)  # tie-break only (< one half hit)
        i = int(np.argmax(score))
        if score[i] > best[0]:
            best = (float(score[i]), float(bpms[i]), float(origin))
    return make(best[1], best[2])


def fit_to_onsets(onsets: np.ndarray, meter: Meter = DEFAULT_METER) -> TempoGrid | None:
    """The step grid the given onset frames sit on (a continued cue's tokens), or None if they
    fit no grid of the meter (fewer than 4 onsets, or under 80 % of them on its frames)."""
    onsets = np.unique(np.asarray(onsets, dtype=np.int64))
    if onsets.size < 4:
        return None
    lo, hi = meter.tempo_bpm
    bpms = np.arange(lo, hi + 1e-9, 0.05)
    step = 50.0 * 60.0 / bpms / meter.steps_per_beat
    best = (0.0, 0.0, 0.0)
    f = onsets.astype(np.float64)
    for origin in onsets[-8:]:  # the latest onsets: they are nearest the frames to come
        pos = np.round((f[None, :] - origin) / step[:, None])
        exact = (np.round(origin + pos * step[:, None]) == f[None, :]).mean(1)
        i = int(np.argmax(exact))
        if exact[i] > best[0]:
            best = (float(exact[i]), float(bpms[i]), float(origin))
    if best[0] < 0.8:
        return None
    # Refine by least squares over the onsets on the grid: the search's 0.05 bpm steps would drift
    # by a frame within seconds; the onsets' own spacing pins the step to a fraction of a frame.
    step0 = 50.0 * 60.0 / best[1] / meter.steps_per_beat
    k = np.round((f - best[2]) / step0)
    on = np.round(best[2] + k * step0) == f
    slope, intercept = np.polyfit(k[on], f[on], 1)
    bpm = 50.0 * 60.0 / (slope * meter.steps_per_beat)
    if not lo - 1.0 <= bpm <= hi + 1.0:
        bpm, intercept = best[1], best[2]
    return TempoGrid(
        float(bpm),
        float(intercept),
        meter.steps_per_beat,
        meter.beats_per_bar,
        onset_positions=meter.onset_positions,
    )


def read_style_meters(folder: Path) -> dict[str, Meter] | None:
    """A model folder's style -> Meter table, or None when the folder has none."""
    path = Path(folder) / STYLE_METERS_FILE
    if not path.is_file():
        return None
    try:
        return {name: Meter.from_dict(d) for name, d in json.loads(path.read_text(encoding="utf-8")).items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a style meter table ({exc}); rewrite it with `vm-train`") from exc
