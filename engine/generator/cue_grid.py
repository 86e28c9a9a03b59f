"""What a symbolic cue may sample: its streams' own ids, strong accents on hit points, and the
cue's tempo grid (chosen here: a continued cue's, the prompt's tempo, or the one that puts the
hits on beats in the meter of the style the model starts the cue in).

Why apart from the music generator: it runs generation; this decides, from the model's
token space and the cue, what generation is allowed to emit (`decoding.TokenConstraints`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.api import CueKey, CueTempo
from engine.generator import tempo_grid
from engine.generator.decoding import Sampling, TokenConstraints, generate_window
from engine.generator.form import (
    FormDecoder,
    MoodPlay,
    StyleForm,
    in_mode,
    in_mood,
    key_signature,
    plan_form,
    tonic_in,
)
from engine.generator.model import VidMusicianLM
from engine.generator.tempo_grid import (
    DEFAULT_METER,
    GROOVE_EXACT,
    GROOVE_ODDS,
    STREAM_LEVELS,
    Meter,
    TempoGrid,
    fit_to_hits,
    fit_to_onsets,
)
from engine.symbolic import tokens as symbolic_tokens
from engine.symbolic.score import STREAMS, STYLES

CONTINUED_TEMPO_BPM = (40.0, 240.0)  # where a continued cue's grid is looked for last
PILOT_FRAMES = 25  # frames sampled to read the style a cue starts in (its meter)
# The pilot weighs the pictures this many times the cue's own guidance: the style is the one choice
# the pictures alone must make (the style stream then holds it). Chosen on the training run's
# validation clips (30, tiny model of 2026-12-07): pilot style right 0.77 at 1x, 0.80 at 1.25x,
# 0.83 at 1.5x, 0.87 at 2x; above 1.25x the demo's cycling footage opens in ambient, whose pad and
# reverb read as no pulse to the music measures (rhythmicity 0.18 against the 0.35 floor).
PILOT_GUIDANCE_GAIN = 1.25
STYLE_ROW = STREAMS.index("style")
# A prompt's energy (`prompt_intent`) as log-odds added to each stream's onsets on its grid frames
# (drums, bass, harmony, melody): more or fewer notes in the same style and tempo. Odds alone move a
# confident LM little, so low energy also lets the streams in `ON_BEATS_WHEN_LOW` start notes only
# on beats; the chords keep their rhythm, so a calm cue still has its bed.
ENERGY_ODDS = {"low": (-1.0, 0.0, 0.0, -0.5), "medium": (0.0, 0.0, 0.0, 0.0), "high": (1.5, 1.0, 0.5, 1.5)}
ON_BEATS_WHEN_LOW = (True, True, False, True)


@dataclass(frozen=True)
class StreamMasks:
    """[K, card] id masks of the symbolic token space, per stream."""

    allowed: torch.Tensor  # a stream's own ids
    hit_ids: torch.Tensor  # [card] drum ids a hit point is forced to (strong, kick or crash)
    quiet: torch.Tensor  # what a stream may emit where no note may start: rest (and hold)
    unstressed: torch.Tensor  # everything but strong onsets
    onsets: torch.Tensor  # the ids that start a note

    @classmethod
    def for_card(cls, card: int) -> StreamMasks:
        k = len(STREAMS)
        allowed = np.stack([symbolic_tokens.valid_ids(q)[:card] for q in range(k)])
        hit_ids = np.zeros(card, dtype=bool)
        hit_ids[symbolic_tokens.strong_drum_onsets()] = True
        quiet = np.zeros_like(allowed)
        quiet[:, symbolic_tokens.REST] = True
        quiet[1:, symbolic_tokens.HOLD] = True  # drums are one-shots: no hold
        quiet[STYLE_ROW] = allowed[STYLE_ROW]
        unstressed, onsets = allowed.copy(), np.zeros_like(allowed)
        for q, name in enumerate(STREAMS):
            unstressed[q, symbolic_tokens.onset_ids(name, symbolic_tokens.STRONG)] = False
            onsets[q, symbolic_tokens.onset_ids(name)] = True
        as_tensor = torch.from_numpy
        return cls(
            as_tensor(allowed), as_tensor(hit_ids), as_tensor(quiet), as_tensor(unstressed), as_tensor(onsets)
        )

    def for_hits(self, hit_frames: frozenset[int]) -> TokenConstraints:
        return TokenConstraints(self.allowed, self.hit_ids, hit_frames)

    @staticmethod
    def holding_style(constraints: TokenConstraints, changes: frozenset[int]) -> TokenConstraints:
        """`constraints` with the style stream held between the frames where it may change."""
        return dataclasses.replace(constraints, hold=(STYLE_ROW, changes))

    @staticmethod
    def opening(constraints: TokenConstraints, style_id: int | None) -> TokenConstraints:
        """`constraints` with the style stream held to `style_id` over the pilot's frames."""
        if style_id is None:
            return constraints
        return dataclasses.replace(constraints, opening=(STYLE_ROW, int(style_id), PILOT_FRAMES))

    @staticmethod
    def obeying(
        constraints: TokenConstraints, style_id: int | None, energy: str | None, frames: int
    ) -> TokenConstraints:
        """`constraints` keeping what a prompt asks (`prompt_intent.PromptIntent`): its style on the
        style stream over all `frames` of the cue (the pictures steer within it), its energy as
        odds on the grid's onsets and, when low, fewer grid frames (`ENERGY_ODDS`; no grid, no
        change)."""
        if style_id is not None:
            # one style throughout: nothing to hold (a continued cue's last style would clash)
            constraints = dataclasses.replace(
                constraints, opening=(STYLE_ROW, int(style_id), int(frames)), hold=None
            )
        if energy is not None and constraints.onset_boost:
            odds = ENERGY_ODDS[energy]
            constraints = dataclasses.replace(
                constraints,
                onset_boost=tuple(b + o for b, o in zip(constraints.onset_boost, odds, strict=False)),
            )
        if energy == "low" and constraints.onset_frames and constraints.strong_frames:
            constraints = dataclasses.replace(
                constraints,
                onset_frames=tuple(
                    frames & beats if frames is not None and beats is not None and thin else frames
                    for frames, beats, thin in zip(
                        constraints.onset_frames, constraints.strong_frames, ON_BEATS_WHEN_LOW, strict=False
                    )
                ),
            )
        return constraints

    @staticmethod
    def entering(constraints: TokenConstraints, entry: int | None) -> TokenConstraints:
        """`constraints` letting the bass and the harmony start a note on frame 0, off their grid,
        when the cue's form enters there ahead of a late first beat (`form.ENTRY_MIN_FRAMES`)."""
        if entry is None or not constraints.onset_frames:
            return constraints
        opened = {STREAMS.index("bass"), STREAMS.index("harmony")}
        return dataclasses.replace(
            constraints,
            onset_frames=tuple(
                frames | {0} if q in opened and frames is not None else frames
                for q, frames in enumerate(constraints.onset_frames)
            ),
        )

    def on_grid(
        self, constraints: TokenConstraints, grid: TempoGrid, first: int, end: int
    ) -> TokenConstraints:
        """`constraints` plus `grid` over frames [first, end): notes start on its frames at each
        stream's level where the style starts that stream's notes, strong accents on its beats, grid frames carry the odds around them, and
        each stream remembers its groove (`tempo_grid.groove_sources`)."""
        onsets = tuple(frozenset(grid.onset_frames(first, end, name).tolist()) for name in STREAM_LEVELS)
        beats = frozenset(grid.frames(first, end, "beat").tolist())
        return dataclasses.replace(
            constraints,
            onset_frames=onsets,
            quiet_ids=self.quiet,
            strong_frames=(beats,) * len(STREAM_LEVELS),
            unstressed_ids=self.unstressed,
            onset_ids=self.onsets,
            onset_boost=tuple(tempo_grid.onset_boost(grid, name) for name in STREAM_LEVELS),
            repeat_from=tuple(
                {
                    f: then
                    for f, then in tempo_grid.groove_sources(grid, first, end, level).items()
                    if f in allowed
                }
                if GROOVE_ODDS[name] > 0
                else None
                for (name, level), allowed in zip(STREAM_LEVELS.items(), onsets, strict=True)
            ),
            repeat_odds=tuple(GROOVE_ODDS[name] for name in STREAM_LEVELS),
            repeat_exact=tuple(GROOVE_EXACT[name] for name in STREAM_LEVELS),
        )


