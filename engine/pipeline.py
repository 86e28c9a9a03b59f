"""The per-scene pipeline: media -> visual features -> generator -> finishing -> cue file.

One function a user can call from Python (`score`); the CLI, the service and the panel all go
through it, so every path produces the same cues for the same request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import __version__
from engine.api import CUE_SAMPLE_RATE, CueResult, SceneRequest, ScoreRequest, ScoreResult
from engine.finishing import finish_cue, num_samples_for, tokens_path, write_tokens_atomic, write_wav_atomic

log = logging.getLogger(__name__)
RHYTHM_RATE = 50  # the token grid of the generator


@dataclass(frozen=True)
class ProgressEvent:
    """What a front end shows: which scene, which step, how far (0..1 over the whole request)."""

    scene_index: int
    scene_position: int  # 1-based position in the request
    scene_count: int
    scene_name: str
    stage: str  # "features" | "generate" | "finish" | "done"
    fraction: float
    elapsed_s: float


ProgressCallback = Callable[[ProgressEvent], None]


def cue_seed(request_seed: int, scene: SceneRequest) -> int:
    """A per-scene seed: explicit when given, else derived so equal-length scenes differ."""
    if scene.seed is not None:
        return int(scene.seed)
    return (int(request_seed) + 7919 * (scene.index + 1)) % (2**31 - 1)


def cue_filename(score_name: str, scene: SceneRequest, seed: int, preset: str, prompt: str | None) -> str:
    """A name that differs whenever the music would: a new recipe never overwrites an older cue."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in score_name) or "score"
    recipe = json.dumps([scene.source_hash(), preset, seed, prompt, scene.guidance, scene.take])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return f"{safe}_cue{scene.index + 1:03d}_take{scene.take}_s{seed}_{digest}.wav"


def _marker_channel(hit_points_s: tuple[float, ...], frames: int) -> np.ndarray:
    channel = np.zeros(frames, dtype=np.float32)
    for t in hit_points_s:
        k = int(round(t * RHYTHM_RATE))
        if 0 <= k < frames:
            channel[k] = 1.0
    return channel


def _conditions(
    scene: SceneRequest, preset: str
) -> tuple[np.ndarray | None, np.ndarray, tuple[float, ...]]:
    """CLS frames (or None for no pictures), the [T, 2] rhythm input (patch rhythm, explicit cues)
    and the hit points (markers and cuts, cue seconds) the music must accent."""
    from engine.features import extract_scene_features

    frames = max(1, int(round(scene.duration_s * RHYTHM_RATE)))
    if scene.media is None:
        channel = _marker_channel(scene.hit_points_s, frames)
        return None, np.stack([np.zeros(frames, np.float32), channel], -1), tuple(scene.hit_points_s)
    feats = extract_scene_features(
        scene.media.path,
        scene.media.start_s,
        scene.media.end_s,
        preset=preset,
        hit_points_s=scene.hit_points_s,
    )
    rhythm = np.stack([feats.rhythm_50hz, feats.cues_50hz], axis=-1).astype(np.float32)
    return feats.cls_1fps, rhythm, tuple(sorted({*scene.hit_points_s, *feats.cuts_s}))


def untrained_warning(preset: str) -> str:
    return (
        f"preset '{preset}' has no trained weights yet: it runs randomly initialised from its config, "
        "so the music does not follow the pictures"
    )


def iter_cues(
    request: ScoreRequest,
    progress: ProgressCallback | None = None,
    skip: frozenset[int] = frozenset(),
) -> Iterator[CueResult]:
    """Cues one by one as they are written (scenes in `skip` are not redone).

    The next scene's pictures are decoded and encoded on a helper thread while the current scene
    is generated, so the generator never waits for the decoder after the first scene.
    """
    from engine.generator.service import MusicGenerator

    started = time.monotonic()
    generator = MusicGenerator.load(request.preset)
    cue_dir = Path(request.cue_dir)
    scenes = [s for s in request.scenes if s.index not in skip]
    count = len(request.scenes)

    def report(position: int, scene: SceneRequest, stage: str, within: float) -> None:
        if progress is not None:
            fraction = (position - 1 + within) / max(count, 1)
            progress(
                ProgressEvent(
                    scene.index, position, count, scene.name, stage, fraction, time.monotonic() - started
                )
            )

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="features")
    pending: dict[int, Future] = {}

    def prefetch(i: int) -> None:
        if i < len(scenes) and i not in pending:
            pending[i] = pool.submit(_conditions, scenes[i], request.preset)

    try:
        prefetch(0)
        for i, scene in enumerate(scenes):
            position = request.scenes.index(scene) + 1
            seed = cue_seed(request.seed, scene)
            prompt = scene.prompt if scene.prompt is not None else request.prompt
            report(position, scene, "features", 0.0)
            cls_1fps, rhythm, hit_points = pending.pop(i).result()
            prefetch(i + 1)
            report(position, scene, "generate", 0.1)
            music = generator.generate_cue(
                cls_1fps=cls_1fps,
                rhythm_50hz=rhythm,
                duration_s=scene.duration_s,
                seed=seed,
                prompt=prompt,
                guidance=scene.guidance,
                hit_points_s=hit_points if request.hits else (),
                progress=lambda f, p=position, s=scene: report(p, s, "generate", 0.1 + 0.8 * f),
            )
            report(position, scene, "finish", 0.9)
            cue_audio = finish_cue(music.audio, generator.sample_rate, scene.duration_s)
            name = cue_filename(request.score_name, scene, seed, request.preset, prompt)
            path = write_wav_atomic(cue_dir / name, cue_audio)
            write_tokens_atomic(tokens_path(path), music.tokens)
            yield CueResult(
                index=scene.index,
                name=scene.name,
                wav_path=str(path),
                duration_s=scene.duration_s,
                num_samples=num_samples_for(scene.duration_s),
                sample_rate=CUE_SAMPLE_RATE,
                preset=request.preset,
                seed=seed,
                prompt=prompt,
                take=scene.take,
                source_hash=scene.source_hash(),
                engine_version=__version__,
                model_trained=generator.trained,
                guidance=scene.guidance,
            )
            report(position, scene, "done", 1.0)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def score(request: ScoreRequest, progress: ProgressCallback | None = None) -> ScoreResult:
    """Generate one cue per scene of `request` into `request.cue_dir`."""
    cues = tuple(iter_cues(request, progress))
    trained = all(c.model_trained for c in cues)
    return ScoreResult(cues=cues, warnings=() if trained else (untrained_warning(request.preset),))
