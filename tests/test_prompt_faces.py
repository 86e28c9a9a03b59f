"""Prompt words the model cannot place reach the editor as exactly one `warning:` line in every
face: the CLI with either engine (the service's from its job record) and the panel's banner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.service_process import kill_engine_in
from tests.timeline_builders import clip, timeline_of, video_track

pytestmark = pytest.mark.slow
PROMPT = "epic orchestral kazoo, theremin, 100 bpm"


@pytest.fixture
def short_cut(tmp_path, shots_video) -> Path:
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 40, 25, 75))), str(path))
    return path


def _one_warning_naming_the_unknown_words(text: str) -> None:
    lines = [line for line in text.splitlines() if "warning:" in line]
    assert len(lines) == 1, text
    assert lines[0].startswith("warning: ") and "'kazoo', 'theremin'" in lines[0], lines[0]
    assert "orchestral" not in lines[0].split("ignored")[0] and "strings" in lines[0]


@pytest.mark.parametrize("mode", ["--in-process", "service"])
def test_the_cli_prints_one_warning_line_for_unknown_prompt_words(tmp_path, short_cut, mode):
    state = tmp_path / "state"
    env = dict(
        os.environ,
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        VIDMUSICIAN_STATE_DIR=str(state),
        VIDMUSICIAN_CUE_ROOT=str(tmp_path / "engine-root"),
    )
    engine = [mode] if mode.startswith("--") else []
    command = [sys.executable, "-m", "vm_editor.cli", "score", str(short_cut), "--prompt", PROMPT, *engine]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    finally:
        kill_engine_in(state)
    assert done.returncode == 0, done.stderr
    _one_warning_naming_the_unknown_words(done.stderr)


def test_the_service_keeps_the_warning_in_the_jobs_record(tmp_path, short_cut, monkeypatch):
    import json
    import sqlite3

    from vm_editor.engine_client import ServiceEngine
    from vm_editor.scoring import build_request, plan_cues
    from vm_editor.timeline_io import read_timeline

    state = tmp_path / "state"
    monkeypatch.setenv("VIDMUSICIAN_STATE_DIR", str(state))
    monkeypatch.setenv("VIDMUSICIAN_CUE_ROOT", str(tmp_path / "engine-root"))
    scenes = plan_cues(read_timeline(short_cut), mode="one", timeline_path=short_cut)
    request = build_request(scenes, cue_dir=str(tmp_path / "engine-root" / "c"), prompt=PROMPT)
    try:
        result = ServiceEngine().score(request)
        with sqlite3.connect(state / "jobs.sqlite") as db:
            records = [json.loads(w) for (w,) in db.execute("SELECT warnings FROM jobs")]
    finally:
        kill_engine_in(state)
    assert len(result.warnings) == 1 and "'kazoo', 'theremin'" in result.warnings[0]
    assert records == [list(result.warnings)]


def test_the_panel_banner_shows_one_warning_line(qtbot, short_cut):
    from engine.in_process import InProcessEngine
    from ui.panel import ScorePanel
    from vm_editor.panel_model import PanelModel, PanelOptions

    model = PanelModel(InProcessEngine(), PanelOptions(cues="one", prompt=PROMPT))
    panel = ScorePanel(model)
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(short_cut)
    job = model.score_all()
    assert job is not None
    model.run(job)
    qtbot.waitUntil(lambda: (model.poll() or True) and not model.jobs, timeout=120_000)
    qtbot.waitUntil(lambda: not panel.banner.isHidden(), timeout=10_000)
    _one_warning_naming_the_unknown_words(panel.banner.text())
    assert model.rows[0].state == "done"
