"""The error contract before scoring: bad timelines, outputs and options get one `error:` line, fast.

Each case here used to hang, crash or print a traceback (issue 17). They run the real CLI.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.test_cli_errors import assert_one_error_line, run_cli
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.input_guard import MAX_TEXT_DEPTH, text_nesting_depth


def write_cut(tmp_path: Path, name: str = "cut.otio", clip_name: str = "Opening") -> Path:
    path = tmp_path / name
    tl = timeline_of(video_track(clip(clip_name, Path("/nowhere/x.mov"), 0, 25, 25, 75)))
    otio.adapters.write_to_file(tl, str(path))
    return path


def edit_first(path: Path, key: str, value: str) -> None:
    """Replace the first `"key": number` inside the clip's source range with `value` (raw JSON)."""
    text = path.read_text()
    at = text.index('"source_range": {')
    head, tail = text[:at], text[at:]
    tail = re.sub(rf'"{key}": [0-9.]+', f'"{key}": {value}', tail, count=1)
    path.write_text(head + tail)


@pytest.mark.parametrize(
    "key,value,needle",
    [
        ("rate", "0.0", "rate 0"),
        ("rate", "1e9", "rate 1e+09"),
        ("value", "NaN", "nan"),
        ("value", "Infinity", "inf"),
    ],
)
def test_rates_and_durations_are_checked_and_name_the_clip(tmp_path, key, value, needle):
    path = write_cut(tmp_path)
    edit_first(path, key, value)
    line = assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.otio", "'Opening'")
    assert needle in line.lower()
    assert "media" not in line.split("'Opening'")[1]  # an absurd rate is the timeline's, not the media's


def test_nested_stacks_600_deep_are_refused(tmp_path):
    item = video_track(clip("deep", Path("/nowhere/x.mov"), 0, 25, 25, 75))
    for level in range(600):  # compound clips inside compound clips: stack, track, stack, ...
        wrapper = otio.schema.Stack() if level % 2 == 0 else otio.schema.Track()
        wrapper.append(item)
        item = wrapper
    tl = otio.schema.Timeline()
    tl.tracks.append(item)
    path = tmp_path / "deep.otio"
    path.write_text(otio.adapters.write_to_string(tl))
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "deep.otio", "nested")


def test_composition_depth_is_checked_after_reading(tmp_path):
    from vm_editor.errors import TimelineReadError
    from vm_editor.input_guard import MAX_COMPOSITION_DEPTH, check_timeline

    item = video_track(clip("deep", Path("/nowhere/x.mov"), 0, 25, 25, 75))
    for level in range(MAX_COMPOSITION_DEPTH + 2):
        wrapper = otio.schema.Stack() if level % 2 == 0 else otio.schema.Track()
        wrapper.append(item)
        item = wrapper
    tl = otio.schema.Timeline()
    tl.tracks.append(item)
    with pytest.raises(TimelineReadError, match="nested"):
        check_timeline(tl, tmp_path / "x.otio")


@pytest.mark.parametrize("levels", [30_000, 100_000])
def test_pathological_json_nesting_fails_fast_without_crashing(tmp_path, levels):
    path = tmp_path / "arrays.otio"
    path.write_text("[" * levels + "]" * levels)  # 60 KB at 30k levels
    started = time.monotonic()
    result = run_cli("scenes", str(path), "--json")
    assert_one_error_line(result, "arrays.otio", f"nested {levels} levels")
    assert time.monotonic() - started < 10


def test_nesting_scan_ignores_strings_and_counts_xml():
    assert text_nesting_depth(b'{"a": "[[[[[[", "b": [1, {"c": "\\"]]"}]}', "json") == 3
    xml = b"<?xml version='1.0'?><!-- <x><x> --><a><b/><c><d>t</d></c><![CDATA[<e><e>]]></a>"
    assert text_nesting_depth(xml, "xml") == 3
    assert text_nesting_depth(b"<a>" * (MAX_TEXT_DEPTH + 5), "xml") == MAX_TEXT_DEPTH + 5


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "cut.otio"
    os.mkfifo(fifo)
    assert_one_error_line(run_cli("scenes", str(fifo), "--json"), "cut.otio", "FIFO")


