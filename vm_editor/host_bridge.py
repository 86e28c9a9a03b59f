"""What a host script asks this install's Python for, as files and JSON on stdout.

A host's own Python (Resolve's, Hiero's) has neither OTIO nor this project's packages, so the
launcher runs this module with the absolute Python baked into it at `vm-editor install-host`:

  python -m vm_editor.host_bridge cues SCORED --rate R
      the scored timeline's cues at the host's rate (JSON: `host_cues.cues_from_json`)
  python -m vm_editor.host_bridge sequence-otio DESCRIPTION.json OUT.otio
      an OTIO timeline from a plain description of a host's sequence (Hiero has no OTIO export
      of its own); the description's fields are listed in `timeline_from_sequence`.
  python -m vm_editor.host_bridge prepare PROJECT TIMELINE
      makes the project's folder; prints `folder<TAB>exported.otio<TAB>scored.otio`
  python -m vm_editor.host_bridge sync SCORED --rate R --start F --track N --placed PLACED.tsv
      what to do to the score track (lines a Lua launcher splits on tabs; `plan_sync` decides):
      `remove<TAB>I` (I: 1-based line of PLACED.tsv, whose lines are `start<TAB>end<TAB>path`,
      frames from the timeline's first frame) and `place<TAB>cue<TAB>recordFrame<TAB>frames<TAB>
      timecode<TAB>wav`. Resolve's free edition (21.1 on) runs Lua scripts only, and Lua has no
      JSON or OTIO: the decisions stay here, in one place for both launchers.

Bad input exits 2 with one `error:` line, as the CLI does.
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from vm_editor.errors import EditorInputError
from vm_editor.host_cues import (
    HostCue,
    PlacedClip,
    cues_to_json,
    frame_to_timecode,
    parse_host_rate,
    plan_sync,
    project_folder,
    safe_name,
)
from vm_editor.media_links import url_to_path
from vm_editor.score_track import cue_from_metadata
from vm_editor.timeline_io import read_timeline, write_timeline_atomic
from vm_editor.writeback import METADATA_KEY, plain_json, score_track

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def scored_cues(
    timeline: otio.schema.Timeline, rate: Fraction, timeline_path: Path | None = None
) -> list[HostCue]:
    """The score track's enabled cues, in record order, at `rate` (frames from the timeline's start)."""
    track = score_track(timeline, timeline_path)
    if track is None:
        raise EditorInputError(
            f"{timeline_path or timeline.name}: no VidMusician score track; score it first"
        )
    cues = []
    for i, child in enumerate(track):
        if not isinstance(child, otio.schema.Clip) or not child.enabled:
            continue
        meta = plain_json(child.metadata.get(METADATA_KEY) or {})
        ref = child.media_reference
        if not isinstance(ref, otio.schema.ExternalReference):
            continue
        record = track.range_of_child_at_index(i)
        start = _frame(record.start_time, rate)
        end = _frame(record.end_time_exclusive(), rate)
        # a clip whose record lost its number is numbered in record order (take 1)
        recorded = cue_from_metadata({"cue_index": len(cues), **meta})
        cues.append(
            HostCue(
                number=recorded.index,
                name=child.name,
                wav_path=str(_path(ref.target_url, timeline_path)),
                record_start=start,
                record_end=end,
                take=recorded.take,
            )
        )
    return cues


def _frame(time: RationalTime, rate: Fraction) -> int:
    return round(time.to_seconds() * rate)


def _path(url: str, timeline_path: Path | None) -> Path:
    path = url_to_path(url, Path(timeline_path).parent if timeline_path else None)
    if path is None:
        raise EditorInputError(f"cue media {url!r} is not a local file")
    return path


def timeline_from_sequence(doc: dict) -> otio.schema.Timeline:
    """An OTIO timeline from a host's sequence described in plain JSON.

    `{"name", "rate", "start_frame", "tracks": [{"name", "kind": "video"|"audio", "enabled",
    "items": [{"name", "path", "timeline_in", "timeline_out", "source_in", "source_out",
    "media_duration", "speed", "enabled"}]}]}` — frames at the sequence's rate; in and out
    points inclusive, as Hiero reports them; source points from the media's first frame.
    """
    rate = float(parse_host_rate(doc["rate"]))
    timeline = otio.schema.Timeline(
        name=doc.get("name") or "sequence",
        global_start_time=RationalTime(int(doc.get("start_frame", 0)), rate),
    )
    for t in doc.get("tracks", []):
        kind = otio.schema.TrackKind.Audio if t.get("kind") == "audio" else otio.schema.TrackKind.Video
        track = otio.schema.Track(name=t.get("name") or "", kind=kind)
        track.enabled = bool(t.get("enabled", True))
        cursor = 0
        for item in sorted(t.get("items", []), key=lambda x: int(x["timeline_in"])):
            start, end = int(item["timeline_in"]), int(item["timeline_out"]) + 1
            if start < cursor:
                raise EditorInputError(
                    f"track {track.name!r}: item {item.get('name')!r} overlaps the one before"
                )
            if start > cursor:
                track.append(
                    otio.schema.Gap(
                        source_range=TimeRange(RationalTime(0, rate), RationalTime(start - cursor, rate))
                    )
                )
            track.append(_clip(item, end - start, rate))
            cursor = end
        timeline.tracks.append(track)
    return timeline


def _clip(item: dict, length: int, rate: float) -> otio.schema.Clip:
    speed = float(item.get("speed", 1.0))
    first = int(item["source_out"]) if speed < 0 else int(item["source_in"])
    path = item.get("path")
    if path:
        duration = int(item.get("media_duration") or 0)
        reference = otio.schema.ExternalReference(
            target_url=Path(path).resolve().as_uri(),
            available_range=TimeRange(RationalTime(0, rate), RationalTime(duration, rate))
            if duration
            else None,
        )
    else:
        reference = otio.schema.MissingReference()
    clip = otio.schema.Clip(
        name=item.get("name") or "",
        media_reference=reference,
        source_range=TimeRange(RationalTime(first, rate), RationalTime(length, rate)),
    )
    clip.enabled = bool(item.get("enabled", True))
    if speed != 1.0:
        clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=speed))
    return clip


def prepare(project: str, timeline: str) -> tuple[Path, Path, Path]:
    """The project's folder (made), the exported timeline's path and the scored one's."""
    folder = project_folder(project)
    folder.mkdir(parents=True, exist_ok=True)
    stem = safe_name(timeline)
    return folder, folder / f"{stem}.otio", folder / f"{stem}.scored.otio"


