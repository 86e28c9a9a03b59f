"""The engine's HTTP JSON API (FastAPI, so the OpenAPI schema is the code's own).

Every request needs the per-launch bearer token; bodies are bounded; media must be readable
files and cue folders must stay inside the cue root. Bad input is 400/404/409/413/422, never 5xx.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, model_validator

from engine import __version__
from engine.api import (
    API_VERSION,
    MAX_BODY_BYTES,
    MAX_HIT_POINTS,
    MAX_SCENE_S,
    MAX_SCENES,
    MAX_TEXT_CHARS,
    MAX_TOTAL_S,
    ProgramSegmentSpec,
    RefitRequest,
    SceneRequest,
    ScoreRequest,
    check_refit,
    check_scene,
    check_shots,
    control_error,
    cue_from_dict,
    refit_request_from_dict,
    request_hash,
    scene_from_dict,
    score_request_from_dict,
)
from engine.errors import EngineInputError
from engine.media import check_program_media
from engine.presets import available_presets
from engine.service.paths import PathNotAllowed, check_media_path, resolve_cue_dir
from engine.service.request_guard import RequestGuard, one_line_validation_error
from engine.service.store import TERMINAL, JobRecord, JobStore
from engine.service.worker import Worker

MAX_NAME_BYTES = 120  # score_name goes into every cue's file name (255 bytes at most)
REGENERATE_PRIORITY = 10
_SEED = Field(default=None, ge=0, le=2**31 - 1)


class MediaIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096)
    start_s: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    end_s: float = Field(ge=0, le=1e6, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> MediaIn:
        if self.end_s <= self.start_s:
            raise ValueError("media end_s must be after start_s")
        return self


class SceneIn(BaseModel):
    index: int = Field(ge=0, le=100_000)
    name: str = Field(default="scene", max_length=MAX_TEXT_CHARS)
    duration_s: float = Field(gt=0, le=MAX_SCENE_S, allow_inf_nan=False)
    media: MediaIn | None = None
    hit_points_s: list[float] = Field(default_factory=list, max_length=MAX_HIT_POINTS)
    seed: int | None = _SEED
    prompt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    take: int = Field(default=1, ge=1, le=100_000)
    guidance: float | None = Field(default=None, ge=0.0, le=20.0, allow_inf_nan=False)
    # the program, handle and continuation travel as engine.api's JSON form and are checked by
    # converting them to its dataclasses (engine.api.check_scene): one schema, not a second copy
    program: dict[str, Any] | None = None
    handle_s: float = Field(default=0.0, ge=0.0, le=10.0, allow_inf_nan=False)
    continue_from: dict[str, Any] | None = None
    ends: bool = False  # nothing continues this cue: it closes on a cadence (engine.api.SceneRequest)
    # explicit controls (engine.api.CUE_MOODS, CUE_ENERGIES), checked by check_scene; None: the prompt's words
    mood: str | None = Field(default=None, max_length=40)
    energy: str | None = Field(default=None, max_length=40)


class ScoreJobIn(BaseModel):
    scenes: list[SceneIn] = Field(min_length=1, max_length=MAX_SCENES)
    cue_dir: str | None = Field(default=None, max_length=4096)
    preset: str = Field(default="tiny", max_length=100)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    prompt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    score_name: str = Field(default="score", min_length=1, max_length=200)
    hits: bool = True
    stems: bool = False  # also one WAV per stream beside each cue


class ConditioningIn(BaseModel):
    scene: SceneIn
    preset: str = Field(default="tiny", max_length=100)


class ShotsIn(BaseModel):
    shots: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_SCENES)
    preset: str = Field(default="tiny", max_length=100)


def _checked_shots(body: ShotsIn) -> tuple[ProgramSegmentSpec, ...]:
    """The shots of a request as engine.api's specs, each media path checked."""
    try:
        shots = tuple(ProgramSegmentSpec(**shot) for shot in body.shots)
    except TypeError as exc:
        raise EngineInputError(f"a shot is malformed ({exc}); send ProgramSegmentSpec fields") from exc
    try:
        check_shots(shots)
    except ValueError as exc:
        raise EngineInputError(str(exc)) from None
    for shot in shots:
        if shot.path is not None:
            check_media_path(shot.path)
    return shots


