"""--merge-all and --in/--out act on the cue plan over the program (scenes, score and the panel
alike): a cut-down or merged cue follows exactly the pictures of its span."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from tests.timeline_builders import clip, gap, timeline_of, video_track
from vm_editor import scoring
from vm_editor.scenes import to_engine_scene

RATE = 25


@pytest.fixture
def cut(tmp_path, shots_video):
    tl = timeline_of(
        video_track(
            clip("a", shots_video, 0, 30, RATE, 75),
            clip("b", shots_video, 32, 20, RATE, 75),
            gap(4, RATE),
            clip("c", shots_video, 50, 25, RATE, 75),
        ),
        rate=RATE,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return tl, path


@pytest.mark.parametrize(
    "options,spans",
    [
        ({"merge_all": True}, [(0, 79)]),
        ({"record_in": "10", "record_out": "60"}, [(10, 30), (30, 50), (54, 60)]),
        ({"record_in": "0.4s", "merge_all": True}, [(10, 79)]),
    ],
)
def test_the_program_follows_the_cue(cut, options, spans):
    tl, path = cut
    plan = scoring.plan_cues(tl, mode="per-clip", timeline_path=path, **options)
    got = [
        (int(s.record_range.start_time.value), int(s.record_range.end_time_exclusive().value))
        for s in plan.scenes
    ]
    assert got == spans
    for scene in plan.scenes:
        request = to_engine_scene(scene)
        assert request.program.duration_s == pytest.approx(request.duration_s)
        shown = sum(seg.record_end_s - seg.record_start_s for seg in request.program.segments)
        assert shown == pytest.approx(request.duration_s)  # every frame of the cue, shot by shot


def test_an_empty_range_is_a_clear_error(cut):
    tl, path = cut
    with pytest.raises(Exception, match="give IN before OUT"):
        scoring.plan_cues(tl, mode="per-clip", timeline_path=path, record_in="60", record_out="10")


def test_per_clip_is_one_cue_per_clip_even_where_the_picture_runs_on(tmp_path, shots_video):
    """A shot cut in three by the editor at cuts baked into the media (clips contiguous in their
    source) is three clips: three cues, though the program sees one picture and no edit point."""
    title = otio.schema.Clip(name="Title", media_reference=otio.schema.GeneratorReference())
    title.source_range = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(10, RATE)
    )
    tl = timeline_of(
        video_track(
            clip("part 1", shots_video, 0, 30, RATE, 75),
            clip("part 2", shots_video, 30, 25, RATE, 75),
            clip("part 3", shots_video, 55, 20, RATE, 75),
        ),
        video_track(gap(5, RATE), title, name="V2"),  # a title over part 1: still one clip
        rate=RATE,
    )
    path = tmp_path / "split.otio"
    otio.adapters.write_to_file(tl, str(path))
    per_clip = scoring.plan_cues(tl, mode="per-clip", timeline_path=path)
    got = [
        (s.name, int(s.record_range.start_time.value), int(s.record_range.duration.value))
        for s in per_clip.scenes
    ]
    assert got == [("part 1", 0, 30), ("part 2", 30, 25), ("part 3", 55, 20)]
    one = scoring.plan_cues(tl, mode="one", timeline_path=path).scenes[0]
    assert len(one.program.segments) == 1 and not one.program.edit_points  # no visible change
    assert [(int(t.value), n) for t, n in one.program.clip_starts] == [(30, "part 2"), (55, "part 3")]
    assert one.name == "part 1 … part 3"
