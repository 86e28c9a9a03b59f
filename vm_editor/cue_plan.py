"""Cue planning: where the music starts and stops over a program, as a music editor spots it.

- `one`: one cue from the first picture to the last;
- `per-clip`: one cue per clip of the editor's cut, also where two clips continue one shot
  (black stays silent);
- a program with no picture at all but titles or generators (an opening title sequence) is
  planned the same way over them: each title stands for a shot;
- `auto` (default): a new cue at a gap of `GAP_S` or more (black), at a marker whose name says
  cue / music in / music out, where the picture changes world (`worlds`: another source that
  looks different, the frames passed in as `worlds`), or where the picture's meaning changes (the
  cosine distance of two neighbouring shots' mean CLS embeddings above `MEANING_THRESHOLD`); cues shorter than
  `MIN_CUE_S` join a neighbour, cues longer than `MAX_CUE_S` split at their best edit point.

The CLS embeddings come from the engine (`Engine.shot_embeddings`) through a callable, so this
module stays pure: spans are record frames at the program's rate. Each cue becomes a `Scene`
(the write-back's unit) carrying its program.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import opentimelineio as otio

from engine.api import ProgramSegmentSpec
from vm_editor.errors import EditorInputError
from vm_editor.program import Program, Segment, program_slice
from vm_editor.scenes import Scene, SceneList

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

MODES = ("auto", "per-clip", "one")
GAP_S = 1.0
MIN_CUE_S = 4.0
MAX_CUE_S = 90.0
MEANING_THRESHOLD = 0.35
_CUE_MARKER = re.compile(r"\b(cue|music\s*(in|out|start|end|stop))\b", re.I)
Span = tuple[int, int]  # record frames [lo, hi)
Embed = Callable[[Sequence[ProgramSegmentSpec]], list[list[float]]]


def _frames(seg: Segment) -> Span:
    return int(seg.record.start_time.value), int(seg.record.end_time_exclusive().value)


def _runs(shots: list[Span], min_gap: int) -> list[Span]:
    """Stretches of shots separated by black of at least `min_gap` frames."""
    runs: list[Span] = []
    for lo, hi in shots:
        if runs and lo - runs[-1][1] < min_gap:
            runs[-1] = (runs[-1][0], max(hi, runs[-1][1]))
        else:
            runs.append((lo, hi))
    return runs


def title_shots(program: Program) -> list[Span]:
    """The spans titles and generators cover (stacked ones as one), for a program with no picture."""
    spans: list[Span] = []
    for span, _ in sorted(program.titles, key=lambda t: t[0].start_time.value):
        lo, hi = int(span.start_time.value), int(span.end_time_exclusive().value)
        if spans and lo < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
        else:
            spans.append((lo, hi))
    return spans


def _cosine_distance(a: list[float], b: list[float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / max(na * nb, 1e-12)


def plan_spans(
    program: Program,
    mode: str = "auto",
    *,
    embed: Embed | None = None,
    gap_s: float = GAP_S,
    min_cue_s: float = MIN_CUE_S,
    max_cue_s: float = MAX_CUE_S,
    threshold: float = MEANING_THRESHOLD,
    worlds: Sequence[int] = (),
) -> list[Span]:
    """The cue spans of `program` for `mode` (see the module docstring)."""
    if mode not in MODES:
        raise EditorInputError(f"--cues {mode!r}: choose one of {', '.join(MODES)}")
    pictures = program.pictures()
    shots = [_frames(s) for s in pictures] or title_shots(program)
    if not shots:
        return []
    rate = program.rate
    if mode == "one":
        return [(shots[0][0], shots[-1][1])]
    if mode == "per-clip":  # every clip of the editor's cut, also one whose picture runs on
        starts = sorted(int(t.value) for t, _ in program.clip_starts)
        clips: list[Span] = []
        for lo, hi in shots:
            edges = [lo, *(t for t in starts if lo < t < hi), hi]
            clips += list(zip(edges[:-1], edges[1:], strict=True))
        return clips
    runs = _runs(shots, max(1, round(gap_s * rate)))
    bounds: set[int] = set()
    for t, name in program.markers:
        if _CUE_MARKER.search(name or ""):
            bounds.add(int(t.value))
    bounds |= {int(f) for f in worlds}
    if embed is not None and len(pictures) > 1:
        vectors = embed([shot_spec(s) for s in pictures])
        for i in range(1, len(pictures)):
            if _cosine_distance(vectors[i - 1], vectors[i]) > threshold:
                bounds.add(_frames(pictures[i])[0])
    edits = sorted(int(e.at.value) for e in program.edit_points)
    spans: list[Span] = []
    for lo, hi in runs:
        inner = sorted(b for b in bounds if lo < b < hi)
        spans += _enforce_lengths(
            list(zip([lo, *inner], [*inner, hi], strict=True)),
            round(min_cue_s * rate),
            round(max_cue_s * rate),
            edits,
        )
    return spans


def shot_spec(seg: Segment) -> ProgramSegmentSpec:
    return ProgramSegmentSpec(
        path=None if seg.offline else str(seg.path),
        source_start_s=float(seg.source_in),
        source_end_s=float(seg.source_out),
        record_start_s=0.0,
        record_end_s=seg.record.duration.to_seconds(),
        speed=float(seg.speed),
        name=seg.name,
    )


def _enforce_lengths(spans: list[Span], min_len: int, max_len: int, edits: list[int]) -> list[Span]:
    """Join cues under `min_len` to their shorter neighbour; split those over `max_len` at edits."""
    out = list(spans)
    while len(out) > 1:
        short = [i for i, (a, b) in enumerate(out) if b - a < min_len]
        if not short:
            break
        i = short[0]
        j = (
            i + 1
            if i == 0
            else (i - 1 if i == len(out) - 1 else min(i - 1, i + 1, key=lambda k: out[k][1] - out[k][0]))
        )
        a, b = min(i, j), max(i, j)
        out[a : b + 1] = [(out[a][0], out[b][1])]
    final: list[Span] = []
    for lo, hi in out:
        while hi - lo > max_len:
            inside = [e for e in edits if lo + min_len <= e <= lo + max_len]
            cut = inside[-1] if inside else lo + max_len
            final.append((lo, cut))
            lo = cut
        final.append((lo, hi))
    return final


def merge_spans(spans: list[Span], first: int, last: int) -> list[Span]:
    """Cues first..last (inclusive) become one (the gaps between them included)."""
    if not 0 <= first <= last < len(spans):
        raise EditorInputError(f"cannot merge cues {first}-{last}: there are {len(spans)}")
    return spans[:first] + [(spans[first][0], spans[last][1])] + spans[last + 1 :]


def split_spans_at_markers(spans: list[Span], program: Program) -> list[Span]:
    """Every marker inside a cue starts a new cue there."""
    marks = sorted({int(t.value) for t, _ in program.markers})
    out: list[Span] = []
    for lo, hi in spans:
        edges = [lo, *[m for m in marks if lo < m < hi], hi]
        out += list(zip(edges[:-1], edges[1:], strict=True))
    return out


def cue_scenes(program: Program, spans: list[Span], track_name: str = "program") -> SceneList:
    """Each span as a Scene (index = cue number) carrying its program slice."""
    rate = program.rate
    scenes = []
    for i, (lo, hi) in enumerate(spans):
        part = program_slice(program, RationalTime(lo, rate), RationalTime(hi, rate))
        named = [(s.record.start_time.value, s.name) for s in part.pictures()] + [
            (t.value, n) for t, n in part.clip_starts
        ]
        names = [n for _, n in sorted(named, key=lambda x: x[0])] or [n for _, n in part.titles]
        name = names[0] if len(names) == 1 else (f"{names[0]} … {names[-1]}" if names else "black")
        scenes.append(
            Scene(
                index=i,
                name=name,
                record_range=TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate)),
                source=None,
                markers=tuple(t for t, _ in part.markers),
                marker_names=tuple(n for _, n in part.markers),
                kind="cue",
                program=part,
            )
        )
    return SceneList(
        track_name=track_name,
        rate=rate,
        duration=program.record.duration,
        scenes=tuple(scenes),
    )


def touching(scenes: Sequence[Scene]) -> list[bool]:
    """For each cue: does it start where the previous one ends (so it continues its music)?"""
    return [
        i > 0 and scenes[i - 1].record_range.end_time_exclusive() == s.record_range.start_time
        for i, s in enumerate(scenes)
    ]


def renumber(scene_list: SceneList) -> SceneList:
    return replace(scene_list, scenes=tuple(replace(s, index=i) for i, s in enumerate(scene_list.scenes)))
