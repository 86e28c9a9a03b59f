"""World changes on real footage (`vm_editor.worlds`, `engine.picture_stats`): a montage of three
sources splits at each change of source; one source's own cuts, and two camera files of one
ride, stay one world; each cue carries its world changes to the engine, whose style may then
change only there and at markers."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import opentimelineio as otio
import pytest

from engine.api import ShotPicture
from vm_editor import cue_plan, worlds
from vm_editor.program import timeline_program, to_engine_program

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/samples/media")
RATE = 25.0


@pytest.fixture(scope="module")
def media() -> Path:
    if not (MEDIA / "bikes.mp4").is_file():
        pytest.skip(
            f"real sample clips not present at {MEDIA} (../shared/samples/media: bikes, counter, testvideo)"
        )
    return MEDIA


def montage(path: Path, shots: list[tuple[Path, float, float]]) -> Path:
    """An OTIO timeline at 25 fps cutting `shots` (file, source in s, source out s) end to end."""
    track = otio.schema.Track(name="V1")
    for file, lo, hi in shots:
        ref = otio.schema.ExternalReference(target_url=file.as_uri())
        track.append(
            otio.schema.Clip(
                name=f"{file.stem}@{lo:g}",
                media_reference=ref,
                source_range=otio.opentime.range_from_start_end_time(
                    otio.opentime.RationalTime(round(lo * RATE), RATE),
                    otio.opentime.RationalTime(round(hi * RATE), RATE),
                ),
            )
        )
    timeline = otio.schema.Timeline(name=path.stem)
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(path))
    return path


def look(shots):
    from engine.in_process import InProcessEngine

    return InProcessEngine().shot_pictures(tuple(shots))


def program_of(path: Path):
    return timeline_program(otio.adapters.read_from_file(str(path)), timeline_path=path)


def starts_s(program) -> list[float]:
    return [f / RATE for f in worlds.program_worlds(program, look)]


def test_three_sources_split_at_each_change_of_source(media, tmp_path):
    bikes, counter, tv = media / "bikes.mp4", media / "counter.mp4", media / "testvideo.mp4"
    shots = [
        (bikes, 0, 3), (bikes, 3, 6),  # bikes' own cuts: one world
        (tv, 0, 6), (tv, 7, 12),  # testvideo's first two scenes
        (counter, 0, 3), (counter, 0.5, 3),
        (bikes, 6, 10),
        (tv, 13, 19), (tv, 19, 23),
        (counter, 0, 3), (counter, 1, 3),
    ]  # fmt: skip
    program = program_of(montage(tmp_path / "three.otio", shots))
    edges, t = [], 0.0
    for (file, lo, hi), prev in zip(shots, [None, *shots], strict=False):
        if prev is not None and prev[0] != file:
            edges.append(t)
        t += hi - lo
    assert starts_s(program) == pytest.approx(edges, abs=0.05)  # shots end on whole frames
    spans = cue_plan.plan_spans(program, "auto", worlds=worlds.program_worlds(program, look))
    assert [lo / RATE for lo, _ in spans[1:]] == pytest.approx(edges, abs=0.05)


def test_one_source_and_two_files_of_one_ride_stay_one_world(media, tmp_path):
    bikes = media / "bikes.mp4"
    cuts = [(bikes, 0, 2.0), (bikes, 2.0, 4.5), (bikes, 4.5, 7.5), (bikes, 7.5, 10)]
    assert starts_s(program_of(montage(tmp_path / "bikes.otio", cuts))) == []
    tv = media / "testvideo.mp4"
    scenes = [(tv, 0, 6.706), (tv, 6.706, 12.746), (tv, 12.746, 24.0)]  # testvideo_scenes.csv
    assert starts_s(program_of(montage(tmp_path / "tv.otio", scenes))) == []
    # bikes split into two "camera files": another source, the same look
    first, second = tmp_path / "bikes_cam_a.mp4", tmp_path / "bikes_cam_b.mp4"
    shutil.copy(media / "bikes.mp4", first)
    shutil.copy(media / "bikes.mp4", second)
    ride = [(first, 0, 2.5), (second, 2.5, 5), (first, 5, 7.5), (second, 7.5, 10)]
    program = program_of(montage(tmp_path / "ride.otio", ride))
    assert starts_s(program) == []
    assert len(cue_plan.plan_spans(program, "auto", worlds=[])) == 1


def test_each_cue_carries_its_world_changes_to_the_engine(media, tmp_path):
    bikes, tv = media / "bikes.mp4", media / "testvideo.mp4"
    program = program_of(montage(tmp_path / "two.otio", [(bikes, 0, 5), (bikes, 5, 10), (tv, 0, 6)]))
    starts = worlds.program_worlds(program, look)
    assert starts == [250]
    program = dataclasses.replace(program, world_changes=(otio.opentime.RationalTime(250, RATE),))
    whole = to_engine_program(program)
    assert whole.world_changes_s == pytest.approx((10.0,))
    cues = cue_plan.cue_scenes(program, [(0, 250), (250, 400)])
    first, second = (to_engine_program(s.program) for s in cues.scenes)
    assert first.world_changes_s == () and second.world_changes_s == pytest.approx((0.0,))


def pic(luma=0.4, colour=0.5, motion=0.05) -> ShotPicture:
    return ShotPicture(luma, 0.2, 0.1, colour, (1.0, 0, 0, 0, 0, 0, 0, 0), motion)


def test_distance_sees_black_and_white_against_colour_and_ignores_one_source():
    assert worlds.picture_distance(pic(), pic()) == 0.0
    assert worlds.picture_distance(pic(colour=0.8), pic(colour=0.0)) < worlds.WORLD_THRESHOLD
    grey = ShotPicture(0.4, 0.2, 0.0, 0.0, (0.0,) * 8, 0.05)
    assert worlds.picture_distance(ShotPicture(0.4, 0.2, 0.15, 0.8, (1.0,) + (0.0,) * 7, 0.05), grey) > 2.5
    assert worlds.picture_distance(pic(motion=0.0), pic(motion=0.3)) > worlds.WORLD_THRESHOLD


def test_a_cue_that_starts_a_world_opens_fresh_and_one_within_a_world_continues(media, tmp_path):
    from vm_editor.scoring import scene_requests

    bikes, tv = media / "bikes.mp4", media / "testvideo.mp4"
    program = program_of(montage(tmp_path / "two.otio", [(bikes, 0, 5), (bikes, 5, 10), (tv, 0, 6)]))
    spans = [(0, 125), (125, 250), (250, 400)]
    plain = scene_requests(cue_plan.cue_scenes(program, spans).scenes)
    assert [r.continue_from is not None for r in plain] == [False, True, True]
    program = dataclasses.replace(program, world_changes=(otio.opentime.RationalTime(250, RATE),))
    planned = scene_requests(cue_plan.cue_scenes(program, spans).scenes)
    assert [r.continue_from is not None for r in planned] == [False, True, False]
    assert [r.ends for r in planned] == [False, False, True]  # it still crossfades in


@pytest.mark.slow
def test_a_scored_montage_holds_one_style_per_world_and_regenerates_a_world_start_fresh(media, tmp_path):
    import subprocess
    import sys

    import numpy as np

    from engine.symbolic.score import STREAMS, STYLES
    from vm_editor.score_track import read_score
    from vm_editor.scoring import regenerate_request
    from vm_editor.writeback import cue_metadata

    bikes, tv = media / "bikes.mp4", media / "testvideo.mp4"
    source = montage(
        tmp_path / "two.otio", [(bikes, 0, 2.5), (bikes, 2.5, 5), (bikes, 5, 7), (tv, 0, 6.7), (tv, 6.7, 9)]
    )
    out = tmp_path / "two.scored.otio"
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "vm_editor.cli", *a, "--in-process"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    done = run("score", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    timeline = otio.adapters.read_from_file(str(out))
    cues = cue_metadata(timeline, out)
    assert sorted(cues) == [0, 1] and cues[1]["record_start_frame"] == 175
    assert cues[1].get("starts_world") is True and "starts_world" not in cues[0]
    row = STREAMS.index("style")
    for meta in cues.values():  # one style over the cuts of one world
        assert len(set(np.load(meta["tokens_path"])[row].tolist())) == 1
    regen = regenerate_request(timeline, cues, 1, cue_dir=str(tmp_path / "cues"), timeline_path=out)
    assert regen.request.scenes[0].continue_from is None and regen.take == 2
    assert regen.request.scenes[0].program.world_changes_s == (0.0,)  # its style holds as it did
    again = run("regenerate", str(out), "--cue", "1", "--force")
    assert again.returncode == 0, again.stderr
    (_, second) = read_score(otio.adapters.read_from_file(str(out)), out)
    styles = [STYLES[int(np.bincount(np.load(t["tokens_path"])[row]).argmax())] for t in second.takes]
    assert len(styles) == 2 and styles[0] != styles[1], styles