class RefitIn(BaseModel):
    """engine.api.RefitRequest's JSON form; converted and checked by the api (one schema)."""

    cue: dict[str, Any]
    index: int = Field(ge=0, le=100_000)
    name: str = Field(default="cue", max_length=MAX_TEXT_CHARS)
    duration_s: float = Field(gt=0, le=MAX_SCENE_S, allow_inf_nan=False)
    anchors: list[list[float]] = Field(min_length=1, max_length=1000)
    cue_dir: str | None = Field(default=None, max_length=4096)
    score_name: str = Field(default="score", min_length=1, max_length=200)
    source_hash: str = Field(default="", max_length=64)
    program: dict[str, Any] | None = None
    continue_from: dict[str, Any] | None = None


def _validated_refit(body: RefitIn, cue_root: Path) -> RefitRequest:
    check_text(body.model_dump())
    if len(body.score_name.encode("utf-8")) > MAX_NAME_BYTES:
        raise PathNotAllowed(f"score_name: at most {MAX_NAME_BYTES} bytes (it names the cue file)")
    data = body.model_dump()
    data["cue_dir"] = str(resolve_cue_dir(cue_root, body.cue_dir))
    try:
        request = refit_request_from_dict(data)
        check_refit(request)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EngineInputError(f"re-fit of cue {body.index}: {exc}") from exc
    if request.cue.preset not in available_presets():
        raise EngineInputError(f"unknown preset {request.cue.preset!r}; choose one of {available_presets()}")
    cont = request.continue_from
    for path in (request.cue.tokens_path, cont.tokens_path if cont is not None else None):
        if path is None:
            continue
        if not path.endswith(".tokens.npy"):
            raise EngineInputError(f"cue {body.index}: tokens paths must be a cue's .tokens.npy")
        check_media_path(path)
    return request


class RegenerateIn(BaseModel):
    cue_index: int = Field(ge=0, le=100_000)
    seed: int | None = _SEED
    prompt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    mood: str | None = Field(default=None, max_length=40)  # None: as the cue was scored
    energy: str | None = Field(default=None, max_length=40)


class PreviewIn(MediaIn):
    points: int = Field(default=120, ge=8, le=2000)


class JobOut(BaseModel):
    id: str
    status: str
    progress: float
    stage: str  # one of engine.api.STAGES (or "" before the first event)
    event: dict | None  # the last engine.api.ProgressEvent, field by field
    error: str | None
    warnings: list[str]
    cues: list[dict]
    created: float
    updated: float


def _job_out(store: JobStore, job: JobRecord) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status,
        progress=job.progress,
        stage=job.stage,
        event=job.event,
        error=job.error,
        warnings=job.warnings,
        cues=store.cues(job.id),
        created=job.created,
        updated=job.updated,
    )


def check_text(value, where: str = "body") -> None:
    """Every string must be real UTF-8 text (a lone surrogate cannot be stored or written)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise EngineInputError(f"{where}: is not valid UTF-8 text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(item, f"{where}.{key}" if where != "body" else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_text(item, f"{where}.{i}")


def _checked_scene(scene: SceneRequest) -> SceneRequest:
    """The api's own consistency rules, then the files the engine would read."""
    try:
        check_scene(scene)
    except ValueError as exc:
        raise EngineInputError(str(exc)) from exc
    cont = scene.continue_from
    if cont is not None and cont.tokens_path is not None and not cont.tokens_path.endswith(".tokens.npy"):
        raise EngineInputError(f"cue {scene.index}: continue_from.tokens_path must be a cue's .tokens.npy")
    paths = [seg.path for seg in scene.cue_program().segments if seg.path is not None]
    if cont is not None and cont.tokens_path:
        paths.append(cont.tokens_path)
    try:
        for path in paths:
            check_media_path(path)
    except PathNotAllowed as exc:
        raise PathNotAllowed(f"cue {scene.index} ({scene.name!r}): {exc}") from exc
    return scene


