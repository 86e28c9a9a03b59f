"""The engine's HTTP API layer: token, path rules, bounds, and no 5xx on anything the schema allows.

The worker thread is not started here, so jobs stay queued: these tests exercise the API itself;
tests/test_service_process.py runs the real service process end to end.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from engine.api import score_request_from_dict, shot_picture_from_dict
from engine.service.app import create_app
from engine.service.store import JobStore
from engine.service.worker import Worker

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(tmp_path):
    store = JobStore(tmp_path / "state" / "jobs.sqlite")
    worker = Worker(store)  # not started: jobs stay queued
    return create_app(store, worker, token=TOKEN, cue_root=tmp_path / "cues"), store


@pytest.fixture
def client(tmp_path):
    (tmp_path / "cues").mkdir()
    app, _ = make_app(tmp_path)
    with TestClient(app) as c:
        yield c


def job_body(**overrides):
    body = {"scenes": [{"index": 0, "name": "a", "duration_s": 1.5}], "cue_dir": "proj"}
    body.update(overrides)
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}])
@pytest.mark.parametrize(
    "method,path", [("GET", "/health"), ("GET", "/info"), ("POST", "/jobs"), ("GET", "/openapi.json")]
)
def test_missing_or_wrong_token_is_401(client, headers, method, path):
    response = client.request(method, path, headers=headers, json=job_body())
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_health_with_token(client):
    response = client.get("/health", headers=AUTH)
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize("cue_dir", ["../escape", "a/../../escape", "/etc", "/tmp"])
def test_cue_dir_traversal_is_400(client, cue_dir):
    response = client.post("/jobs", headers=AUTH, json=job_body(cue_dir=cue_dir))
    assert response.status_code == 400
    assert "outside the engine's cue root" in response.json()["detail"]


def test_symlink_escape_is_400(client, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "cues" / "sneaky")
    response = client.post("/jobs", headers=AUTH, json=job_body(cue_dir="sneaky/sub"))
    assert response.status_code == 400


def test_missing_media_is_400(client, tmp_path):
    scene = {
        "index": 0,
        "name": "a",
        "duration_s": 1.0,
        "media": {"path": str(tmp_path / "x.mp4"), "start_s": 0, "end_s": 1},
    }
    response = client.post("/jobs", headers=AUTH, json=job_body(scenes=[scene]))
    assert response.status_code == 400 and "not found" in response.json()["detail"]


def test_bounds(client):
    too_many = [{"index": i, "duration_s": 1.0} for i in range(501)]
    assert client.post("/jobs", headers=AUTH, json=job_body(scenes=too_many)).status_code == 422
    assert (
        client.post(
            "/jobs", headers=AUTH, json=job_body(scenes=[{"index": 0, "duration_s": 4000}])
        ).status_code
        == 422
    )
    dupes = [{"index": 0, "duration_s": 1.0}, {"index": 0, "duration_s": 1.0}]
    assert client.post("/jobs", headers=AUTH, json=job_body(scenes=dupes)).status_code == 400
    huge = client.post(
        "/jobs", headers={**AUTH, "content-type": "application/json"}, content=b"[" + b"1," * 600_000 + b"1]"
    )
    assert huge.status_code == 413


def test_submit_status_cancel_and_regenerate_shape(client):
    job = client.post("/jobs", headers=AUTH, json=job_body()).json()
    assert job["status"] == "queued"
    assert client.get(f"/jobs/{job['id']}", headers=AUTH).json()["id"] == job["id"]
    assert client.get(f"/jobs/{job['id']}/results", headers=AUTH).status_code == 409
    regen = client.post(f"/jobs/{job['id']}/regenerate", headers=AUTH, json={"cue_index": 0})
    assert regen.status_code == 202
    assert (
        client.post(f"/jobs/{job['id']}/regenerate", headers=AUTH, json={"cue_index": 9}).status_code == 404
    )
    cancelled = client.post(f"/jobs/{job['id']}/cancel", headers=AUTH).json()
    assert cancelled["status"] == "cancelled"
    assert client.get("/jobs/nope", headers=AUTH).status_code == 404


def test_no_server_errors_anywhere_in_the_schema(tmp_path):
    """Property test over every operation of the OpenAPI schema: generated requests never get a 5xx."""
    (tmp_path / "cues").mkdir(exist_ok=True)
    app, _ = make_app(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_5xx(case):
            # a generous read timeout: jobs the fuzzer submitted run on the worker thread beside
            # it, and on a loaded 2-core machine a cheap GET waited past the default 10 s
            response = case.call(headers=AUTH, timeout=120)
            assert response.status_code < 500, (case.path, case.body, response.text)

        no_5xx()


def _program_scene(media: str, **extra) -> dict:
    """A two-shot cue in engine.api's JSON form (what vm_editor sends)."""
    segments = [
        {
            "path": media,
            "source_start_s": 0.0,
            "source_end_s": 1.0,
            "record_start_s": 0.0,
            "record_end_s": 1.0,
        },
        {
            "path": None,
            "source_start_s": 0.0,
            "source_end_s": 0.0,
            "record_start_s": 1.0,
            "record_end_s": 1.5,
        },
    ]
    program = {"duration_s": 1.5, "segments": segments, "edit_points": [{"at_s": 1.0}], "markers_s": [0.5]}
    return {"index": 0, "name": "a", "duration_s": 1.5, "program": program, **extra}


