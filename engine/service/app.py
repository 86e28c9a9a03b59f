"""The engine's HTTP JSON API (FastAPI for routing; engine.api's codecs are the only schema).

Every request needs the per-launch bearer token; bodies are bounded; media must be readable
files and cue folders must stay inside the cue root. Bad input is 400/404/409/413/422, never 5xx.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from engine import __version__
from engine.api import (
    API_VERSION,
    MAX_BODY_BYTES,
    MAX_TOTAL_S,
    ConditioningRequest,
    Job,
    PreviewRequest,
    ProgramSegmentSpec,
    RefitRequest,
    RegenerateRequest,
    SceneRequest,
    SchemaError,
    ScoreRequest,
    ShotsRequest,
    check_refit,
    check_scene,
    check_shots,
    control_error,
    cue_from_dict,
    from_dict,
    progress_from_dict,
    request_hash,
    score_request_from_dict,
    to_dict,
)
from engine.errors import EngineInputError
from engine.media import check_program_media
from engine.presets import available_presets
from engine.service.paths import PathNotAllowed, check_media_path, resolve_cue_dir
from engine.service.request_guard import MAX_DETAIL_CHARS, RequestGuard, one_line_validation_error
from engine.service.store import TERMINAL, JobRecord, JobStore
from engine.service.worker import Worker

MAX_NAME_BYTES = 120  # score_name goes into every cue's file name (255 bytes at most)
REGENERATE_PRIORITY = 10
T = TypeVar("T")
# a JSON object; FastAPI checks only that much, engine.api's codec reads the rest
JsonObject = Annotated[dict[str, Any], Body()]
# parts of a request that always travelled in engine.api's own form and were refused by its rules
# (400 naming the cue); a field around them that does not fit the contract is a 422, as before
_API_FORM_PARTS = frozenset({"program", "continue_from", "cue", "shots"})


class NotTheContract(Exception):
    """A body engine.api's codec refused: the HTTP status and the one-line reason."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _decoded(kind: type[T], body: dict[str, Any], cue_in: str | None = None) -> T:
    """`body` as engine.api's `kind`; a refusal names the field (and the cue, where one holds it).
    `cue_in` is where the body's scenes are ("scenes": a list of them, "scene": one)."""
    try:
        return from_dict(kind, body)
    except SchemaError as exc:
        parts = exc.path.split(".")
        status = 400 if _API_FORM_PARTS & set(parts) else 422
        prefix, scene = "", None
        if cue_in == "scenes" and len(parts) > 1 and parts[1].isdigit():
            scene = body["scenes"][int(parts[1])]
        elif cue_in == "scene" or kind is RefitRequest:
            scene = body.get("scene") if cue_in == "scene" else body
        index = scene.get("index") if isinstance(scene, dict) else None
        if status == 400 and isinstance(index, int) and not isinstance(index, bool):
            prefix = f"re-fit of cue {index}: " if kind is RefitRequest else f"cue {index}: "
        raise NotTheContract(status, " ".join(f"{prefix}{exc}".split())[:MAX_DETAIL_CHARS]) from None


def _checked_shots(body: ShotsRequest) -> tuple[ProgramSegmentSpec, ...]:
    """The shots of a request, each media path checked."""
    try:
        check_shots(body.shots)
    except ValueError as exc:
        raise EngineInputError(str(exc)) from None
    for shot in body.shots:
        if shot.path is not None:
            check_media_path(shot.path)
    return body.shots


