"""`vm-editor regenerate`: one cue gets a new take; the old take stays, disabled; nothing else moves."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import opentimelineio as otio

from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.writeback import METADATA_KEY, score_track


def vm_editor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_regenerate_one_cue(tmp_path, shots_video):
    source = tmp_path / "cut.otio"
    tl = timeline_of(
        video_track(clip("a", shots_video, 0, 25, 25, 75), clip("b", shots_video, 25, 30, 25, 75))
    )
    otio.adapters.write_to_file(tl, str(source))
    scored = tmp_path / "cut.scored.otio"
    first = vm_editor("score", str(source), "-o", str(scored), "--in-process", "--crossfade", "0")
    assert first.returncode == 0, first.stderr
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    old_music = score_track(otio.adapters.read_from_file(str(scored)))

    result = vm_editor("regenerate", str(scored), "--cue", "1", "--in-process", "--prompt", "brighter")
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # the user's input is never touched
    out = scored  # our own output is replaced in place: the name never grows
    new_tl = otio.adapters.read_from_file(str(out))
    new_music = score_track(new_tl)
    old_clips = list(old_music.find_clips(shallow_search=True))
    new_clips = list(new_music.find_clips(shallow_search=True))
    assert new_clips[0].media_reference.target_url == old_clips[0].media_reference.target_url
    assert new_clips[1].media_reference.target_url != old_clips[1].media_reference.target_url
    meta = new_clips[1].metadata[METADATA_KEY]
    assert meta["take"] == 2 and meta["prompt"] == "brighter"
    assert meta["seed"] == old_clips[1].metadata[METADATA_KEY]["seed"] + 1
    assert new_music.range_of_child(new_clips[1]) == old_music.range_of_child(old_clips[1])
    takes = score_track(new_tl, takes=True)
    (old_take,) = list(takes.find_clips(shallow_search=True))
    assert (
        not old_take.enabled
        and old_take.media_reference.target_url == old_clips[1].media_reference.target_url
    )

    again = vm_editor("regenerate", str(scored), "--cue", "7", "--in-process")
    assert again.returncode == 2 and again.stderr.startswith("error:") and "no cue 7" in again.stderr
