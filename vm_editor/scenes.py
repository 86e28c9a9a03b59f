"""Scenes: what the viewer sees on one video track, in record time, and where it comes from.

Pure functions over OTIO objects. Record times stay RationalTime at the timeline's rate and are
measured from the start of the track (0 = first frame of the timeline, whatever its start
timecode); they become seconds only at the engine boundary (`to_engine_scene`). Nested stacks,
speed effects and transitions are resolved by `vm_editor.time_mapping`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from engine.api import MediaRange, SceneRequest
from vm_editor.errors import NoVideoTrackError, timeline_label
from vm_editor.media_links import resolve_media, url_to_path
from vm_editor.program import Program, segments_json, to_engine_program
from vm_editor.time_mapping import Linear, Piece, exact_rate, frames_at, layout_track, seconds

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

__all__ = [
    "Scene",
    "SceneList",
    "SourceRef",
    "extract_scenes",
    "to_engine_scene",
    "scenes_to_json",
    "choose_video_track",
    "timeline_rate",
    "url_to_path",
    "offline_scenes",
    "cue_label",
]


@dataclass(frozen=True)
class SourceRef:
    """Where a scene's pictures live: a file and the span of it that the scene shows."""

    url: str
    path: Path | None  # the resolved local file (None: remote URL); may not exist (offline)
    media_range: TimeRange  # in the media file's own time, from its first frame
    speed: float = 1.0  # source seconds per record second; 0 is a freeze frame

    @property
    def exists(self) -> bool:
        return self.path is not None and self.path.is_file()


@dataclass(frozen=True)
class Scene:
    index: int
    name: str
    record_range: TimeRange
    source: SourceRef | None
    markers: tuple[RationalTime, ...] = field(default=())
    kind: str = "clip"  # "clip" | "generator" (no media by nature) | "missing" (reference lost)
    transition_in: TimeRange | None = None  # the dissolve into this scene; the cut is our start
    transition_out: TimeRange | None = None  # the dissolve out; the cut is our end
    compound: tuple[str, ...] = ()  # names of the nested stacks / compound clips it sits in
    marker_names: tuple[str, ...] = ()
    program: Program | None = None  # a cue over the program: the pictures it follows, shot by shot

    @property
    def offline(self) -> bool:
        """True when the scene should show media but no file for it exists on this machine."""
        if self.program is not None:
            return any(seg.offline for seg in self.program.segments)
        return self.kind == "missing" or (self.source is not None and not self.source.exists)


@dataclass(frozen=True)
class SceneList:
    track_name: str
    rate: float
    duration: RationalTime
    scenes: tuple[Scene, ...]
    track_index: int = 0  # 1 = lowest video track
    start_timecode: RationalTime | None = None  # the timeline's start (e.g. 01:00:00:00)
    warnings: tuple[str, ...] = ()

    def gaps(self) -> list[TimeRange]:
        """Record ranges not covered by a scene (silence unless merged into a cue)."""
        out, cursor = [], RationalTime(0, self.rate)
        for s in self.scenes:
            if s.record_range.start_time > cursor:
                out.append(TimeRange(cursor, s.record_range.start_time - cursor))
            cursor = s.record_range.end_time_exclusive()
        if self.duration > cursor:
            out.append(TimeRange(cursor, self.duration - cursor))
        return out


def timeline_rate(timeline: otio.schema.Timeline, track: otio.schema.Track | None = None) -> float:
    """The record rate: the timeline's start time rate, else the chosen track's first clip's."""
    if timeline.global_start_time is not None:
        return timeline.global_start_time.rate
    for clip in (track or timeline.tracks).find_clips():
        return clip.trimmed_range().duration.rate
    return 24.0


def video_tracks(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]


def _has_content(track: otio.schema.Track) -> bool:
    return any(not isinstance(c, (otio.schema.Gap, otio.schema.Transition)) and c.enabled for c in track)


def _has_picture(track: otio.schema.Track) -> bool:
    """Holds an enabled item that shows media (not only titles/generators)."""
    return any(
        not isinstance(c, (otio.schema.Gap, otio.schema.Transition))
        and c.enabled
        and not isinstance(getattr(c, "media_reference", None), otio.schema.GeneratorReference)
        for c in track
    )


