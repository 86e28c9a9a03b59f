"""Scenes: the clips of one video track, in record time, with where their pictures come from.

Pure functions over OTIO objects. Record times stay RationalTime at the timeline's rate and are
measured from the start of the track (0 = first frame of the timeline, whatever its start
timecode); they become seconds only at the engine boundary (`to_engine_scene`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from engine.api import MediaRange, SceneRequest
from vm_editor.errors import NoVideoTrackError

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


@dataclass(frozen=True)
class SourceRef:
    """Where a scene's pictures live: a file and the span of it that the clip shows."""

    url: str
    path: Path | None
    media_range: TimeRange  # in the media file's own time, from its first frame

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

    @property
    def offline(self) -> bool:
        return self.source is not None and not self.source.exists


@dataclass(frozen=True)
class SceneList:
    track_name: str
    rate: float
    duration: RationalTime
    scenes: tuple[Scene, ...]


def url_to_path(url: str, base_dir: Path | None) -> Path | None:
    """A local path for a media URL (file URL or plain path, relative to the timeline's folder)."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme == "file":
        raw = unquote(parsed.path)
    elif parsed.scheme in ("", None) or (len(parsed.scheme) == 1 and os.name == "nt"):
        raw = url
    else:
        return None  # http and other remote schemes are not local media
    path = Path(raw)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def timeline_rate(timeline: otio.schema.Timeline) -> float:
    if timeline.global_start_time is not None:
        return timeline.global_start_time.rate
    for clip in timeline.find_clips():
        return clip.trimmed_range().duration.rate
    return 24.0


def video_tracks(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]


def choose_video_track(timeline: otio.schema.Timeline, track: int | None = None) -> otio.schema.Track:
    """The track to score: `track` (1 = lowest video track) or the topmost enabled one with clips."""
    tracks = video_tracks(timeline)
    if not tracks:
        raise NoVideoTrackError(
            f"timeline {timeline.name!r} has no video track; score a timeline that has picture"
        )
    if track is not None:
        if not 1 <= track <= len(tracks):
            raise NoVideoTrackError(
                f"timeline {timeline.name!r} has {len(tracks)} video track(s); "
                f"choose --track between 1 and {len(tracks)}"
            )
        return tracks[track - 1]
    for candidate in reversed(tracks):
        if candidate.enabled and any(True for _ in candidate.find_clips(shallow_search=True)):
            return candidate
    raise NoVideoTrackError(
        f"timeline {timeline.name!r} has no enabled video track with clips; enable one or pass --track"
    )


def _source_ref(clip: otio.schema.Clip, base_dir: Path | None) -> SourceRef | None:
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference):
        return None  # generators, missing references: scored without pictures
    source_range = clip.trimmed_range()
    media_start = source_range.start_time
    if ref.available_range is not None:
        media_start = media_start - ref.available_range.start_time
    media_range = TimeRange(media_start, source_range.duration)
    return SourceRef(url=ref.target_url, path=url_to_path(ref.target_url, base_dir), media_range=media_range)


def _markers_in_record_time(
    item: otio.core.Item, record_start: RationalTime, rate: float
) -> list[RationalTime]:
    """Clip markers are in the clip's source time; map them onto the record timeline."""
    out = []
    trimmed = item.trimmed_range()
    for marker in item.markers:
        offset = marker.marked_range.start_time - trimmed.start_time
        out.append((record_start + offset).rescaled_to(rate))
    return out


def extract_scenes(
    timeline: otio.schema.Timeline,
    *,
    track: int | None = None,
    timeline_path: Path | None = None,
) -> SceneList:
    """One scene per enabled clip of the chosen video track, at its record range."""
    chosen = choose_video_track(timeline, track)
    rate = timeline_rate(timeline)
    base_dir = timeline_path.parent if timeline_path is not None else None
    scenes: list[Scene] = []
    for child in chosen:
        if not isinstance(child, otio.schema.Clip) or not child.enabled:
            continue
        record = chosen.range_of_child(child)
        record = TimeRange(record.start_time.rescaled_to(rate), record.duration.rescaled_to(rate))
        markers = _markers_in_record_time(child, record.start_time, rate)
        scenes.append(
            Scene(
                index=len(scenes),
                name=child.name or f"clip {len(scenes) + 1}",
                record_range=record,
                source=_source_ref(child, base_dir),
                markers=tuple(markers),
            )
        )
    duration = chosen.duration().rescaled_to(rate)
    return SceneList(track_name=chosen.name or "V", rate=rate, duration=duration, scenes=tuple(scenes))


def to_engine_scene(scene: Scene, *, seed: int | None = None, prompt: str | None = None) -> SceneRequest:
    """Convert to seconds at the engine boundary; hit points are relative to the scene's start."""
    media = None
    if scene.source is not None and scene.source.path is not None:
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
    )


def scenes_to_json(scene_list: SceneList) -> dict:
    """The `vm-editor scenes --json` document (DESIGN.md §7)."""
    out = []
    for s in scene_list.scenes:
        source = None
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
                "source": source,
                "markers_s": [m.to_seconds() for m in s.markers],
            }
        )
    return {
        "rate": scene_list.rate,
        "duration_s": scene_list.duration.to_seconds(),
        "track": scene_list.track_name,
        "scenes": out,
    }