def read_placed(path: Path) -> list[PlacedClip]:
    """The clips a launcher found on the score track: `start<TAB>end<TAB>path` per line."""
    placed = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise EditorInputError(f"{path}:{number}: expected start<TAB>end<TAB>path")
        placed.append(PlacedClip(int(parts[0]), int(parts[1]), parts[2], number))
    return placed


def sync_lines(
    cues: list[HostCue], placed: list[PlacedClip], rate: Fraction, *, start: int, drop_frame: bool
) -> list[str]:
    plan = plan_sync(cues, placed)
    lines = [f"remove\t{clip.handle}" for clip in plan.remove]
    for cue in plan.place:
        if "\t" in cue.wav_path or "\n" in cue.wav_path:
            raise EditorInputError(f"{cue.wav_path!r}: a tab or line break in a cue's path; move the cues")
        at = frame_to_timecode(start + cue.record_start, rate, drop=drop_frame)
        lines.append(f"place\t{cue.number}\t{start + cue.record_start}\t{cue.duration}\t{at}\t{cue.wav_path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vm_editor.host_bridge")
    sub = parser.add_subparsers(dest="command", required=True)
    cues = sub.add_parser("cues", help="the cues of a scored timeline at a host's frame rate (JSON)")
    cues.add_argument("timeline", type=Path)
    cues.add_argument("--rate", required=True, help="the host timeline's frame rate (23.976, 25, ...)")
    seq = sub.add_parser("sequence-otio", help="an OTIO file from a host's sequence description")
    seq.add_argument("description", type=Path)
    seq.add_argument("output", type=Path)
    prep = sub.add_parser("prepare", help="make a project's folder; print its paths")
    prep.add_argument("project")
    prep.add_argument("timeline")
    sync = sub.add_parser("sync", help="what to remove from and place on the score track (lines)")
    sync.add_argument("timeline", type=Path)
    sync.add_argument("--rate", required=True)
    sync.add_argument("--start", type=int, required=True, help="the host timeline's first frame")
    sync.add_argument("--placed", type=Path, required=True, help="start<TAB>end<TAB>path per clip")
    sync.add_argument("--drop-frame", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "cues":
            rate = parse_host_rate(args.rate)
            print(cues_to_json(scored_cues(read_timeline(args.timeline), rate, args.timeline), rate))
        elif args.command == "prepare":
            print("\t".join(str(p) for p in prepare(args.project, args.timeline)))
        elif args.command == "sync":
            if not args.timeline.is_file():
                raise EditorInputError(f"{args.timeline}: no scored timeline yet; score it first")
            rate = parse_host_rate(args.rate)
            cues = scored_cues(read_timeline(args.timeline), rate, args.timeline)
            lines = sync_lines(
                cues, read_placed(args.placed), rate, start=args.start, drop_frame=args.drop_frame
            )
            print("\n".join(lines))
        else:
            doc = json.loads(args.description.read_text())
            write_timeline_atomic(timeline_from_sequence(doc), args.output, force=True)
            print(args.output)
    except (EditorInputError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
