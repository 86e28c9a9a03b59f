"""Scoring a timeline, in one place: plan the cues, build the request, the seed and take rules.

The CLI, the panel and the demo call these functions; the engine is anything that implements
`engine.api.Engine` (in-process or the service client).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import DEFAULT_HANDLE_S, Continuation, Engine, SceneRequest, ScoreRequest
from vm_editor import cue_plan
from vm_editor.program import timeline_program
from vm_editor.scenes import Scene, SceneList, choose_video_track, to_engine_scene

SEED_LIMIT = 2**31 - 1


def plan_cues(
    timeline: otio.schema.Timeline,
    *,
    mode: str = "auto",
    timeline_path: Path | None = None,
    track: int | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
    engine: Engine | None = None,
    preset: str = "tiny",
    merge: Sequence[tuple[int, int]] = (),
    split_at_markers: bool = False,
) -> SceneList:
    """The cues of a timeline's program (`mode` auto|per-clip|one), merged/split as asked."""
    program = timeline_program(timeline, track=track, timeline_path=timeline_path, relink=relink)
    embed = None
    if engine is not None and mode == "auto":
        embed = lambda shots: engine.shot_embeddings(tuple(shots), preset)  # noqa: E731
    spans = cue_plan.plan_spans(program, mode, embed=embed)
    if split_at_markers:
        spans = cue_plan.split_spans_at_markers(spans, program)
    for first, last in sorted(merge, reverse=True):
        spans = cue_plan.merge_spans(spans, first, last)
    chosen = choose_video_track(timeline, track)
    return cue_plan.cue_scenes(program, spans, chosen.name or "V1")


def next_take_seed(previous_seed: int) -> int:
    """A new take's seed when none is given: the previous one plus one."""
    return (int(previous_seed) + 1) % SEED_LIMIT


def scene_requests(
    scenes: Sequence[Scene],
    *,
    prompt: str | None = None,
    guidance: float | None = None,
    handle_s: float = DEFAULT_HANDLE_S,
) -> tuple[SceneRequest, ...]:
    """One request per cue; a cue that starts where the previous ends continues its music."""
    out = []
    for scene, touches in zip(scenes, cue_plan.touching(scenes), strict=True):
        req = dataclasses.replace(to_engine_scene(scene, prompt=prompt), guidance=guidance, handle_s=handle_s)
        if touches:
            prev = scenes[scenes.index(scene) - 1]
            req = dataclasses.replace(
                req,
                continue_from=Continuation(prev.record_range.duration.to_seconds(), scene_index=prev.index),
            )
        out.append(req)
    return tuple(out)


def build_request(
    scene_list: SceneList,
    *,
    cue_dir: str,
    preset: str = "tiny",
    seed: int = 0,
    prompt: str | None = None,
    guidance: float | None = None,
    score_name: str = "score",
) -> ScoreRequest:
    return ScoreRequest(
        scenes=scene_requests(scene_list.scenes, prompt=prompt, guidance=guidance),
        cue_dir=cue_dir,
        preset=preset,
        seed=seed,
        prompt=prompt,
        score_name=score_name,
    )
