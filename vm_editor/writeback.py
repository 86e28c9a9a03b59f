"""Write-back: a copy of the timeline with one new audio track holding the score.

Pure functions over OTIO objects: the input timeline is deep-copied, never changed. Each cue is a
clip at its scene's record range, referencing its 48 kHz WAV by file URL, with the cue's recipe
under the `vidmusician` metadata namespace so one cue can be regenerated later. Adjacent cues get
a crossfade (an OTIO Transition) that starts at the cut and runs into the outgoing cue's tail
handle: its WAV was rendered `handle_s` past its end, so both cues play real music throughout. Earlier takes are kept as *disabled clips*
on audio tracks after the score ("… takes", then "… takes 2"… where takes of one span overlap),
every take of every cue: every NLE shows them, muted, and the editor swaps a take back by
enabling it (and disabling the current one).

Formats that drop clip metadata (Kdenlive) get a sidecar `<output>.vidmusician.json` (written by
`timeline_io.write_timeline_atomic`), matched back to clips by their WAV URLs; FCP7 XML carries it
in the clip's comments (`vm_editor.score_track`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult
from vm_editor.media_links import url_to_path
from vm_editor.scenes import Scene

METADATA_KEY = "vidmusician"
DEFAULT_TRACK_NAME = "VidMusician score"
TAKES_SUFFIX = " takes"
RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def sidecar_path(timeline_path: Path) -> Path:
    return Path(timeline_path).with_name(Path(timeline_path).name + ".vidmusician.json")


def _cue_clip(record: TimeRange, cue: CueResult, scene_name: str) -> otio.schema.Clip:
    rate = record.duration.rate
    available = TimeRange(
        RationalTime(0, rate),
        RationalTime(cue.num_samples + round(cue.handle_s * cue.sample_rate), cue.sample_rate).rescaled_to(
            rate
        ),
    )
    url = Path(cue.wav_path).resolve().as_uri()
    reference = otio.schema.ExternalReference(target_url=url, available_range=available)
    clip = otio.schema.Clip(
        name=f"{cue.name} (music)",
        media_reference=reference,
        source_range=TimeRange(RationalTime(0, rate), record.duration),
    )
    meta = cue.metadata()
    meta.update(
        {
            "scene_name": scene_name,
            "record_start_frame": int(record.start_time.value),
            "record_end_frame": int(record.end_time_exclusive().value),
            "rate": rate,
            "wav_url": url,
        }
    )
    clip.metadata[METADATA_KEY] = meta
    return clip


def _place(
    track: otio.schema.Track,
    items: Sequence[tuple[TimeRange, otio.schema.Clip]],
    crossfade: RationalTime | None,
) -> None:
    """Append clips at their record ranges with gaps between; where two cues touch, a dissolve
    from the cut into the outgoing cue's handle (no handle: a hard cut, never missing media)."""
    cursor = None
    for record, clip in sorted(items, key=lambda x: x[0].start_time):
        start = record.start_time
        if cursor is None:
            cursor = RationalTime(0, start.rate)
        if start > cursor:
            track.append(otio.schema.Gap(source_range=TimeRange(RationalTime(0, start.rate), start - cursor)))
        elif start == cursor and len(track) and isinstance(track[-1], otio.schema.Clip) and crossfade:
            length = min(crossfade.value, _handle_frames(track[-1], start.rate), record.duration.value)
            if length >= 1:
                track.append(
                    otio.schema.Transition(
                        name="VidMusician crossfade",
                        in_offset=RationalTime(0, start.rate),
                        out_offset=RationalTime(length, start.rate),
                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    )
                )
        track.append(clip)
        cursor = record.end_time_exclusive()


def _handle_frames(clip: otio.schema.Clip, rate: float) -> int:
    """Whole frames of media the clip's WAV holds past its used range (its tail handle)."""
    available = clip.media_reference.available_range if clip.media_reference else None
    if available is None:
        return 0
    used_end = clip.source_range.end_time_exclusive().rescaled_to(rate).value
    return max(0, int(available.end_time_exclusive().rescaled_to(rate).value - used_end + 1e-6))


