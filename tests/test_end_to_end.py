"""`vm-editor score` end to end on a real generated clip, and `make demo`'s script on real footage."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import numpy as np
import opentimelineio as otio
import pytest
import soundfile

from tests.scored_checks import check_scored
from tests.service_process import kill_engine_in
from tests.timeline_builders import clip, gap, timeline_of, video_track
from vm_editor import demo


@pytest.fixture
def isolated_engine_env(tmp_path, monkeypatch):
    """A private engine state folder and cue root; the engine a client starts is stopped after."""
    state = tmp_path / "engine-state"
    monkeypatch.setenv("VIDMUSICIAN_STATE_DIR", str(state))
    monkeypatch.setenv("VIDMUSICIAN_CUE_ROOT", str(tmp_path / "cue-root"))
    yield tmp_path / "cue-root"
    kill_engine_in(state)


@pytest.mark.parametrize(
    "rate,mode", [(25, "--in-process"), (24000 / 1001, "--in-process"), (24000 / 1001, "service")]
)
def test_score_writes_a_music_track_that_lines_up(tmp_path, shots_video, rate, mode, isolated_engine_env):
    timeline = timeline_of(
        video_track(
            clip("wide", shots_video, 0, 28, rate, 72),
            gap(7, rate),
            clip("close", shots_video, 30, 40, rate, 72),
        ),
        rate=rate,
    )
    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(source))
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "scored" / "cut.scored.otio"
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "score", str(source), "-o", str(out), "--seed", "3"]
        + ([mode] if mode.startswith("--") else []),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    # the auto plan: a 0.28 s gap is no reason to stop the music, and 1-2 s shots are no cues of
    # their own (MIN_CUE_S): one cue over both shots and the black between them
    assert "[1/1] wide … close: reading pictures" in result.stderr, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) <= 1
    cues = check_scored(source, out)
    if mode == "service":  # the service writes only inside its cue root
        assert all(isolated_engine_env.resolve() in c["wav"].resolve().parents for c in cues)
    assert len(cues) == 1 and cues[0]["meta"]["seed"] != 0
    audio, _ = soundfile.read(str(cues[0]["wav"]), dtype="float32")
    assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-3  # music, not silence


@pytest.mark.slow
def test_demo_scores_real_footage(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "demo result:" in result.stdout
    cues = check_scored(tmp_path / "bikes_demo.otio", tmp_path / "bikes_demo.scored.otio")
    assert len(cues) >= 2  # bikes.mp4 has hard cuts
    # the shipped trained model, not a random init, and its score is tonal like the corpus's music
    # (spectral flatness at most 0.091 over 20 clips), not noise (0.56) nor the untrained model (0.31)
    assert "warning:" not in result.stderr
    flatness = float(re.search(r"score: spectral flatness ([0-9.]+)", result.stdout).group(1))
    assert flatness < 0.1 < demo.UNTRAINED_FLATNESS, result.stdout
    assert (tmp_path / "score_spectrogram.png").stat().st_size > 10_000
