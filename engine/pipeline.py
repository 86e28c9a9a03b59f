"""The per-cue pipeline: program -> visual features -> generator -> finishing -> cue file.

One function a user can call from Python (`score`); the CLI, the service and the panel all go
through it, so every path produces the same cues for the same request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine import __version__
from engine.api import (
    CUE_SAMPLE_RATE,
    TOKEN_RATE,
    CancelSignal,
    CueKey,
    CueResult,
    CueTempo,
    ProgressCallback,
    ProgressEvent,
    SceneRequest,
    ScoreRequest,
    ScoreResult,
    ScoringCancelled,
    control_error,
    derive_cue_seed,
)
from engine.errors import EngineInputError
from engine.finishing import (
    finish_cue,
    finish_stems,
    num_samples_for,
    stem_path,
    tokens_path,
    write_tokens_atomic,
    write_wav_atomic,
)

log = logging.getLogger(__name__)
__all__ = ["ProgressCallback", "ProgressEvent", "iter_cues", "score", "tokens_path"]


def cue_seed(request_seed: int, scene: SceneRequest) -> int:
    """A per-scene seed: explicit when given, else derived so equal-length scenes differ."""
    if scene.seed is not None:
        return int(scene.seed)
    return derive_cue_seed(request_seed, scene.index)


def cue_filename(score_name: str, scene: SceneRequest, seed: int, preset: str, prompt: str | None) -> str:
    """A name that differs whenever the music would: a new recipe never overwrites an older cue."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in score_name) or "score"
    cont = scene.continue_from
    carried = None if cont is None else [cont.tokens_path, cont.scene_index, round(cont.at_s, 6)]
    recipe = json.dumps([scene.source_hash(), preset, seed, prompt, scene.guidance, scene.take])
    if scene.handle_s or carried:  # older cues keep their names
        recipe = json.dumps([recipe, round(scene.handle_s, 6), carried])
    worlds = scene.cue_program().world_changes_s
    if worlds is not None:  # where the style may change is part of the recipe
        recipe = json.dumps([recipe, [round(t, 6) for t in worlds]])
    if scene.mood is not None or scene.energy is not None:  # explicit controls change the music
        recipe = json.dumps([recipe, scene.mood, scene.energy])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return f"{safe}_cue{scene.index:03d}_take{scene.take}_s{seed}_{digest}.wav"


def _marker_channel(hit_points_s: tuple[float, ...], frames: int) -> np.ndarray:
    channel = np.zeros(frames, dtype=np.float32)
    for t in hit_points_s:
        k = int(round(t * TOKEN_RATE))
        if 0 <= k < frames:
            channel[k] = 1.0
    return channel


def _conditions(scene: SceneRequest, preset: str) -> tuple[np.ndarray | None, np.ndarray, tuple[float, ...]]:
    """CLS frames (or None for no pictures), the [T, 2] rhythm input (patch rhythm, explicit cues),
    both over the cue's program in record time, and the hit points the music must accent: the
    timeline's cuts and markers, and cuts baked into the media (cue seconds). A dissolve is no
    hit: a music editor lets the music ease through a blend, and the corpus never slams one (a
    kick and crash forced onto every dissolve turned ambient cues into folk for the judge)."""
    from engine.program_features import program_features

    program = scene.cue_program()
    frames = max(1, int(round(scene.duration_s * TOKEN_RATE)))
    hits = {*program.markers_s, *(e.at_s for e in program.edit_points if e.is_cut), *scene.hit_points_s}
    hits = {t for t in hits if 0.0 < t < scene.duration_s}  # the cue's own start is no hit
    if not scene.ends and scene.handle_s > 0:
        # the cut into the next cue: its accent plays in this cue's handle, at full level where the
        # crossfade starts (the next cue only fades in from there)
        hits.add(scene.duration_s)
    if all(seg.path is None for seg in program.segments):
        channel = _marker_channel(tuple(sorted(hits)), frames)
        return None, np.stack([np.zeros(frames, np.float32), channel], -1), tuple(sorted(hits))
    feats = program_features(program, preset=preset)
    rhythm = np.stack([feats.rhythm_50hz, feats.cues_50hz], axis=-1).astype(np.float32)
    baked = [t for t in feats.cuts_s if 0.0 < t < scene.duration_s]
    return feats.cls_1fps, rhythm, merge_hits(hits, baked)


MIN_HIT_GAP_S = 0.25  # a cut found inside the media this near a hit the editor made is that hit


def merge_hits(editor: set[float] | frozenset[float], found: list[float]) -> tuple[float, ...]:
    """The editor's hit points (cuts, markers) and the cuts found inside the media, a found cut
    within `MIN_HIT_GAP_S` of one already kept dropped: one accent, where the editor put it (a cut
    detected a few frames off a timeline cut gave two crashes 160 ms apart)."""
    kept = sorted(editor)
    for t in sorted(found):
        if all(abs(t - k) >= MIN_HIT_GAP_S for k in kept):
            kept.append(t)
            kept.sort()
    return tuple(kept)


