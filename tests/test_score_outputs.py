"""Never lose work: every output problem of `vm-editor score` is refused before any scoring,
with one `error:` line naming the file and the fix, and nothing is written or replaced."""

from __future__ import annotations

import hashlib
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.test_cli_errors import assert_one_error_line, run_cli
from tests.timeline_builders import clip, timeline_of, video_track
from tests.timeline_helpers import cues_for
from vm_editor.outputs import cue_folder_for
from vm_editor.scenes import extract_scenes
from vm_editor.timeline_io import default_output_path
from vm_editor.writeback import add_score_track


def _cut(folder: Path, media: Path, name: str = "cut.otio", ranges: bool = True) -> Path:
    tl = timeline_of(video_track(clip("a", media, 0, 28, 25, 75), clip("b", media, 30, 24, 25, 75)))
    if not ranges:
        for c in tl.find_clips():
            c.media_reference.available_range = None
    path = folder / name
    otio.adapters.write_to_file(tl, str(path))
    return path


def _scored(folder: Path, media: Path) -> Path:
    """A timeline as `score` writes it (real WAVs, our score track), made without an engine."""
    source = _cut(folder, media)
    tl = otio.adapters.read_from_file(str(source))
    scenes = extract_scenes(tl, timeline_path=source)
    wavs = folder / "wavs"
    wavs.mkdir()
    path = folder / "cut.scored.otio"
    otio.adapters.write_to_file(add_score_track(tl, scenes.scenes, cues_for(scenes, wavs)), str(path))
    return path


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def test_rescoring_a_scored_file_needs_force_and_refuses_before_scoring(tmp_path, shots_video):
    scored = _scored(tmp_path, shots_video)
    before = _files(tmp_path)
    # no -o: the default output of cut.scored.otio is itself
    result = run_cli("score", str(scored), "--in-process", "--cues", "per-clip")
    assert_one_error_line(result, str(scored), "--force", "-o")
    assert "scoring" not in result.stdout
    # an explicit -o naming the input: refused even with --force
    result = run_cli("score", str(scored), "-o", str(scored), "--force", "--in-process")
    assert_one_error_line(result, str(scored), "never modified", "-o")
    assert _files(tmp_path) == before  # nothing written, no cue folder made


def test_a_users_timeline_is_never_its_own_output(tmp_path, shots_video):
    cut = _cut(tmp_path, shots_video)
    before = _files(tmp_path)
    assert_one_error_line(run_cli("score", str(cut), "-o", str(cut), "--force"), str(cut), "-o")
    assert _files(tmp_path) == before


@pytest.mark.parametrize("in_process", [True, False])
def test_output_problems_are_found_before_scoring(tmp_path, shots_video, in_process):
    cut = _cut(tmp_path, shots_video)
    bare = _cut(tmp_path, shots_video, "bare.otio", ranges=False)
    offline = tmp_path / "offline.otio"
    otio.adapters.write_to_file(
        timeline_of(video_track(clip("gone", tmp_path / "gone.mov", 0, 25, 25, 75))), str(offline)
    )
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    before = _files(tmp_path)
    engine = ["--in-process"] if in_process else []  # service mode must refuse without starting one
    cases = [
        ((str(cut), "-o", str(tmp_path / "x.otiod")), ("x.otiod", ".otio")),
        ((str(cut), "-o", str(tmp_path / "x.fcpxml")), ("x.fcpxml", ".fcpxml input", ".otio")),
        ((str(bare), "-o", str(tmp_path / "x.xml")), ("x.xml", "'a'", "-o x.otio")),
        ((str(offline), "-o", str(tmp_path / "x.otioz"), "--allow-offline"), ("x.otioz", "gone.mov")),
        ((str(cut), "-o", str(tmp_path)), (str(tmp_path), "is a folder")),
        ((str(cut), "-o", str(tmp_path / ("n" * 300 + ".otio"))), ("-o", "255")),
        ((str(cut), "--cue-dir", str(a_file / "cues")), ("--cue-dir", "notes.txt", "not a folder")),
        ((str(cut), "--cue-dir", str(tmp_path / ("c" * 300))), ("--cue-dir", "255")),
        ((str(cut), "-o", str(tmp_path / "x.edl")), ("x.edl", "-o x.otio")),
    ]
    for args, needles in cases:
        result = run_cli("score", *args, *engine, "--cues", "per-clip")
        assert_one_error_line(result, *needles)
        assert "starting engine" not in result.stderr
    assert _files(tmp_path) == before


def test_outputs_of_different_formats_never_collide():
    names = [
        Path("/x/cut.edl"),
        Path("/x/cut.aaf"),
        Path("/x/cut.otio"),
        Path("/x/cut.xml"),
        Path("/x/cut.kdenlive"),
    ]
    outputs = [default_output_path(p) for p in names]
    assert [o.name for o in outputs] == [
        "cut.edl.scored.otio",
        "cut.aaf.scored.otio",
        "cut.scored.otio",
        "cut.scored.xml",
        "cut.scored.kdenlive",
    ]
    folders = [cue_folder_for(o).name for o in outputs]
    assert len(set(folders)) == len(folders) and folders[0] == "cut_edl_scored_otio_cues"
    for out in outputs:  # a scored file's default output is itself (no growing names)
        assert default_output_path(out) == out


@pytest.mark.slow
def test_an_edl_and_an_otio_of_one_cut_keep_both_outputs(tmp_path, shots_video):
    cut = _cut(tmp_path, shots_video)
    otio.adapters.write_to_file(otio.adapters.read_from_file(str(cut)), str(tmp_path / "cut.edl"))
    for name, extra in (("cut.otio", []), ("cut.edl", ["--rate", "25"])):
        result = run_cli("score", str(tmp_path / name), "--in-process", "--cues", "per-clip", *extra)
        assert result.returncode == 0, result.stderr
    outputs = [tmp_path / "cut.scored.otio", tmp_path / "cut.edl.scored.otio"]
    folders = [tmp_path / "cut_scored_otio_cues", tmp_path / "cut_edl_scored_otio_cues"]
    for out, folder in zip(outputs, folders, strict=True):
        music = otio.adapters.read_from_file(str(out)).tracks[-1]
        wavs = [Path(c.media_reference.target_url.removeprefix("file://")) for c in music.find_clips()]
        assert len(wavs) == 2 and all(w.parent == folder and w.is_file() for w in wavs)


def test_an_otioz_bundle_carries_the_score(tmp_path, shots_video):
    """The bundle writer refuses an existing path: written through a fresh temporary name."""
    from vm_editor.timeline_io import read_timeline, write_timeline_atomic
    from vm_editor.writeback import score_track

    scored = _scored(tmp_path, shots_video)
    out = tmp_path / "cut.scored.otioz"
    write_timeline_atomic(read_timeline(scored), out, input_path=scored)
    back = read_timeline(out)
    music = score_track(back)
    assert music is not None and len(list(music.find_clips())) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left
