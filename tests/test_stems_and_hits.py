"""`--stems` and `--no-hits` through both engines: stems land beside their cue (moved with it into
`--cue-dir` in service mode), the clip metadata lists them, and `regenerate` keeps a cue's hits and
stems settings unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile

from tests.service_process import kill_engine_in
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.timeline_io import read_timeline
from vm_editor.writeback import cue_metadata

pytestmark = pytest.mark.slow
STREAMS = {"drums", "bass", "harmony", "melody"}


def vm_editor(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "vm_editor.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def current_cues(scored: Path) -> dict[int, dict]:
    return cue_metadata(read_timeline(scored), scored)


@pytest.mark.parametrize("mode", ["--in-process", "service"])
def test_stems_and_hits_survive_score_move_and_regenerate(tmp_path, shots_video, mode):
    env = dict(
        os.environ,
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        VIDMUSICIAN_STATE_DIR=str(tmp_path / "state"),
        VIDMUSICIAN_CUE_ROOT=str(tmp_path / "engine-root"),
    )
    engine = [mode] if mode.startswith("--") else []
    source = tmp_path / "cut.otio"
    tl = timeline_of(
        video_track(clip("a", shots_video, 0, 20, 25, 75), clip("b", shots_video, 30, 20, 25, 75))
    )
    otio.adapters.write_to_file(tl, str(source))
    scored = tmp_path / "cut.scored.otio"
    try:
        args = ("score", str(source), "-o", str(scored), "--cues", "per-clip", "--cue-dir", "mycues")
        done = vm_editor(tmp_path, env, *args, "--stems", "--no-hits", *engine)
        assert done.returncode == 0, done.stderr
        folder = (tmp_path / "mycues").resolve()
        cues = current_cues(scored)
        assert sorted(cues) == [0, 1]
        for meta in cues.values():
            wav = Path(meta["wav_url"].removeprefix("file://"))
            assert wav.parent == folder and meta["hits"] is False
            assert set(meta["stems"]) == STREAMS
            frames = soundfile.info(wav).frames
            for stream, path in meta["stems"].items():
                assert Path(path) == wav.with_name(f"{wav.stem}.{stream}.wav")
                info = soundfile.info(path)
                assert (info.samplerate, info.frames) == (48000, frames)
        assert not list((tmp_path / "engine-root").rglob("*.wav"))  # service mode: all moved

        again = vm_editor(tmp_path, env, "regenerate", str(scored), "--cue", "1", *engine)
        assert again.returncode == 0, again.stderr
        kept = current_cues(scored)[1]
        assert kept["take"] == 2 and kept["hits"] is False and set(kept["stems"]) == STREAMS
        assert all(Path(p).parent == folder and Path(p).is_file() for p in kept["stems"].values())

        told = vm_editor(
            tmp_path, env, "regenerate", str(scored), "--cue", "1", "--hits", "--no-stems", *engine
        )
        assert told.returncode == 0, told.stderr
        changed = current_cues(scored)[1]
        assert changed["take"] == 3 and changed["hits"] is True and changed["stems"] == {}
        assert current_cues(scored)[0] == cues[0]  # the other cue's record is untouched

        both = vm_editor(tmp_path, env, "regenerate", str(scored), "--cue", "1", "--hits", "--no-hits")
        assert both.returncode == 2 and both.stderr.startswith("error:") and "not both" in both.stderr
    finally:
        kill_engine_in(tmp_path / "state")
