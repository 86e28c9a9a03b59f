"""One style span's time grid: a steady tempo laid on the 50 Hz frames, bars of the style's meter.

Why its own module: the shot planner (where cuts may fall) and the composer (where notes fall) must
agree to the frame on where every beat is; both read it from here. Frames are 50 Hz
(score.FRAME_RATE); a grid position's frame is round(origin + steps * frames_per_step), so the
tempo never drifts however long the span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.corpus.moods import NEUTRAL, check_mood
from engine.corpus.styles import Style, style
from engine.symbolic.score import FRAME_RATE

SECTION_BARS = 8  # a section is two 4-bar phrases; a new section (and a fill before it) every 8 bars
PHRASE_BARS = 4


@dataclass(frozen=True)
class Span:
    """A stretch of the clip in one style: frames [start_frame, end_frame) at one tempo and key.

    `origin_frame` is where bar 0 of the span's form would fall (it may lie before start_frame:
    the clip then begins in the middle of a section, as a cut into running music does).
    """

    style: str
    tempo_bpm: float
    tonic: int  # pitch class of the key's tonic
    start_frame: int
    end_frame: int
    origin_frame: float
    mood: str = NEUTRAL  # a key of moods.MOOD_TABLE: how the composer plays the style here

    def __post_init__(self) -> None:
        check_mood(self.mood)

    @property
    def spec(self) -> Style:
        return style(self.style)

    @property
    def beat_frames(self) -> float:
        return FRAME_RATE * 60.0 / self.tempo_bpm

    @property
    def step_frames(self) -> float:
        return self.beat_frames / self.spec.steps_per_beat

    @property
    def bar_frames(self) -> float:
        return self.beat_frames * self.spec.beats_per_bar

    def step_frame(self, step: int) -> int:
        """The frame of grid step `step` (counted from the form's bar 0; may be negative)."""
        return round(self.origin_frame + step * self.step_frames)

    def bar_range(self) -> range:
        """Every bar index that overlaps the span."""
        first = math.floor((self.start_frame - self.origin_frame) / self.bar_frames)
        last = math.ceil((self.end_frame - self.origin_frame) / self.bar_frames)
        return range(first, last)

    def bar_frame(self, bar: int) -> int:
        return self.step_frame(bar * self.spec.steps_per_bar)

    def beats(self) -> list[tuple[int, int, int]]:
        """(frame, bar, beat in bar) of every beat inside the span."""
        spec = self.spec
        out = []
        for bar in self.bar_range():
            for beat in range(spec.beats_per_bar):
                f = self.step_frame(bar * spec.steps_per_bar + beat * spec.steps_per_beat)
                if self.start_frame <= f < self.end_frame:
                    out.append((f, bar, beat))
        return out

    def to_dict(self) -> dict:
        return {
            "style": self.style,
            "tempo_bpm": self.tempo_bpm,
            "tonic": self.tonic,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "origin_frame": self.origin_frame,
            "beats_per_bar": self.spec.beats_per_bar,
            "steps_per_beat": self.spec.steps_per_beat,
            "mood": self.mood,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Span:
        """The span `to_dict` wrote; a truth file from before moods reads as neutral."""
        return cls(
            d["style"],
            float(d["tempo_bpm"]),
            int(d["tonic"]),
            int(d["start_frame"]),
            int(d["end_frame"]),
            float(d["origin_frame"]),
            d.get("mood", NEUTRAL),
        )
