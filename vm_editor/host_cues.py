"""Cues as a host editor places them: integer frames, clip-info dictionaries, what to swap.

Standard library only: DaVinci Resolve's and Hiero's own Python import this module from this
install (the launcher puts its folder on `sys.path`); nothing here needs OTIO, Qt or the engine.
The cue list itself comes from `python -m vm_editor.host_bridge cues SCORED --rate R`, run with
this install's Python, as JSON that `cues_from_json` reads back.

Frames: a cue's `record_start`/`record_end` count timeline frames from the timeline's first
frame (end exclusive), at the host's rate. Resolve numbers frames from the timeline's start
timecode (01:00:00:00 is frame 86,400 at 23.976 and 90,000 at 25), so a clip's `recordFrame`
is `Timeline.GetStartFrame()` plus the cue's start.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

MEDIA_TYPE_AUDIO = 2  # Resolve's clipInfo "mediaType": 1 video only, 2 audio only
SCORE_TRACK_NAME = "VidMusician score"
BIN_NAME = "VidMusician"

_NTSC = {23.976: Fraction(24000, 1001), 29.97: Fraction(30000, 1001), 47.952: Fraction(48000, 1001)}
_NTSC.update({59.94: Fraction(60000, 1001), 119.88: Fraction(120000, 1001)})


def safe_name(text: str) -> str:
    """A file name from a project or timeline name (no separators or characters Windows refuses)."""
    return re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", str(text)).strip(" .") or "untitled"


def project_folder(project_name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where a project's exports, scored timelines and cues live: `~/VidMusician/<project>/`
    (or `$VIDMUSICIAN_PROJECTS/<project>/`), never a temporary folder."""
    base = Path(root or os.environ.get("VIDMUSICIAN_PROJECTS") or Path.home() / "VidMusician")
    return base / safe_name(project_name)


class HostRateError(ValueError):
    """A frame rate the host reported that is not a number of frames per second."""


def parse_host_rate(text: str | float) -> Fraction:
    """A host's frame-rate setting ("23.976", "25", "29.97 DF") as an exact rate."""
    raw = str(text).strip().upper().replace("NDF", "").replace("DF", "").strip()
    try:
        value = float(raw)
    except ValueError as exc:
        raise HostRateError(f"frame rate {text!r} is not a number of frames per second") from exc
    if value <= 0:
        raise HostRateError(f"frame rate {text!r} must be above zero")
    for nominal, exact in _NTSC.items():
        if abs(value - nominal) < 0.01:
            return exact
    return Fraction(value).limit_denominator(1001)


