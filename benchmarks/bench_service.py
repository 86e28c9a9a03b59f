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


def _measure(engine, root: Path) -> tuple[list[float], list[float], float]:
    """Alternate service and in-process runs so both see the same background load."""
    from engine.api import ScoreRequest, scene_from_dict
    from engine.pipeline import score
    from tests.service_process import wait_for

    service, in_process = [], []
    with engine.client() as client:
        for k in range(REPEATS + 1):
            request = ScoreRequest(scenes=(scene_from_dict(SCENE),), cue_dir=str(root / f"inproc{k}"))
            started = time.perf_counter()
            score(request)
            took_in_process = time.perf_counter() - started
            body = {"scenes": [SCENE], "cue_dir": f"bench{k}"}  # a new cue folder: no reuse by hash
            started = time.perf_counter()
            wait_for(client, client.post("/jobs", json=body).json()["id"])
            took_service = time.perf_counter() - started
            if k:  # the first round warms both
                in_process.append(took_in_process)
                service.append(took_service)
        long_job = client.post(
            "/jobs", json={"scenes": [{**SCENE, "duration_s": 60.0}], "cue_dir": "c"}
        ).json()
        while "generate" not in client.get(f"/jobs/{long_job['id']}").json()["stage"]:
            time.sleep(0.02)
        time.sleep(0.3)
        asked = time.perf_counter()
        client.post(f"/jobs/{long_job['id']}/cancel")
        wait_for(client, long_job["id"])
        cancel_s = time.perf_counter() - asked
    return service, in_process, cancel_s


def run() -> dict:
    from tests.service_process import EngineProcess

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = EngineProcess(root / "state", root / "cues").start()
        try:
            service, in_process, cancel_s = _measure(engine, root)
        finally:
            engine.stop()
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
