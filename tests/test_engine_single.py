"""One engine per state folder, as real processes: attach, stop, race-free auto-start, claims, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import opentimelineio as otio
import pytest

from engine.service.store import JobStore
from tests.timeline_builders import clip, timeline_of, video_track

ROOT = Path(__file__).resolve().parents[1]


def engine_env(state: Path, cues: Path) -> dict[str, str]:
    return dict(
        os.environ,
        VIDMUSICIAN_STATE_DIR=str(state),
        VIDMUSICIAN_CUE_ROOT=str(cues),
        PYTHONPATH=str(ROOT),
        OMP_NUM_THREADS="1",
    )


def serve_processes(state: Path) -> list[int]:
    """Live `vm-engine serve` processes for this state folder (read from /proc, zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if b"serve" in argv and str(state).encode() in argv and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


def vm_engine(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def folders(tmp_path):
    state, cues = tmp_path / "state", tmp_path / "cues"
    yield state, cues
    vm_engine("stop", "--state-dir", str(state), env=engine_env(state, cues))
    for pid in serve_processes(state):  # whatever happened, nothing outlives the test
        os.kill(pid, signal.SIGKILL)


def start_serve(state: Path, cues: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--state-dir", str(state), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=engine_env(state, cues),
    )


def test_second_serve_attaches_and_stop_leaves_none(folders):
    state, cues = folders
    first = start_serve(state, cues)
    announced = json.loads(first.stdout.readline())
    second = start_serve(state, cues)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    attached = json.loads(out)
    assert attached["attached"] is True and attached["url"] == announced["url"]
    assert attached["pid"] == first.pid and f"pid {first.pid}" in err
    assert serve_processes(state) == [first.pid]
    stopped = vm_engine("stop", "--state-dir", str(state), env=engine_env(state, cues))
    assert f"pid {first.pid}" in stopped.stdout and stopped.stdout.startswith("stopped")
    assert first.wait(timeout=30) is not None
    assert serve_processes(state) == []
    again = vm_engine("stop", "--state-dir", str(state), env=engine_env(state, cues))
    assert again.stdout.startswith("no engine was running")


def test_serve_beside_an_engine_with_another_cue_root_is_reported(folders, tmp_path):
    state, cues = folders
    first = start_serve(state, cues, "--cue-root", str(cues))
    first.stdout.readline()
    other = start_serve(state, cues, "--cue-root", str(tmp_path / "elsewhere"))
    out, err = other.communicate(timeout=60)
    assert other.returncode == 2 and out == ""
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert line.startswith("error:") and f"pid {first.pid}" in line and "vm-engine stop" in line
    assert serve_processes(state) == [first.pid]


def test_a_killed_engine_leaves_no_lock_behind(folders):
    state, cues = folders
    first = start_serve(state, cues)
    first.stdout.readline()
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    (state / ".engine.json.12345").write_text("")  # a partial runtime file a crash could leave
    (cues / "p").mkdir(parents=True)
    (cues / "p" / ".cue.abc.wav.part").write_bytes(b"")  # a cue write a crash interrupted
    second = start_serve(state, cues)
    announced = json.loads(second.stdout.readline())
    assert "attached" not in announced and announced["pid"] == second.pid
    assert not (state / ".engine.json.12345").exists() and not (cues / "p" / ".cue.abc.wav.part").exists()


_CLAIMER = """
import sys
from pathlib import Path
from engine.service.store import JobStore
import time
store = JobStore(Path(sys.argv[1]))
Path(sys.argv[2] + ".ready").touch()
while not Path(sys.argv[1] + ".go").exists():  # all three start claiming together
    time.sleep(0.001)
claimed = []
while (job := store.claim_next()) is not None:
    claimed.append(job.id)
Path(sys.argv[2]).write_text("\\n".join(claimed))
"""


def test_three_processes_claim_each_of_1500_jobs_once(tmp_path):
    db = tmp_path / "jobs.sqlite"
    store = JobStore(db)
    ids = {store.create({"n": i}, f"h{i}").id for i in range(1500)}
    store.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    claimers = [
        subprocess.Popen([sys.executable, "-c", _CLAIMER, str(db), str(tmp_path / f"claimed{k}")], env=env)
        for k in range(3)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"claimed{k}.ready").exists() for k in range(3)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in claimers)
        time.sleep(0.01)
    Path(str(db) + ".go").touch()
    assert all(p.wait(timeout=120) == 0 for p in claimers)
    claimed = [line for k in range(3) for line in (tmp_path / f"claimed{k}").read_text().split("\n") if line]
    assert len(claimed) == len(set(claimed)) == 1500
    assert set(claimed) == ids
    per_process = [len((tmp_path / f"claimed{k}").read_text().split()) for k in range(3)]
    print(f"claims per process: {per_process}")


def write_cut(tmp_path: Path, video: Path, frames: int = 12) -> Path:
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", video, 0, frames, 25, 75))), str(path))
    return path


@pytest.mark.slow
def test_five_scores_at_once_start_one_engine(folders, tmp_path, shots_video):
    state, cues = folders
    env = engine_env(state, cues)
    runs = []
    for k in range(5):
        (tmp_path / f"p{k}").mkdir()
        cut = write_cut(tmp_path / f"p{k}", shots_video)
        runs.append(
            subprocess.Popen(
                [sys.executable, "-m", "vm_editor.cli", "score", str(cut), "--seed", str(k)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = [p.communicate(timeout=600) for p in runs]
    assert [p.returncode for p in runs] == [0] * 5, results
    engines = serve_processes(state)
    assert len(engines) == 1, engines
    stopped = vm_engine("stop", "--state-dir", str(state), env=env)
    assert stopped.stdout.startswith("stopped") and f"pid {engines[0]}" in stopped.stdout
    assert serve_processes(state) == []


def test_client_reports_an_engine_with_another_cue_root(folders, tmp_path, shots_video):
    state, cues = folders
    first = start_serve(state, cues, "--cue-root", str(tmp_path / "theirs"))
    first.stdout.readline()
    cut = write_cut(tmp_path, shots_video)
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "score", str(cut)],
        capture_output=True,
        text=True,
        timeout=120,
        env=engine_env(state, cues),
    )
    assert result.returncode == 2, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "VIDMUSICIAN_CUE_ROOT" in lines[0] and "vm-engine stop" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_during_score_cancels_the_job_and_exits_130(folders, tmp_path):
    state, cues = folders
    env = engine_env(state, cues)
    path = tmp_path / "long.otio"  # one 60 s scene without pictures: long enough to interrupt
    gap_clip = clip("long", "file:///nowhere/offline.mov", 0, 1500, 25, 1500)
    otio.adapters.write_to_file(timeline_of(video_track(gap_clip)), str(path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vm_editor.cli", "score", str(path), "--allow-offline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300
    running = None
    while time.monotonic() < deadline and running is None:
        time.sleep(0.2)
        running = _running_job(state / "jobs.sqlite")
    assert running is not None, "the job never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    errors = [x for x in err.splitlines() if x.startswith("error:")]
    assert errors == [f"error: interrupted; job {running.id} was cancelled in the engine"], err
    assert "Traceback" not in err
    store = JobStore(state / "jobs.sqlite")
    for _ in range(100):
        if store.get(running.id).status == "cancelled":
            break
        time.sleep(0.1)
    assert store.get(running.id).status == "cancelled"
    store.close()


def _running_job(db: Path):
    if not db.is_file():
        return None
    store = JobStore(db)
    try:
        with sqlite3.connect(str(db), timeout=30) as raw:
            row = raw.execute("SELECT id FROM jobs WHERE status = 'running'").fetchone()
        return None if row is None else store.get(row[0])
    finally:
        store.close()