def choose_video_track(
    timeline: otio.schema.Timeline, track: int | None = None, timeline_path: Path | None = None
) -> otio.schema.Track:
    """The track to score: `track` (1 = lowest video track) or the topmost enabled one with clips
    that show media (a lane of titles over the storyline does not replace it)."""
    tracks = video_tracks(timeline)
    where = timeline_label(timeline.name, timeline_path)
    if not tracks:
        raise NoVideoTrackError(f"{where}: has no video track; score a timeline that has picture")
    if track is not None:
        if not 1 <= track <= len(tracks):
            raise NoVideoTrackError(
                f"{where}: has {len(tracks)} video track(s); choose --track between 1 and {len(tracks)}"
            )
        return tracks[track - 1]
    for candidate in reversed(tracks):  # a track of titles over picture is an overlay, not the cut
        if candidate.enabled and _has_picture(candidate):
            return candidate
    for candidate in reversed(tracks):
        if candidate.enabled and _has_content(candidate):
            return candidate
    raise NoVideoTrackError(
        f"{where}: has nothing to score: no enabled video track holds a picture, "
        "title or generator; add one, enable a track or pass --track"
    )


def _source(
    piece: Piece,
    rec_lo: int,
    rec_hi: int,
    rate: float,
    base_dir: Path | None,
    relink: Sequence[str | os.PathLike[str]],
) -> tuple[str, SourceRef | None]:
    clip = piece.item
    ref = clip.media_reference
    if isinstance(ref, otio.schema.GeneratorReference):
        return "generator", None
    if isinstance(ref, otio.schema.ImageSequenceReference):
        url = ref.target_url_base
    elif isinstance(ref, otio.schema.ExternalReference):
        url = ref.target_url
    else:
        return "missing", None
    media_rate = clip.trimmed_range().duration.rate
    lo_s, hi_s = Fraction(rec_lo) / exact_rate(rate), Fraction(rec_hi) / exact_rate(rate)
    m_lo, m_hi = piece.media_at(lo_s), piece.media_at(hi_s)
    if ref.available_range is not None:
        origin = seconds(ref.available_range.start_time)
        m_lo, m_hi = m_lo - origin, m_hi - origin
    if m_hi < m_lo:  # reverse playback: the same pictures, backwards
        m_lo, m_hi = m_hi, m_lo
    start = frames_at(m_lo, media_rate)
    length = max(frames_at(m_hi, media_rate) - start, 1)  # a freeze frame still shows one frame
    path = resolve_media(url, base_dir=base_dir, relink=relink) or url_to_path(url, base_dir)
    media_range = TimeRange(RationalTime(start, media_rate), RationalTime(length, media_rate))
    return "clip", SourceRef(url=url, path=path, media_range=media_range, speed=float(piece.speed))


def extract_scenes(
    timeline: otio.schema.Timeline,
    *,
    track: int | None = None,
    timeline_path: Path | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
) -> SceneList:
    """One scene per visible span of a clip on the chosen video track, tiling it with the gaps."""
    chosen = choose_video_track(timeline, track, timeline_path)
    rate = float(exact_rate(timeline_rate(timeline, chosen)))  # 23.976 -> 24000/1001: no drift in seconds
    base_dir = Path(timeline_path).parent if timeline_path is not None else None
    layout = layout_track(chosen, Linear(t0=seconds(chosen.trimmed_range().start_time), r0=Fraction(0)))
    total = frames_at(seconds(chosen.duration()), rate)
    marks = [(frames_at(t, rate), name) for t, name, _ in layout.markers]
    marks += [(frames_at(seconds(m.marked_range.start_time), rate), m.name) for m in timeline.tracks.markers]
    marks = sorted(m for m in marks if 0 <= m[0] < total)
    cuts = {frames_at(c.at, rate): c for c in layout.cuts}
    scenes: list[Scene] = []
    for piece in sorted(layout.pieces, key=lambda p: p.lo):
        lo, hi = max(frames_at(piece.lo, rate), 0), min(frames_at(piece.hi, rate), total)
        if hi <= lo:
            continue  # shorter than half a frame once on the record grid
        kind, source = _source(piece, lo, hi, rate, base_dir, relink)
        inside = [(f, n) for f, n in marks if lo <= f < hi]
        t_in, t_out = cuts.get(lo), cuts.get(hi)
        scenes.append(
            Scene(
                index=len(scenes),
                name=piece.item.name or f"clip {len(scenes) + 1}",
                record_range=TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate)),
                source=source,
                markers=tuple(RationalTime(f, rate) for f, _ in inside),
                kind=kind,
                transition_in=_dissolve(t_in, rate),
                transition_out=_dissolve(t_out, rate),
                compound=piece.path,
                marker_names=tuple(n for _, n in inside),
            )
        )
    index = video_tracks(timeline).index(chosen) + 1
    return SceneList(
        track_name=chosen.name or f"V{index}",
        rate=rate,
        duration=RationalTime(total, rate),
        scenes=tuple(scenes),
        track_index=index,
        start_timecode=timeline.global_start_time,
    )


