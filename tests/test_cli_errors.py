"""Bad input on the command line: exit 2 and exactly one `error:` line that names the problem."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.timeline_builders import clip, timeline_of, video_track


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=120
    )


def assert_one_error_line(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_media_names_the_clip_and_the_fix(tmp_path):
    missing = tmp_path / "footage" / "gone.mov"
    tl = timeline_of(video_track(clip("Opening shot", missing, 0, 50, 25, 100)))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    before = digest(path)
    result = run_cli("score", str(path))
    assert_one_error_line(result, "Opening shot", "gone.mov", "--relink")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.otio"]


def test_unreadable_timeline(tmp_path):
    path = tmp_path / "broken.otio"
    path.write_text("{ this is not json")
    assert_one_error_line(run_cli("score", str(path)), "broken.otio")
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "broken.otio")


def test_unknown_format(tmp_path):
    path = tmp_path / "cut.docx"
    path.write_bytes(b"PK\x03\x04")
    assert_one_error_line(run_cli("score", str(path)), "cut.docx", "export")


def test_missing_timeline_file(tmp_path):
    assert_one_error_line(run_cli("score", str(tmp_path / "nope.otio")), "nope.otio", "not found")


def test_timeline_without_video_track(tmp_path):
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    audio.append(clip("dialogue", tmp_path / "a.wav", 0, 50, 25, 100))
    path = tmp_path / "audio_only.otio"
    otio.adapters.write_to_file(timeline_of(audio), str(path))
    assert_one_error_line(run_cli("score", str(path)), "no video track")
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "no video track")


def test_track_out_of_range(tmp_path, shots_video):
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 25, 25, 75))), str(path))
    assert_one_error_line(run_cli("scenes", str(path), "--track", "3", "--json"), "--track")


@pytest.mark.parametrize("force", [False, True])
def test_existing_output_needs_force(tmp_path, force):
    missing = tmp_path / "gone.mov"
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", missing, 0, 25, 25, 75))), str(path))
    out = tmp_path / "cut.scored.otio"
    out.write_text("keep me")
    result = run_cli("score", str(path), *(["--force"] if force else []))
    if force:  # gets past the output check, then stops at the offline media
        assert_one_error_line(result, "gone.mov")
    else:
        assert_one_error_line(result, "already exists", "--force")
    assert out.read_text() == "keep me"