def choose_grid(
    model: VidMusicianLM,
    masks: StreamMasks,
    *,
    style_meters: dict[str, Meter] | None,
    prompt_codes: torch.Tensor | None,
    prompt: str | None,
    condition: Callable,
    curve: torch.Tensor | None,
    sampling: Sampling,
    seed: int,
    hits: list[int],
    frames: int,
    frame_rate: float,
    window: int | None = None,
    style: str | None = None,
    take: int = 1,
    continued: CueTempo | None = None,
) -> tuple[TempoGrid, int | None]:
    """The cue's grid, and the style id it opens in (None: free).

    The grid is a continued cue's own (fitted to its saved onsets); else a tempo the prompt names
    ("..., 96 bpm"); else the one that puts the hits (with none, the picture's hard cuts) on beats
    within the meter of the style the model starts the cue in, read from a short pilot of its first
    frames: greedy, conditioned on the pictures of the cue's first window (`window` frames), as the cue itself will be — one second
    of pictures is not what the model was trained on, and it guesses another style from it. The
    cue must then open in that style (`StreamMasks.opening`): sampled again it could open in
    another, at a tempo and a feel that style never plays. A `style` the prompt names is the
    meter's and the opening's, with no pilot.

    `take` k > 1 is an alternative (`--takes`, regenerate): it opens in the pilot's k-th choice
    (`alternative_styles`), and where the style is fixed (named by the prompt) plays at the other
    end of its tempo range (`take_tempo_range`). A continued cue keeps its predecessor's grid:
    the one it recorded (`continued`, in this cue's seconds), else one fitted to its notes."""
    if prompt_codes is not None:
        codes = prompt_codes[0].cpu().numpy()
        if style is not None and style_meters is not None:
            meter = style_meters.get(style, DEFAULT_METER)
        else:
            meter = meter_of(codes[STYLE_ROW, -int(frame_rate) :], style_meters)
        if continued is not None:
            same_steps = meter.steps_per_beat == continued.steps_per_beat
            positions = meter.onset_positions if same_steps else ()
            return tempo_grid.from_cue_tempo(continued, frame_rate, positions), None
        # the pitched streams' onsets: always on the grid (a hit point forces the drums off it)
        pitched = codes[STREAMS.index("bass") : STYLE_ROW]
        onsets = np.flatnonzero((pitched >= symbolic_tokens.ONSET_BASE).any(axis=0))
        # less its first frame, where a late first beat's entry sounds off the grid (a whole
        # short cue in the prompt: form.ENTRY_MIN_FRAMES)
        onsets = onsets[onsets > 0] - codes.shape[1]
        # the grid the predecessor played: fitted in the meter of the style it ends in (or the
        # prompt names), else in that of another style it played (its grid was its opening
        # style's), else at any tempo
        played = [STYLES[s] for s in np.unique(np.clip(codes[STYLE_ROW], 0, len(STYLES) - 1))]
        meters = [meter, *((style_meters or {}).get(name, meter) for name in played)]
        meters.append(dataclasses.replace(meter, tempo_bpm=CONTINUED_TEMPO_BPM))
        for candidate in meters:
            grid = fit_to_onsets(onsets, candidate)
            if grid is not None:
                return grid, None
        return fit_to_hits(hits, frames, meter), None
    opening = None
    if style is not None:
        opening = STYLES.index(style)
        meter = DEFAULT_METER if style_meters is None else style_meters.get(style, DEFAULT_METER)
    elif style_meters is None:
        meter = DEFAULT_METER
    else:
        pilot = min(frames, PILOT_FRAMES)
        memory, null_memory = condition(0, min(frames, window or frames))
        device = next(model.parameters()).device

        def surest(excluded: list[int]) -> int:
            allowed = masks.allowed.clone()
            allowed[STYLE_ROW, excluded] = False
            codes = generate_window(
                model,
                memory=memory,
                null_memory=null_memory,
                rhythm_curve=None if curve is None else curve[None, :pilot],
                prompt=None,
                total_frames=pilot,
                sampling=dataclasses.replace(  # the style it is surest of
                    sampling, temperature=0.0, cfg_coef=sampling.cfg_coef * PILOT_GUIDANCE_GAIN
                ),
                generator=torch.Generator(device=device).manual_seed(int(seed) ^ 0x5EED),
                constraints=TokenConstraints(allowed),
            )
            return dominant_style(codes[0, STYLE_ROW].cpu().numpy())

        opening = alternative_styles(surest, take)[-1]
        meter = style_meters.get(STYLES[opening], DEFAULT_METER)
    if style is not None and take > 1:
        meter = dataclasses.replace(meter, tempo_bpm=take_tempo_range(meter.tempo_bpm, take))
    named = prompt_bpm(prompt)
    if named is not None:
        meter = Meter((named, named), meter.steps_per_beat, meter.beats_per_bar)
    return fit_to_hits(hits or picture_cut_frames(curve), frames, meter), opening


