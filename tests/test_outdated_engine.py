"""An engine left running across an update of the install is never silently used.

The engine records `engine.build_id.build_fingerprint()` when it starts; a client whose own
fingerprint differs restarts an idle engine (one line says so) and refuses a busy one (its job
goes on). The install is "updated" here without touching the repository: the engine serves a
temporary copy of the models ($VIDMUSICIAN_MODELS_DIR, which the fingerprint covers), and the
test gives one of those weight files a new modification time, as an update would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.build_id import MODELS_ENV, build_fingerprint, covered_folders
from tests.service_process import EngineProcess, kill_engine_in, wait_for
from vm_editor.engine_client import EngineError, ServiceEngine, is_outdated

ROOT = Path(__file__).resolve().parents[1]
OUTDATED = "is from before this install was updated"


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """A private copy of the shipped models that this test's engines serve (the child processes
    inherit the variable)."""
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "resources" / "models", folder)
    monkeypatch.setenv(MODELS_ENV, str(folder))
    return folder


def update_weights(models: Path) -> None:
    """What an update of the install does to a weight file: it is newer (its content may not differ)."""
    weights = models / "tiny" / "lm.safetensors"
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def runtime_record(state: Path) -> dict:
    return json.loads((state / "engine.json").read_text())


# -- the fingerprint itself (no processes) ----------------------------------------------------------


def test_fingerprint_is_stable_and_follows_the_model_files(models):
    first = build_fingerprint()
    assert build_fingerprint() == first
    update_weights(models)
    assert build_fingerprint() != first
    newer = build_fingerprint()
    (models / "tiny" / ".lm.safetensors.part").write_bytes(b"partial")  # hidden partial files do not count
    assert build_fingerprint() == newer
    (models / "tiny" / "adapters.safetensors").write_bytes(b"retrained")  # new size and time
    assert build_fingerprint() != newer


def test_fingerprint_covers_the_engine_code_and_what_the_engine_loads(models):
    from engine.presets import presets_root

    covered = {label: (folder, suffixes) for label, folder, suffixes in covered_folders()}
    assert covered["engine"] == ((ROOT / "engine").resolve(), (".py",))
    assert covered["resources"][0] == presets_root().parent.resolve()  # presets, encoders, models
    assert covered["models"][0] == models.resolve()
    # the same variable as engine.generator.backbone.models_root (read as text: that module loads torch)
    assert f'MODELS_ENV = "{MODELS_ENV}"' in (ROOT / "engine" / "generator" / "backbone.py").read_text()


def test_an_engine_that_records_no_build_counts_as_outdated():
    assert is_outdated({"url": "http://127.0.0.1:1", "token": "t", "pid": 1, "settings": {}})
    assert is_outdated({"pid": 1, "build": None})
    assert is_outdated({"pid": 1, "build": "0" * 16})
    assert not is_outdated({"pid": 1, "build": build_fingerprint()})
    assert not is_outdated(None)  # no engine at all: nothing to replace


# -- real engine processes ----------------------------------------------------------------------------


@pytest.mark.slow
def test_an_idle_engine_from_before_an_update_is_restarted_and_says_so(tmp_path, models):
    state, cues = tmp_path / "state", tmp_path / "cues"
    old = EngineProcess(state, cues).start()
    try:
        old_pid = old.process.pid
        assert runtime_record(state)["build"] == build_fingerprint()
        panel = ServiceEngine(state, cue_root=cues)  # a long-lived client, attached before the update
        assert panel.info().version
        update_weights(models)
        # what `vm-editor score` builds (its own engine, its own stderr)
        code = (
            "import argparse; from vm_editor.cli import _engine; "
            "print(_engine(argparse.Namespace(in_process=False)).info().version)"
        )
        env = dict(os.environ, VIDMUSICIAN_STATE_DIR=str(state), XDG_DATA_HOME=str(tmp_path / "xdg"))
        env.pop("VIDMUSICIAN_CUE_ROOT")  # the client asks for no cue root: the engine's own is kept
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        said = [line for line in result.stderr.splitlines() if OUTDATED in line]
        assert said == [f"the running engine (pid {old_pid}) {OUTDATED}; restarting it"], result.stderr
        assert old.process.wait(timeout=30) is not None  # the old engine is gone
        record = runtime_record(state)
        assert record["pid"] != old_pid and record["build"] == build_fingerprint()
        assert record["settings"]["cue_root"] == str(cues.resolve())  # restarted as it ran
        notices: list[str] = []
        again = ServiceEngine(state, cue_root=cues, on_notice=notices.append)
        assert again.info().version and not notices  # the new engine is current: used as it is
        assert runtime_record(state)["pid"] == record["pid"]
        assert panel.info().version  # finds the new engine on its own
        assert str(panel.client().base_url).rstrip("/") == record["url"]
    finally:
        old.stop()
        kill_engine_in(state)  # one a failing client may have started in its place


@pytest.mark.slow
def test_a_busy_engine_from_before_an_update_is_refused_and_its_job_goes_on(tmp_path, models):
    state, cues = tmp_path / "state", tmp_path / "cues"
    old = EngineProcess(state, cues).start()
    try:
        with old.client() as client:
            scene = {"index": 0, "name": "long", "duration_s": 60.0, "seed": 0}
            job = client.post("/jobs", json={"scenes": [scene], "cue_dir": "busy"}).json()
            wait_for(client, job["id"], statuses=("running",))
            update_weights(models)
            notices: list[str] = []
            with pytest.raises(EngineError) as refused:
                ServiceEngine(state, cue_root=cues, on_notice=notices.append).info()
            message = str(refused.value)
            assert f"the running engine (pid {old.process.pid}) {OUTDATED}" in message
            assert "vm-engine stop" in message and "\n" not in message and not notices
            assert old.process.poll() is None
            assert client.get(f"/jobs/{job['id']}").json()["status"] == "running"
            assert runtime_record(state)["pid"] == old.process.pid
            # starting the updated engine by hand does not attach to the old one either
            serve = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "engine.cli",
                    "serve",
                    "--state-dir",
                    str(state),
                    "--cue-root",
                    str(cues),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert serve.returncode != 0 and "from before this install was updated" in serve.stderr, (
                serve.stderr
            )
            assert serve.stdout == ""
            assert client.get(f"/jobs/{job['id']}").json()["status"] == "running"
            client.post(f"/jobs/{job['id']}/cancel")
            assert wait_for(client, job["id"], timeout_s=60)["status"] == "cancelled"
    finally:
        old.stop()
        kill_engine_in(state)  # one a failing client may have started in its place


@pytest.mark.slow
def test_an_engine_of_this_build_is_reused_after_it_has_worked(tmp_path):
    from engine.api import ScoreRequest, scene_from_dict

    state, cues = tmp_path / "state", tmp_path / "cues"
    proc = EngineProcess(state, cues).start()
    try:
        notices: list[str] = []
        first = ServiceEngine(state, cue_root=cues, on_notice=notices.append)
        scene = scene_from_dict({"index": 0, "name": "s0", "duration_s": 0.5, "seed": 3})
        assert len(first.score(ScoreRequest((scene,), cue_dir="same")).cues) == 1
        second = ServiceEngine(state, cue_root=cues, on_notice=notices.append)
        assert second.info().version
        assert runtime_record(state)["pid"] == proc.process.pid and proc.process.poll() is None
        assert not notices
    finally:
        proc.stop()
        kill_engine_in(state)  # one a failing client may have started in its place


@pytest.mark.slow
def test_in_process_scoring_leaves_an_outdated_engine_alone(tmp_path, models, shots_video, monkeypatch):
    """`--in-process` never talks to the service: no restart, no refusal, the old engine untouched."""
    import opentimelineio as otio

    from tests.timeline_builders import clip, timeline_of, video_track

    state, cues = tmp_path / "state", tmp_path / "cues"
    old = EngineProcess(state, cues).start()
    monkeypatch.setenv("VIDMUSICIAN_STATE_DIR", str(state))
    monkeypatch.setenv("VIDMUSICIAN_CUE_ROOT", str(cues))
    try:
        update_weights(models)
        source = tmp_path / "cut.otio"
        otio.adapters.write_to_file(
            timeline_of(video_track(clip("wide", shots_video, 0, 28, 25, 75))), str(source)
        )
        out = tmp_path / "cut.scored.otio"
        result = subprocess.run(
            [sys.executable, "-m", "vm_editor.cli", "score", str(source), "-o", str(out), "--in-process"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert out.is_file()
        assert OUTDATED not in result.stderr and "starting engine" not in result.stderr, result.stderr
        assert old.process.poll() is None and runtime_record(state)["pid"] == old.process.pid
    finally:
        old.stop()
        kill_engine_in(state)  # one a failing client may have started in its place
