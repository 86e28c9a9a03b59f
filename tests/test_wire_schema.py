"""engine.api is the one wire schema: every contract type has a codec that round-trips, refuses
bad input naming the field, and the service validates with it (no pydantic models of its own)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import typing
from pathlib import Path

import pytest

import engine.api as api
from engine.api import (
    DECODERS,
    ConditioningRequest,
    Continuation,
    CueConditioning,
    CueKey,
    CueProgram,
    CueResult,
    CueTempo,
    EditPointSpec,
    EngineInfo,
    Job,
    MediaRange,
    Preview,
    PreviewRequest,
    ProgramSegmentSpec,
    ProgressEvent,
    RefitRequest,
    RegenerateRequest,
    SceneRequest,
    SchemaError,
    ScoreRequest,
    ScoreResult,
    ShotPicture,
    ShotsRequest,
    from_dict,
    to_dict,
)

ROOT = Path(__file__).resolve().parents[1]

SEGMENT = ProgramSegmentSpec("/m/a.mov", 2.0, 4.0, 0.0, 2.0, 1.0, "A")
BLACK = ProgramSegmentSpec(None, 0.0, 0.0, 2.0, 3.0, 0.0)
PROGRAM = CueProgram(
    3.0, (SEGMENT, BLACK), (EditPointSpec(2.0), EditPointSpec(1.0, 0.5, 1.5)), (0.5,), (0.0, 2.0)
)
TEMPO = CueTempo(96.0, 0.25, 3, 4)
KEY = CueKey(2, "dorian", (0, 2, 4, 5, 7, 9, 11))
CONT = Continuation(4.0, "/c/prev.tokens.npy", None, TEMPO, KEY)
SCENE = SceneRequest(
    index=3, name="chase", duration_s=3.0, media=MediaRange("/m/a.mov", 2.0, 5.0), hit_points_s=(1.0, 2.0),
    seed=7, prompt="taut strings", take=2, guidance=3.5, program=PROGRAM, handle_s=1.0,
    continue_from=CONT, ends=True, mood="tension", energy="high",
)  # fmt: skip
CUE = CueResult(
    index=3, name="chase", wav_path="/c/chase.wav", duration_s=3.0, num_samples=144_000, sample_rate=48_000,
    preset="tiny", seed=7, prompt="taut strings", take=2, source_hash="abc", engine_version="1.0",
    model_trained=True, guidance=3.5, handle_s=1.0, tokens_path="/c/chase.tokens.npy", hits=False,
    stems={"drums": "/c/chase.drums.wav"}, starts_world=True, world_changes_s=(0.0,), program=PROGRAM,
    continued_from="/c/prev.tokens.npy", mood="tension", energy="high", tempo=TEMPO, key=KEY,
    hit_points_s=(1.0, 2.0),
)  # fmt: skip
EVENT = ProgressEvent(3, 1, 2, "chase", "done", 0.5, 1.25, CUE)

SAMPLES = [
    MediaRange("/m/a.mov", 0.0, 1.5),
    SEGMENT,
    EditPointSpec(1.0, 0.5, 1.5),
    PROGRAM,
    ShotPicture(0.4, 0.2, 0.3, 0.9, (0.5, 0.5, 0.0), 0.1),
    TEMPO,
    KEY,
    CONT,
    SCENE,
    ScoreRequest((SCENE, SceneRequest(4, "b", 1.0)), "proj", "tiny", 5, "noir", "cut 2", False, True),
    CUE,
    ScoreResult((CUE,), ("a warning",)),
    RefitRequest(CUE, 3, "chase", 2.9, ((0.0, 0.0), (2.0, 1.95)), "proj", "cut 2", "def", PROGRAM, CONT),
    EVENT,
    Job("j1", "running", 0.5, EVENT, None, ("w",), (CUE,), "generate", 1.0, 2.0),
    CueConditioning(25, (0.0, 1.0), (0.0,), (1.0,), 3),
    Preview((0.1, 0.2), (1.0,), "iVBOR"),
    EngineInfo("1.0", 2, ("tiny",), "cpu", ("tiny",), 3, "b1"),
    RegenerateRequest(3, 9, "brighter", "uplift", "low"),
    ShotsRequest((SEGMENT, BLACK), "tiny"),
    ConditioningRequest(SCENE, "tiny"),
    PreviewRequest("/m/a.mov", 1.0, 2.0, 64),
]


def test_every_contract_dataclass_has_a_codec_and_a_sample():
    contract = {
        obj
        for obj in vars(api).values()
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and obj.__module__ == api.__name__
    }
    assert contract == set(DECODERS)
    assert {type(s) for s in SAMPLES} == contract


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_every_contract_type_round_trips_through_its_codec(sample):
    assert from_dict(type(sample), to_dict(sample)) == sample


def test_statuses_are_literals_and_the_codec_holds_them():
    hints = typing.get_type_hints(Job)
    assert typing.get_args(hints["status"]) == api.JOB_STATUSES
    assert typing.get_args(typing.get_type_hints(ProgressEvent)["stage"]) == api.STAGES
    with pytest.raises(SchemaError, match=r"^status: must be one of queued"):
        from_dict(Job, {**to_dict(SAMPLES[14]), "status": "exploded"})
    with pytest.raises(SchemaError, match=r"^stage: must be one of"):
        from_dict(ProgressEvent, {**to_dict(EVENT), "stage": "thinking"})


def _scene(**change) -> dict:
    return {**to_dict(SCENE), **change}


def _request(*scenes: dict, **change) -> dict:
    return {"scenes": list(scenes) or [_scene()], "cue_dir": "proj", **change}


@pytest.mark.parametrize(
    "kind,data,path,words",
    [
        (ScoreRequest, _request(_scene(), _scene(hit_points_s=[1.0, float("nan")])), "scenes.1.hit_points_s.1", "finite"),
        (ScoreRequest, _request(_scene(duration_s=4000)), "scenes.0.duration_s", "at most 3600"),
        (ScoreRequest, _request(_scene(duration_s="4")), "scenes.0.duration_s", "got '4'"),
        (ScoreRequest, _request(_scene(index=True)), "scenes.0.index", "whole number"),
        (ScoreRequest, _request(_scene(name="a\udcffb")), "scenes.0.name", "valid string"),
        (ScoreRequest, _request(_scene(seed=2**31)), "scenes.0.seed", "at most"),
        (ScoreRequest, _request(_scene(ends="yes")), "scenes.0.ends", "true or false"),
        (ScoreRequest, _request(_scene(media={"path": "/m", "start_s": 2, "end_s": 1})), "scenes.0.media", "after"),
        (ScoreRequest, {"scenes": [_scene()] * 501}, "scenes", "at most 500 items (got 501)"),
        (ScoreRequest, {"scenes": []}, "scenes", "at least 1"),
        (ScoreRequest, {"cue_dir": "x"}, "scenes", "required"),
        (ScoreRequest, _request(cue_dir="d" * 5000), "cue_dir", "4096"),
        (ScoreRequest, [], "", "JSON object"),  # the whole body: "body: ..."
        (SceneRequest, {**to_dict(SCENE), "program": {**to_dict(PROGRAM), "segments": [{"bogus": 1}]}},
         "program.segments.0.bogus", "malformed"),
        (SceneRequest, {**to_dict(SCENE), "continue_from": {"at_s": 1.0, "key": {"tonic": 12, "mode": "x", "notes": []}}},
         "continue_from.key.notes", "seven"),
        (RefitRequest, {**to_dict(SAMPLES[12]), "anchors": [[0, 0], [1]]}, "anchors.1", "at least 2"),
        (RefitRequest, {**to_dict(SAMPLES[12]), "cue": {**to_dict(CUE), "stems": {"drums": 3}}}, "cue.stems.drums", "string"),
        (ShotsRequest, {"shots": [to_dict(SEGMENT), {**to_dict(SEGMENT), "speed": float("inf")}]}, "shots.1.speed", "finite"),
        (RegenerateRequest, {"cue_index": -1}, "cue_index", "at least 0"),
        (PreviewRequest, {"path": "/m", "start_s": 0, "end_s": 1, "points": 3}, "points", "at least 8"),
        (CueTempo, {"bpm": 90, "downbeat_s": "nan"}, "downbeat_s", "finite"),
        (EngineInfo, {"version": "1", "jobs": {"queued": "2"}}, "jobs.queued", "whole number"),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_naming_the_field(kind, data, path, words):
    with pytest.raises(SchemaError) as caught:
        from_dict(kind, data)
    assert caught.value.path.endswith(path), str(caught.value)
    assert str(caught.value).startswith(f"{caught.value.path or 'body'}: ") and words in str(caught.value)
    assert isinstance(caught.value, ValueError)  # callers that caught the old ValueErrors still do


def test_the_recorded_cue_reads_back_through_the_api():
    record = {**CUE.metadata(), "scene_name": "chase"}
    again = api.cue_from_record(record, wav_path=CUE.wav_path, duration_s=CUE.duration_s)
    assert again == CUE
    record.update(hits="False", starts_world="", tempo={"bpm": "x"}, program={"segments": "?"})
    odd = api.cue_from_record(record, wav_path=CUE.wav_path, duration_s=CUE.duration_s)
    assert (odd.hits, odd.starts_world, odd.tempo, odd.program) == (False, False, None, None)
    record.update(seed="x", take="3", guidance="nan", handle_s=None, stems=True)
    odd = api.cue_from_record(record, wav_path=CUE.wav_path, duration_s=CUE.duration_s)
    assert (odd.seed, odd.take, odd.guidance, odd.handle_s, odd.stems) == (0, 3, None, 0.0, {})


def test_the_record_types_table_holds_what_the_record_writes():
    """An editor refuses a damaged record by `CUE_RECORD_TYPES`: every field it names is written,
    with a value of one of its types (a field dropped from the record or retyped fails here)."""
    record = CUE.metadata()
    for key, types in api.CUE_RECORD_TYPES.items():
        assert key in record and isinstance(record[key], types), key


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_service_has_no_schema_of_its_own():
    app = ROOT / "engine" / "service" / "app.py"
    assert not any(name.split(".")[0] == "pydantic" for name in _imports(app))
    tree = ast.parse(app.read_text(encoding="utf-8"))
    bases = {ast.unparse(b) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for b in node.bases}
    assert not bases & {"BaseModel", "pydantic.BaseModel"}


def test_the_api_stays_standard_library():
    outside = {
        name
        for name in _imports(ROOT / "engine" / "api.py")
        if name.split(".")[0] not in sys.stdlib_module_names and name != "engine.timebase"
    }
    assert outside == set()


def test_the_service_answers_a_codec_refusal_with_the_field(tmp_path):
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.store import JobStore
    from engine.service.worker import Worker

    (tmp_path / "cues").mkdir()
    store = JobStore(tmp_path / "jobs.sqlite")
    auth = {"Authorization": "Bearer t"}
    with TestClient(create_app(store, Worker(store), token="t", cue_root=tmp_path / "cues")) as client:
        job = client.post("/jobs", headers=auth, json={"scenes": [{"index": 0, "duration_s": 1.0}]}).json()
        regen = client.post(f"/jobs/{job['id']}/regenerate", headers=auth, json={"cue_index": 0, "seed": -2})
        shots = client.post("/shots/pictures", headers=auth, json={"shots": [{"path": None}]})
        preview = client.post("/media/preview", headers=auth, json={"path": "/m", "start_s": 0, "end_s": "1"})
        status = client.get(f"/jobs/{job['id']}", headers=auth).json()
    store.close()
    assert regen.status_code == 422 and regen.json()["detail"].startswith("seed: at least 0")
    assert shots.status_code == 400 and shots.json()["detail"].startswith(
        "shots.0.source_start_s: is required"
    )
    assert preview.status_code == 422 and "end_s" in preview.json()["detail"]
    assert from_dict(Job, status).id == job["id"]  # the job's JSON is engine.api.Job's
