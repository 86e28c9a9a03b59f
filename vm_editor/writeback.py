"""Write-back: a copy of the timeline with one new audio track holding the score.

Pure function over OTIO objects: the input timeline is deep-copied, never changed. Each cue is a
clip at its scene's record range, referencing its 48 kHz WAV, with the cue's recipe under the
`vidmusician` metadata namespace so one cue can be regenerated later.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult
from vm_editor.scenes import Scene

METADATA_KEY = "vidmusician"
RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def _cue_clip(scene: Scene, cue: CueResult) -> otio.schema.Clip:
    rate = scene.record_range.duration.rate
    available = TimeRange(
        RationalTime(0, rate),
        RationalTime(cue.num_samples, cue.sample_rate).rescaled_to(rate),
    )
    reference = otio.schema.ExternalReference(
        target_url=Path(cue.wav_path).resolve().as_uri(), available_range=available
    )
    clip = otio.schema.Clip(
        name=f"{cue.name} (music)",
        media_reference=reference,
        source_range=TimeRange(RationalTime(0, rate), scene.record_range.duration),
    )
    clip.metadata[METADATA_KEY] = cue.metadata()
    return clip


def add_score_track(
    timeline: otio.schema.Timeline,
    scenes: Sequence[Scene],
    cues: Sequence[CueResult],
    *,
    track_name: str = "VidMusician score",
) -> otio.schema.Timeline:
    """A new timeline: the original tracks untouched plus the score after the last audio track."""
    by_index = {cue.index: cue for cue in cues}
    scored = copy.deepcopy(timeline)
    track = otio.schema.Track(name=track_name, kind=otio.schema.TrackKind.Audio)
    track.metadata[METADATA_KEY] = {"score": True}
    cursor = None
    for scene in sorted(scenes, key=lambda s: s.record_range.start_time):
        cue = by_index.get(scene.index)
        if cue is None:
            continue
        start = scene.record_range.start_time
        if cursor is None:
            cursor = RationalTime(0, start.rate)
        if start > cursor:
            track.append(otio.schema.Gap(source_range=TimeRange(RationalTime(0, start.rate), start - cursor)))
        track.append(_cue_clip(scene, cue))
        cursor = scene.record_range.end_time_exclusive()
    insert_at = len(scored.tracks)
    scored.tracks.insert(insert_at, track)
    return scored


def score_track(timeline: otio.schema.Timeline) -> otio.schema.Track | None:
    """The score track written by `add_score_track`, found again after a round trip."""
    for track in timeline.audio_tracks():
        if track.metadata.get(METADATA_KEY, {}).get("score"):
            return track
    for track in timeline.audio_tracks():
        if any(METADATA_KEY in c.metadata for c in track.find_clips(shallow_search=True)):
            return track
    return None
