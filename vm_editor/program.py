"""The program: what the viewer sees over the record time of a timeline, cut by cut.

An editor's cut is a stack of video tracks; the picture on screen at each record frame is the
topmost enabled clip *with a picture* there. Titles, generators and adjustment clips sit over a
picture without hiding it; gaps and generators with nothing under them are black. Speed
(LinearTimeWarp), reverse (a negative scalar: the clip's source range played from its end) and
freeze frames are mapped exactly. The result is an ordered list of segments that tile the record
range, plus the exact edit points (cuts, and dissolves as spans) and the markers. Where titles
and generators are on screen is kept too (`titles`): a timeline that is only titles (an opening
title sequence) is still scored, from their lengths and markers.

Pure functions over OTIO objects. Record times are RationalTime at the timeline's rate, counted
from the first frame of the timeline; seconds appear only in `to_engine_program`, at the engine
boundary. Built on `vm_editor.time_mapping` (nested stacks, speed, mixed rates).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from engine.api import CueProgram, EditPointSpec, ProgramSegmentSpec
from vm_editor.errors import NoVideoTrackError, timeline_label
from vm_editor.media_links import resolve_media, url_to_path
from vm_editor.time_mapping import (
    Layout,
    Linear,
    Piece,
    exact_rate,
    frames_at,
    item_speed,
    layout_track,
    paint,
    seconds,
)

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

# names that mark a clip as an overlay (no picture of its own) when its reference says nothing
_OVERLAY_NAME = re.compile(r"\b(title|titles|text|caption|subtitle|lower third|adjustment|graphic)s?\b", re.I)


@dataclass(frozen=True)
class Segment:
    """A record span where one picture is on screen; `url` None means black, unless `missing`:
    a shot whose media the file does not name (an EDL event, a lost file) is still a shot."""

    record: TimeRange  # timeline rate, from the timeline's first frame
    url: str | None
    path: Path | None  # the resolved local file; None for black or remote media
    source_in: Fraction  # media seconds (from the media's first frame) shown at the record start
    speed: Fraction  # media seconds per record second; negative reversed, 0 frozen
    name: str = ""
    missing: bool = False  # a picture with no media reference (MissingReference): offline, not black

    @property
    def is_black(self) -> bool:
        return self.url is None and not self.missing

    @property
    def offline(self) -> bool:
        return self.missing or (self.url is not None and (self.path is None or not self.path.is_file()))

    def source_at(self, record: RationalTime) -> Fraction:
        """The media second on screen at a record time inside this segment."""
        return self.source_in + (seconds(record) - seconds(self.record.start_time)) * self.speed

    @property
    def source_out(self) -> Fraction:
        """The media time at the segment's (exclusive) record end, on the same line as `source_in`."""
        return self.source_in + seconds(self.record.duration) * self.speed


@dataclass(frozen=True)
class EditPoint:
    """A change of picture: a cut at `at`, or a dissolve spanning `span` (its cut point at `at`)."""

    at: RationalTime
    span: TimeRange | None = None

    @property
    def kind(self) -> str:
        return "dissolve" if self.span is not None else "cut"


@dataclass(frozen=True)
class Program:
    rate: float
    record: TimeRange  # what this program covers
    segments: tuple[Segment, ...]
    edit_points: tuple[EditPoint, ...]
    markers: tuple[tuple[RationalTime, str], ...] = ()
    # where one of the editor's clips starts while the picture runs on unchanged (a clip cut at
    # a cut baked into its media): no edit point, but a clip of its own for `--cues per-clip`
    clip_starts: tuple[tuple[RationalTime, str], ...] = ()  # (record time, the clip's name)
    # record spans where a title or generator is on screen (over a picture or over black), named
    titles: tuple[tuple[TimeRange, str], ...] = ()
    # where the picture changes world (`vm_editor.worlds`); None: not decided (no engine to look)
    world_changes: tuple[RationalTime, ...] | None = None

    @property
    def start(self) -> RationalTime:
        return self.record.start_time

    @property
    def end(self) -> RationalTime:
        return self.record.end_time_exclusive()

    def pictures(self) -> list[Segment]:
        return [s for s in self.segments if not s.is_black]


def is_picture(clip: otio.core.Item) -> bool:
    """True when a clip shows media that hides what is under it (not a title/generator/adjustment)."""
    if not isinstance(clip, otio.schema.Clip):
        return False
    ref = clip.media_reference
    if isinstance(ref, otio.schema.GeneratorReference):
        return False
    if isinstance(ref, (otio.schema.ExternalReference, otio.schema.ImageSequenceReference)):
        return True
    # a MissingReference: a lost media file hides what is below, a title exported without its
    # generator does not; only the name and metadata can tell them apart
    hint = " ".join([clip.name or "", str(ref.name or ""), " ".join(map(str, clip.metadata.keys()))])
    return not _OVERLAY_NAME.search(hint)


def _url(clip: otio.schema.Clip) -> str | None:
    ref = clip.media_reference
    if isinstance(ref, otio.schema.ImageSequenceReference):
        return ref.target_url_base
    if isinstance(ref, otio.schema.ExternalReference):
        return ref.target_url
    return None


