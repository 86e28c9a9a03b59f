"""Sampling one window of tokens: delay pattern, streaming KV cache, CFG, seeded top-k.

Like `LMModel.generate`, but the rhythm features follow the pattern step being computed and the
random draws come from the caller's `torch.Generator` (a seed gives the same tokens on CPU no
matter what else used the global RNG).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.generator.fast_step import FastStep, UnsupportedModel
from engine.generator.form import FormDecoder
from engine.generator.model import VidMusicianLM

log = logging.getLogger(__name__)

# `generate_window`'s default for `fast`: False sends every window through audiocraft's own
# streaming forward (benchmarks compare both paths in one run).
FAST_STEP = True


@dataclass(frozen=True)
class Sampling:
    temperature: float = 1.0
    top_k: int = 250
    cfg_coef: float = 3.0


@dataclass(frozen=True)
class TokenConstraints:
    """What each codebook may emit: `allowed` [K, card] (a symbolic stream's own ids); hit frames
    of the window where codebook 0 (drums) must be one of `hit_ids` [card] (a strong accent); and,
    per codebook, the frames where a note may start (`onset_frames`, None = any: a tempo grid),
    elsewhere only `quiet_ids` [K, card] (rest or hold), and the frames where a strong accent may
    fall (`strong_frames`: the beats), elsewhere only `unstressed_ids` [K, card].

    Constrained sampling, not editing: the model's own distribution renormalised over the allowed
    ids, so a hit lands on its frame and notes on the grid without rewriting the rest.
    """

    allowed: torch.Tensor | None = None
    hit_ids: torch.Tensor | None = None
    hit_frames: frozenset[int] = frozenset()
    onset_frames: tuple[frozenset[int] | None, ...] = ()
    quiet_ids: torch.Tensor | None = None
    strong_frames: tuple[frozenset[int] | None, ...] = ()
    unstressed_ids: torch.Tensor | None = None
    onset_ids: torch.Tensor | None = None  # [K, card] the ids that start a note
    onset_boost: tuple[float, ...] = ()  # per codebook: log-odds added to its onsets on its grid
    # Groove memory, per codebook: frame -> the frame one groove earlier (None = none), and the
    # log-odds that favour playing there what was played then (a groove, not a new pattern per bar).
    repeat_from: tuple[dict[int, int] | None, ...] = ()
    repeat_odds: tuple[float, ...] = ()
    repeat_exact: tuple[bool, ...] = ()  # True: the very token again (a drum set); False: any onset
    # (codebook, id, frames): that codebook plays only `id` over frames [0, frames) (the style a
    # cue opens in, read by its pilot, so the grid's meter is the style the music starts in)
    opening: tuple[int, int, int] | None = None
    # (codebook, frames): that codebook holds its previous frame's id except on these frames (the
    # style stream changes only on a cut, as the corpus and a music editor change sections)
    hold: tuple[int, frozenset[int]] | None = None
    # The cue's written form (key, chords, theme and groove memory, ending), in global frames; a
    # window's frame t is global frame t + form_offset (see `shifted`).
    form: FormDecoder | None = None
    form_offset: int = 0

    def form_bias(
        self, coords, prompt_frames: int, total_frames: int, card: int, K: int
    ) -> torch.Tensor | None:
        """[1, K, card] log-odds (-inf: masked) of the form at this step, for new frames only."""
        if self.form is None:
            return None
        rows = None
        for c in coords:
            if not prompt_frames <= c.t < total_frames:
                continue
            row = self.form.bias(c.q, c.t + self.form_offset, hit=c.q == 0 and self.hits_at([c]))
            if row is None:
                continue
            if rows is None:
                rows = np.zeros((K, card))
            rows[c.q] += row
        return None if rows is None else torch.from_numpy(rows)[None]

    def record(self, coords, tokens: torch.Tensor, prompt_frames: int, total_frames: int) -> None:
        """Tell the form what this step sampled ([1, K, 1]), for its memory."""
        if self.form is None:
            return
        for c in coords:
            if prompt_frames <= c.t < total_frames:
                self.form.record(c.q, c.t + self.form_offset, int(tokens[0, c.q, 0]))

    def on_grid(self, coords) -> frozenset[int]:
        """The codebooks this pattern step emits on one of their grid frames (a boosted onset)."""
        if self.onset_ids is None:
            return frozenset()
        return frozenset(
            c.q
            for c in coords
            if c.q < min(len(self.onset_frames), len(self.onset_boost))
            and self.onset_frames[c.q] is not None
            and c.t in self.onset_frames[c.q]
            and not (c.q == 0 and self.hits_at([c]))
        )

    def hits_at(self, coords) -> bool:
        """Whether this pattern step (its layout coordinates) emits drums on a hit frame."""
        return self.hit_ids is not None and any(c.q == 0 and c.t in self.hit_frames for c in coords)

    def off_grid(self, coords) -> frozenset[int]:
        """The codebooks this pattern step emits on a frame where their notes may not start."""
        return self._outside(coords, self.onset_frames, self.quiet_ids)

    def off_beat(self, coords) -> frozenset[int]:
        """The codebooks this pattern step emits on a frame where they may not accent strongly."""
        return self._outside(coords, self.strong_frames, self.unstressed_ids)

    def _outside(self, coords, frames_per_q, ids) -> frozenset[int]:
        if ids is None:
            return frozenset()
        out = set()
        for c in coords:
            frames = frames_per_q[c.q] if c.q < len(frames_per_q) else None
            if frames is not None and c.t not in frames and not (c.q == 0 and self.hits_at([c])):
                out.add(c.q)
        return frozenset(out)

    def opens(self, coords) -> bool:
        """Whether this pattern step emits the opening codebook inside its opening frames."""
        return self.opening is not None and any(
            c.q == self.opening[0] and 0 <= c.t < self.opening[2] for c in coords
        )

    def key(self, coords) -> tuple:
        """What the mask of this step depends on (steps with equal keys share one mask)."""
        return (
            self.hits_at(coords),
            self.off_grid(coords),
            self.off_beat(coords),
            self.on_grid(coords),
            self.opens(coords),
        )

    def bias(self, coords, card: int, K: int) -> torch.Tensor | None:
        """[1, K, card] log-odds to add at this step, or None. A grid frame stands for the frames
        around it where notes may not start: its onsets get the odds of the whole step
        (`onset_boost` = log of the frames per allowed onset), so the grid keeps the LM's note rate
        instead of dropping every note it would have started a frame early or late."""
        on = self.on_grid(coords)
        if not on:
            return None
        b = torch.zeros(K, card)
        for q in on:
            b[q, self.onset_ids[q]] = self.onset_boost[q]
        return b[None]

    def mask(self, coords, card: int, K: int) -> torch.Tensor | None:
        """[1, K, card] bool for one pattern step (its layout coordinates), or None for no limits."""
        hits, off, weak, _, opens = self.key(coords)
        if self.allowed is None and not hits and not off and not weak and not opens:
            return None
        m = self.allowed.clone() if self.allowed is not None else torch.ones(K, card, dtype=torch.bool)
        if hits:
            m[0] &= self.hit_ids
        if opens:
            q, only, _ = self.opening
            keep = m[q, only].clone()
            m[q] = False
            m[q, only] = keep
        for q in off:
            m[q] &= self.quiet_ids[q]
        for q in weak:
            m[q] &= self.unstressed_ids[q]
        return m[None]

    def groove(self, coords, emitted: torch.Tensor, card: int, K: int) -> torch.Tensor | None:
        """[1, K, card] log-odds of the groove memory at this step, from the tokens already
        `emitted` ([K, frames], -1 = not yet): where a codebook played an onset one groove earlier
        it is favoured again (the same token, or any onset), where it rested an onset is not."""
        if not self.repeat_from or self.onset_ids is None:
            return None
        b = None
        for c in coords:
            frames = self.repeat_from[c.q] if c.q < len(self.repeat_from) else None
            if not frames or c.t not in frames or (c.q == 0 and self.hits_at([c])):
                continue
            then = int(emitted[c.q, frames[c.t]])
            if then < 0:
                continue
            odds = self.repeat_odds[c.q]
            b = torch.zeros(K, card) if b is None else b
            if bool(self.onset_ids[c.q, then]):
                if self.repeat_exact[c.q]:
                    b[c.q, then] += odds
                else:
                    b[c.q, self.onset_ids[c.q]] += odds
            else:
                b[c.q, self.onset_ids[c.q]] -= odds
        return None if b is None else b[None]

    def held(self, coords, emitted: torch.Tensor) -> tuple[int, int] | None:
        """(codebook, id) this step must repeat from the frame before (`hold`), or None."""
        if self.hold is None:
            return None
        q, free = self.hold
        for c in coords:
            if c.q == q and c.t >= 1 and c.t not in free and int(emitted[q, c.t - 1]) >= 0:
                return q, int(emitted[q, c.t - 1])
        return None

    def shifted(self, start: int, end: int) -> TokenConstraints:
        """These constraints (global frames) for a window of frames [start, end), frames from 0."""
        local = lambda frames: frozenset(f - start for f in frames if start <= f < end)  # noqa: E731
        inside = lambda f: start <= f < end  # noqa: E731
        return dataclasses.replace(
            self,
            hit_frames=local(self.hit_frames),
            onset_frames=tuple(None if f is None else local(f) for f in self.onset_frames),
            strong_frames=tuple(None if f is None else local(f) for f in self.strong_frames),
            repeat_from=tuple(
                None if m is None else {t - start: u - start for t, u in m.items() if inside(t) and inside(u)}
                for m in self.repeat_from
            ),
            opening=None
            if self.opening is None or self.opening[2] <= start
            else (self.opening[0], self.opening[1], self.opening[2] - start),
            hold=None if self.hold is None else (self.hold[0], local(self.hold[1])),
            form_offset=self.form_offset + start,
        )


def sample_top_k(
    logits: torch.Tensor, temperature: float, top_k: int, generator: torch.Generator
) -> torch.Tensor:
    """[..., card] logits → [..., 1] tokens; greedy when temperature <= 0."""
    if temperature <= 0:
        return logits.argmax(dim=-1, keepdim=True)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    k = min(top_k, probs.shape[-1]) if top_k > 0 else probs.shape[-1]
    values, idx = probs.topk(k, dim=-1)
    flat = values.reshape(-1, k)
    choice = torch.multinomial(flat / flat.sum(-1, keepdim=True), 1, generator=generator)
    return idx.gather(-1, choice.view(*values.shape[:-1], 1))


@torch.no_grad()
def generate_window(
    model: VidMusicianLM,
    *,
    memory: torch.Tensor | None,
    null_memory: torch.Tensor | None,
    rhythm_curve: torch.Tensor | None,
    prompt: torch.Tensor | None,
    total_frames: int,
    sampling: Sampling,
    generator: torch.Generator,
    on_step: Callable[[], None] | None = None,
    constraints: TokenConstraints | None = None,
    fast: bool | None = None,
    grid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Codes [1, K, total_frames]: `prompt` ([1, K, P]) kept, the rest sampled.

    `rhythm_curve` is [1, total_frames, C] on the frame grid of this window; frame t's value is
    added at pattern step t, the step whose output is codebook 0 of frame t. `null_memory` given
    means classifier-free guidance: a second batch row with the null condition and zero rhythm.
    `fast` (default: `FAST_STEP`) computes the steps with `FastStep` (the same logits at a fraction
    of the overhead) when the model allows it; False, or a model it does not cover, runs
    audiocraft's streaming forward. `grid` [1, total_frames, GRID_CHANNELS]: where each frame
    sits in beat, bar and phrase (`grid_position`), given to every batch row.
    """
    lm = model.lm
    device = next(lm.parameters()).device
    K = lm.num_codebooks
    P = 0 if prompt is None else prompt.shape[-1]
    assert 0 <= P < total_frames
    pattern = lm.pattern_provider.get_pattern(total_frames)
    unknown = -1
    codes = torch.full((1, K, total_frames), unknown, dtype=torch.long, device=device)
    if prompt is not None:
        codes[..., :P] = prompt.to(device)
    seq, _, mask = pattern.build_pattern_sequence(codes, lm.special_token_id)
    start = pattern.get_first_step_with_timesteps(P)
    use_cfg = null_memory is not None
    mem = memory
    if use_cfg:
        mem = torch.cat([memory, null_memory.expand_as(memory)], dim=0)
    batch = 2 if use_cfg else 1
    S = seq.shape[-1]
    # Pad to every step and to the CFG batch once; each step then takes views (no allocation).
    feats = model.frame_additions(
        None if rhythm_curve is None else rhythm_curve.to(device),
        None if grid is None else grid.to(device),
        S,
        batch,
    )
    step = _fast_step(model) if (FAST_STEP if fast is None else fast) else None
    if step is not None:
        step.start(mem, batch, S)
    blocked: dict[tuple, tuple] = {}  # constraints.key -> (forbidden ids, log-odds bias) [1, K, card]
    emitted = codes[0].cpu().clone()  # [K, frames]: the tokens so far, for the groove memory
    with step.running() if step is not None else lm.streaming():
        prev = 0
        for offset in range(start, S):
            cur = seq[..., prev:offset]
            if use_cfg:
                cur = torch.cat([cur, cur], dim=0)
            step_feats = None if feats is None else [f[:, prev:offset] for f in feats]
            if step is not None:
                last = step(cur, step_feats, pos_offset=prev)  # [B, K, card]
            else:
                last = model(cur, mem, step_feats, pos_offset=prev)[:, :, -1]
            if use_cfg:
                cond, uncond = last.split(1, dim=0)
                last = uncond + (cond - uncond) * sampling.cfg_coef
            if constraints is not None:
                coords = pattern.layout[offset]
                key = constraints.key(coords)
                if key not in blocked:
                    allowed = constraints.mask(coords, lm.card, K)
                    bias = constraints.bias(coords, lm.card, K)
                    blocked[key] = (
                        None if allowed is None else ~allowed.to(last.device),
                        None if bias is None else bias.to(last.device, last.dtype),
                    )
                forbidden, bias = blocked[key]
                if bias is not None:
                    last = last + bias
                groove = constraints.groove(coords, emitted, lm.card, K)
                if groove is not None:
                    last = last + groove.to(last.device, last.dtype)
                held = constraints.held(coords, emitted)
                if held is not None:
                    q, keep = held
                    last = last.clone()
                    row = last[:, q, keep].clone()
                    last[:, q, :] = float("-inf")
                    last[:, q, keep] = row
                if forbidden is not None:
                    last = last.masked_fill(forbidden, float("-inf"))
                form = constraints.form_bias(coords, P, total_frames, lm.card, K)
                if form is not None:
                    planned = last + form.to(last.device, last.dtype)
                    # a plan the other masks leave nothing to (a hit's forced accent) gives way
                    keep = torch.isinf(planned).all(-1, keepdim=True) & (planned < 0).all(-1, keepdim=True)
                    last = torch.where(keep, last, planned)
            nxt = sample_top_k(last, sampling.temperature, sampling.top_k, generator)  # [1, K, 1]
            valid = mask[..., offset : offset + 1].expand(1, -1, -1)
            nxt[~valid] = lm.special_token_id
            slot = seq[..., offset : offset + 1]
            seq[..., offset : offset + 1] = torch.where(slot == unknown, nxt, slot)
            if constraints is not None and constraints.form is not None:
                constraints.record(pattern.layout[offset], nxt, P, total_frames)
            if constraints is not None and (constraints.repeat_from or constraints.hold is not None):
                for c in pattern.layout[offset]:
                    if c.t < total_frames and int(emitted[c.q, c.t]) < 0:
                        emitted[c.q, c.t] = int(nxt[0, c.q, 0])
            prev = offset
            if on_step is not None:
                on_step()
    out, _, _ = pattern.revert_pattern_sequence(seq, special_token=unknown)
    out = out[..., :total_frames]
    assert (out >= 0).all() and (out < lm.card).all(), "generation left unfilled or special tokens"
    return out


def _fast_step(model: VidMusicianLM) -> FastStep | None:
    try:
        return FastStep(model)
    except UnsupportedModel as exc:
        log.debug("fast step off for this model (%s): using audiocraft's streaming forward", exc)
        return None


def window_steps(model: VidMusicianLM, total_frames: int, prompt_frames: int) -> int:
    """How many sampling steps `generate_window` takes (for progress reporting)."""
    pattern = model.lm.pattern_provider.get_pattern(total_frames)
    return len(pattern.layout) - pattern.get_first_step_with_timesteps(prompt_frames)
