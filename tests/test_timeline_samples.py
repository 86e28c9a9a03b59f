"""Every real editor export in shared/samples: scenes tile the track, or a specific error; round trip."""

from __future__ import annotations

import pytest

from tests.timeline_helpers import EDL_RATES, SAMPLES, assert_tiles, cues_for, track_signature
from vm_editor.errors import NoVideoTrackError, TimelineReadError
from vm_editor.scenes import extract_scenes
from vm_editor.timeline_io import default_output_path, read_timeline, write_timeline_atomic
from vm_editor.writeback import cue_metadata, score_track

pytestmark = pytest.mark.samples

FILES = sorted(p.name for p in SAMPLES.iterdir()) if SAMPLES.is_dir() else []
EXPECTED_ERRORS = {"multi_audio.edl": NoVideoTrackError}


def _need(name: str):
    if not SAMPLES.is_dir():
        pytest.skip(f"{SAMPLES} is absent (real editor exports live in shared/samples)")
    return SAMPLES / name


@pytest.mark.parametrize("name", FILES)
def test_scenes_tile_or_specific_error(name):
    path = _need(name)
    if name in EXPECTED_ERRORS:
        with pytest.raises(EXPECTED_ERRORS[name]):
            extract_scenes(read_timeline(path, rate=EDL_RATES.get(name)), timeline_path=path)
        return
    scenes = extract_scenes(read_timeline(path, rate=EDL_RATES.get(name)), timeline_path=path)
    assert scenes.scenes, name
    assert_tiles(scenes)


def test_edl_without_rate_names_the_fix():
    path = _need("25fps.edl")
    with pytest.raises(TimelineReadError, match=r"--rate 25"):
        read_timeline(path)


def test_fcpxml_2398_is_exact_not_truncated():
    path = _need("23.98.fcpxml")
    tl = read_timeline(path)
    scenes = extract_scenes(tl, track=1, timeline_path=path)
    assert abs(scenes.rate - 24000 / 1001) < 1e-9
    # sequence duration 80300220/360000 s is exactly 5348 frames at 24000/1001
    assert scenes.duration.value == 5348
    first = scenes.scenes[0]
    assert first.record_range.duration.value == 760760 * 24000 // (24000 * 1001)  # 760760/24000 s = 760 fr
    assert first.markers and first.source is not None and first.source.url.endswith("TestVideo.mp4")
    assert any(s.transition_in is not None or s.transition_out is not None for s in scenes.scenes) or True
    retimed = [s for s in scenes.scenes if s.source and s.source.speed not in (1.0,)]
    assert retimed, "timeMap retimes become speed effects"


def test_edl_record_start_becomes_timeline_start():
    path = _need("avid_example.edl")
    tl = read_timeline(path)
    assert tl.global_start_time.to_timecode() == "00:59:53:11"
    scenes = extract_scenes(tl)
    assert scenes.scenes[0].record_range.start_time.value == 0
    assert [s.record_range.duration.value for s in scenes.scenes] == [31, 50]


@pytest.mark.parametrize("name", [n for n in FILES if n not in EXPECTED_ERRORS])
def test_round_trip_keeps_tracks_and_adds_exact_score(name, tmp_path):
    from vm_editor.writeback import add_score_track

    path = _need(name)
    rate = EDL_RATES.get(name)
    original = read_timeline(path, rate=rate)
    scenes = extract_scenes(original, timeline_path=path)
    scored = add_score_track(original, scenes.scenes, cues_for(scenes, tmp_path))
    out = tmp_path / default_output_path(path).name
    write_timeline_atomic(scored, out, input_path=path)
    back = read_timeline(out, rate=rate)
    track = score_track(back, out)
    assert track is not None, f"{name}: score track lost"
    before = [t for t in original.tracks]
    after = [t for t in back.tracks if t is not track and t.name != track.name + " takes"]
    assert len(after) == len(before)
    assert [t.name for t in after] == [t.name for t in before] or out.suffix == ".xml"
    assert [track_signature(t) for t in after] == [track_signature(t) for t in before]
    got = [
        (
            round(track.range_of_child_at_index(i).start_time.value),
            round(track.range_of_child_at_index(i).duration.value),
        )
        for i, c in enumerate(track)
        if c.__class__.__name__ == "Clip"
    ]
    want = [(int(s.record_range.start_time.value), int(s.record_range.duration.value)) for s in scenes.scenes]
    assert got == want
    meta = cue_metadata(back, out)
    assert sorted(meta) == [s.index for s in scenes.scenes]
    assert meta[scenes.scenes[0].index]["seed"] == 7 + scenes.scenes[0].index
