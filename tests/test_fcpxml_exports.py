"""Final Cut exports (FCPXML 1.9–1.13) read at their own rate, start and duration.

Every expected figure is computed here from the file itself (the sequence's `frameDuration`,
`tcStart` and `duration`), never copied from the reader. Real exports come from
shared/samples (skipped with a reason when absent); the fixtures in tests/fixtures/formats are
written from the FCPXML reference (docs/formats.md lists what each proves).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.conftest import SAMPLES
from vm_editor.errors import NoVideoTrackError, TimelineReadError
from vm_editor.fcpxml_reader import fcp_time, project_names
from vm_editor.scenes import extract_scenes
from vm_editor.timeline_io import read_timeline, read_timeline_report

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
REAL = sorted((SAMPLES / "fcpxml").glob("*.fcpxml")) + sorted((SAMPLES / "timelines").glob("*.fcpxml"))
FIXED = sorted(FIXTURES.glob("*.fcpxml"))
ALL = [pytest.param(p, id=p.name, marks=pytest.mark.samples) for p in REAL] + [
    pytest.param(p, id=p.name) for p in FIXED
]
NO_PICTURE = {"Structure.fcpxml"}  # three projects, each with an empty storyline


def _sequence(path: Path, number: int = 1) -> tuple[Fraction, Fraction, Fraction]:
    """(frame duration, tcStart, duration) of the file's `number`-th project, read with ElementTree."""
    root = ET.parse(path).getroot()
    seq = [p for p in root.iter("project") if p.find("sequence") is not None][number - 1].find("sequence")
    fmt = next(f for f in root.iter("format") if f.get("id") == seq.get("format"))
    return fcp_time(fmt.get("frameDuration")), fcp_time(seq.get("tcStart")), fcp_time(seq.get("duration"))


@pytest.mark.parametrize("path", ALL)
def test_rate_start_and_duration_are_the_sequences_own(path):
    fd, tc_start, duration = _sequence(path)
    tl = read_timeline(path)
    frames = round(duration / fd)
    assert tl.global_start_time.value == round(tc_start / fd)
    assert abs(tl.global_start_time.rate - float(1 / fd)) < 1e-6
    for track in tl.tracks:  # every lane as long as the sequence, none shifted by tcStart
        assert round(track.duration().value) == frames, track.name
    if path.name in NO_PICTURE:
        with pytest.raises(NoVideoTrackError):
            extract_scenes(tl, timeline_path=path)
        return
    scenes = extract_scenes(tl, timeline_path=path)
    assert abs(scenes.rate - float(1 / fd)) < 1e-6
    assert scenes.duration.value == frames
    assert scenes.scenes
    for s in scenes.scenes:  # scenes are timeline-relative: 01:00:00:00 is frame 0, not an offset
        assert 0 <= s.record_range.start_time.value < s.record_range.end_time_exclusive().value <= frames


@pytest.mark.parametrize("path", ALL)
def test_primary_storyline_is_a_track_and_title_lanes_stay_above_it(path):
    tl = read_timeline(path)
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    names = [t.name for t in video]
    assert "Primary storyline" in names
    above = names[names.index("Primary storyline") + 1 :]
    assert all(n.startswith("Lane ") for n in above), names
    title_lanes = [
        t
        for t in video[names.index("Primary storyline") + 1 :]
        if all(
            isinstance(c.media_reference, otio.schema.GeneratorReference)
            for c in t.find_clips(shallow_search=True)
        )
        and any(True for _ in t.find_clips(shallow_search=True))
    ]
    if title_lanes and path.name not in NO_PICTURE:
        assert extract_scenes(tl, timeline_path=path).track_name == "Primary storyline"


def test_one_hour_start_is_a_start_not_an_offset():
    path = FIXTURES / "fcpxml_1_10_tcstart_title_lane.fcpxml"
    tl = read_timeline(path)
    assert tl.global_start_time.to_timecode() == "01:00:00:00"
    scenes = extract_scenes(tl, timeline_path=path)
    assert scenes.track_name == "Primary storyline"  # the title in lane 1 does not replace it
    got = [(s.name, s.record_range.start_time.value, s.record_range.duration.value) for s in scenes.scenes]
    assert got == [("shot_a", 0, 100), ("shot_b", 100, 150)]
    assert scenes.scenes[0].source.media_range.start_time.value == 50  # start="2s" at 25 fps
    lane = next(t for t in tl.tracks if t.name == "Lane 1")
    (title,) = lane.find_clips()
    assert lane.range_of_child(title).start_time.value == 25  # offset 3s in a clip that starts at 2s
    assert title.duration().value == 150


