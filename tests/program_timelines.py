"""A generated multi-shot cut: three media files at 24, 25 and 30 fps, a 2x clip, a reversed clip, a
freeze frame, a title on V2 over picture, a dissolve and a gap (record rate 25 fps).

Record layout (frames at 25 fps): A 0-25 (a.mp4 @24, dissolve into B), B 25-50 (b.mp4 @30 at
2x), gap 50-80, C 80-105 (c.mp4 @25 reversed), D 105-120 (a.mp4 frozen), E 120-150 (c.mp4).
V2: a title (generator) over 10-40, over A and B.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from tests.conftest import write_shots_video

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
RATE = 25


def make_media(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "a": write_shots_video(folder / "a.mp4", [72], fps=24, size=(96, 64), seed=1),
        "b": write_shots_video(folder / "b.mp4", [150], fps=30, size=(96, 64), seed=2),
        "c": write_shots_video(folder / "c.mp4", [100], fps=25, size=(96, 64), seed=3),
    }


def _clip(name: str, path: Path, rate: float, frames: int, start: int, duration: int, effect=None):
    clip = otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(
            target_url=path.resolve().as_uri(), available_range=TR(RT(0, rate), RT(frames, rate))
        ),
        source_range=TR(RT(start, rate), RT(duration, rate)),
    )
    if effect is not None:
        clip.effects.append(effect)
    return clip


def build_cut(media: dict[str, Path]) -> otio.schema.Timeline:
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    v1.append(_clip("A", media["a"], 24, 72, 12, 24))  # 1 s from 0.5 s
    v1.append(
        otio.schema.Transition(
            name="dissolve",
            in_offset=RT(4, RATE),
            out_offset=RT(4, RATE),
            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        )
    )
    v1.append(_clip("B", media["b"], 30, 150, 30, 30, otio.schema.LinearTimeWarp(time_scalar=2.0)))
    v1.append(otio.schema.Gap(source_range=TR(RT(0, RATE), RT(30, RATE))))
    v1.append(_clip("C", media["c"], 25, 100, 10, 25, otio.schema.LinearTimeWarp(time_scalar=-1.0)))
    v1.append(_clip("D", media["a"], 24, 72, 30, 15, otio.schema.FreezeFrame()))
    v1.append(_clip("E", media["c"], 25, 100, 60, 30))
    v1.markers.append(otio.schema.Marker(name="hit", marked_range=TR(RT(130, RATE), RT(1, RATE))))
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=TR(RT(0, RATE), RT(10, RATE))))
    v2.append(
        otio.schema.Clip(
            name="Title",
            media_reference=otio.schema.GeneratorReference(generator_kind="title"),
            source_range=TR(RT(0, RATE), RT(30, RATE)),
        )
    )
    timeline = otio.schema.Timeline(name="multi-shot cut", global_start_time=RT(0, RATE))
    timeline.tracks.append(v1)
    timeline.tracks.append(v2)
    return timeline