def test_program_handle_and_continuation_reach_the_job(tmp_path, shots_video):
    (tmp_path / "cues").mkdir()
    app, store = make_app(tmp_path)
    tokens = tmp_path / "prev.tokens.npy"
    tokens.write_bytes(b"\x93NUMPY")
    scene = _program_scene(
        str(shots_video), handle_s=1.0, continue_from={"at_s": 2.0, "tokens_path": str(tokens)}
    )
    with TestClient(app) as client:
        response = client.post("/jobs", headers=AUTH, json=job_body(scenes=[scene], hits=False))
    assert response.status_code == 202, response.text
    request = score_request_from_dict(store.get(response.json()["id"]).request)
    (got,) = request.scenes
    assert got.program.segments[1].path is None and got.program.edit_points[0].at_s == 1.0
    assert got.program.markers_s == (0.5,) and got.handle_s == 1.0
    assert got.continue_from.tokens_path == str(tokens) and got.continue_from.at_s == 2.0
    assert request.hits is False


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda s: s["program"]["segments"].pop(), "not at the cue's end"),
        (lambda s: s["program"]["segments"][0].update(record_end_s=0.7), "tile"),
        (lambda s: s["program"].update(duration_s=3.0), "lasts"),
        (lambda s: s["program"]["segments"][0].update(path="/nowhere/x.mp4"), "not found"),
        (lambda s: s["program"]["segments"][0].update(bogus=1), "malformed"),
        (lambda s: s.update(continue_from={"at_s": 1.0, "tokens_path": "/etc/passwd"}), ".tokens.npy"),
    ],
)
def test_bad_programs_are_400_naming_the_cue(client, shots_video, change, message):
    scene = _program_scene(str(shots_video))
    change(scene)
    response = client.post("/jobs", headers=AUTH, json=job_body(scenes=[scene]))
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"] and "cue 0" in response.json()["detail"]


def test_world_changes_reach_the_job_and_shots_pictures_measures_each_shot(tmp_path, shots_video):
    (tmp_path / "cues").mkdir()
    app, store = make_app(tmp_path)
    scene = _program_scene(str(shots_video))
    scene["program"]["world_changes_s"] = [0.0, 1.0]
    shots = [dict(seg, record_start_s=0.0, record_end_s=1.0) for seg in scene["program"]["segments"]]
    with TestClient(app) as client:
        response = client.post("/jobs", headers=AUTH, json=job_body(scenes=[scene]))
        looks = client.post("/shots/pictures", headers=AUTH, json={"shots": shots})
    assert response.status_code == 202, response.text
    (got,) = score_request_from_dict(store.get(response.json()["id"]).request).scenes
    assert got.program.world_changes_s == (0.0, 1.0)
    assert looks.status_code == 200, looks.text
    first, black = looks.json()["pictures"]
    assert black is None and set(first) == {"luma", "contrast", "saturation", "colour", "hues", "motion"}
    assert shot_picture_from_dict(first).hues == tuple(first["hues"])  # what ServiceEngine returns
    assert (
        0.0 < first["luma"] < 1.0
        and first["colour"] > 0.5
        and sum(first["hues"]) == pytest.approx(1.0, abs=1e-3)
    )