def _scene(data: dict[str, Any]) -> SceneRequest:
    try:
        return scene_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise EngineInputError(
            f"cue {data.get('index')}: program or continue_from is malformed ({exc!r}); "
            "send engine.api's JSON form"
        ) from exc


def _validated_request(body: ScoreJobIn, cue_root: Path) -> ScoreRequest:
    check_text(body.model_dump())
    if len(body.score_name.encode("utf-8")) > MAX_NAME_BYTES:
        raise PathNotAllowed(
            f"score_name: {len(body.score_name.encode('utf-8'))} bytes, at most {MAX_NAME_BYTES} "
            "(it names every cue file); use a shorter name"
        )
    if body.preset not in available_presets():
        raise EngineInputError(f"unknown preset {body.preset!r}; choose one of {available_presets()}")
    indices = [s.index for s in body.scenes]
    if len(set(indices)) != len(indices):
        raise EngineInputError("scene indices must be unique")
    if sum(s.duration_s for s in body.scenes) > MAX_TOTAL_S:
        raise EngineInputError(f"the request is longer than {MAX_TOTAL_S / 3600:g} hours; split it")
    if any(not math.isfinite(t) for s in body.scenes for t in s.hit_points_s):
        raise EngineInputError("hit points must be finite numbers")
    for scene in body.scenes:
        if scene.media is not None:
            check_media_path(scene.media.path)
        _checked_scene(_scene(scene.model_dump()))
    data = body.model_dump()
    data["cue_dir"] = str(resolve_cue_dir(cue_root, body.cue_dir))
    request = score_request_from_dict(data)
    check_program_media(request.scenes)  # a clip past its media's end: 400 now, not a failed job
    return request


