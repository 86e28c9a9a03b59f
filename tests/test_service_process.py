"""The real service process with the tiny preset: results, crash recovery, cancel, concurrency."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import soundfile

from engine.service.store import JobStore
from tests.service_process import EngineProcess, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def engine(tmp_path):
    proc = EngineProcess(tmp_path / "state", tmp_path / "cues").start()
    yield proc
    proc.stop()


def scenes(n: int, seconds: float, seed0: int = 0) -> list[dict]:
    return [{"index": i, "name": f"s{i}", "duration_s": seconds, "seed": seed0 + i} for i in range(n)]


def test_job_result_and_identical_request_reuse(engine):
    with engine.client() as client:
        body = {"scenes": scenes(2, 0.6), "cue_dir": "proj"}
        job = client.post("/jobs", json=body).json()
        done = wait_for(client, job["id"])
        assert done["status"] == "done", done
        assert [c["index"] for c in done["cues"]] == [0, 1]
        for cue in done["cues"]:
            info = soundfile.info(cue["wav_path"])
            assert info.samplerate == 48000 and info.frames == round(0.6 * 48000)
            assert Path(cue["wav_path"]).parent == (engine.cue_root / "proj").resolve()
        again = client.post("/jobs", json=body).json()
        assert again["id"] == job["id"] and again["status"] == "done"
        info = client.get("/info").json()
        assert "tiny" in info["warm"] and info["device"] in ("cpu", "cuda")


def test_kill9_mid_job_then_restart_resumes(tmp_path):
    proc = EngineProcess(tmp_path / "state", tmp_path / "cues").start()
    try:
        with proc.client() as client:
            job = client.post("/jobs", json={"scenes": scenes(4, 2.0), "cue_dir": "crash"}).json()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not client.get(f"/jobs/{job['id']}").json()["cues"]:
                time.sleep(0.05)
        proc.kill9()
        store = JobStore(tmp_path / "state" / "jobs.sqlite")
        recorded = store.cues(job["id"])
        assert store.get(job["id"]).status == "running" and 1 <= len(recorded) < 4
        for cue in recorded:  # nothing recorded references a partial file
            assert soundfile.info(cue["wav_path"]).frames == cue["num_samples"]
        store.close()
        proc.start()
        with proc.client() as client:
            done = wait_for(client, job["id"])
        assert done["status"] == "done"
        assert sorted(c["index"] for c in done["cues"]) == [0, 1, 2, 3]
        assert {c["wav_path"] for c in recorded} <= {c["wav_path"] for c in done["cues"]}
        leftovers = list((tmp_path / "cues").rglob("*.part"))
        assert not leftovers, leftovers
    finally:
        proc.stop()


def test_cancel_stops_a_running_job_promptly(engine):
    with engine.client() as client:
        job = client.post("/jobs", json={"scenes": scenes(1, 60.0), "cue_dir": "long"}).json()
        wait_for(client, job["id"], statuses=("running",))
        deadline = time.monotonic() + 120
        while (
            "generate" not in client.get(f"/jobs/{job['id']}").json()["stage"] and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        asked = time.monotonic()
        client.post(f"/jobs/{job['id']}/cancel")
        final = wait_for(client, job["id"], timeout_s=30)
        took = time.monotonic() - asked
        assert final["status"] == "cancelled" and not final["cues"]
        assert took < 5.0, f"cancel took {took:.2f} s"  # the 1 s target is measured by `make bench`


def test_service_engine_relays_each_cue_once_and_cancels_through_the_protocol(engine):
    """engine.api.Engine.score over the service: each finished cue arrives once on a "done" event;
    setting the cancel signal cancels the job there and raises ScoringCancelled with the cues."""
    from engine.api import ScoreRequest, ScoringCancelled, scene_from_dict
    from vm_editor.engine_client import ServiceEngine

    client = ServiceEngine(engine.state_dir, start=False)
    request = ScoreRequest(tuple(scene_from_dict(s) for s in scenes(3, 0.5)), cue_dir="relay")
    events = []
    result = client.score(request, progress=events.append)
    finished = [e.cue for e in events if e.cue is not None]
    assert finished == list(result.cues) and [c.index for c in finished] == [0, 1, 2]

    cancel = threading.Event()
    long = ScoreRequest(tuple(scene_from_dict(s) for s in scenes(3, 20.0, seed0=10)), cue_dir="stop")

    def esc_after_first_cue(event) -> None:
        if event.cue is not None:
            cancel.set()

    with pytest.raises(ScoringCancelled) as stopped:
        client.score(long, progress=esc_after_first_cue, cancel=cancel)
    assert [c.index for c in stopped.value.cues] == [0]
    assert sorted(p.name for p in (engine.cue_root / "stop").glob("*.wav")) == [
        Path(stopped.value.cues[0].wav_path).name
    ]


def test_fifty_jobs_from_five_clients(engine):
    results: dict[int, dict] = {}
    errors: list[BaseException] = []

    def client_thread(k: int) -> None:
        try:
            with engine.client() as client:
                ids = [
                    client.post(
                        "/jobs", json={"scenes": scenes(1, 0.3, seed0=100 * k + j), "cue_dir": f"c{k}"}
                    ).json()["id"]
                    for j in range(10)
                ]
                for j, job_id in enumerate(ids):
                    results[10 * k + j] = wait_for(client, job_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=client_thread, args=(k,)) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert len(results) == 50
    for key, job in results.items():
        assert job["status"] == "done", job
        (cue,) = job["cues"]
        assert cue["seed"] == 100 * (key // 10) + key % 10
        assert soundfile.info(cue["wav_path"]).frames == round(0.3 * 48000)
    assert len({job["cues"][0]["wav_path"] for job in results.values()}) == 50


def test_regeneration_jumps_the_queue(engine):
    with engine.client() as client:
        first = client.post("/jobs", json={"scenes": scenes(1, 0.5), "cue_dir": "q"}).json()
        wait_for(client, first["id"])
        long_job = client.post("/jobs", json={"scenes": scenes(3, 3.0, seed0=50), "cue_dir": "q"}).json()
        queued_behind = client.post("/jobs", json={"scenes": scenes(1, 0.5, seed0=90), "cue_dir": "q"}).json()
        regen = client.post(f"/jobs/{first['id']}/regenerate", json={"cue_index": 0}).json()
        done = wait_for(client, regen["id"])
        assert done["status"] == "done" and done["cues"][0]["take"] == 2
        behind = wait_for(client, queued_behind["id"])
        assert behind["created"] < done["created"] and done["updated"] <= behind["updated"]
        assert wait_for(client, long_job["id"])["status"] == "done"


def test_progress_events_stream_until_the_job_ends(engine):
    with engine.client() as client:
        job = client.post("/jobs", json={"scenes": scenes(2, 1.0, seed0=7), "cue_dir": "sse"}).json()
        events = []
        with client.stream("GET", f"/jobs/{job['id']}/events", timeout=120) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[len("data: ") :]))
        assert events[-1]["status"] == "done"
        progress = [e["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 1.0
        assert len(events) >= 3


def test_runtime_file_is_for_this_user_only_and_binds_loopback(engine):
    runtime = engine.state_dir / "engine.json"
    assert runtime.stat().st_mode & 0o777 == 0o600
    assert engine.state_dir.stat().st_mode & 0o777 == 0o700
    assert engine.url.startswith("http://127.0.0.1:")
    assert json.loads(runtime.read_text())["token"] == engine.token


def test_vm_engine_stop_ends_the_service(tmp_path):
    import subprocess
    import sys

    proc = EngineProcess(tmp_path / "state", tmp_path / "cues").start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "engine.cli", "stop", "--state-dir", str(proc.state_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0 and "stopped" in result.stdout
        assert proc.process.wait(timeout=30) is not None
        assert not (proc.state_dir / "engine.json").exists()
    finally:
        proc.stop()
