"""`vm-editor watch DIR --once`: a timeline dropped into a folder is scored next to it; our own
outputs are skipped; a file still being written waits for the next pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def _watch_once(folder, *options):
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "watch", str(folder), "--once", *options],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_edl_without_a_rate_waits_for_the_folder_to_say_it(tmp_path, shots_video):
    from vm_editor.errors import EditorInputError
    from vm_editor.watch import SETTINGS, watch_rate

    cut = _drop_cut(tmp_path, shots_video)
    edl = tmp_path / "cut.edl"
    otio.adapters.write_to_file(otio.adapters.read_from_file(str(cut)), str(edl))
    cut.unlink()
    result = _watch_once(tmp_path, "--in-process")
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and str(edl) in errors[0]
    assert "--rate" in errors[0] and SETTINGS in errors[0]
    assert "failed: cut.edl" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.edl"]  # nothing scored at a guess

    with pytest.raises(EditorInputError, match="--rate"):
        watch_rate(edl, tmp_path, None)
    assert watch_rate(edl, tmp_path, 30.0) == 30.0
    (tmp_path / SETTINGS).write_text('{"rate": 25}')
    assert watch_rate(edl, tmp_path, None) == 25.0
    assert watch_rate(edl, tmp_path, 30.0) == 30.0  # the command line wins
    (tmp_path / SETTINGS).write_text('{"rate": "fast"}')
    with pytest.raises(EditorInputError, match="not a frame rate"):
        watch_rate(edl, tmp_path, None)
    (tmp_path / SETTINGS).unlink()
    drop = tmp_path / "ntsc.edl"
    drop.write_text(edl.read_text().replace("FCM: NON-DROP FRAME", "") + "\nFCM: DROP FRAME\n")
    assert watch_rate(drop, tmp_path, None) is None  # drop-frame timecode says 29.97 itself


@pytest.mark.slow
def test_a_re_export_keeps_the_earlier_score_and_its_takes(tmp_path, shots_video):
    import os

    from tests.timeline_helpers import cues_for
    from vm_editor.scenes import extract_scenes
    from vm_editor.writeback import add_score_track, takes_tracks

    cut = _drop_cut(tmp_path, shots_video)
    earlier = tmp_path / "earlier_takes"
    earlier.mkdir()
    tl = otio.adapters.read_from_file(str(cut))
    scenes = extract_scenes(tl, timeline_path=cut)
    scored = tmp_path / "cut.scored.otio"
    otio.adapters.write_to_file(add_score_track(tl, scenes.scenes, cues_for(scenes, earlier)), str(scored))
    old_wavs = sorted(str(p.resolve()) for p in earlier.glob("*.wav"))
    os.utime(scored, (1, 1))  # the editor exported the cut again after it was scored

    result = _watch_once(tmp_path, "--in-process", "--cues", "per-clip")
    assert result.returncode == 0, result.stderr
    assert f"wrote {scored}" in result.stdout and "already holds a score" in result.stderr
    new = otio.adapters.read_from_file(str(scored))
    kept = sorted(
        c.media_reference.target_url.removeprefix("file://")
        for t in takes_tracks(new)
        for c in t.find_clips(shallow_search=True)
    )
    assert kept == old_wavs  # the earlier score's cues are takes of the new one
    assert all(Path(w).is_file() for w in old_wavs)
    music = score_track(new)
    assert all("earlier_takes" not in c.media_reference.target_url for c in music.find_clips())
