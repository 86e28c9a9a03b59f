"""`vm-editor score` end to end on a real generated clip, and `make demo`'s script on real footage."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile

from tests.scored_checks import check_scored
from tests.service_process import kill_engine_in
from tests.timeline_builders import clip, gap, timeline_of, video_track
from vm_editor.outputs import cue_folder_for


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
    # (the service is polled: a step as short as reading the pictures may pass between two polls)
    assert "[1/1] cue 0 (wide … close): cue ready" in result.stderr, result.stderr  # cue 0: --cue 0
    # its tempo and key
    assert re.search(r"cue ready \(\d+\.\d s elapsed\), \d+ bpm \d/4, [A-G][b#]? [a-z]+\n", result.stderr), result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) <= 1
    cues = check_scored(source, out)
    # either engine delivers the cues next to the scored timeline (the service renders them in its
    # own cue root, and score moves each one out: nothing is left there)
    assert all(
        c["wav"].resolve().parent == (tmp_path / "scored" / "cut_scored_otio_cues").resolve() for c in cues
    )
    if mode == "service":
        assert not list(isolated_engine_env.rglob("*.wav"))
    assert len(cues) == 1 and cues[0]["meta"]["seed"] != 0
    audio, _ = soundfile.read(str(cues[0]["wav"]), dtype="float32")
    assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-3  # music, not silence


@pytest.mark.slow
def test_demo_scores_real_footage(tmp_path, isolated_engine_env):
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "demo result:" in result.stdout
    cues = check_scored(tmp_path / "bikes_demo.otio", tmp_path / "bikes_demo.scored.otio")
    plan = result.stdout.split("cue plan (--cues auto):", 1)[1].split("demo result:", 1)[0]
    planned = [line for line in plan.splitlines() if line.strip()[:1].isdigit()]
    demo_stderr = result.stderr
    # `make demo`'s second command: the measures (evaluation) run outside the product
    result = subprocess.run(
        [sys.executable, "-m", "tools.demo_check", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert len(cues) == len(planned) >= 1  # the printed plan is what was scored, through the service
    assert all((tmp_path / "bikes_demo_cues") in c["wav"].parents for c in cues)
    # the shipped trained model, not a random init, and every cue is tonal music as the owner
    # measures it: stereo 48 kHz, flatness < 0.05, bandwidth >= 10 kHz, chroma that moves, and a
    # pulse (rhythmicity >= 0.35: the tempo grid; the LM's own timing gave 0.16 here).
    assert "warning:" not in demo_stderr
    flatness = float(re.search(r"score: spectral flatness ([0-9.]+)", result.stdout).group(1))
    assert flatness < 0.05, result.stdout
    verdicts = re.findall(r"^cue \d+: 2 ch 48 kHz, (.*): (?:music|FAILS.*)$", result.stdout, re.M)
    assert len(verdicts) == len(cues), result.stdout
    for line in verdicts:
        numbers = dict(re.findall(r"(flatness|bandwidth|chroma movement|rhythmicity) ([0-9.]+)", line))
        assert float(numbers["flatness"]) < 0.05 and float(numbers["bandwidth"]) >= 10.0, line
        assert float(numbers["chroma movement"]) >= 0.05, line
        assert float(numbers["rhythmicity"]) >= 0.35, line
    assert (tmp_path / "score_spectrogram.png").stat().st_size > 10_000


def test_service_puts_cues_in_cue_dir_and_resolves_relative_media(tmp_path, shots_video, isolated_engine_env):
    """`score T --cue-dir ./mycues` with the service: the engine writes in its root, the editor side
    moves every cue (WAV and tokens) into ./mycues; a relative media URL resolves against the
    timeline's folder, not the working directory."""
    project = tmp_path / "project"
    (project / "media").mkdir(parents=True)
    (project / "media" / "shots.mp4").symlink_to(shots_video)
    timeline = timeline_of(video_track(clip("wide", "media/shots.mp4", 0, 50, 25, 75)), rate=25)
    source = project / "cut.otio"
    otio.adapters.write_to_file(timeline, str(source))
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vm_editor.cli",
            "score",
            str(source),
            "--cue-dir",
            "./mycues",
            "--cues",
            "one",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    assert "offline" not in result.stderr  # media/shots.mp4 was found next to the timeline
    cues = check_scored(source, project / "cut.scored.otio", cues="one")
    mycues = (work / "mycues").resolve()
    assert len(cues) == 1 and all(c["wav"].resolve().parent == mycues for c in cues)
    assert sorted(p.suffix for p in mycues.iterdir()) == [".npy", ".wav"]  # the tokens moved too
    assert not list(isolated_engine_env.rglob("*.wav"))  # nothing left behind in the engine's root
    meta = cues[0]["meta"]
    assert Path(meta["tokens_path"]).parent == mycues and Path(meta["tokens_path"]).is_file()


def test_service_writes_straight_into_a_cue_dir_inside_its_root(tmp_path, shots_video, monkeypatch):
    """Where the engine may write the cue folder (inside its `--cue-root`), it writes the cues
    there itself: no scratch folder in its root, no second copy across file systems."""
    state = tmp_path / "engine-state"
    monkeypatch.setenv("VIDMUSICIAN_STATE_DIR", str(state))
    monkeypatch.setenv("VIDMUSICIAN_CUE_ROOT", str(tmp_path))  # the projects live under the root
    try:
        project = tmp_path / "project"
        project.mkdir()
        source = project / "cut.otio"
        otio.adapters.write_to_file(
            timeline_of(video_track(clip("wide", str(shots_video), 0, 50, 25, 75)), rate=25), str(source)
        )
        result = subprocess.run(
            [sys.executable, "-m", "vm_editor.cli", "score", str(source), "--cues", "one"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        cues = check_scored(source, project / "cut.scored.otio", cues="one")
        folder = cue_folder_for(project / "cut.scored.otio").resolve()
        assert len(cues) == 1 and cues[0]["wav"].resolve().parent == folder
        assert not (tmp_path / folder.name).exists()  # no scratch folder of that name in the root
    finally:
        kill_engine_in(state)
