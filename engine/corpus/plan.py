"""The shared timeline of one clip: tempo, beat grid, events (cut / flash / accent), chords.

Why: the pictures and the music are rendered from this one plan, so every musical onset has a
visual event at the same time and the pairing's ground truth is known exactly. Every note and
drum hit of the music starts on an event; the pad only changes chord on downbeats, which are
always events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.corpus.worlds import MODES, World

BEATS_PER_BAR = 4
EVENT_KINDS = ("cut", "flash", "accent")
# No event this close to the clip's ends: an onset detector cannot place it reliably there.
START_MARGIN_S = 0.15
END_MARGIN_S = 0.25


@dataclass(frozen=True)
class Event:
    """One rhythmic event: a visual change and a musical onset at the same time."""

    time_s: float
    kind: str  # cut | flash | accent
    strength: float  # 0..1, sets the loudness of the hit and the size of the visual change
    beat: float  # position in beats from the first grid beat (x.5 = off-beat eighth)
    beat_in_bar: float  # 0 = downbeat


@dataclass(frozen=True)
class ClipPlan:
    """Everything both renderers need; JSON-friendly through `to_truth`."""

    world: str
    duration_s: float
    tempo_bpm: float
    beat_times_s: tuple[float, ...]
    downbeat_times_s: tuple[float, ...]
    events: tuple[Event, ...]
    root_midi: int
    mode: str
    # (start_s, scale degree) per chord segment; the first starts at 0
    chords: tuple[tuple[float, int], ...]

    @property
    def beat_s(self) -> float:
        return 60.0 / self.tempo_bpm

    def chord_at(self, time_s: float) -> int:
        """The scale degree of the chord sounding at `time_s`."""
        degree = self.chords[0][1]
        for start, deg in self.chords:
            if start <= time_s + 1e-9:
                degree = deg
        return degree

    def chord_midi(self, degree: int, octave_shift: int = 0) -> tuple[int, int, int]:
        """Triad (root, third, fifth) built on `degree` of the clip's mode, as MIDI notes."""
        scale = MODES[self.mode]
        notes = []
        for step in (0, 2, 4):
            idx = degree + step
            notes.append(self.root_midi + 12 * (idx // 7 + octave_shift) + scale[idx % 7])
        return notes[0], notes[1], notes[2]


def make_plan(world: World, duration_s: float, rng: np.random.Generator) -> ClipPlan:
    """Draw a tempo, a phase, an event pattern and chords for one clip of `world`."""
    tempo = float(rng.uniform(*world.tempo_bpm))
    beat = 60.0 / tempo
    phase = START_MARGIN_S + float(rng.uniform(0.0, beat))  # time of grid beat 0
    bar_offset = int(rng.integers(0, BEATS_PER_BAR))  # beat 0 is beat `bar_offset` of its bar
    last = duration_s - END_MARGIN_S

    beat_times = [phase + k * beat for k in range(int((last - phase) / beat) + 1)]
    downbeats = [t for k, t in enumerate(beat_times) if (k + bar_offset) % BEATS_PER_BAR == 0]

    step = beat / world.subdivision
    events: list[Event] = []
    n_steps = int((last - phase) / step) + 1
    for s in range(n_steps):
        time_s = phase + s * step
        pos = s / world.subdivision
        in_bar = (pos + bar_offset) % BEATS_PER_BAR
        if in_bar == 0:
            prob, strength = 1.0, 1.0
        elif float(in_bar).is_integer():
            prob, strength = min(1.0, world.density * (1.6 if in_bar == 2 else 1.2)), 0.8
        else:
            prob, strength = world.density * 0.8, 0.7
        if rng.random() >= prob:
            continue
        if in_bar == 0 and rng.random() < world.cut_prob:
            kind = "cut"
        elif rng.random() < world.flash_prob:
            kind = "flash"
        else:
            kind = "accent"
        jitter = float(rng.uniform(-0.1, 0.1))
        events.append(Event(round(time_s, 6), kind, round(min(1.0, strength + jitter), 4), pos, in_bar))

    chords: list[tuple[float, int]] = []
    bar_index = int(rng.integers(0, len(world.progression)))
    chords.append((0.0, world.progression[bar_index % len(world.progression)]))
    for t in downbeats:
        bar_index += 1
        chords.append((round(t, 6), world.progression[bar_index % len(world.progression)]))

    return ClipPlan(
        world=world.name,
        duration_s=float(duration_s),
        tempo_bpm=round(tempo, 4),
        beat_times_s=tuple(round(t, 6) for t in beat_times),
        downbeat_times_s=tuple(round(t, 6) for t in downbeats),
        events=tuple(events),
        root_midi=int(rng.integers(world.root_midi[0], world.root_midi[1] + 1)),
        mode=world.mode,
        chords=tuple(chords),
    )
