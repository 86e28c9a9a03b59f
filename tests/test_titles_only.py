"""A timeline that is only titles and generators (an opening title sequence) is scored from their
lengths and markers; one with nothing to score says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from engine.symbolic import tokens as tk
from tests.timeline_builders import gap, timeline_of, video_track
from vm_editor.cli import main
from vm_editor.scoring import plan_cues

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
RATE = 25


def title(name: str, frames: int, kind: str = "title", marker_at: int | None = None) -> otio.schema.Clip:
    clip = otio.schema.Clip(
        name=name,
        media_reference=otio.schema.GeneratorReference(generator_kind=kind),
        source_range=TR(RT(0, RATE), RT(frames, RATE)),
    )
    if marker_at is not None:
        clip.markers.append(otio.schema.Marker(name="hit", marked_range=TR(RT(marker_at, RATE), RT(0, RATE))))
    return clip


@pytest.fixture
def titles_only(tmp_path) -> Path:
    """Opening title (4 s, a marker at 2 s), a solid colour (3 s), 2 s of nothing, credits (5 s), a
    lower third stacked over the credits; a timeline marker at 6 s."""
    main_titles = video_track(
        title("Opening Title", 100, marker_at=50),
        title("Solid Color", 75, kind="SolidColor"),
        gap(50, RATE),
        title("Credits", 125),
    )
    over = video_track(gap(250, RATE), title("Lower Third", 50), name="V2")
    tl = timeline_of(main_titles, over, name="titles", rate=RATE)
    tl.tracks.markers.append(otio.schema.Marker(name="logo", marked_range=TR(RT(150, RATE), RT(0, RATE))))
    path = tmp_path / "titles.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def _spans(scenes) -> list[tuple[int, int]]:
    return [
        (int(s.record_range.start_time.value), int(s.record_range.end_time_exclusive().value)) for s in scenes
    ]


def test_titles_become_cues_with_hit_points_at_their_markers(titles_only):
    timeline = otio.adapters.read_from_file(str(titles_only))
    auto = plan_cues(timeline, mode="auto", timeline_path=titles_only).scenes
    assert _spans(auto) == [(0, 175), (225, 350)]  # split at the 2 s with nothing on screen
    assert [s.name for s in auto] == ["Opening Title … Solid Color", "Credits … Lower Third"]
    assert [t.value for t in auto[0].markers] == [50, 150] and auto[1].markers == ()
    one = plan_cues(timeline, mode="one", timeline_path=titles_only).scenes
    assert _spans(one) == [(0, 350)]
    per_clip = plan_cues(timeline, mode="per-clip", timeline_path=titles_only).scenes
    assert _spans(per_clip) == [(0, 100), (100, 175), (225, 350)]  # stacked titles count once


def test_titles_over_a_picture_still_make_no_cue_of_their_own(titles_only, shots_video):
    from tests.timeline_builders import clip

    timeline = otio.adapters.read_from_file(str(titles_only))
    picture = video_track(gap(225, RATE), clip("shot", shots_video, 0, 50, RATE, 75), name="V0")
    timeline.tracks.insert(0, picture)
    assert _spans(plan_cues(timeline, mode="per-clip", timeline_path=titles_only).scenes) == [(225, 275)]


def test_a_timeline_with_nothing_on_screen_says_so_in_one_line(tmp_path, capsys):
    path = tmp_path / "empty.otio"
    otio.adapters.write_to_file(timeline_of(video_track(gap(50, RATE)), name="empty"), str(path))
    assert main(["scenes", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and "nothing to score" in err


@pytest.mark.slow
def test_scoring_a_titles_only_timeline_writes_cues_with_hits_on_its_markers(tmp_path, titles_only):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = tmp_path / "scored.otio"
    command = [sys.executable, "-m", "vm_editor.cli", "score", str(titles_only), "-o", str(out)]
    done = subprocess.run(
        [*command, "--in-process", "--prompt", "epic trailer", "--cue-dir", "cues"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    tokens = sorted((tmp_path / "cues").glob("*.npy"))
    assert len(tokens) == 2
    first = np.load(tokens[0])  # cue 0: markers at 2 s and 6 s -> frames 100 and 300 at 50 Hz
    strong = set(tk.strong_drum_onsets().tolist())
    assert int(first[0, 100]) in strong and int(first[0, 300]) in strong
    scored = otio.adapters.read_from_file(str(out))
    music = [t for t in scored.tracks if t.kind == otio.schema.TrackKind.Audio][-1]
    assert [round(c.range_in_parent().start_time.to_seconds(), 2) for c in music.find_clips()] == [0.0, 9.0]
