"""Re-fit: a finished cue played again over a trimmed span, from its own notes (no new music).

Why: a trim of a few frames moves a cut under a cue whose take the editor chose; regenerating it
would replace the music. The cue's saved tokens are re-timed (`engine.symbolic.retime`: at most a
4 % tempo change per stretch, hits onto the moved cuts), then rendered and finished exactly as
the pipeline does — after the previous cue's context, the same handle, loudness and fades — and
written beside its tokens in the cue folder. Symbolic presets only: audio tokens have no notes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from engine import __version__
from engine.api import CUE_SAMPLE_RATE, TOKEN_RATE, CueResult, RefitRequest, check_refit
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
from engine.symbolic.score import STREAMS
from engine.symbolic.tokens import CARD


def _load_tokens(path: str, what: str) -> np.ndarray:
    try:
        tokens = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise EngineInputError(
            f"{what}: cannot read its tokens {path} ({exc or 'empty file'}); regenerate it"
        ) from None
    if (
        not isinstance(tokens, np.ndarray)
        or tokens.ndim != 2
        or tokens.shape[0] != len(STREAMS)
        or not np.issubdtype(tokens.dtype, np.integer)
        or (tokens.size and (tokens.min() < 0 or tokens.max() >= CARD))
    ):
        raise EngineInputError(f"{what}: {path} holds no symbolic tokens [streams, frames]; regenerate it")
    return tokens


def _context_frames(preset: str) -> tuple[bool, int]:
    """Whether the preset renders notes, and how many frames of the previous cue its generator
    prompts with (the context a cue was rendered after)."""
    from engine.generator.backbone import is_symbolic
    from engine.generator.config import GeneratorConfig
    from engine.presets import load_preset

    cfg = GeneratorConfig.from_dict(load_preset(preset).generator)
    ctx = int(cfg.context_s * TOKEN_RATE) if cfg.context_s > 0 else 0
    return is_symbolic(cfg), min(ctx, int(cfg.window_s * TOKEN_RATE) - 1)


def refit_filename(request: RefitRequest) -> str:
    """`<score>_cueNNN_takeT_sS_fit<digest>.wav`: a re-fit never overwrites the take it came from."""
    cue = request.cue
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in request.score_name) or "score"
    cont = request.continue_from
    recipe = json.dumps(
        [
            Path(cue.wav_path).name,
            [[round(a, 6), round(b, 6)] for a, b in request.anchors],
            round(request.duration_s, 6),
            None if cont is None else [cont.tokens_path, round(cont.at_s, 6)],
        ]
    )
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return f"{safe}_cue{request.index:03d}_take{cue.take}_s{cue.seed}_fit{digest}.wav"


def refit_cue(request: RefitRequest) -> CueResult:
    """The re-timed, re-rendered cue, written into `request.cue_dir` (tokens first, then the WAV)."""
    from engine.symbolic.renderer import render
    from engine.symbolic.retime import retime_tokens

    cue = request.cue
    what = f"cue {request.index} ({request.name!r})"
    try:
        check_refit(request)
    except ValueError as exc:
        raise EngineInputError(str(exc)) from None
    symbolic, context = _context_frames(cue.preset)
    if not symbolic:
        raise EngineInputError(
            f"{what}: preset {cue.preset!r} makes audio, not notes: regenerate the cue instead"
        )
    old = _load_tokens(str(cue.tokens_path), what)
    rendered_s = request.duration_s + max(cue.handle_s, 0.0)
    n_samples = num_samples_for(rendered_s)
    hop = CUE_SAMPLE_RATE // TOKEN_RATE
    frames = -(-n_samples // hop)
    anchors = [(a * TOKEN_RATE, b * TOKEN_RATE) for a, b in request.anchors]
    tokens = retime_tokens(old, anchors, frames)
    prompt = None
    cont = request.continue_from
    if cont is not None and cont.tokens_path:
        before = _load_tokens(cont.tokens_path, f"{what}: the cue before it")
        end = int(round(cont.at_s * TOKEN_RATE))
        before = before[:, : max(end, 0)]
        if before.shape[1] and context > 0 and before.shape[0] == tokens.shape[0]:
            prompt = before[:, before.shape[1] - min(context, before.shape[1]) :]
    p0 = 0 if prompt is None else prompt.shape[1]
    full = tokens if prompt is None else np.concatenate([prompt.astype(tokens.dtype), tokens], axis=1)
    full = full.astype(np.int64)
    mix = render(full, CUE_SAMPLE_RATE)  # as the pipeline: the mix, then the stems apart
    parts = render(full, CUE_SAMPLE_RATE, stems=True)[1] if cue.stems else {}
    keep = slice(p0 * hop, p0 * hop + n_samples)
    audio = mix[:, keep].T
    name = refit_filename(request)
    folder = Path(request.cue_dir)
    tokens_file = write_tokens_atomic(tokens_path(folder / name), tokens)
    stems = {}
    if parts:
        finished = finish_stems(
            {k: v[:, keep].T for k, v in parts.items()}, audio, CUE_SAMPLE_RATE, rendered_s
        )
        stems = {k: str(write_wav_atomic(stem_path(folder / name, k), v)) for k, v in finished.items()}
    wav = write_wav_atomic(folder / name, finish_cue(audio, CUE_SAMPLE_RATE, rendered_s))
    return dataclasses.replace(
        cue,
        index=request.index,
        name=request.name,
        wav_path=str(wav),
        duration_s=request.duration_s,
        num_samples=num_samples_for(request.duration_s),
        source_hash=request.source_hash or cue.source_hash,
        engine_version=__version__,
        tokens_path=str(tokens_file),
        stems=stems,
        program=request.program,
        tempo=None,  # its notes were re-timed stretch by stretch: no one grid holds them now
        hit_points_s=None,  # (its key stays: re-timing moves no note's pitch)
        continued_from=None if prompt is None else cont.tokens_path,
        world_changes_s=None if request.program is None else request.program.world_changes_s,
    )