def add_score_track(
    timeline: otio.schema.Timeline,
    scenes: Sequence[Scene],
    cues: Sequence[CueResult],
    *,
    track_name: str = DEFAULT_TRACK_NAME,
    crossfade_s: float = 0.5,
) -> otio.schema.Timeline:
    """A new timeline: the original tracks untouched plus the score after the last audio track.

    `crossfade_s` is the length of the dissolve between two cues that touch (0 = hard cuts); it
    starts at the cut and is at most the outgoing cue's handle.
    Scenes without a cue are left silent.
    """
    by_index = {cue.index: cue for cue in cues}
    scored = copy.deepcopy(timeline)
    track = otio.schema.Track(name=track_name, kind=otio.schema.TrackKind.Audio)
    track.metadata[METADATA_KEY] = {"score": True}
    items = [
        (s.record_range, _cue_clip(s.record_range, by_index[s.index], s.name))
        for s in scenes
        if s.index in by_index
    ]
    rate = items[0][0].duration.rate if items else 24.0
    fade = RationalTime(round(crossfade_s * rate), rate) if crossfade_s > 0 else None
    _place(track, items, fade)
    audio_at = [i for i, t in enumerate(scored.tracks) if t.kind == otio.schema.TrackKind.Audio]
    scored.tracks.insert(audio_at[-1] + 1 if audio_at else len(scored.tracks), track)
    return scored


def score_track(
    timeline: otio.schema.Timeline, timeline_path: Path | None = None, *, takes: bool = False
) -> otio.schema.Track | None:
    """The score track written by `add_score_track`, found again after a round trip.

    By track metadata, then by clip metadata, then (formats that drop metadata) by the WAV URLs
    listed in the sidecar next to `timeline_path`. `takes=True` finds the takes track instead.
    """
    wanted = "takes" if takes else "score"
    audio = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    for track in audio:
        if track.metadata.get(METADATA_KEY, {}).get(wanted):
            return track
    sidecar = read_sidecar(timeline_path) if timeline_path is not None else {}
    urls = {_key(c["wav_url"]) for c in sidecar.get("takes" if takes else "cues", [])}
    for track in audio:
        clips = list(track.find_clips(shallow_search=True))
        if not clips:
            continue
        if all(METADATA_KEY in c.metadata and c.enabled != takes for c in clips):
            return track
        if urls and all(_url(c) in urls for c in clips):
            return track
    return None


def _url(clip: otio.schema.Clip) -> str:
    """A comparable key for the clip's media (writers turn file URLs into paths and back)."""
    ref = clip.media_reference
    return _key(ref.target_url) if isinstance(ref, otio.schema.ExternalReference) else ""


def _key(url: str) -> str:
    path = url_to_path(url)
    return str(path) if path is not None else url


def plain_json(value):
    """OTIO's AnyDictionary / AnyVector (nested) as plain JSON-able Python: nested ones die with
    their timeline, so metadata handed out (e.g. a cue's `stems`) must be copied out of it."""
    if hasattr(value, "items"):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [plain_json(v) for v in value]
    return value


def cue_metadata(timeline: otio.schema.Timeline, timeline_path: Path | None = None) -> dict[int, dict]:
    """cue index -> its `vidmusician` metadata (from the clips, else from the sidecar)."""
    track = score_track(timeline, timeline_path)
    if track is None:
        return {}
    side = {_key(c["wav_url"]): c for c in read_sidecar(timeline_path).get("cues", [])}
    out = {}
    for clip in track.find_clips(shallow_search=True):
        meta = plain_json(clip.metadata.get(METADATA_KEY) or side.get(_url(clip)) or {})
        if "cue_index" in meta:
            out[int(meta["cue_index"])] = meta
    return out


def sidecar_document(timeline: otio.schema.Timeline) -> dict | None:
    """What the sidecar holds: every score and take clip's metadata, keyed by WAV URL."""
    doc = {"version": 1, "cues": [], "takes": []}
    score = score_track(timeline)
    for key, tracks in (("cues", [score] if score is not None else []), ("takes", takes_tracks(timeline))):
        for track in tracks:
            doc.setdefault("track" if key == "cues" else "takes_track", track.name)
            for clip in track.find_clips(shallow_search=True):
                if METADATA_KEY in clip.metadata:
                    doc[key].append(plain_json(clip.metadata[METADATA_KEY]))
    return doc if doc["cues"] else None