def _dissolve(cut, rate: float) -> TimeRange | None:
    if cut is None:
        return None
    lo, hi = frames_at(cut.lo, rate), frames_at(cut.hi, rate)
    return TimeRange(RationalTime(lo, rate), RationalTime(hi - lo, rate))


def offline_scenes(scene_list: SceneList) -> list[tuple[str, str]]:
    """(scene name, media URL) for every scene whose media is missing on this machine."""
    out = []
    for s in scene_list.scenes:
        if s.program is not None:
            out += [(seg.name, seg.url or "") for seg in s.program.segments if seg.offline]
        elif s.offline:
            out.append((s.name, s.source.url if s.source else ""))
    return out


def to_engine_scene(scene: Scene, *, seed: int | None = None, prompt: str | None = None) -> SceneRequest:
    """Convert to seconds at the engine boundary; hit points are relative to the scene's start.

    Offline media and generators get `media=None`: they are still scored, from no pictures.
    """
    media = None
    if scene.source is not None and scene.source.exists:
        mr = scene.source.media_range
        media = MediaRange(
            path=str(scene.source.path),
            start_s=mr.start_time.to_seconds(),
            end_s=mr.end_time_exclusive().to_seconds(),
        )
    start = scene.record_range.start_time
    hits = tuple((m - start).to_seconds() for m in scene.markers)
    return SceneRequest(
        index=scene.index,
        name=scene.name,
        duration_s=scene.record_range.duration.to_seconds(),
        media=media,
        hit_points_s=hits,
        seed=seed,
        prompt=prompt,
        program=None if scene.program is None else to_engine_program(scene.program),
    )


def scenes_to_json(scene_list: SceneList) -> dict:
    """The `vm-editor scenes --json` document (DESIGN.md §7), plus a few extra keys per scene."""
    out = []
    for s in scene_list.scenes:
        source = None
        if s.source is None and s.program is not None and len(s.program.pictures()) == 1:
            only = s.program.pictures()[0]
            lo, hi = sorted((float(only.source_in), float(only.source_out)))
            source = {"url": only.url, "start_s": lo, "end_s": hi}
        if s.source is not None:
            mr = s.source.media_range
            source = {
                "url": s.source.url,
                "start_s": mr.start_time.to_seconds(),
                "end_s": mr.end_time_exclusive().to_seconds(),
            }
        out.append(
            {
                "index": s.index,
                "name": s.name,
                "record_start_s": s.record_range.start_time.to_seconds(),
                "record_end_s": s.record_range.end_time_exclusive().to_seconds(),
                "record_start_frame": int(s.record_range.start_time.value),
                "record_end_frame": int(s.record_range.end_time_exclusive().value),
                "source": source,
                "markers_s": [m.to_seconds() for m in s.markers],
                "kind": s.kind,
                "offline": s.offline,
                "speed": s.source.speed if s.source else None,
            }
        )
        if s.program is not None:
            out[-1]["segments"] = segments_json(s.program)
            out[-1]["edit_points_s"] = [e.at.to_seconds() for e in s.program.edit_points]
    return {
        "rate": scene_list.rate,
        "duration_s": scene_list.duration.to_seconds(),
        "track": scene_list.track_name,
        "scenes": out,
    }


def cue_label(index: int) -> str:
    """How a person sees cue `index`: "cue 2" is `--cue 2`, `cue002` in its WAV's name, the
    `index` of `scenes --json`, `cue_index` in the clip metadata and the panel's row "2"."""
    return f"cue {index}"