def create_app(
    store: JobStore, worker: Worker, *, token: str, cue_root: Path, build: str | None = None
) -> FastAPI:
    app = FastAPI(title="VidMusician engine", version=__version__, docs_url=None, redoc_url=None)

    app.add_middleware(RequestGuard, token=token, max_body=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        return JSONResponse({"detail": one_line_validation_error(exc.errors())}, status_code=422)

    @app.exception_handler(EngineInputError)
    async def bad_input(_: Request, exc: EngineInputError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def job_or_404(job_id: str) -> JobRecord:
        job = store.get(job_id) if len(job_id) <= 64 and job_id.isascii() and "\0" not in job_id else None
        if job is None:
            shown = job_id if len(job_id) <= 64 else job_id[:64] + f"... ({len(job_id)} characters)"
            raise HTTPException(404, f"no job {shown!r}")
        return job

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/info")
    def info() -> dict:
        import torch

        return {
            "version": __version__,
            "presets": available_presets(),
            "device": "cuda" if torch.cuda.is_available() else "cpu",
            "warm": sorted(worker.warm_presets),
            "cue_root": str(cue_root),
            "api_version": API_VERSION,
            "jobs": store.counts(),
            "build": build,  # engine.build_id's fingerprint of what this engine started from
        }

    @app.post("/jobs", status_code=202)
    def submit(body: ScoreJobIn) -> JobOut:
        request = _validated_request(body, cue_root)
        key = request_hash(request)
        previous = store.find_done(key)
        if previous is not None and all(Path(c["wav_path"]).is_file() for c in store.cues(previous.id)):
            return _job_out(store, previous)
        job = store.create(json.loads(json.dumps(dataclasses.asdict(request))), key)
        worker.wake()
        return _job_out(store, job)

    @app.get("/jobs/{job_id}")
    def status(job_id: str) -> JobOut:
        return _job_out(store, job_or_404(job_id))

    @app.post("/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> JobOut:
        job_or_404(job_id)
        worker.cancel(job_id)
        return _job_out(store, store.request_cancel(job_id))

    @app.get("/jobs/{job_id}/results")
    def results(job_id: str) -> JobOut:
        job = job_or_404(job_id)
        if job.status != "done":
            raise HTTPException(409, f"job {job_id} is {job.status}, not done")
        return _job_out(store, job)

    @app.post("/jobs/{job_id}/regenerate", status_code=202)
    def regenerate(job_id: str, body: RegenerateIn) -> JobOut:
        check_text(body.model_dump())
        problem = control_error(body.mood, body.energy)
        if problem is not None:
            raise EngineInputError(f"cue {body.cue_index}: {problem}")
        job = job_or_404(job_id)
        original = score_request_from_dict(job.request)
        scene = next((s for s in original.scenes if s.index == body.cue_index), None)
        if scene is None:
            raise HTTPException(404, f"job {job_id} has no cue {body.cue_index}")
        previous = next((c for c in store.cues(job_id) if c["index"] == body.cue_index), None)
        old_seed = cue_from_dict(previous).seed if previous else (scene.seed or 0)
        new_scene = dataclasses.replace(
            scene,
            seed=body.seed if body.seed is not None else (old_seed + 1) % (2**31 - 1),
            prompt=body.prompt if body.prompt is not None else scene.prompt,
            mood=body.mood if body.mood is not None else scene.mood,
            energy=body.energy if body.energy is not None else scene.energy,
            take=scene.take + 1,
        )
        request = dataclasses.replace(original, scenes=(new_scene,))
        created = store.create(
            json.loads(json.dumps(dataclasses.asdict(request))), request_hash(request), REGENERATE_PRIORITY
        )
        worker.wake()
        return _job_out(store, created)

    @app.post("/refit")
    def refit(body: RefitIn) -> dict:
        """A finished cue's notes re-timed onto a recut span and rendered (fast: no model runs)."""
        from engine.refit import refit_cue

        return dataclasses.asdict(refit_cue(_validated_refit(body, cue_root)))

    @app.post("/media/preview")
    def preview(body: PreviewIn) -> dict:
        """What the panel shows per scene before scoring: a still, the rhythm curve, the cuts."""
        from engine.preview import media_preview

        check_media_path(body.path)
        return dataclasses.asdict(media_preview(body.path, body.start_s, body.end_s, body.points))

    @app.post("/conditioning")
    def conditioning(body: ConditioningIn) -> dict:
        """What the generator conditions one cue on (`vm-editor rhythm --cue K --json`)."""
        from engine.program_features import conditioning

        scene = _checked_scene(_scene(body.scene.model_dump()))
        check_program_media([scene])
        return dataclasses.asdict(conditioning(scene.cue_program(), preset=body.preset))

    @app.post("/shots/embeddings")
    def shot_embeddings(body: ShotsIn) -> dict:
        """One mean CLS embedding per shot (empty for black): the auto cue plan's meaning changes."""
        from engine.program_features import shot_embeddings

        return {"embeddings": shot_embeddings(_checked_shots(body), preset=body.preset)}

    @app.post("/shots/pictures")
    def shot_pictures(body: ShotsIn) -> dict:
        """What each shot looks like (null for black): the auto cue plan's world changes."""
        from engine.picture_stats import shot_pictures

        found = shot_pictures(_checked_shots(body))
        return {"pictures": [None if p is None else dataclasses.asdict(p) for p in found]}

    @app.get("/jobs/{job_id}/events")
    async def events(job_id: str) -> StreamingResponse:
        job_or_404(job_id)

        async def stream():
            last = None
            while True:
                job = store.get(job_id)
                snapshot = (job.status, round(job.progress, 3), job.stage)
                if snapshot != last:
                    last = snapshot
                    payload = {
                        "status": job.status,
                        "progress": job.progress,
                        "stage": job.stage,
                        "event": job.event,
                    }
                    yield f"data: {json.dumps(payload)}\n\n"
                if job.status in TERMINAL:
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app