def _video_tracks(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]


def _timeline_rate(timeline: otio.schema.Timeline) -> float:
    if timeline.global_start_time is not None:
        return timeline.global_start_time.rate
    for clip in timeline.find_clips():
        return clip.trimmed_range().duration.rate
    return 24.0


def _flatten(tracks: Sequence[otio.schema.Track]) -> Layout:
    """Tracks bottom to top painted over each other; only pictures paint."""
    merged = Layout()
    for track in tracks:
        if not track.enabled:
            continue
        layer = layout_track(track, Linear(t0=seconds(track.trimmed_range().start_time), r0=Fraction(0)))
        merged.pieces = paint(merged.pieces, [p for p in layer.pieces if is_picture(p.item)])
        merged.cuts.extend(layer.cuts)
        merged.markers.extend(layer.markers)
    return merged


def _titles(tracks: Sequence[otio.schema.Track], rate: float, total: int) -> list[tuple[TimeRange, str]]:
    """Where each enabled title or generator clip is on screen, in record frames, named."""
    out = []
    for track in tracks:
        if not track.enabled:
            continue
        layer = layout_track(track, Linear(t0=seconds(track.trimmed_range().start_time), r0=Fraction(0)))
        for piece in layer.pieces:
            if not isinstance(piece.item, otio.schema.Clip) or is_picture(piece.item):
                continue
            lo, hi = max(frames_at(piece.lo, rate), 0), min(frames_at(piece.hi, rate), total)
            if hi > lo:
                out.append(
                    (TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate)), piece.item.name or "")
                )
    return sorted(out, key=lambda t: (t[0].start_time.value, t[0].duration.value))


def _reverse_offset(piece: Piece) -> Fraction:
    """Reverse plays the clip's source range from its end: time_mapping runs it back from its start."""
    speed = item_speed(piece.item)
    if speed >= 0:
        return Fraction(0)
    return seconds(piece.item.trimmed_range().duration) * -speed


def timeline_program(
    timeline: otio.schema.Timeline,
    *,
    track: int | None = None,
    timeline_path: Path | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
) -> Program:
    """The program of the whole timeline (or of video track `track` alone, 1 = lowest)."""
    tracks = _video_tracks(timeline)
    where = timeline_label(timeline.name, timeline_path)
    if not tracks:
        raise NoVideoTrackError(f"{where}: has no video track; score a timeline with picture")
    if track is not None:
        if not 1 <= track <= len(tracks):
            raise NoVideoTrackError(
                f"{where}: has {len(tracks)} video track(s); choose --track 1..{len(tracks)}"
            )
        tracks = [tracks[track - 1]]
    rate = float(exact_rate(_timeline_rate(timeline)))
    # relative media URLs resolve against the timeline's folder, sent on as absolute paths
    base_dir = Path(timeline_path).resolve().parent if timeline_path is not None else None
    layout = _flatten(tracks)
    total = max((frames_at(seconds(t.duration()), rate) for t in tracks), default=0)
    segments: list[Segment] = []
    items: list[object] = []  # the clip under each segment, before continuous ones are joined
    cursor = 0

    def black(lo: int, hi: int) -> None:
        if hi > lo:
            record = TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate))
            segments.append(Segment(record, None, None, Fraction(0), Fraction(0), "black"))
            items.append(None)

    for piece in sorted(layout.pieces, key=lambda p: p.lo):
        lo, hi = max(frames_at(piece.lo, rate), cursor), min(frames_at(piece.hi, rate), total)
        if hi <= lo:
            continue
        black(cursor, lo)
        url = _url(piece.item)
        clip = piece.item
        origin = Fraction(0)
        ref = clip.media_reference
        if ref.available_range is not None:
            origin = seconds(ref.available_range.start_time)
        rec_lo = Fraction(lo) / exact_rate(rate)
        source_in = piece.media_at(rec_lo) + _reverse_offset(piece) - origin
        path = None
        if url is not None:
            found = resolve_media(url, base_dir=base_dir, relink=relink)
            path = found.resolve() if found is not None else url_to_path(url, base_dir)
        record = TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate))
        missing = isinstance(ref, otio.schema.MissingReference)
        segments.append(Segment(record, url, path, source_in, piece.speed, clip.name or "", missing))
        items.append(clip)
        cursor = hi
    black(cursor, total)
    joined = _join_continuous(segments)
    starts = {int(s.record.start_time.value) for s in joined}
    clip_starts = [
        (seg.record.start_time, seg.name)
        for i, seg in enumerate(segments)
        if i > 0 and items[i] is not items[i - 1] and int(seg.record.start_time.value) not in starts
    ]
    markers = [(frames_at(t, rate), name) for t, name, _ in layout.markers]
    markers += [
        (frames_at(seconds(m.marked_range.start_time), rate), m.name) for m in timeline.tracks.markers
    ]
    program = Program(
        rate=rate,
        record=TimeRange(RationalTime(0, rate), RationalTime(total, rate)),
        segments=tuple(joined),
        edit_points=(),
        markers=tuple((RationalTime(f, rate), n) for f, n in sorted(set(markers)) if 0 <= f < total),
        clip_starts=tuple(clip_starts),
        titles=tuple(_titles(tracks, rate, total)),
    )
    return replace(program, edit_points=tuple(_edit_points(program, layout, rate)))


