"""Our score track across round trips: found again in every format, replaced (never stacked), named once.

Why: a scored timeline goes out to an editor and comes back through formats that drop what OTIO
keeps (FCP7 XML has no clip metadata or `enabled` in the adapter, Kdenlive keeps neither). Here:
- on reading, what the file or its sidecar carries is put back on the OTIO objects (the cue
  recipe under `vidmusician`, the score/takes track marks, disabled takes), so every later step
  works on a complete timeline and every write can carry it again;
- on writing FCP7 XML, the recipe rides in the clip's `<comments>` (prefixed `vidmusician:`),
  disabled takes get `<enabled>FALSE</enabled>`, and the score's crossfades become audio
  cross-fades (`Cross Fade (+3dB)`), not video Cross Dissolves;
- re-scoring replaces our score track, moving its clips, disabled, to the takes tracks;
- the output of `score` and `regenerate` is `<stem>.scored.<ext>`, whatever was read.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult, cue_from_record
from vm_editor.media_links import url_to_path
from vm_editor.writeback import (
    METADATA_KEY,
    _cue_clip,
    _key,
    _takes_track,
    _TakesShelf,
    _url,
    add_score_track,
    cue_metadata,
    placed_clips,
    plain_json,
    read_sidecar,
    score_track,
    takes_tracks,
)

FCP7_PREFIX = "vidmusician:"
FCP7_AUDIO_CROSSFADE = {
    "name": "Cross Fade (+3dB)",
    "effectid": "KGAudioTransCrossFade3dB",
    "effecttype": "transition",
    "mediatype": "audio",
    "effectcategory": "audio",
}
_OUR_SUFFIX = re.compile(r"(\.scored|\.cue\d+-take\d+)+$")


def scored_output_path(timeline_path: Path, suffix: str | None = None) -> Path:
    """`<stem>.scored.<ext>` next to the timeline; a file we wrote keeps its name (no growing names)."""
    timeline_path = Path(timeline_path)
    stem = _OUR_SUFFIX.sub("", timeline_path.stem)
    return timeline_path.with_name(f"{stem}.scored{suffix or timeline_path.suffix}")


def is_our_output(timeline: otio.schema.Timeline) -> bool:
    """The timeline holds our score track (so writing over the file it came from is allowed)."""
    return score_track(timeline) is not None


# -- reading back ---------------------------------------------------------------------------------
def restore_after_read(timeline: otio.schema.Timeline, path: Path, adapter: str) -> None:
    """Put back what the file (FCP7 XML comments, `<enabled>`) or the sidecar says about our tracks."""
    if adapter == "fcp_xml":
        _restore_fcp7(timeline)
    _restore_from_sidecar(timeline, path)
    _mark_tracks(timeline)


def _restore_fcp7(timeline: otio.schema.Timeline) -> None:
    for clip in timeline.find_clips():
        fcp = clip.metadata.get("fcp_xml") or {}
        if str(fcp.get("enabled", "")).upper() == "FALSE":
            clip.enabled = False
        comment = str((fcp.get("comments") or {}).get("mastercomment1", ""))
        if comment.startswith(FCP7_PREFIX) and METADATA_KEY not in clip.metadata:
            try:
                clip.metadata[METADATA_KEY] = json.loads(comment[len(FCP7_PREFIX) :])
            except json.JSONDecodeError:
                continue  # an editor edited the comment: the sidecar (if any) still matches by URL


def _restore_from_sidecar(timeline: otio.schema.Timeline, path: Path) -> None:
    doc = read_sidecar(path)
    if not doc:
        return
    by_url = {
        _key(c["wav_url"]): (c, kind == "takes")
        for kind in ("cues", "takes")
        for c in doc.get(kind, [])
        if "wav_url" in c
    }
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Audio:
            continue
        for clip in track.find_clips(shallow_search=True):
            found = by_url.get(_url(clip))
            if found is None:
                continue
            meta, is_take = found
            clip.metadata.setdefault(METADATA_KEY, dict(meta))
            if is_take:
                clip.enabled = False  # formats without a notion of it (Kdenlive): from the sidecar


def _mark_tracks(timeline: otio.schema.Timeline) -> None:
    """An audio track whose clips all carry our recipe is the score (enabled) or the takes track."""
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Audio or METADATA_KEY in track.metadata:
            continue
        clips = list(track.find_clips(shallow_search=True))
        if clips and all(METADATA_KEY in c.metadata for c in clips):
            enabled = {c.enabled for c in clips}
            if enabled == {True}:
                track.metadata[METADATA_KEY] = {"score": True}
            elif enabled == {False}:
                track.metadata[METADATA_KEY] = {"takes": True}


# -- writing ----------------------------------------------------------------------------------------
def fit_for_fcp7(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy whose score and takes tracks say in FCP7 XML what OTIO's fcp_xml writer drops."""
    fitted = copy.deepcopy(timeline)
    for track in fitted.tracks:
        if METADATA_KEY not in track.metadata:
            continue
        for child in track:
            fcp = dict(child.metadata.get("fcp_xml") or {})
            if isinstance(child, otio.schema.Transition):
                fcp["effect"] = dict(FCP7_AUDIO_CROSSFADE)
                child.metadata["fcp_xml"] = fcp
            elif isinstance(child, otio.schema.Clip) and METADATA_KEY in child.metadata:
                recipe = json.dumps(plain_json(child.metadata[METADATA_KEY]), sort_keys=True)
                fcp["comments"] = {"mastercomment1": FCP7_PREFIX + recipe}
                fcp["labels"] = {"label2": "Iris"}  # a colour an editor can find the cues by
                if not child.enabled:
                    fcp["enabled"] = "FALSE"
                child.metadata["fcp_xml"] = fcp
    return fitted


