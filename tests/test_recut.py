"""The editor's loop on real footage: score -> regenerate cue 1 with a prompt -> trim a shot of
cue 2 by 6 frames and delete a shot of cue 3 -> score again, and `conform OLD NEW`: cues 0 and 1
keep their WAVs (same bytes), takes and prompt; cue 2 is re-fit with its hit on the moved cut;
cue 3 is regenerated continuing from cue 2; every take lies inside the picture; the report says so.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from engine.finishing import num_samples_for
from engine.symbolic.tokens import ONSET_BASE, STRONG, onset_accent
from engine.timebase import CUE_SAMPLE_RATE, TOKEN_RATE
from tests.conftest import SAMPLES, write_shots_video
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.score_track import read_score
from vm_editor.writeback import placed_clips, score_track, takes_tracks

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
DRUMS = 0
# (name, first frame in the footage, length): testvideo.mp4's shots are frames 0-200, 201-381 and
# 382-719 (its _scenes.csv); no two neighbours continue each other in the source
CLIPS = [
    ("a1", 10, 75), ("c1", 390, 60),  # cue 0
    ("b1", 215, 90),  # cue 1
    ("c2", 460, 180), ("a2", 95, 45),  # cue 2: c2 is trimmed by 6 frames (3.3 % of it)
    ("b2", 315, 55), ("a3", 150, 45), ("c3", 650, 60),  # cue 3: a3 is deleted
]  # fmt: skip
MERGES = ["--merge", "0-1", "--merge", "3-4", "--merge", "5-7"]
RECUT_MERGES = ["--merge", "0-1", "--merge", "3-4", "--merge", "5-6"]


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> tuple[Path, float]:
    """testvideo.mp4 (real footage, 29.97 fps) when the samples are here, else PyAV-made shots."""
    real = SAMPLES / "media" / "testvideo.mp4"
    if real.is_file():
        return real, 30000 / 1001
    made = tmp_path_factory.mktemp("footage") / "shots.mp4"
    return write_shots_video(made, [201, 181, 338], fps=30, size=(160, 96)), 30.0


def _cli(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args, "--in-process"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _path(meta: dict) -> Path:
    return Path(meta["wav_url"].removeprefix("file://"))


@pytest.mark.slow
def test_recut_keeps_refits_and_regenerates(tmp_path, footage):
    media, rate = footage
    source = tmp_path / "cut.otio"
    cut = timeline_of(
        video_track(*(clip(n, media, start, length, rate, 720) for n, start, length in CLIPS)), rate=rate
    )
    otio.adapters.write_to_file(cut, str(source))
    scored = tmp_path / "cut.scored.otio"
    _cli("score", str(source), "--cues", "per-clip", *MERGES)
    _cli("regenerate", str(scored), "--cue", "1", "--prompt", "bright piano")
    before = {c.index: c.takes for c in read_score(otio.adapters.read_from_file(str(scored)))}
    assert sorted(before) == [0, 1, 2, 3] and before[1][-1]["prompt"] == "bright piano"
    digests = {i: _digest(_path(t[-1])) for i, t in before.items()}

    recut = otio.adapters.read_from_file(str(scored))  # the editor recuts the scored timeline
    video = recut.video_tracks()[0]
    c2 = video[3]
    c2.source_range = TR(c2.source_range.start_time, RT(180 - 6, rate))  # ripple trim: 6 frames
    del video[6]  # a3
    recut_path = tmp_path / "recut.otio"
    otio.adapters.write_to_file(recut, str(recut_path))

    rescored = _cli("score", str(recut_path), "--cues", "per-clip", *RECUT_MERGES)
    assert "conform: 2 kept, 1 re-fit, 1 regenerated, 0 new, 0 removed" in rescored.stderr
    assert "conform: cue 2 re-fit (was cue 2" in rescored.stderr and "scoring 1 scene(s)" in rescored.stderr
    _check(tmp_path / "recut.scored.otio", before, digests, rate)

    conformed = tmp_path / "recut.conformed.otio"
    inputs = {p: _digest(p) for p in (scored, recut_path)}
    result = _cli("conform", str(scored), str(recut_path), "-o", str(conformed))
    assert "conform: 2 kept, 1 re-fit, 1 regenerated, 0 new, 0 removed" in result.stderr
    _check(conformed, before, digests, rate)
    assert inputs == {p: _digest(p) for p in (scored, recut_path)}  # neither input is written
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "vm_editor.cli",
            "conform",
            str(scored),
            str(recut_path),
            "-o",
            str(conformed),
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "already exists; pass --force" in refused.stderr


def _check(out_path: Path, before: dict, digests: dict, rate: float) -> None:
    out = otio.adapters.read_from_file(str(out_path))
    after = {c.index: c.takes for c in read_score(out)}
    assert sorted(after) == [0, 1, 2, 3]
    for i in (0, 1):  # the same file, byte for byte, with its take, seed, prompt and earlier takes
        assert after[i][-1]["wav_url"] == before[i][-1]["wav_url"]
        assert _digest(_path(after[i][-1])) == digests[i]
        for key in ("take", "seed", "prompt"):
            assert after[i][-1][key] == before[i][-1][key]
    assert after[1][-1]["prompt"] == "bright piano" and [t["take"] for t in after[1]] == [1, 2]

    # cue 2: the same take re-fit: new WAV, same take/seed, the old WAV kept as an earlier take
    old2, new2 = before[2][-1], after[2][-1]
    assert new2["wav_url"] != old2["wav_url"] and (new2["take"], new2["seed"]) == (old2["take"], old2["seed"])
    assert old2["wav_url"] in [t["wav_url"] for t in after[2][:-1]]
    assert _digest(_path(old2)) == digests[2]  # the take before the re-fit is untouched
    old_tokens, new_tokens = np.load(old2["tokens_path"]), np.load(new2["tokens_path"])
    old_cut, new_cut = 180 / rate, (180 - 6) / rate  # the cut inside cue 2, cue seconds
    assert _strong_hit_near(old_tokens, old_cut)  # the hit the cue was made with ...
    assert _strong_hit_near(new_tokens, new_cut)  # ... lands on the moved cut, within a frame
    for k in range(1, 4):  # the same notes (none lost) in the pitched streams
        assert np.count_nonzero(new_tokens[k] >= ONSET_BASE) == np.count_nonzero(old_tokens[k] >= ONSET_BASE)
    # as many frames as the generator makes for that length: enough to cover every sample
    rendered_samples = num_samples_for((225 - 6) / rate + float(new2["handle_s"]))
    assert new_tokens.shape[1] == -(-rendered_samples // (CUE_SAMPLE_RATE // TOKEN_RATE))

    # cue 3: regenerated, continuing from cue 2's re-fit notes
    new3 = after[3][-1]
    assert new3["wav_url"] != before[3][-1]["wav_url"]
    assert new3["continued_from"] == new2["tokens_path"]
    assert int(new3["record_start_frame"]) == int(new2["record_end_frame"])

    # every take (the re-fit's old one, cue 3's replaced one) lies inside the picture
    end = out.video_tracks()[0].duration().to_seconds()
    placed = [r for t in takes_tracks(out) for r, _ in placed_clips(t)]
    placed += [r for r, _ in placed_clips(score_track(out))]
    assert placed and all(r.end_time_exclusive().to_seconds() <= end + 1e-9 for r in placed)


def _strong_hit_near(tokens: np.ndarray, at_s: float) -> bool:
    """A strong drum onset within one 50 Hz frame of `at_s`."""
    frame = round(at_s * 50)
    row = tokens[DRUMS]
    return any(
        0 <= f < row.size and row[f] >= ONSET_BASE and onset_accent("drums", int(row[f])) == STRONG
        for f in (frame - 1, frame, frame + 1)
    )
