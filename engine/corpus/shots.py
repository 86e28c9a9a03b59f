"""A clip's edit: style spans, shots with hard cuts and dissolves on musical events, visual events.

Why: an editor's cut is several shots (0.5–8 s, mostly 1.5–4 s), joined by hard cuts that mostly
land on downbeats (some on other beats or off-beats) and by dissolves, with flashes and motion
accents inside shots, sometimes a change of world. The music is composed to this edit, so every
hard cut and visual event has a known 50 Hz frame for its strong accent, and a world change
starts a new style span on its cut. Video frames are 25 fps; a cut on video frame k is music
frame 2k, so the accent and the picture change are on the same instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine.corpus.meter import SECTION_BARS, Span
from engine.corpus.moods import MOODS, NEUTRAL, NEUTRAL_SHARE
from engine.corpus.styles import style
from engine.symbolic.score import FRAME_RATE, STYLES
from engine.timebase import GRID_FPS

VIDEO_FPS = GRID_FPS  # the films are shot on the rhythm grid: one frame per feature frame
MUSIC_PER_VIDEO = FRAME_RATE // VIDEO_FPS  # 2 music frames per video frame
MIN_SHOT_S, MAX_SHOT_S = 0.5, 8.0
WORLD_CHANGE_PROB = 0.3
CUT_KINDS = (("downbeat", 0.65), ("beat", 0.25), ("offbeat", 0.10))
DISSOLVE_PROB = {"cinematic_strings": 0.45, "ambient": 0.5, "piano_ballad": 0.4, "action_percussion": 0.05}
DEFAULT_DISSOLVE_PROB = 0.15
EVENT_GAP = 3  # video frames kept clear around transitions and between events


@dataclass(frozen=True)
class Transition:
    frame: int  # video frame where the new shot is (half) in: the cut frame, a dissolve's middle
    kind: str  # cut | dissolve
    on: str  # downbeat | beat | offbeat: where in the bar it falls
    start: int  # dissolve: first blended frame; cut: = frame
    end: int  # dissolve: first frame fully on the new shot; cut: = frame
    world_change: bool = False


@dataclass(frozen=True)
class VisualEvent:
    frame: int  # video frame
    kind: str  # flash | motion


@dataclass(frozen=True)
class Edit:
    num_video_frames: int
    spans: tuple[Span, ...]
    transitions: tuple[Transition, ...]
    events: tuple[VisualEvent, ...]

    @property
    def num_frames(self) -> int:
        return self.num_video_frames * MUSIC_PER_VIDEO

    def shot_starts(self) -> list[int]:
        return [0] + [t.frame for t in self.transitions]

    def world_at(self, video_frame: int) -> str:
        current = self.spans[0].style
        for s in self.spans:
            if s.start_frame <= video_frame * MUSIC_PER_VIDEO:
                current = s.style
        return current

    def hit_frames(self) -> list[int]:
        """50 Hz frames that take a strong accent: hard cuts and visual events."""
        cuts = [t.frame for t in self.transitions if t.kind == "cut"]
        return sorted(MUSIC_PER_VIDEO * f for f in cuts + [e.frame for e in self.events])


def _span(style_name: str, start: int, end: int, origin: float, rng: np.random.Generator, tonic=None) -> Span:
    lo, hi = style(style_name).tempo_bpm
    tonic = int(rng.integers(12)) if tonic is None else tonic
    return Span(style_name, round(float(rng.uniform(lo, hi)), 3), tonic, start, end, origin)


def _first_span(style_name: str, num_frames: int, rng: np.random.Generator) -> Span:
    probe = _span(style_name, 0, num_frames, 0.0, rng)
    first_downbeat = float(rng.uniform(0.0, probe.bar_frames))
    bars_in = int(rng.integers(SECTION_BARS))  # the clip begins somewhere inside a section
    return Span(
        probe.style, probe.tempo_bpm, probe.tonic, 0, num_frames, first_downbeat - bars_in * probe.bar_frames
    )


def _grid_points(span: Span) -> list[tuple[int, str]]:
    """(video frame, kind) of every downbeat, other beat and off-beat eighth inside the span."""
    spec = span.spec
    out = []
    for frame, bar, beat in span.beats():
        out.append((frame, "downbeat" if beat == 0 else "beat"))
        off = span.step_frame(
            bar * spec.steps_per_bar
            + beat * spec.steps_per_beat
            + spec.steps_per_beat // 2
            + (spec.steps_per_beat == 3)
        )
        if span.start_frame <= off < span.end_frame:
            out.append((off, "offbeat"))
    return [(round(f / MUSIC_PER_VIDEO), k) for f, k in out]


def _draw_mood(rng: np.random.Generator) -> str:
    """Neutral NEUTRAL_SHARE of the time, else one of the moods, uniformly."""
    return NEUTRAL if rng.random() < NEUTRAL_SHARE else MOODS[int(rng.integers(len(MOODS)))]


def plan_edit(style_name: str, num_video_frames: int, rng: np.random.Generator) -> Edit:
    """Draw the spans, shots, transitions and visual events of one clip whose first world is `style_name`.

    Each span's mood comes from a child generator of `rng` (spawning does not advance it), drawn
    apart from the pictures: an editor asks for a mood in words, whatever the shots show, and
    every other draw of the clip is the same as without moods."""
    if style_name not in STYLES:
        raise ValueError(f"unknown style {style_name!r}; known: {', '.join(STYLES)}")
    mood_rng = rng.spawn(1)[0]
    n50 = num_video_frames * MUSIC_PER_VIDEO
    first = _first_span(style_name, n50, rng)
    spans = [first]
    change = None
    if rng.random() < WORLD_CHANGE_PROB and num_video_frames >= 4 * VIDEO_FPS:
        downbeats = [f for f, _, beat in first.beats() if beat == 0 and 0.35 * n50 <= f <= 0.7 * n50]
        if downbeats:
            change = round(downbeats[int(rng.integers(len(downbeats)))] / MUSIC_PER_VIDEO)
            other = [s for s in STYLES if s != style_name][int(rng.integers(len(STYLES) - 1))]
            c50 = change * MUSIC_PER_VIDEO
            spans = [
                Span(first.style, first.tempo_bpm, first.tonic, 0, c50, first.origin_frame),
                _span(other, c50, n50, float(c50), rng),
            ]
    points = sorted({p for s in spans for p in _grid_points(s) if 0 < p[0] < num_video_frames})
    boundaries: list[tuple[int, str]] = []
    cur = 0
    lo, hi = math.ceil(MIN_SHOT_S * VIDEO_FPS), math.floor(MAX_SHOT_S * VIDEO_FPS)
    end_margin = lo
    while True:
        length = float(np.clip(np.exp(rng.normal(np.log(2.6), 0.45)), MIN_SHOT_S, MAX_SHOT_S))
        target = cur + length * VIDEO_FPS
        if change is not None and cur < change <= target + 0.5 * VIDEO_FPS and change - cur >= lo:
            boundaries.append((change, "downbeat"))
            cur = change
            continue
        if target >= num_video_frames - end_margin and num_video_frames - cur <= hi:
            break
        kind = CUT_KINDS[int(rng.choice(len(CUT_KINDS), p=[p for _, p in CUT_KINDS]))][0]
        ok = [
            (f, k)
            for f, k in points
            if cur + lo <= f <= min(cur + hi, num_video_frames - end_margin)
            and (change is None or f <= change - lo or f >= change + lo or f == change)
        ]
        if not ok:
            break
        same = [p for p in ok if p[1] == kind] or ok
        f, k = min(same, key=lambda p: abs(p[0] - target))
        if change is not None and cur < change < f:
            f, k = change, "downbeat"
        boundaries.append((f, k))
        cur = f
    transitions = _transitions(boundaries, change, num_video_frames, spans, rng)
    events = _events(spans, points, transitions, num_video_frames, rng)
    spans = [replace(span, mood=_draw_mood(mood_rng)) for span in spans]
    return Edit(num_video_frames, tuple(spans), tuple(transitions), tuple(events))


def _transitions(boundaries, change, n, spans, rng) -> list[Transition]:
    out = []
    starts = [0] + [f for f, _ in boundaries] + [n]
    for i, (f, on) in enumerate(boundaries):
        style_here = (
            spans[0].style
            if f * MUSIC_PER_VIDEO < spans[-1].start_frame or len(spans) == 1
            else spans[-1].style
        )
        p = DISSOLVE_PROB.get(style_here, DEFAULT_DISSOLVE_PROB)
        room = min(f - starts[i], starts[i + 2] - f)
        if f != change and rng.random() < p and room >= 12:
            length = int(min(rng.integers(8, 17), room * 0.7))
            out.append(Transition(f, "dissolve", on, f - length // 2, f + length - length // 2))
        else:
            out.append(Transition(f, "cut", on, f, f, world_change=f == change))
    return out


def _events(spans, points, transitions, n, rng) -> list[VisualEvent]:
    busy = set()
    for t in transitions:
        busy.update(range(t.start - EVENT_GAP, t.end + EVENT_GAP + 1))
    busy.update(range(0, EVENT_GAP + 1))
    busy.update(range(n - EVENT_GAP - 1, n))
    out = []
    for f, kind in points:
        span = spans[0] if len(spans) == 1 or f * MUSIC_PER_VIDEO < spans[1].start_frame else spans[1]
        rate = span.spec.event_rate * (0.5 if kind == "offbeat" else 1.0)
        if f in busy or rng.random() >= rate:
            continue
        out.append(VisualEvent(f, "flash" if rng.random() < 0.4 else "motion"))
        busy.update(range(f - EVENT_GAP, f + EVENT_GAP + 1))
    return out


def shot_worlds(edit: Edit) -> list[str]:
    """The world of every shot (a world change happens on a cut, so a shot has one world)."""
    return [edit.world_at(f) for f in edit.shot_starts()]