def _continues(a: Segment, b: Segment) -> bool:
    """b carries on a's picture with no visible change (the same shot split by an overlay, say)."""
    if a.url != b.url or a.speed != b.speed or a.missing != b.missing:
        return False
    if a.missing and a.name != b.name:  # two offline shots: only their names tell them apart
        return False
    if a.is_black:
        return True
    step = Fraction(1, 1000)  # below any media frame: a through edit
    return abs(a.source_out - b.source_in) < step


def _join_continuous(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if out and _continues(out[-1], seg):
            prev = out[-1]
            out[-1] = replace(
                prev, record=TimeRange(prev.record.start_time, prev.record.duration + seg.record.duration)
            )
        else:
            out.append(seg)
    return out


def _edit_points(program: Program, layout: Layout, rate: float) -> list[EditPoint]:
    """Every boundary between segments is an edit point; a dissolve on that cut gives it a span."""
    dissolves = {frames_at(c.at, rate): c for c in layout.cuts if c.hi > c.lo}
    out = []
    for seg in program.segments[1:]:
        at = seg.record.start_time
        cut = dissolves.get(int(at.value))
        span = None
        if cut is not None:
            lo, hi = frames_at(cut.lo, rate), frames_at(cut.hi, rate)
            span = TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate))
        out.append(EditPoint(at, span))
    return out


def program_slice(program: Program, start: RationalTime, end: RationalTime) -> Program:
    """The part of `program` in record [start, end); segments across the edges are trimmed."""
    rate = program.rate
    lo, hi = int(start.rescaled_to(rate).value), int(end.rescaled_to(rate).value)
    segments = []
    for seg in program.segments:
        a = max(int(seg.record.start_time.value), lo)
        b = min(int(seg.record.end_time_exclusive().value), hi)
        if b <= a:
            continue
        shift = Fraction(a - int(seg.record.start_time.value)) / exact_rate(rate)
        record = TimeRange(RationalTime(a, rate), RationalTime(b - a, rate))
        name = seg.name  # the clip on screen at `a`, where one clip runs on into the next
        for t, clip_name in program.clip_starts:
            if seg.record.start_time.value < t.value <= a:
                name = clip_name
        segments.append(replace(seg, record=record, source_in=seg.source_in + shift * seg.speed, name=name))
    return Program(
        rate=rate,
        record=TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate)),
        segments=tuple(segments),
        edit_points=tuple(e for e in program.edit_points if lo < e.at.value < hi),
        markers=tuple(m for m in program.markers if lo <= m[0].value < hi),
        clip_starts=tuple(c for c in program.clip_starts if lo < c[0].value < hi),
        # a cue that starts at a world change keeps it (at its 0.0): its style may change there
        world_changes=None
        if program.world_changes is None
        else tuple(t for t in program.world_changes if lo <= t.value < hi),
        titles=tuple(
            (TimeRange(RationalTime(a, rate), RationalTime(b - a, rate)), name)
            for span, name in program.titles
            if (a := max(int(span.start_time.value), lo))
            < (b := min(int(span.end_time_exclusive().value), hi))
        ),
    )


def to_engine_program(program: Program) -> CueProgram:
    """Seconds at the engine boundary, relative to the program's start; black has no path.

    Offline media is sent as black (the engine cannot see it); the caller reports it.
    """
    t0 = seconds(program.start)

    def rel(t: RationalTime) -> float:
        return float(seconds(t) - t0)

    segments = tuple(
        ProgramSegmentSpec(
            path=None if seg.is_black or seg.offline else str(seg.path),
            source_start_s=float(seg.source_in),
            source_end_s=float(seg.source_out),
            record_start_s=rel(seg.record.start_time),
            record_end_s=rel(seg.record.end_time_exclusive()),
            speed=float(seg.speed),
            name=seg.name,
        )
        for seg in program.segments
    )
    edits = tuple(
        EditPointSpec(
            at_s=rel(e.at),
            span_start_s=None if e.span is None else rel(e.span.start_time),
            span_end_s=None if e.span is None else rel(e.span.end_time_exclusive()),
        )
        for e in program.edit_points
    )
    return CueProgram(
        duration_s=float(seconds(program.record.duration)),
        segments=segments,
        edit_points=edits,
        markers_s=tuple(rel(t) for t, _ in program.markers),
        world_changes_s=None if program.world_changes is None else tuple(rel(t) for t in program.world_changes),
    )


def segments_json(program: Program) -> list[dict]:
    """`scenes --json`'s per-cue `segments` (timeline-relative seconds, null url for black)."""
    return [
        {
            "url": seg.url,
            "source_start_s": float(seg.source_in),
            "source_end_s": float(seg.source_out),
            "record_start_s": float(seconds(seg.record.start_time)),
            "record_end_s": float(seconds(seg.record.end_time_exclusive())),
            "speed": float(seg.speed),
        }
        for seg in program.segments
    ]