def test_compound_clip_is_expanded_from_its_media_not_taken_for_the_project():
    path = FIXTURES / "fcpxml_1_11_compound_clip.fcpxml"
    tl = read_timeline(path)
    assert tl.name == "Compound use"
    scenes = extract_scenes(tl, timeline_path=path)
    got = [
        (
            s.name,
            s.record_range.start_time.value,
            s.record_range.duration.value,
            s.source.media_range.start_time.value,
        )
        for s in scenes.scenes
    ]
    # the ref-clip starts 1 s into a compound whose own tcStart is 3600 s
    assert got == [("outer_a", 0, 48, 240), ("inner_a", 48, 24, 24), ("inner_b", 72, 24, 120)]
    assert scenes.scenes[1].compound == ("Compound",)
    assert scenes.duration.value == 144


def test_several_projects_first_by_default_with_a_note_and_project_picks():
    path = FIXTURES / "fcpxml_1_12_two_projects_df.fcpxml"
    assert project_names(path) == ["First cut", "Second cut DF"]
    first = read_timeline_report(path)
    assert first.timeline.name == "First cut"
    assert len(first.notes) == 1 and "--project" in first.notes[0] and "'Second cut DF'" in first.notes[0]
    for choice in ("2", "Second cut DF"):
        report = read_timeline_report(path, project=choice)
        assert report.timeline.name == "Second cut DF" and not report.notes
        tl = report.timeline
        assert tl.metadata["fcpxml"]["drop_frame"] is True
        start = tl.global_start_time
        assert start.to_timecode(start.rate, True) == "01:00:00;00"
        scenes = extract_scenes(tl)
        assert abs(scenes.rate - 30000 / 1001) < 1e-9
        assert [(s.record_range.start_time.value, s.record_range.duration.value) for s in scenes.scenes] == [
            (0, 150),
            (150, 150),
        ]
    with pytest.raises(TimelineReadError, match=r"no project 'Third'.*1: 'First cut'"):
        read_timeline_report(path, project="Third")


def test_interlaced_25i_reads_at_25_frames():
    path = FIXTURES / "fcpxml_1_13_25i.fcpxml"
    tl = read_timeline(path)
    assert tl.metadata["fcpxml"]["interlaced"] is True
    scenes = extract_scenes(tl, timeline_path=path)
    assert scenes.rate == 25 and scenes.duration.value == 200
    assert [(s.record_range.start_time.value, s.record_range.duration.value) for s in scenes.scenes] == [
        (0, 75),
        (75, 125),
    ]
    track = tl.tracks[0]
    (dissolve,) = [c for c in track if isinstance(c, otio.schema.Transition)]
    assert (dissolve.in_offset + dissolve.out_offset).value == 26  # 1 s, centred on the cut at frame 75
    assert track.range_of_child_at_index(2).start_time.value == 75


@pytest.mark.samples
def test_real_export_with_title_lane_scores_the_storyline():
    path = SAMPLES / "fcpxml" / "TitlesRoles.fcpxml"
    if not path.is_file():
        pytest.skip(f"{path} is absent (real Final Cut exports live in shared/samples)")
    scenes = extract_scenes(read_timeline(path), timeline_path=path)
    assert scenes.track_name == "Primary storyline"
    assert [s.name for s in scenes.scenes] == ["Basic Title", "TestVideo"]


@pytest.mark.samples
def test_real_export_with_three_projects_lists_them():
    path = SAMPLES / "fcpxml" / "Structure.fcpxml"
    if not path.is_file():
        pytest.skip(f"{path} is absent (real Final Cut exports live in shared/samples)")
    assert project_names(path) == ["Test Project", "Test Project 2", "Test Project 3"]
    assert read_timeline(path, project="3").name == "Test Project 3"


@pytest.mark.parametrize("path", [p for p in ALL if p.values[0].name not in NO_PICTURE])
def test_score_written_back_lands_on_its_scenes(path, tmp_path):
    """The connected score storyline sits at the scenes' record times (not an hour late)."""
    from tests.timeline_helpers import cues_for
    from vm_editor.timeline_io import write_timeline_atomic
    from vm_editor.writeback import add_score_track, cue_metadata, score_track

    tl = read_timeline(path)
    scenes = extract_scenes(tl, timeline_path=path)
    out = tmp_path / f"{path.stem}.scored.fcpxml"
    write_timeline_atomic(
        add_score_track(tl, scenes.scenes, cues_for(scenes, tmp_path)), out, input_path=path
    )
    back = read_timeline(out)
    track = score_track(back, out)
    got = [
        (
            round(track.range_of_child_at_index(i).start_time.value),
            round(track.range_of_child_at_index(i).duration.value),
        )
        for i, c in enumerate(track)
        if isinstance(c, otio.schema.Clip)
    ]
    want = [(s.record_range.start_time.value, s.record_range.duration.value) for s in scenes.scenes]
    assert got == want
    assert sorted(cue_metadata(back, out)) == [s.index for s in scenes.scenes]
    assert back.global_start_time == tl.global_start_time