def read_sidecar(timeline_path: Path | None) -> dict:
    if timeline_path is None:
        return {}
    path = sidecar_path(Path(timeline_path))
    return json.loads(path.read_text()) if path.is_file() else {}


def replace_cue(
    scored: otio.schema.Timeline, cue: CueResult, *, timeline_path: Path | None = None
) -> otio.schema.Timeline:
    """A new timeline where cue `cue.index` is the new take; the old take moves, disabled, to the
    takes track at the same record range (the editor can enable it again to go back)."""
    out = copy.deepcopy(scored)
    track = score_track(out, timeline_path)
    if track is None:
        raise KeyError("no VidMusician score track in this timeline; score it first")
    meta_by_url = {_key(c["wav_url"]): c for c in read_sidecar(timeline_path).get("cues", [])}
    for i, child in enumerate(track):
        if not isinstance(child, otio.schema.Clip):
            continue
        meta = dict(child.metadata.get(METADATA_KEY) or meta_by_url.get(_url(child)) or {})
        if int(meta.get("cue_index", -1)) != cue.index:
            continue
        record = track.range_of_child_at_index(i)
        new = _cue_clip(record, cue, meta.get("scene_name", child.name))
        history = list(meta.pop("previous_takes", []))
        new.metadata[METADATA_KEY]["previous_takes"] = history + [meta]
        old = copy.deepcopy(child)
        old.metadata[METADATA_KEY] = meta
        old.enabled = False
        _takes_track(out, track).append_take(record, old)
        track[i] = new
        return out
    raise KeyError(f"cue {cue.index} is not on the score track {track.name!r}")


def takes_tracks(
    timeline: otio.schema.Timeline, timeline_path: Path | None = None
) -> list[otio.schema.Track]:
    """Every takes track, in track order: one holds as many takes as fit side by side, the
    takes of one span that overlap stack on further ones ("… takes 2", "… takes 3")."""
    marked = [
        t
        for t in timeline.tracks
        if t.kind == otio.schema.TrackKind.Audio and (t.metadata.get(METADATA_KEY) or {}).get("takes")
    ]
    if marked:
        return marked
    one = score_track(timeline, timeline_path, takes=True)
    return [one] if one is not None else []


def placed_clips(track: otio.schema.Track) -> list[tuple[TimeRange, otio.schema.Clip]]:
    """The track's clips with their record ranges."""
    return [
        (track.range_of_child_at_index(i), c) for i, c in enumerate(track) if isinstance(c, otio.schema.Clip)
    ]


class _TakesShelf:
    """The takes tracks after a score track: every earlier take stays, disabled, on one of them."""

    def __init__(self, timeline: otio.schema.Timeline, score: otio.schema.Track) -> None:
        self.timeline = timeline
        self.score = score

    def append_take(self, record: TimeRange, clip: otio.schema.Clip) -> None:
        """Add a disabled take at `record`, on the first takes track with room there."""
        for track in takes_tracks(self.timeline):
            items = placed_clips(track)
            if not any(_overlaps(r, record) for r, _ in items):
                track.clear()
                _place(track, [(r, copy.deepcopy(c)) for r, c in items] + [(record, clip)], None)
                return
        _place(self._new_track(), [(record, clip)], None)

    def _new_track(self) -> otio.schema.Track:
        existing = takes_tracks(self.timeline)
        number = f" {len(existing) + 1}" if existing else ""
        track = otio.schema.Track(
            name=self.score.name + TAKES_SUFFIX + number, kind=otio.schema.TrackKind.Audio
        )
        track.metadata[METADATA_KEY] = {"takes": True}
        after = existing[-1] if existing else self.score
        self.timeline.tracks.insert(list(self.timeline.tracks).index(after) + 1, track)
        return track


def _overlaps(a: TimeRange, b: TimeRange) -> bool:
    return a.start_time < b.end_time_exclusive() and b.start_time < a.end_time_exclusive()


def _takes_track(timeline: otio.schema.Timeline, score: otio.schema.Track) -> _TakesShelf:
    return _TakesShelf(timeline, score)
