"""The program of a multi-shot cut (issue 15): what the viewer sees, and the features over it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import opentimelineio as otio
import pytest

from tests.program_timelines import build_cut, make_media
from vm_editor.program import program_slice, timeline_program, to_engine_program

RT = otio.opentime.RationalTime


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    media = make_media(tmp_path_factory.mktemp("cut-media"))
    return media, build_cut(media)


def test_segments_follow_the_picture_on_screen(cut):
    media, timeline = cut
    program = timeline_program(timeline)
    segs = program.segments
    assert [s.name for s in segs] == ["A", "B", "black", "C", "D", "E"]  # the title is no picture
    assert [int(s.record.start_time.value) for s in segs] == [0, 25, 50, 80, 105, 121]
    a, b, gap, c, d, e = segs
    assert a.path == media["a"].resolve() and (a.source_in, a.source_out) == (Fraction(1, 2), Fraction(3, 2))
    assert b.speed == 2 and (b.source_in, b.source_out) == (1, 3)  # 2x: 2 s of media in 1 s
    assert gap.is_black
    assert c.speed == -1 and (c.source_in, c.source_out) == (
        Fraction(7, 5),
        Fraction(2, 5),
    )  # played backward
    assert d.speed == 0 and d.source_in == d.source_out == Fraction(5, 4)
    assert int(program.record.duration.value) == 151


def test_edit_points_are_the_timelines_cuts_and_dissolves(cut):
    program = timeline_program(cut[1])
    assert [(int(e.at.value), e.kind) for e in program.edit_points] == [
        (25, "dissolve"),
        (50, "cut"),
        (80, "cut"),
        (105, "cut"),
        (121, "cut"),
    ]
    span = program.edit_points[0].span
    assert (span.start_time.value, span.end_time_exclusive().value) == (21, 29)
    assert [(int(t.value), n) for t, n in program.markers] == [(130, "hit")]


def test_a_slice_keeps_the_source_mapping_exact(cut):
    program = timeline_program(cut[1])
    part = program_slice(program, RT(30, 25), RT(90, 25))
    assert [s.name for s in part.segments] == ["B", "black", "C"]
    assert part.segments[0].source_in == 1 + Fraction(5, 25) * 2
    assert part.segments[2].source_out == Fraction(7, 5) - Fraction(10, 25)
    engine = to_engine_program(part)
    assert engine.segments[0].record_start_s == 0.0 and engine.duration_s == pytest.approx(2.4)
    assert [e.at_s for e in engine.edit_points] == pytest.approx([0.8, 2.0])


def test_disabled_upper_track_and_offline_media_hide_nothing_they_should_not(cut, tmp_path):
    media, timeline = cut
    tl = otio.adapters.read_from_string(otio.adapters.write_to_string(timeline))
    tl.tracks[1].enabled = False
    assert [s.name for s in timeline_program(tl).segments][:2] == ["A", "B"]
    clip = tl.tracks[0][0]
    clip.media_reference.target_url = (tmp_path / "gone.mp4").as_uri()
    first = timeline_program(tl).segments[0]
    assert first.offline and to_engine_program(timeline_program(tl)).segments[0].path is None


# -- features in record time ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def features(cut, tmp_path_factory):
    from engine.program_features import program_features

    program = to_engine_program(timeline_program(cut[1]))
    return program, program_features(program, cache_dir=tmp_path_factory.mktemp("cache"))


def test_every_edit_point_has_a_cue_peak_within_one_frame(features):
    """Cuts and markers are full cues; a dissolve is the corpus's blend mark (the fade cue)."""
    from engine.rhythm import FADE_CUE

    program, f = features
    peak = lambda at: f.cues_50hz[max(int(round(at * 50)) - 1, 0) : int(round(at * 50)) + 2].max()  # noqa: E731
    cuts = [e.at_s for e in program.edit_points if e.is_cut]
    blends = [e.at_s for e in program.edit_points if not e.is_cut]
    assert len(cuts) == 4 and len(blends) == 1
    for at in cuts + list(program.markers_s):
        assert peak(at) == 1.0, at
    for at in blends:
        assert peak(at) == pytest.approx(FADE_CUE), at


def test_a_dissolve_is_no_hit_point(features):
    """The engine slams cuts and markers, never a blend: a dissolve's cut point is not a hit."""
    from engine.api import SceneRequest
    from engine.pipeline import _conditions

    program, _ = features
    scene = SceneRequest(index=0, name="cut", duration_s=program.duration_s, program=program)
    _, _, hits = _conditions(scene, "tiny")
    dissolve = next(e.at_s for e in program.edit_points if not e.is_cut)
    assert all(abs(h - dissolve) > 0.04 for h in hits)
    for at in [e.at_s for e in program.edit_points if e.is_cut] + list(program.markers_s):
        assert any(abs(h - at) < 1e-6 for h in hits), at


def _encode_frame_at(path: str, t: float) -> np.ndarray:
    from engine.encoders import tower_for_preset
    from engine.media import decode_grids
    from engine.preprocess import normalise_batch

    tower = tower_for_preset("tiny")
    grids = decode_grids(path, t, t + 0.01, (25,), tower.pre)
    pooled, _ = tower.encode(normalise_batch(grids.crops[grids.grids[25]], tower.pre))
    return pooled[0]


def test_cls_row_per_second_is_the_frame_on_screen(cut, features):
    program, f = features
    segs = timeline_program(cut[1]).segments
    assert f.cls_1fps.shape[0] == 7
    for i in range(7):
        seg = next(
            s
            for s in segs
            if s.record.start_time.to_seconds() <= i < s.record.end_time_exclusive().to_seconds()
        )
        if seg.is_black:
            assert not np.allclose(f.cls_1fps[i], f.cls_1fps[0], atol=1e-3)
            continue
        t = float(seg.source_at(RT(i * 25, 25)))
        if seg.speed < 0:
            t -= 0.5 / 25  # reversed: the frame just before the source time is on screen
        expected = _encode_frame_at(str(seg.path), t)
        np.testing.assert_allclose(f.cls_1fps[i], expected, atol=1e-4, err_msg=f"second {i} ({seg.name})")


def test_a_cue_across_files_changes_cls_at_the_cut(features):
    _, f = features
    a, b = f.cls_1fps[0], f.cls_1fps[1]  # A (a.mp4) then B (b.mp4) after the cut at 1 s
    cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert cos < 0.99


def test_a_2x_clip_has_rhythm_over_its_whole_record_span(features):
    _, f = features
    span = f.rhythm_50hz[50:100]  # B: record 1.0-2.0 s
    windows = span.reshape(5, 10).max(axis=1)
    assert (windows > 0.02).all(), windows
    assert f.rhythm_50hz[105:158].max() == 0.0  # black stays still
    assert f.rhythm_50hz[212:240].max() == 0.0  # a freeze frame does not move
