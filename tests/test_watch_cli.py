"""`vm-editor watch DIR --once`: a timeline dropped into a folder is scored next to it; our own
outputs are skipped; a file still being written waits for the next pass."""

from __future__ import annotations

import subprocess
import sys

import opentimelineio as otio
import pytest

from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.watch import FolderWatch
from vm_editor.writeback import score_track


def _drop_cut(folder, media, name="cut.otio"):
    tl = timeline_of(video_track(clip("a", media, 0, 28, 25, 75), clip("b", media, 30, 24, 25, 75)))
    otio.adapters.write_to_file(tl, str(folder / name))
    return folder / name


@pytest.mark.slow
def test_watch_once_scores_a_dropped_timeline(tmp_path, shots_video):
    cut = _drop_cut(tmp_path, shots_video)
    (tmp_path / "notes.txt").write_text("not a timeline")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vm_editor.cli",
            "watch",
            str(tmp_path),
            "--once",
            "--in-process",
            "--cues",
            "per-clip",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    scored = tmp_path / "cut.scored.otio"
    assert "scoring: cut.otio" in result.stdout and f"wrote {scored}" in result.stdout
    music = score_track(otio.adapters.read_from_file(str(scored)))
    assert music is not None and len(list(music.find_clips())) == 2
    assert all(c.media_reference.target_url.endswith(".wav") for c in music.find_clips())
    assert "notes.txt" not in result.stdout and "cut.scored.otio" not in result.stdout.split("wrote")[0]

    again = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "watch", str(tmp_path), "--once", "--in-process"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0 and again.stdout == ""  # scored already, and its output is ours
    assert cut.is_file()


def test_a_file_still_being_written_waits(tmp_path, shots_video):
    cut = _drop_cut(tmp_path, shots_video)
    scored, lines = [], []
    watch = FolderWatch(tmp_path, score=lambda p: scored.append(p) or True, log=lines.append)
    watch.one_pass()  # first look: sizes only known from now on
    assert scored == [] and lines == []
    with open(cut, "a") as f:
        f.write("\n")  # the editor is still writing
    watch.one_pass()
    assert scored == [] and lines == ["waiting: cut.otio (still being written)"]
    watch.one_pass()  # size stable since the last look
    assert scored == [cut] and lines[-1] == "scoring: cut.otio"


def test_a_failed_file_is_not_retried_until_exported_again(tmp_path):
    bad = tmp_path / "broken.otio"
    bad.write_text("{not json")
    calls, lines = [], []
    watch = FolderWatch(tmp_path, score=lambda p: calls.append(p) and False, log=lines.append)
    watch.one_pass(settle_s=0.01)
    watch.one_pass()
    assert calls == [bad] and lines[-1].startswith("failed: broken.otio")