def test_a_device_behind_a_timeline_name_is_refused(tmp_path):
    link = tmp_path / "cut.otio"
    link.symlink_to("/dev/zero")
    assert_one_error_line(run_cli("score", str(link)), "cut.otio", "device")


def test_a_non_utf8_clip_name_and_file_name(tmp_path):
    path = write_cut(tmp_path)
    raw = path.read_bytes().replace(b'"Opening"', b'"Op\xffning"')
    odd = tmp_path / os.fsdecode(b"cut-\xff.otio")
    odd.write_bytes(raw)
    result = run_cli("scenes", str(odd), "--json")
    assert_one_error_line(result, "cut-")


def test_unwritable_output_is_refused_before_scoring(tmp_path):
    path = write_cut(tmp_path)
    result = run_cli("score", str(path), "-o", "/proc/cut.scored.otio")
    line = assert_one_error_line(result, "/proc", "-o")
    assert "scoring" not in result.stderr and "offline" not in line


def test_output_in_a_format_without_audio_tracks_is_refused_first(tmp_path):
    path = write_cut(tmp_path)
    result = run_cli("score", str(path), "-o", str(tmp_path / "out.edl"))
    assert_one_error_line(result, "out.edl", ".otio")


def test_over_long_cue_dir_is_refused(tmp_path):
    path = write_cut(tmp_path)
    result = run_cli("score", str(path), "--cue-dir", "c" * 300)
    assert_one_error_line(result, "--cue-dir", "255")


def test_bad_rate_option_is_refused(tmp_path):
    path = write_cut(tmp_path)
    assert_one_error_line(run_cli("scenes", str(path), "--rate", "nan", "--json"), "--rate")
    assert_one_error_line(run_cli("scenes", str(path), "--rate", "0", "--json"), "--rate")


CUE_METADATA = {
    "cue_index": 0,
    "take": 1,
    "seed": 3,
    "record_start_frame": 0,
    "record_end_frame": 25,
    "preset": "tiny",
    "wav_url": "file:///nowhere/a.wav",
}


def write_scored_cut(tmp_path: Path, changes: dict, drop: tuple[str, ...] = ()) -> Path:
    """A scored timeline (one cue on a VidMusician score track) whose cue metadata is changed."""
    tl = timeline_of(video_track(clip("a", Path("/nowhere/x.mov"), 0, 25, 25, 75)))
    audio = otio.schema.Track(name="VidMusician score", kind=otio.schema.TrackKind.Audio)
    cue = clip("a (music)", Path("/nowhere/a.wav"), 0, 25, 25, 25)
    meta = {k: v for k, v in {**CUE_METADATA, **changes}.items() if k not in drop}
    cue.metadata["vidmusician"] = meta
    audio.append(cue)
    audio.metadata["vidmusician"] = {"score": True}
    tl.tracks.append(audio)
    path = tmp_path / "cut.scored.otio"
    otio.adapters.write_to_file(tl, str(path))
    from vm_editor.writeback import cue_metadata

    if not cue_metadata(otio.adapters.read_from_file(str(path)), path):
        pytest.fail(f"the test's score track is not recognised: {json.dumps(meta)}")
    return path


@pytest.mark.parametrize("field,value", [("take", "two"), ("seed", "x"), ("record_start_frame", "a")])
def test_wrong_metadata_types_in_a_scored_timeline(tmp_path, field, value):
    path = write_scored_cut(tmp_path, {field: value})
    result = run_cli("regenerate", str(path), "--cue", "0")
    assert_one_error_line(result, "cut.scored.otio", field)