# -- re-scoring -------------------------------------------------------------------------------------
def add_or_replace_score(
    timeline: otio.schema.Timeline, scenes: Sequence, cues: Sequence, **options
) -> otio.schema.Timeline:
    """`add_score_track`, except that a score track already there is replaced, not stacked on:
    its clips move, disabled, to the takes tracks, beside every take already there (the editor
    can go back to any of them). After a recut every take still lies inside the picture: one
    past its end is cut at it, one that would start after it goes under its cue's new span."""
    moved = options.pop("moved", None) or {}  # old span (frames) -> new range: conformed cues
    base = copy.deepcopy(timeline)
    earlier: list = []
    for track in takes_tracks(base):  # older takes first, then the score being replaced
        earlier += [(r, copy.deepcopy(c)) for r, c in placed_clips(track)]
        base.tracks.remove(track)
    old = score_track(base)
    if old is not None:
        earlier += [(r, copy.deepcopy(c)) for r, c in placed_clips(old)]
        options.setdefault("track_name", old.name or "VidMusician score")
        base.tracks.remove(old)
    scored = add_score_track(base, scenes, cues, **options)
    shelf = _TakesShelf(scored, score_track(scored))
    spans = {int(s.index): s.record_range for s in scenes}
    end = _picture_end(scored)
    playing = {_url(c) for c in score_track(scored).find_clips(shallow_search=True)}
    for record, clip in earlier:
        if _url(clip) in playing:
            continue  # a kept cue: it plays on the new score
        span = (int(record.start_time.value), int(record.end_time_exclusive().value))
        if span in moved:  # a take of a kept cue moves with it
            record = otio.opentime.TimeRange(moved[span].start_time, record.duration)
        clip.enabled = False
        shelf.append_take(_inside_picture(record, clip, end, spans), clip)
    return scored


def carry_score(timeline: otio.schema.Timeline, previous: otio.schema.Timeline) -> otio.schema.Timeline:
    """`timeline` with the score and takes tracks of `previous` (an earlier scored output about to
    be replaced: a re-exported cut, `--force`) added, so re-scoring keeps every one of its cues and
    takes. Its score becomes the score to replace when `timeline` has none, else more takes."""
    out = copy.deepcopy(timeline)
    old_score = score_track(previous)
    has_score = score_track(out) is not None
    for track in ([old_score] if old_score is not None else []) + takes_tracks(previous):
        carried = copy.deepcopy(track)
        if track is old_score and has_score:
            carried.metadata[METADATA_KEY] = {"takes": True}
            for clip in carried.find_clips(shallow_search=True):
                clip.enabled = False
        out.tracks.append(carried)
    return out