def timecode_to_frame(timecode: str, rate: str | float | Fraction) -> int:
    """Frame number of a timecode counted at the rounded rate, as editors count it.

    Non-drop (`:` before the frames): 01:00:00:00 is 86,400 at 23.976 and 90,000 at 25.
    Drop-frame (`;`): two frame numbers (four at 59.94) skipped each minute but every tenth.
    """
    exact = rate if isinstance(rate, Fraction) else parse_host_rate(rate)
    fps = round(exact)
    drop = ";" in timecode
    parts = timecode.replace(";", ":").split(":")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts):
        raise HostRateError(f"timecode {timecode!r}: expected HH:MM:SS:FF (digits only)")
    hours, minutes, seconds, frames = (int(p) for p in parts)
    total = ((hours * 60 + minutes) * 60 + seconds) * fps + frames
    if drop:
        skipped = 2 if fps <= 30 else 4
        all_minutes = hours * 60 + minutes
        total -= skipped * (all_minutes - all_minutes // 10)
    return total


def frame_to_timecode(frame: int, rate: str | float | Fraction, *, drop: bool = False) -> str:
    """The timecode an editor reads for a frame number (the inverse of `timecode_to_frame`)."""
    exact = rate if isinstance(rate, Fraction) else parse_host_rate(rate)
    fps = round(exact)
    frame = int(frame)
    if drop:
        skipped = 2 if fps <= 30 else 4
        per_ten = fps * 600 - skipped * 9
        per_minute = fps * 60 - skipped
        tens, rest = divmod(frame, per_ten)
        extra = skipped * 9 * tens
        if rest > skipped:
            extra += skipped * ((rest - skipped) // per_minute)
        frame += extra
    frames = frame % fps
    seconds = frame // fps
    sep = ";" if drop else ":"
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{frames:02d}"


@dataclass(frozen=True)
class HostCue:
    """One cue of a scored timeline, at the host's frames (`number` as in `--cue K`)."""

    number: int
    name: str
    wav_path: str
    record_start: int
    record_end: int  # exclusive
    take: int = 1

    @property
    def duration(self) -> int:
        return self.record_end - self.record_start


def cues_to_json(cues: list[HostCue], rate: Fraction) -> str:
    return json.dumps({"rate": str(rate), "cues": [asdict(c) for c in cues]})


def cues_from_json(text: str) -> list[HostCue]:
    doc = json.loads(text)
    return [HostCue(**c) for c in doc["cues"]]


def append_clip_info(cue: HostCue, media_pool_item, *, timeline_start_frame: int, track_index: int) -> dict:
    """Resolve's `MediaPool.AppendToTimeline` clipInfo for one cue: the WAV from its first frame
    for the cue's length (`endFrame` exclusive), audio only, on `track_index`, at its record frame."""
    if cue.duration <= 0:
        raise ValueError(f"cue {cue.number} ({cue.name}) is shorter than one frame at this rate")
    return {
        "mediaPoolItem": media_pool_item,
        "startFrame": 0,
        "endFrame": cue.duration,
        "mediaType": MEDIA_TYPE_AUDIO,
        "trackIndex": int(track_index),
        "recordFrame": int(timeline_start_frame) + cue.record_start,
    }


@dataclass(frozen=True)
class PlacedClip:
    """A clip already on the score track, as the host reports it (`handle`: the host's object)."""

    start: int  # record frame, relative to the timeline's first frame
    end: int  # exclusive
    path: str
    handle: object = None


@dataclass(frozen=True)
class SyncPlan:
    """What to do to the score track so that it shows exactly the scored timeline's cues."""

    keep: tuple[PlacedClip, ...]
    remove: tuple[PlacedClip, ...]
    place: tuple[HostCue, ...]


def same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def plan_sync(cues: list[HostCue], placed: list[PlacedClip]) -> SyncPlan:
    """Keep a clip only where a cue has the same span and the same WAV; a regenerated take (same
    span, new WAV) or a re-scored cut therefore replaces the clips it changed, and only those."""
    keep, remove, matched = [], [], set()
    for clip in placed:
        match = next(
            (
                c.number
                for c in cues
                if c.number not in matched
                and (c.record_start, c.record_end) == (clip.start, clip.end)
                and same_file(c.wav_path, clip.path)
            ),
            None,
        )
        if match is None:
            remove.append(clip)
        else:
            matched.add(match)
            keep.append(clip)
    place = tuple(c for c in cues if c.number not in matched)
    return SyncPlan(tuple(keep), tuple(remove), place)


def placement_advice(
    cues: list[HostCue],
    rate: str | float | Fraction,
    *,
    timeline_start_frame: int,
    track_index: int,
    drop_frame: bool = False,
) -> list[str]:
    """What to drag where by hand when the host placed nothing: each cue's WAV, from the media
    pool bin, to the score track at its record timecode (as the editor reads it in the timeline)."""
    lines = []
    for cue in cues:
        at = frame_to_timecode(timeline_start_frame + cue.record_start, rate, drop=drop_frame)
        lines.append(
            f"  cue {cue.number}: drag {os.path.basename(cue.wav_path)} from the media pool bin "
            f"'{BIN_NAME}' to audio track {track_index} '{SCORE_TRACK_NAME}' at {at} "
            f"({cue.duration} frames)"
        )
    return lines
