"""Known faults of the OTIO adapters, detected and corrected where the file holds the truth.

Why: a scorer that silently reads 23.976 as 23, or an EDL at the wrong rate, puts every cue in
the wrong place. Each check here either corrects the timeline from what the file itself says or
raises a `TimelineReadError` that names the file and the fix. See docs/formats.md.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import opentimelineio as otio

from vm_editor.errors import TimelineReadError

log = logging.getLogger(__name__)

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

_EDL_EVENT = re.compile(
    r"^\s*\d+\s+\S+\s+\S+\s+\S+(?:\s+\d+)?\s+"
    r"(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+"
    r"(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)"
)

# an event line as the adapter splits it (number, reel, track, transition, [duration], four times),
# whatever its times hold: OTIO's from_timecode reads `00:00:0a:00` as frame 0, silently
_EDL_EVENT_LOOSE = re.compile(
    r"^\s*(\d+)\s+\S+\s+\S+\s+\S+(?:\s+\d+)?\s+(\S*:\S*)\s+(\S+)\s+(\S+)\s+(\S+)\s*$"
)
_TIMECODE = re.compile(r"\d\d[:;]\d\d[:;]\d\d[:;]\d\d")


def check_edl_timecodes(path: Path, text: str) -> None:
    """Refuse an event whose times are not HH:MM:SS:FF digits (a typo would read as 0)."""
    for number, line in enumerate(text.splitlines(), 1):
        m = _EDL_EVENT_LOOSE.match(line)
        if m is None:
            continue
        bad = next((tc for tc in m.groups()[1:] if not _TIMECODE.fullmatch(tc)), None)
        if bad is not None:
            raise TimelineReadError(
                f"{path}: line {number} (event {m.group(1)}): {bad[:40]!r} is not a timecode "
                "(HH:MM:SS:FF, digits only); fix the event or export the EDL again"
            )


def edl_rate(path: Path, rate: float | None) -> tuple[float, list[str]]:
    """The rate to read a CMX 3600 EDL at, and warnings; EDLs do not say their rate.

    Drop-frame timecode (`;` separators or `FCM: DROP FRAME`) means 29.97. Otherwise the frame
    fields bound the rate from below: a frame number of 24 rules out 24 fps. Without `rate`,
    24 is assumed only when every frame field is below 24, and that guess is reported.
    """
    text = path.read_text(errors="replace")
    check_edl_timecodes(path, text)
    max_frame, drop = -1, "FCM: DROP FRAME" in text.upper()
    for line in text.splitlines():
        m = _EDL_EVENT.match(line)
        if not m:
            continue
        for tc in m.groups():
            max_frame = max(max_frame, int(tc[-2:]))
            drop = drop or ";" in tc
    if rate is not None:
        if max_frame >= round(rate):
            raise TimelineReadError(
                f"{path}: timecodes have frame {max_frame:02d}, impossible at --rate {rate:g}; "
                f"pass the EDL's real rate (e.g. --rate {_candidates(max_frame)[0]})"
            )
        return rate, []
    if drop:
        return 29.97, [f"{path.name}: drop-frame timecode, read at 29.97 fps (pass --rate to override)"]
    if max_frame >= 24:
        options = " or ".join(f"--rate {c}" for c in _candidates(max_frame))
        raise TimelineReadError(
            f"{path}: an EDL does not record its frame rate and frame {max_frame:02d} rules out 24; "
            f"pass {options}"
        )
    return 24.0, [f"{path.name}: EDLs carry no frame rate; assumed 24 fps (pass --rate if it is not)"]


_EDL_TIMES = re.compile(
    r"^(?P<head>\s*(?P<event>\d+)\s+\S+\s+\S+\s+\S+(?:\s+\d+)?\s+)"
    r"(?P<src_in>\d\d[:;]\d\d[:;]\d\d[:;]\d\d)(?P<s1>\s+)(?P<src_out>\d\d[:;]\d\d[:;]\d\d[:;]\d\d)"
    r"(?P<tail>\s+(?P<rec_in>\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(?P<rec_out>\d\d[:;]\d\d[:;]\d\d[:;]\d\d).*)$"
)


def edl_record_durations(text: str, rate: float, name: str) -> tuple[str, list[str]]:
    """The EDL text with each event's source out moved so its duration is the record duration.

    Exports in the wild often disagree by a frame or two between the source and record spans of
    an event (rounding in the exporter); the cmx_3600 adapter refuses the whole file, or (with
    `ignore_timecode_mismatch`) lets the *source* win, which moves every later cut. The record
    side is the edit the editor sees, so it wins, with one warning per event naming it. Events
    with a speed change (an `M2` line) legitimately differ and are left alone.
    """
    lines = text.splitlines(keepends=True)
    events = [i for i, line in enumerate(lines) if _EDL_TIMES.match(line.rstrip("\r\n"))]
    warnings = []
    for n, i in enumerate(events):
        body = lines[i + 1 : events[n + 1] if n + 1 < len(events) else len(lines)]
        if any(line.lstrip().startswith("M2") for line in body):
            continue
        line = lines[i].rstrip("\r\n")
        m = _EDL_TIMES.match(line)
        drop = ";" in m.group("src_in") or ";" in m.group("rec_in")

        def at(tc: str) -> RationalTime:
            return otio.opentime.from_timecode(tc, rate)

        src = at(m.group("src_out")) - at(m.group("src_in"))
        rec = at(m.group("rec_out")) - at(m.group("rec_in"))
        if src.value == rec.value:
            continue
        new_out = (at(m.group("src_in")) + rec).to_timecode(rate, drop)
        lines[i] = (
            f"{m.group('head')}{m.group('src_in')}{m.group('s1')}{new_out}{m.group('tail')}"
            + lines[i][len(line) :]
        )
        warnings.append(
            f"{name}: event {m.group('event')}: source duration {int(src.value)} frames, record "
            f"duration {int(rec.value)}; the record duration is used (source out {new_out})"
        )
    return "".join(lines), warnings


def edl_rate_choices(path: Path) -> tuple[list[float], float]:
    """The frame rates an EDL's timecodes allow, and the likeliest one: what to ask a person who
    cannot pass --rate (the panel). Drop-frame timecode allows 29.97 only."""
    text = path.read_text(errors="replace")
    check_edl_timecodes(path, text)
    max_frame, drop = -1, "FCM: DROP FRAME" in text.upper()
    for line in text.splitlines():
        if m := _EDL_EVENT.match(line):
            max_frame = max([max_frame, *(int(tc[-2:]) for tc in m.groups())])
            drop = drop or any(";" in tc for tc in m.groups())
    if drop:
        return [29.97], 29.97
    choices = [r for r in (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0) if round(r) > max_frame]
    likely = 24.0 if max_frame < 24 else choices[0]
    return choices, likely


def _candidates(max_frame: int) -> list[str]:
    return [str(r) for r in (25, 29.97, 30, 50, 59.94, 60) if round(r) > max_frame]


def fix_edl_record_start(timeline: otio.schema.Timeline) -> None:
    """Move the cmx_3600 adapter's negative track offset into the timeline's start timecode.

    The adapter stores the first record timecode as `track.source_range.start_time = -record_in`,
    which in OTIO means a window *before* the clips: every clip would fall outside its own track.
    The record start belongs in `global_start_time`; tracks that start later get a leading gap.
    """
    starts = []
    for track in timeline.tracks:
        if track.source_range is not None and track.source_range.start_time.value < 0:
            starts.append(-track.source_range.start_time)
    if not starts:
        return
    origin = min(starts)
    for track in timeline.tracks:
        offset = None
        if track.source_range is not None and track.source_range.start_time.value < 0:
            offset = -track.source_range.start_time - origin
        track.source_range = None
        if offset is not None and offset.value > 0:
            track.insert(0, otio.schema.Gap(source_range=TimeRange(RationalTime(0, offset.rate), offset)))
    timeline.global_start_time = origin
    log.debug("EDL record start %s moved to the timeline start", origin)


def check_rates(timeline: otio.schema.Timeline, path: Path) -> list[str]:
    """Warn about integer-truncated NTSC rates (23, 29, 59) that an adapter may have produced."""
    warnings = []
    for clip in timeline.find_clips():
        rate = clip.trimmed_range().duration.rate
        if rate in (23, 29, 59):
            warnings.append(
                f"{path.name}: clip {clip.name!r} has rate {rate:g}, which is a truncated NTSC rate"
            )
            break
    return warnings