def _check_name(score_name: str) -> None:
    size = len(score_name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise PathNotAllowed(
            f"score_name: {size} bytes, at most {MAX_NAME_BYTES} (it names every cue file); use a shorter name"
        )


def _validated_refit(body: dict[str, Any], cue_root: Path) -> RefitRequest:
    request = _decoded(RefitRequest, body)
    _check_name(request.score_name)
    request = dataclasses.replace(request, cue_dir=str(resolve_cue_dir(cue_root, request.cue_dir)))
    try:
        check_refit(request)
    except ValueError as exc:
        raise EngineInputError(f"re-fit of cue {request.index}: {exc}") from exc
    if request.cue.preset not in available_presets():
        raise EngineInputError(f"unknown preset {request.cue.preset!r}; choose one of {available_presets()}")
    cont = request.continue_from
    for path in (request.cue.tokens_path, cont.tokens_path if cont is not None else None):
        if path is None:
            continue
        if not path.endswith(".tokens.npy"):
            raise EngineInputError(f"cue {request.index}: tokens paths must be a cue's .tokens.npy")
        check_media_path(path)
    return request


def _job_out(store: JobStore, job: JobRecord) -> dict[str, Any]:
    """The job as engine.api.Job's JSON (what `job_from_dict` reads)."""
    return to_dict(
        Job(
            id=job.id,
            status=job.status,  # type: ignore[arg-type]  # the store writes only JOB_STATUSES
            progress=job.progress,
            event=progress_from_dict(job.event) if job.event else None,
            error=job.error,
            warnings=tuple(job.warnings),
            cues=tuple(cue_from_dict(c) for c in store.cues(job.id)),
            stage=job.stage,
            created=job.created,
            updated=job.updated,
        )
    )


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


def _validated_request(body: dict[str, Any], cue_root: Path) -> ScoreRequest:
    request = _decoded(ScoreRequest, body, cue_in="scenes")
    _check_name(request.score_name)
    if request.preset not in available_presets():
        raise EngineInputError(f"unknown preset {request.preset!r}; choose one of {available_presets()}")
    indices = [s.index for s in request.scenes]
    if len(set(indices)) != len(indices):
        raise EngineInputError("scene indices must be unique")
    if sum(s.duration_s for s in request.scenes) > MAX_TOTAL_S:
        raise EngineInputError(f"the request is longer than {MAX_TOTAL_S / 3600:g} hours; split it")
    for scene in request.scenes:
        if scene.media is not None:
            check_media_path(scene.media.path)
        _checked_scene(scene)
    request = dataclasses.replace(request, cue_dir=str(resolve_cue_dir(cue_root, request.cue_dir)))
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

    @app.exception_handler(NotTheContract)
    async def not_the_contract(_: Request, exc: NotTheContract):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

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
    def submit(body: JsonObject) -> dict:
        request = _validated_request(body, cue_root)
        key = request_hash(request)
        previous = store.find_done(key)
        if previous is not None and all(Path(c["wav_path"]).is_file() for c in store.cues(previous.id)):
            return _job_out(store, previous)
        job = store.create(to_dict(request), key)
        worker.wake()
        return _job_out(store, job)

    @app.get("/jobs/{job_id}")
    def status(job_id: str) -> dict:
        return _job_out(store, job_or_404(job_id))

    @app.post("/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> dict:
        job_or_404(job_id)
        worker.cancel(job_id)
        return _job_out(store, store.request_cancel(job_id))

    @app.get("/jobs/{job_id}/results")
    def results(job_id: str) -> dict:
        job = job_or_404(job_id)
        if job.status != "done":
            raise HTTPException(409, f"job {job_id} is {job.status}, not done")
        return _job_out(store, job)

    @app.post("/jobs/{job_id}/regenerate", status_code=202)
    def regenerate(job_id: str, raw: JsonObject) -> dict:
        body = _decoded(RegenerateRequest, raw)
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
        created = store.create(to_dict(request), request_hash(request), REGENERATE_PRIORITY)
        worker.wake()
        return _job_out(store, created)

    @app.post("/refit")
    def refit(body: JsonObject) -> dict:
        """A finished cue's notes re-timed onto a recut span and rendered (fast: no model runs)."""
        from engine.refit import refit_cue

        return to_dict(refit_cue(_validated_refit(body, cue_root)))

    @app.post("/media/preview")
    def preview(raw: JsonObject) -> dict:
        """What the panel shows per scene before scoring: a still, the rhythm curve, the cuts."""
        from engine.preview import media_preview

        body = _decoded(PreviewRequest, raw)
        check_media_path(body.path)
        return to_dict(media_preview(body.path, body.start_s, body.end_s, body.points))

    @app.post("/conditioning")
    def conditioning(raw: JsonObject) -> dict:
        """What the generator conditions one cue on (`vm-editor rhythm --cue K --json`)."""
        from engine.program_features import conditioning

        body = _decoded(ConditioningRequest, raw, cue_in="scene")
        scene = _checked_scene(body.scene)
        check_program_media([scene])
        return to_dict(conditioning(scene.cue_program(), preset=body.preset))

    @app.post("/shots/embeddings")
    def shot_embeddings(raw: JsonObject) -> dict:
        """One mean CLS embedding per shot (empty for black): the auto cue plan's meaning changes."""
        from engine.program_features import shot_embeddings

        body = _decoded(ShotsRequest, raw)
        return {"embeddings": shot_embeddings(_checked_shots(body), preset=body.preset)}

    @app.post("/shots/pictures")
    def shot_pictures(raw: JsonObject) -> dict:
        """What each shot looks like (null for black): the auto cue plan's world changes."""
        from engine.picture_stats import shot_pictures

        found = shot_pictures(_checked_shots(_decoded(ShotsRequest, raw)))
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