def alternative_styles(surest: Callable[[list[int]], int], take: int) -> list[int]:
    """The styles takes 1..`take` open in: the pilot's surest style, then its surest with the
    earlier takes' styles ruled out (its 2nd, 3rd... choice for these pictures); past the eighth
    take they come round again."""
    chosen: list[int] = []
    for _ in range(max(1, int(take))):
        if len(chosen) >= len(STYLES):
            chosen.append(chosen[len(chosen) - len(STYLES)])
            continue
        chosen.append(surest(chosen))
    return chosen


def take_tempo_range(tempo_bpm: tuple[float, float], take: int) -> tuple[float, float]:
    """The tempo range of take k in one style: the whole range for the first, then alternately
    the top and the bottom tenth of it, so two alternatives differ in tempo by 8 % or more in
    every style the model knows (electronic_pulse's 118-132 bpm, the narrowest, gives 8.8 %)."""
    lo, hi = tempo_bpm
    tenth = (hi - lo) / 10.0
    if take <= 1 or tenth <= 0:
        return tempo_bpm
    return (hi - tenth, hi) if take % 2 == 0 else (lo, lo + tenth)


def cue_form(
    *,
    grid: TempoGrid,
    opening: int | None,
    prompt_codes: torch.Tensor | None,
    history: np.ndarray | None,
    style_forms: dict[str, StyleForm] | None,
    frames: int,
    end_frame: int | None,
    hits: frozenset[int],
    seed: int,
    card: int,
    frame_rate: float,
    mode: str | None = None,
    seam: int | None = None,
    style_meters: dict[str, Meter] | None = None,
    continued_key: CueKey | None = None,
    mood: MoodPlay | None = None,
    energy: str | None = None,
) -> FormDecoder | None:
    """The cue's written form (`form.plan_form`) in the style it opens in (a continued cue: the
    style its predecessor was playing, and the key signature that cue was written in, read from
    its notes, `history` [K, T] being the whole of it), in `mode` where the prompt asks for one
    (a mood's: `form.in_mode`), played as `mood` plays it (`form.MoodPlay`: its harmony, register,
    density, dynamics and figure) at `energy` (a high one rides out its close), or None where
    the model folder has no style forms or the style is unknown."""
    if style_forms is None:
        return None
    prompt = None if prompt_codes is None else prompt_codes[0].cpu().numpy()
    if opening is not None:
        name = STYLES[opening]
    elif prompt is not None:
        name = STYLES[dominant_style(prompt[STYLE_ROW, -int(frame_rate) :])]
    else:
        return None
    form = style_forms.get(name)
    if form is None:
        return None
    if mode is not None:
        form = in_mode(form, mode)
    form = in_mood(form, mood)
    rng = np.random.default_rng(int(seed) ^ 0xF0A3)
    tonic = None
    if continued_key is not None and prompt is not None:  # the signature it recorded
        tonic = tonic_in(frozenset(continued_key.notes), form.scale)
    elif history is not None and np.ndim(history) == 2 and history.shape[1] > 0:
        # the key signature it was written in, whatever its mode: this cue's mode on those notes
        signature = key_signature(history)
        tonic = None if signature is None else tonic_in(signature, form.scale)
    if tonic is None:
        tonic = int(rng.integers(12))
    first = 0 if prompt is None else -prompt.shape[1]
    plan = plan_form(
        grid=grid,
        form=form,
        tonic=tonic,
        frames=frames,
        first=first,
        end_frame=end_frame,
        rng=rng,
        hits=hits,
        frame_rate=frame_rate,
        seam=seam,
        mood=mood,
        energy=energy,
    )
    styles = {STYLES.index(n): f for n, f in style_forms.items() if n in STYLES}
    meters = {STYLES.index(n): m for n, m in (style_meters or {}).items() if n in STYLES}
    return FormDecoder(plan, card, len(STREAMS), prompt, styles, meters, home_style=STYLES.index(name))


