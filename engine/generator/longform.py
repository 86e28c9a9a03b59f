"""Scenes of any length: windows of tokens that continue each other, decoded and crossfaded.

Each window after the first is prompted with the last `context` frames of tokens so far (the
MusicGen "extend" scheme), so the music carries on instead of restarting. Every window is decoded
on its own (bounded memory, progress per window) and joined to the previous one by a short
linear crossfade in the middle of the frames they share: both decode the same tokens there, with
full context on both sides, so the crossfade only hides the codec's edge effects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.generator.decoding import Sampling, TokenConstraints, generate_window, window_steps
from engine.generator.model import VidMusicianLM

# (global start frame, global end frame) -> (memory, null memory or None for no CFG)
ConditionFn = Callable[[int, int], tuple[torch.Tensor | None, torch.Tensor | None]]


@dataclass(frozen=True)
class Window:
    start: int  # global frame of the window's first token (negative: inside the continuation audio)
    prompt: int  # frames reused from before
    total: int  # frames in the window, prompt included

    @property
    def end(self) -> int:
        return self.start + self.total


def plan_windows(frames: int, prompt_frames: int, window: int, context: int) -> list[Window]:
    """Windows covering new frames [0, frames) after `prompt_frames` frames of given audio."""
    assert frames > 0 and window > context >= 0 and window > prompt_frames >= 0
    out = [Window(-prompt_frames, prompt_frames, min(window, prompt_frames + frames))]
    done = out[0].total - prompt_frames
    while done < frames:
        p = min(context, prompt_frames + done)
        total = min(window, p + frames - done)
        out.append(Window(done - p, p, total))
        done += total - p
    return out


def _curve_slice(curve: torch.Tensor | None, start: int, end: int) -> torch.Tensor | None:
    if curve is None:
        return None
    out = torch.zeros(end - start, curve.shape[1], dtype=curve.dtype)
    lo, hi = max(start, 0), min(end, curve.shape[0])
    if hi > lo:
        out[lo - start : hi - start] = curve[lo:hi]
    return out[None]


@torch.no_grad()
def render(
    model: VidMusicianLM,
    codec,
    *,
    frames: int,
    window: int,
    context: int,
    crossfade_samples: int,
    curve: torch.Tensor | None,
    prompt_codes: torch.Tensor | None,
    condition: ConditionFn,
    sampling: Sampling,
    generator: torch.Generator,
    progress: Callable[[float], None] | None = None,
    constraints: TokenConstraints | None = None,
    out_codes: list | None = None,
    grid: torch.Tensor | None = None,
) -> np.ndarray:
    """Audio for new frames [0, frames): exactly frames * hop samples — mono [N] from a neural codec,
    [N, channels] from a codec that renders whole sequences (`decodes_whole`, the symbolic one).

    `grid` [p0 + frames, GRID_CHANNELS]: where each frame from the prompt's first on sits in the
    music (`grid_position`). `constraints.hit_frames` are global frames (0 = the first new frame).
    The new codes [K, frames] are appended to `out_codes` when given (a cue's tokens, kept beside its WAV).
    """
    hop = int(round(codec.sample_rate / codec.frame_rate))
    p0 = 0 if prompt_codes is None else prompt_codes.shape[-1]
    plan = plan_windows(frames, p0, window, context)
    total_steps = sum(window_steps(model, w.total, w.prompt) for w in plan)
    done_steps = 0

    def tick() -> None:
        nonlocal done_steps
        done_steps += 1
        if progress is not None and (done_steps % 25 == 0 or done_steps == total_steps):
            progress(min(1.0, done_steps / total_steps))

    codes = torch.empty(1, model.lm.num_codebooks, p0 + frames, dtype=torch.long)
    if prompt_codes is not None:
        codes[..., :p0] = prompt_codes.cpu()
    whole = bool(getattr(codec, "decodes_whole", False))
    audio = np.zeros(frames * hop, dtype=np.float32)
    written = 0  # samples of `audio` already final up to here
    for w in plan:
        prompt = codes[..., p0 + w.start : p0 + w.start + w.prompt] if w.prompt else None
        memory, null_memory = condition(w.start, w.end)
        local = None
        if constraints is not None:  # global frames -> this window's (hits only on new frames)
            local = constraints.shifted(w.start, w.end)
            local = dataclasses.replace(
                local, hit_frames=frozenset(f for f in local.hit_frames if f >= w.prompt)
            )
        win = generate_window(
            model,
            memory=memory,
            null_memory=null_memory,
            rhythm_curve=_curve_slice(curve, w.start, w.end),
            grid=None if grid is None else _curve_slice(grid, p0 + w.start, p0 + w.end),
            prompt=prompt,
            total_frames=w.total,
            sampling=sampling,
            generator=generator,
            on_step=tick,
            constraints=local,
        )
        codes[..., p0 + w.start : p0 + w.end] = win.cpu()
        if whole:
            continue
        wav = codec.decode(win.to(next(codec.parameters()).device), None)[0].mean(0).float().cpu().numpy()
        wav = wav[: w.total * hop]
        first = max(w.start, 0) * hop  # global sample where this window's usable audio starts
        seg = wav[first - w.start * hop :]
        end = first + seg.shape[0]
        overlap = written - first
        if overlap > 0 and crossfade_samples > 0:
            x = min(crossfade_samples, overlap)
            s0 = first + (overlap - x) // 2
            ramp = np.linspace(0.0, 1.0, x, endpoint=False, dtype=np.float32) + 0.5 / x
            new = seg[s0 - first : s0 - first + x]
            audio[s0 : s0 + x] = audio[s0 : s0 + x] * (1.0 - ramp) + new * ramp
            audio[s0 + x : end] = seg[s0 + x - first :]
        else:
            audio[first:end] = seg
        written = end
    if out_codes is not None:
        out_codes.append(codes[0, :, p0:].numpy().copy())
    if whole:
        return _render_whole(codec, codes, p0, frames, hop)
    assert written == audio.shape[0], (written, audio.shape)
    return audio


def _render_whole(codec, codes: torch.Tensor, p0: int, frames: int, hop: int) -> np.ndarray:
    """Decode the prompt and the new frames together, then keep the new part: a note held across
    the boundary, and the reverb of what came before, sound as they would have in one piece."""
    wav = codec.decode(codes, None)[0].float().cpu().numpy()  # [C, (p0 + frames) * hop]
    out = wav[:, p0 * hop : (p0 + frames) * hop].T
    return np.ascontiguousarray(out, dtype=np.float32)