def _picture_end(timeline: otio.schema.Timeline) -> otio.opentime.RationalTime | None:
    """Where the last video track ends (None: no video)."""
    ends = [t.duration() for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    return max(ends, key=lambda t: t.to_seconds()) if ends else None


def _inside_picture(record, clip: otio.schema.Clip, end, spans: Mapping) -> otio.opentime.TimeRange:
    """The take's place, moved and cut (its clip's used range too) to lie inside the picture."""
    TimeRange = otio.opentime.TimeRange
    if end is None or record.end_time_exclusive().to_seconds() <= end.to_seconds() + 1e-9:
        return record
    end = end.rescaled_to(record.start_time.rate)
    if record.start_time < end:
        placed = TimeRange(record.start_time, end - record.start_time)
    elif spans:
        index = int((clip.metadata.get(METADATA_KEY) or {}).get("cue_index", -1))
        span = spans.get(index) or spans[max(spans)]
        span = TimeRange(span.start_time.rescaled_to(end.rate), span.duration.rescaled_to(end.rate))
        placed = TimeRange(span.start_time, min(span.duration, record.duration))
    else:
        return record
    used = clip.source_range or clip.trimmed_range()
    clip.source_range = TimeRange(used.start_time, placed.duration.rescaled_to(used.duration.rate))
    return placed


def fit_crossfades_to_handles(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy whose score crossfades use only media the cue WAVs have (their handles).

    A transition shows the incoming cue `in_offset` before its first used sample and the outgoing
    one `out_offset` past its last: an editor refuses (Premiere) or pads with silence what the
    WAV does not hold. Each side is cut to the handle there is; a crossfade with none is removed.
    """
    fitted = copy.deepcopy(timeline)
    for track in fitted.tracks:
        if METADATA_KEY not in track.metadata:
            continue
        for i in reversed(range(len(track))):
            child = track[i]
            if not isinstance(child, otio.schema.Transition) or not 0 < i < len(track) - 1:
                continue
            before, after = track[i - 1], track[i + 1]
            head = _handle(after, at_start=True)
            tail = _handle(before, at_start=False)
            child.in_offset = min(child.in_offset, head.rescaled_to(child.in_offset))
            child.out_offset = min(child.out_offset, tail.rescaled_to(child.out_offset))
            if child.in_offset.value <= 0 and child.out_offset.value <= 0:
                del track[i]
    return fitted


def _handle(item, *, at_start: bool) -> otio.opentime.RationalTime:
    """Media the clip's reference holds before its first (or after its last) used frame."""
    rate = item.trimmed_range().duration.rate
    zero = otio.opentime.RationalTime(0, rate)
    ref = getattr(item, "media_reference", None)
    if not isinstance(item, otio.schema.Clip) or ref is None or ref.available_range is None:
        return zero
    used, avail = item.trimmed_range(), ref.available_range
    if at_start:
        return max(zero, used.start_time - avail.start_time)
    return max(zero, avail.end_time_exclusive() - used.end_time_exclusive())


# -- reading a score back (the panel reopens a scored timeline) -------------------------------------
@dataclasses.dataclass(frozen=True)
class ScoredCue:
    """One cue of a scored timeline: its record span and every take's recipe, oldest first;
    the last take is the one on the score track."""

    index: int
    name: str
    record_start_frame: int
    record_end_frame: int
    rate: float
    takes: tuple[dict, ...]


def cue_from_metadata(meta: dict) -> CueResult:
    """A take's `vidmusician` clip metadata as the engine's `CueResult` (its WAV by path): the one
    reader of a saved cue (scoring, conform, the session, the panel, the host bridge and the input
    guard all ask it, never the record's fields). The record's fields are read by engine.api, the
    clip's span and URL here; a span that does not read is 0 s (a record from elsewhere)."""
    try:
        rate = float(meta.get("rate") or 24.0)
        duration_s = (int(meta["record_end_frame"]) - int(meta["record_start_frame"])) / rate
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        duration_s = 0.0
    wav = url_to_path(str(meta.get("wav_url", "")))
    wav_path = str(wav) if wav is not None else str(meta.get("wav_url", ""))
    return cue_from_record(meta, wav_path=wav_path, duration_s=duration_s)


def read_score(timeline: otio.schema.Timeline, timeline_path: Path | None = None) -> list[ScoredCue]:
    """The cues of our score track with their takes: the score clip's, the earlier ones recorded
    in its history (`previous_takes`, written by `regenerate`) and the disabled clips of the takes
    track at the same record span (and what they displaced). Empty when there is no score."""
    current = cue_metadata(timeline, timeline_path)
    shelved = []
    for shelf in takes_tracks(timeline, timeline_path):
        for clip in shelf.find_clips(shallow_search=True):
            meta = plain_json(clip.metadata.get(METADATA_KEY) or {})
            shelved += [*meta.get("older_takes_on_track", []), meta]  # older files kept some there
    out = []
    for index in sorted(current):
        meta = current[index]
        span = _span(meta)
        candidates = [*meta.get("previous_takes", []), *(m for m in shelved if _span(m) == span), meta]
        takes, seen = [], set()
        for take in candidates:
            key = _key(str(take.get("wav_url", "")))
            if "cue_index" in take and key and key not in seen:
                seen.add(key)
                takes.append({k: v for k, v in take.items() if k not in _HISTORY})
        takes.remove(next(t for t in takes if _key(t["wav_url"]) == _key(meta["wav_url"])))
        takes.append({k: v for k, v in meta.items() if k not in _HISTORY})
        out.append(
            ScoredCue(
                index,
                str(meta.get("scene_name") or ""),
                *span[:2],
                float(meta.get("rate") or 24.0),
                tuple(takes),
            )
        )
    return out


_HISTORY = ("previous_takes", "older_takes_on_track")


def _span(meta: dict) -> tuple[int, int, float]:
    return (
        int(meta.get("record_start_frame", -1)),
        int(meta.get("record_end_frame", -1)),
        round(float(meta.get("rate") or 0.0), 3),
    )


def without_score(timeline: otio.schema.Timeline) -> tuple[otio.schema.Timeline, str | None]:
    """A copy without our score and takes tracks, and the score track's name (None: no score)."""
    base = copy.deepcopy(timeline)
    name = None
    for track in list(base.tracks):
        mark = track.metadata.get(METADATA_KEY) or {}
        if mark.get("score") or mark.get("takes"):
            if mark.get("score"):
                name = track.name
            base.tracks.remove(track)
    return base, name


def add_score_with_takes(
    timeline: otio.schema.Timeline,
    scenes: Sequence,
    cues: Sequence[CueResult],
    earlier: Mapping[int, Sequence[CueResult]],
    **options,
) -> otio.schema.Timeline:
    """`add_or_replace_score`, plus each cue's earlier takes as disabled clips on the takes track
    at the cue's record span and in its `previous_takes` history, as `regenerate` leaves them."""
    scored = add_or_replace_score(timeline, scenes, cues, **options)
    score = score_track(scored)
    shelf = None
    for i, clip in enumerate(list(score)):
        if not isinstance(clip, otio.schema.Clip) or METADATA_KEY not in clip.metadata:
            continue
        meta = clip.metadata[METADATA_KEY]
        olds = earlier.get(int(meta["cue_index"]), ())
        if not olds:
            continue
        record = score.range_of_child_at_index(i)
        history = []
        for old in olds:
            take = _cue_clip(record, old, str(meta.get("scene_name", "")))
            take.enabled = False
            history.append(plain_json(take.metadata[METADATA_KEY]))
            shelf = shelf or _takes_track(scored, score)
            shelf.append_take(record, take)
        meta["previous_takes"] = history
    return scored