HARD_CUT = 0.75  # the cue channel at a hard cut or marker is 1.0; a dissolve is 0.5
PICTURE_CHANGE = 0.45  # the cue channel at a hard cut or marker (1.0), or at a fade or dissolve (0.5)
CHANGE_SLACK = 2  # frames around a cut where the style may change


def style_change_frames(
    curve: torch.Tensor | None,
    hits: frozenset[int] | set[int],
    frames: int,
    worlds: frozenset[int] | None = None,
) -> frozenset[int]:
    """Frames where a cue's style may change: at its cuts, dissolves and markers (the cue channel
    of `curve` [frames, 2], and the hit points), a few frames either side. The corpus changes style
    only where its pictures change world, on a cut or a dissolve; left free, the LM drifts from style to style
    inside one shot (an 11 s shot of bikes went electronic, ambient, cinematic, ambient).
    `worlds`, where the editor side decided them (its world changes and markers): only there, as
    a style holds within a world (bikes' own cuts flipped electronic and ambient three times)."""
    if worlds is not None:
        at = set(int(f) for f in worlds)
    else:
        at = set(int(h) for h in hits)
    if worlds is None and curve is not None and curve.shape[-1] >= 2:
        at |= set(np.flatnonzero(curve[..., 1].reshape(-1).cpu().numpy() >= PICTURE_CHANGE).tolist())
    return frozenset(f + d for f in at for d in range(-CHANGE_SLACK, CHANGE_SLACK + 1) if 0 <= f + d < frames)


