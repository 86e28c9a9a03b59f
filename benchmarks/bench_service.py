"""Service path vs in-process for a one-scene tiny job, and how fast a cancel lands.

Both paths run warm (models loaded) and generate the same 1 s scene with the same seed, so the
difference is what the service adds: HTTP, the job store, the worker hand-off and polling.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 5
SCENE = {"index": 0, "name": "bench", "duration_s": 1.0, "seed": 11}


def _in_process_seconds(cue_dir: Path) -> list[float]:
    from engine.api import ScoreRequest, scene_from_dict
    from engine.pipeline import score

    request = ScoreRequest(scenes=(scene_from_dict(SCENE),), cue_dir=str(cue_dir))
    score(request)  # warm
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        score(request)
        times.append(time.perf_counter() - started)
    return times


def _service_seconds(engine) -> tuple[list[float], float]:
    from tests.service_process import wait_for

    times = []
    with engine.client() as client:
        for k in range(REPEATS + 1):
            body = {"scenes": [SCENE], "cue_dir": f"bench{k}"}  # a new cue folder: no reuse by hash
            started = time.perf_counter()
            job = client.post("/jobs", json=body).json()
            wait_for(client, job["id"])
            if k:  # the first one warms the worker
                times.append(time.perf_counter() - started)
        long_job = client.post("/jobs", json={"scenes": [{**SCENE, "duration_s": 60.0}], "cue_dir": "c"}).json()
        while "generate" not in client.get(f"/jobs/{long_job['id']}").json()["stage"]:
            time.sleep(0.02)
        time.sleep(0.3)
        asked = time.perf_counter()
        client.post(f"/jobs/{long_job['id']}/cancel")
        wait_for(client, long_job["id"])
        cancel_s = time.perf_counter() - asked
    return times, cancel_s


def run() -> dict:
    from tests.service_process import EngineProcess

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = EngineProcess(root / "state", root / "cues").start()
        try:
            service, cancel_s = _service_seconds(engine)
        finally:
            engine.stop()
        in_process = _in_process_seconds(root / "inproc")
    svc, inp = statistics.median(service), statistics.median(in_process)
    return {
        "name": "service",
        "ratios": {
            "in_process_time_over_service_time": inp / svc,
            "cancel_target_1s_over_measured": 1.0 / cancel_s,
        },
        "figures": {
            "service_median_s": svc,
            "in_process_median_s": inp,
            "latency_added_ms": (svc - inp) * 1000,
            "cancel_latency_s": cancel_s,
            "repeats": REPEATS,
        },
    }