def style_changes(scene: SceneRequest) -> tuple[float, ...] | None:
    """Cue seconds where the style may change: the program's world changes and its markers (the
    editor's hit points among them); None where the editor side decided no worlds (any cut)."""
    program = scene.cue_program()
    if program.world_changes_s is None:
        return None
    return tuple(sorted({*program.world_changes_s, *program.markers_s, *scene.hit_points_s}))


def _prompt_grid_and_key(
    scene: SceneRequest, written: dict[int, tuple[CueTempo | None, CueKey | None]]
) -> tuple[CueTempo | None, CueKey | None]:
    """The grid and key the previous cue recorded (the request's `Continuation`, else the cue
    of this request it names), the grid in this cue's seconds (its downbeats moved back by where
    this cue starts in it): this cue plays on on the very same beats, in the same signature."""
    cont = scene.continue_from
    if cont is None:
        return None, None
    tempo, key = written.get(cont.scene_index, (None, None)) if cont.scene_index is not None else (None, None)
    tempo = cont.tempo if cont.tempo is not None else tempo
    key = cont.key if cont.key is not None else key
    if tempo is not None:
        tempo = dataclasses.replace(tempo, downbeat_s=tempo.downbeat_s - cont.at_s)
    return tempo, key


def _prompt_tokens(scene: SceneRequest, written: dict[int, Path], frame_rate: float) -> np.ndarray | None:
    """The previous cue's tokens up to where this cue starts (its handle left out)."""
    cont = scene.continue_from
    if cont is None:
        return None
    if cont.tokens_path:
        path = Path(cont.tokens_path)
    elif cont.scene_index is not None and cont.scene_index in written:
        path = written[cont.scene_index]
    else:
        return None  # the previous cue is not generated here: start fresh
    fix = "score (or regenerate) the previous cue again"
    try:
        tokens = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:  # EOFError: an empty or cut-short file
        raise EngineInputError(
            f"cue {scene.name!r}: cannot read the previous cue's tokens {path} ({exc or 'empty file'}); {fix}"
        ) from None
    if not isinstance(tokens, np.ndarray) or tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
        shape = getattr(tokens, "shape", "?")
        raise EngineInputError(
            f"cue {scene.name!r}: the previous cue's tokens {path} hold {getattr(tokens, 'dtype', '?')} {shape}, "
            f"not integer tokens [streams, frames]; {fix}"
        )
    end = int(round(cont.at_s * frame_rate))
    return tokens[:, : max(end, 0)] if end > 0 else None


def _carried_path(scene: SceneRequest, written: dict[int, Path]) -> str | None:
    """The tokens file a cue continued from (`_prompt_tokens`'s source), recorded in its result."""
    cont = scene.continue_from
    if cont is None or int(round(cont.at_s * TOKEN_RATE)) <= 0:
        return None
    if cont.tokens_path:
        return str(cont.tokens_path)
    path = written.get(cont.scene_index) if cont.scene_index is not None else None
    return None if path is None else str(path)


def untrained_warning(preset: str) -> str:
    return (
        f"preset '{preset}' has no trained weights yet: it runs randomly initialised from its config, "
        "so the music does not follow the pictures"
    )


def score_warnings(request: ScoreRequest, trained: bool) -> tuple[str, ...]:
    """The lines a finished score reports (`ScoreResult.warnings`, the service job's record): an
    untrained preset, and one line naming every prompt word the preset cannot place (the request's
    prompt and each cue's own)."""
    from engine.generator.music_generator import MusicGenerator
    from engine.generator.prompt_intent import PromptIntent

    lines = [] if trained else [untrained_warning(request.preset)]
    prompts = [request.prompt, *(s.prompt for s in request.scenes)]
    prompts = list(dict.fromkeys(p for p in prompts if p))
    if prompts:
        generator = MusicGenerator.load(request.preset)
        unknown = tuple(dict.fromkeys(w for p in prompts for w in generator.prompt_intent(p).unknown))
        line = generator.prompt_warning_for(PromptIntent(unknown=unknown))
        lines += [line] if line else []
    return tuple(lines)


