"""Small builders for real OTIO timelines used across tests."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def clip(
    name: str, media: Path | str, start: int, duration: int, rate: float, media_frames: int
) -> otio.schema.Clip:
    url = Path(media).resolve().as_uri() if isinstance(media, Path) else media
    return otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(
            target_url=url,
            available_range=TimeRange(RationalTime(0, rate), RationalTime(media_frames, rate)),
        ),
        source_range=TimeRange(RationalTime(start, rate), RationalTime(duration, rate)),
    )


def gap(duration: int, rate: float) -> otio.schema.Gap:
    return otio.schema.Gap(source_range=TimeRange(RationalTime(0, rate), RationalTime(duration, rate)))


def timeline_of(*tracks: otio.schema.Track, name: str = "test", rate: float = 25) -> otio.schema.Timeline:
    tl = otio.schema.Timeline(name=name, global_start_time=RationalTime(0, rate))
    for track in tracks:
        tl.tracks.append(track)
    return tl


def video_track(*items, name: str = "V1") -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Video)
    for item in items:
        track.append(item)
    return track