def picture_cut_frames(curve: torch.Tensor | None) -> list[int]:
    """The hard cuts the model sees in its rhythm input (the cue channel of `curve` [frames, 2]),
    one frame each. With no hit points (hits off) the grid is fitted to these: the cue still plays
    in time with the cutting a music editor spots to, and whether a cut gets an accent is left to
    the model."""
    if curve is None or curve.shape[-1] < 2:
        return []
    cue = curve[..., 1].reshape(-1).cpu().numpy() >= HARD_CUT
    return np.flatnonzero(cue & ~np.concatenate(([False], cue[:-1]))).tolist()


def prompt_bpm(prompt: str | None) -> float | None:
    """The tempo a prompt names ("warm piano, 96 bpm"), when it names a plausible one."""
    found = re.search(r"(\d+(?:\.\d+)?)\s*bpm", prompt or "", flags=re.IGNORECASE)
    if not found or not 30.0 <= float(found.group(1)) <= 300.0:
        return None
    return float(found.group(1))


def dominant_style(style_ids: np.ndarray) -> int:
    """The most frequent style id in a stretch of the style stream."""
    ids = np.clip(np.asarray(style_ids, dtype=np.int64), 0, len(STYLES) - 1)
    return int(np.bincount(ids, minlength=len(STYLES)).argmax())


def meter_of(style_ids: np.ndarray, style_meters: dict[str, Meter] | None) -> Meter:
    """The meter of the most frequent style in a stretch of the style stream."""
    if style_meters is None or len(style_ids) == 0:
        return DEFAULT_METER
    return style_meters.get(STYLES[dominant_style(style_ids)], DEFAULT_METER)