def iter_cues(
    request: ScoreRequest,
    progress: ProgressCallback | None = None,
    skip: frozenset[int] = frozenset(),
    cancel: CancelSignal | None = None,
) -> Iterator[CueResult]:
    """Cues one by one as they are written (scenes in `skip` are not redone).

    `cancel` is checked at every progress step (between cues and every few decoding steps):
    once set, `ScoringCancelled` unwinds the generation and no partial cue is written.

    The next scene's pictures are decoded and encoded on a helper thread while the current scene
    is generated, so the generator never waits for the decoder after the first scene.
    """
    from engine.generator.music_generator import MusicGenerator
    from engine.media import check_program_media

    started = time.monotonic()
    for scene in request.scenes:  # a bad control: one error before any work (the service's 400)
        problem = control_error(scene.mood, scene.energy)
        if problem is not None:
            raise EngineInputError(f"cue {scene.index} ({scene.name!r}): {problem}")
    check_program_media([s for s in request.scenes if s.index not in skip])  # before any work
    generator = MusicGenerator.load(request.preset)
    if generator.symbolic:
        from engine.soundfont_check import check_soundfont

        check_soundfont()  # a bad $VIDMUSICIAN_SOUNDFONT: one error now, not after the model's work
    cue_dir = Path(request.cue_dir)
    scenes = [s for s in request.scenes if s.index not in skip]
    count = len(request.scenes)

    def report(
        position: int, scene: SceneRequest, stage: str, within: float, cue: CueResult | None = None
    ) -> None:
        if cancel is not None and cancel.is_set() and cue is None:
            raise ScoringCancelled()
        if progress is not None:
            fraction = (position - 1 + within) / max(count, 1)
            elapsed = time.monotonic() - started
            progress(ProgressEvent(scene.index, position, count, scene.name, stage, fraction, elapsed, cue))

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="features")
    pending: dict[int, Future] = {}
    written_tokens: dict[int, Path] = {}
    written_grids: dict[int, tuple[CueTempo | None, CueKey | None]] = {}

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
            rendered_s = scene.duration_s + max(scene.handle_s, 0.0)
            carried_tempo, carried_key = _prompt_grid_and_key(scene, written_grids)
            music = generator.generate_cue(
                cls_1fps=cls_1fps,
                rhythm_50hz=rhythm,
                duration_s=rendered_s,
                seed=seed,
                prompt=prompt,
                guidance=scene.guidance,
                progress=lambda f, p=position, s=scene: report(p, s, "generate", 0.1 + 0.8 * f),
                hit_points_s=hit_points if request.hits else (),
                continuation_tokens=_prompt_tokens(scene, written_tokens, generator.frame_rate),
                continuation_tempo=carried_tempo,
                continuation_key=carried_key,
                stems=request.stems,
                end_s=scene.duration_s if scene.ends else None,
                seam_s=scene.duration_s if not scene.ends and scene.handle_s > 0 else None,
                style_changes_s=style_changes(scene),
                take=scene.take,
                mood=scene.mood,
                energy=scene.energy,
            )
            report(position, scene, "finish", 0.9)
            cue_audio = finish_cue(music.audio, generator.sample_rate, rendered_s)
            name = cue_filename(request.score_name, scene, seed, request.preset, prompt)
            # the folder is made by the writes (engine.safe_write: in the service, one component at a
            # time without following links, so a folder swapped for a symlink makes nothing outside)
            # tokens first: a WAV on disk always has the tokens a later cue continues from
            tokens_file = write_tokens_atomic(tokens_path(cue_dir / name), music.tokens)
            written_tokens[scene.index] = tokens_file
            tempo = _cue_tempo(music.grid)
            written_grids[scene.index] = (tempo, music.key)
            stems: dict[str, str] = {}
            if music.stems:
                for stream, stem in finish_stems(
                    music.stems, music.audio, generator.sample_rate, rendered_s
                ).items():
                    stems[stream] = str(write_wav_atomic(stem_path(cue_dir / name, stream), stem))
            path = write_wav_atomic(cue_dir / name, cue_audio)
            cue = CueResult(
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
                handle_s=max(scene.handle_s, 0.0),
                tokens_path=str(tokens_file),
                hits=request.hits,
                stems=stems,
                starts_world=scene.continue_from is None
                and 0.0 in (scene.cue_program().world_changes_s or ()),
                world_changes_s=scene.cue_program().world_changes_s,
                program=scene.program,
                continued_from=_carried_path(scene, written_tokens),
                mood=scene.mood,
                energy=scene.energy,
                tempo=tempo,
                key=music.key,
                hit_points_s=tuple(float(t) for t in hit_points) if request.hits else (),
            )
            yield cue
            report(position, scene, "done", 1.0, cue)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _cue_tempo(grid) -> CueTempo | None:
    """The cue's tempo grid as the editor reads it: bpm, meter and its first bar line."""
    from engine.generator.tempo_grid import to_cue_tempo

    return None if grid is None else to_cue_tempo(grid)


def score(
    request: ScoreRequest, progress: ProgressCallback | None = None, cancel: CancelSignal | None = None
) -> ScoreResult:
    """Generate one cue per scene of `request` into `request.cue_dir` (see `iter_cues`)."""
    finished: list[CueResult] = []
    try:
        for cue in iter_cues(request, progress, cancel=cancel):
            finished.append(cue)
    except ScoringCancelled:
        raise ScoringCancelled(tuple(finished)) from None
    cues = tuple(finished)
    trained = all(c.model_trained for c in cues)
    return ScoreResult(cues=cues, warnings=score_warnings(request, trained))
