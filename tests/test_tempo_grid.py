"""The cue's tempo grid: fitted to hit points within a style's range, kept by a continued cue, and
obeyed by the sampler (notes start only on its frames, strong accents only on its beats)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.generator import backbone as bb
from engine.generator import tempo_grid
from engine.generator.config import GeneratorConfig
from engine.generator.music_generator import MusicGenerator
from engine.generator.tempo_grid import (
    STREAM_LEVELS,
    STYLE_METERS_FILE,
    Meter,
    TempoGrid,
    fit_to_hits,
    fit_to_onsets,
    groove_sources,
    groove_steps,
    read_style_meters,
)
from engine.presets import load_preset
from engine.symbolic import tokens as tk

ROCK = Meter((112.0, 138.0), 4, 4)


def test_the_grid_puts_hits_on_beats_within_the_style_range():
    truth = TempoGrid(121.3, 17.0)
    beats = truth.frames(0, 1000, "beat")
    hits = [int(beats[i]) for i in (0, 3, 4, 9, 15, 22)]
    grid = fit_to_hits(hits, 1000, ROCK)
    assert 112.0 <= grid.bpm <= 138.0
    on_beat = set(grid.frames(0, 1000, "beat").tolist())
    assert all(any(abs(h - b) <= 1 for b in on_beat) for h in hits)
    # cuts that fit no tempo in range still give a tempo in range, never outside it
    odd = fit_to_hits([0, 7, 61, 62, 300], 400, ROCK)
    assert 112.0 <= odd.bpm <= 138.0


def test_without_hits_the_grid_is_the_middle_tempo_from_frame_zero():
    grid = fit_to_hits([], 500, ROCK)
    assert grid.bpm == pytest.approx(125.0) and grid.origin == 0.0
    assert grid.frames(0, 100, "beat")[0] == 0


def test_grid_frames_are_steady_and_nested_by_level():
    grid = TempoGrid(96.0, -3.4, 4, 4)
    steps = grid.frames(0, 3000, "step")
    gaps = np.diff(steps)
    assert set(gaps.tolist()) <= {7, 8} and abs(gaps.mean() - grid.step_frames) < 0.01  # no drift
    for level in ("eighth", "beat", "bar"):
        assert set(grid.frames(0, 3000, level).tolist()) <= set(steps.tolist())
    triplets = TempoGrid(150.0, 0.0, 3, 4)
    assert triplets.steps_per("eighth") == 3  # a triplet feel has no straight eighths: beats


def test_a_continued_cue_recovers_its_predecessors_grid():
    truth = TempoGrid(88.7, 5.2, 4, 4)
    rng = np.random.default_rng(0)
    steps = truth.frames(-300, 0, "step")
    onsets = np.sort(rng.choice(steps, size=30, replace=False))
    grid = fit_to_onsets(onsets, Meter((68.0, 92.0), 4, 4))
    assert grid is not None
    assert np.array_equal(grid.frames(0, 200, "step"), truth.frames(0, 200, "step"))
    far, far_truth = grid.frames(0, 1500, "step"), truth.frames(0, 1500, "step")  # 30 s on: no drift
    assert far.shape == far_truth.shape and np.abs(far - far_truth).max() <= 1
    # onsets on no grid are not forced onto one
    assert fit_to_onsets(np.array([0, 3, 4, 11, 17, 18, 29, 31, 40, 41]), Meter((68.0, 92.0))) is None


def test_a_groove_is_the_longest_whole_beats_of_a_bar_a_listener_hears_as_one_pulse():
    assert groove_steps(TempoGrid(96.0, 0.0)) == 8  # two beats: 1.25 s (a bar would be 2.5 s)
    assert groove_steps(TempoGrid(180.0, 0.0)) == 16  # a whole bar: 1.33 s
    assert groove_steps(TempoGrid(60.0, 0.0)) == 4  # one beat: 1 s
    assert groove_steps(TempoGrid(100.0, 0.0, steps_per_beat=3, beats_per_bar=4)) == 6


def test_groove_sources_look_back_exactly_one_groove_on_the_grid():
    grid = TempoGrid(96.0, 3.0)  # 7.8125 frames a step: the lookup must not drift
    steps = grid.frames(0, 400, "step")
    back = groove_sources(grid, 0, 400, "step")
    assert back and set(back) <= set(steps.tolist()) and set(back.values()) <= set(steps.tolist())
    index = {int(f): i for i, f in enumerate(steps)}
    assert all(index[now] - index[then] == 8 for now, then in back.items())
    assert min(back) == int(steps[8])  # the first groove has nothing to remember


def test_the_groove_memory_makes_the_drums_play_a_groove(gen, one_torch_thread, monkeypatch):
    """With the memory on, the drums play on a grid frame what they played one groove earlier far
    more often than the same (untrained) LM does without it; the grid itself is unchanged."""

    def repeats(odds: float) -> tuple[float, TempoGrid]:
        monkeypatch.setitem(tempo_grid.GROOVE_ODDS, "drums", odds)
        cue = gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=6.0, seed=3, hit_points_s=(1.0,))
        back = groove_sources(cue.grid, 0, 300, "step")
        drums = cue.tokens[0]
        same = [drums[now] == drums[then] for now, then in back.items() if now != 50]
        return float(np.mean(same)), cue.grid

    alone, grid_off = repeats(0.0)
    # an untrained LM spreads its odds over ~300 drum ids; a trained one puts them on a few, where
    # the shipped odds decide: here the memory is made strong enough to show on random weights
    grooving, grid_on = repeats(6.0)
    assert grid_on == grid_off
    assert grooving >= alone + 0.25, (alone, grooving)


def test_the_shipped_model_carries_the_meters_of_the_styles_it_was_trained_on():
    from engine.corpus.style_meters import style_meters

    folder = bb.models_root() / "tiny"
    assert json.loads((Path(folder) / STYLE_METERS_FILE).read_text()) == style_meters()
    meters = read_style_meters(Path(folder))
    assert meters["jazz_trio"].steps_per_beat == 3 and meters["ambient"].tempo_bpm == (60.0, 76.0)


@pytest.fixture(scope="module")
def gen():
    cfg = GeneratorConfig.from_dict(load_preset("tiny").generator)
    g = MusicGenerator.from_config(cfg, preset="tiny")
    g.style_meters = read_style_meters(bb.models_root() / "tiny")
    return g


def _onsets(tokens: np.ndarray, k: int) -> np.ndarray:
    return np.flatnonzero(tokens[k] >= tk.ONSET_BASE)


def test_notes_start_only_on_the_grid_and_strong_accents_only_on_beats(gen, one_torch_thread):
    hits = (0.62, 1.9, 3.3)
    cue = gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=4.0, seed=2, hit_points_s=hits)
    grid = cue.grid
    assert grid is not None
    lo, hi = gen.style_meters[_style_of(cue.tokens)].tempo_bpm
    assert lo <= grid.bpm <= hi
    hit_frames = {round(t * 50) for t in hits}
    beats = set(grid.frames(0, 200, "beat").tolist())
    for k, name in enumerate(STREAM_LEVELS):
        allowed = set(grid.onset_frames(0, 200, name).tolist()) | (hit_frames if k == 0 else set())
        assert set(grid.onset_frames(0, 200, name).tolist()) <= set(
            grid.frames(0, 200, STREAM_LEVELS[name]).tolist()
        )
        frames = _onsets(cue.tokens, k)
        assert set(frames.tolist()) <= allowed, name
        strong = [f for f in frames if (int(cue.tokens[k, f]) - tk.ONSET_BASE) % tk.ACCENTS == tk.STRONG]
        assert set(strong) <= beats | (hit_frames if k == 0 else set()), name
    strong_ids = set(tk.strong_drum_onsets().tolist())
    assert all(int(cue.tokens[0, f]) in strong_ids for f in hit_frames)  # hits still land
    # the untrained LM alone starts notes off any grid: the constraint is what put them there
    free = gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=4.0, seed=2, tempo_lock=False)
    assert free.grid is None
    steps = set(grid.frames(0, 200, "step").tolist())
    assert any(f not in steps for f in _onsets(free.tokens, 0))


def _style_of(tokens: np.ndarray) -> str:
    from engine.symbolic.score import STYLES

    return STYLES[int(np.bincount(tokens[tk.STREAMS.index("style"), :25].astype(int)).argmax())]


def test_a_continued_cue_keeps_its_predecessors_tempo(gen, one_torch_thread):
    first = gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=3.0, seed=4, hit_points_s=(0.4, 1.5))
    second = gen.generate_cue(
        cls_1fps=None, rhythm_50hz=None, duration_s=2.0, seed=5, continuation_tokens=first.tokens
    )
    # the second cue's frame 0 is the first's frame 150: its grid goes on where the first's left off
    # (to the frame, but for steps on a half frame that either rounding may take)
    ahead = first.grid.frames(150, 250, "step") - 150
    mine = second.grid.frames(0, 100, "step")
    assert mine.shape == ahead.shape and np.abs(mine - ahead).max() <= 1
    # every grid that reproduces the first cue's onsets is as likely: they pin the phase to a
    # fraction of a frame, which flips some roundings (fewer onsets, as a slow style plays, pin less)
    assert np.mean(mine == ahead) >= 0.5
    assert second.grid.bpm == pytest.approx(first.grid.bpm, rel=0.005)
    assert set(_onsets(second.tokens, 0).tolist()) <= set(mine.tolist())


def test_a_tempo_named_in_the_prompt_is_the_cues_tempo(gen, one_torch_thread):
    cue = gen.generate_cue(
        cls_1fps=None, rhythm_50hz=None, duration_s=1.0, seed=1, prompt="indie rock, 96 bpm"
    )
    assert cue.grid.bpm == pytest.approx(96.0)


def test_a_cue_opens_in_its_pilots_style_and_changes_style_only_where_the_picture_changes(
    gen, one_torch_thread
):
    """The grid is fitted in the meter of the style the pilot read, so the cue must open in that
    style; after that the style stream holds between picture changes (a cut at 2 s here, a hit
    point at 4 s). The untrained LM left free changes style anywhere."""
    from engine.generator.cue_grid import CHANGE_SLACK, PILOT_FRAMES
    from engine.symbolic.score import STYLES

    frames = 300
    rhythm = np.zeros((frames, 2), np.float32)
    rhythm[100, 1] = 1.0  # a cut the features found
    cue = gen.generate_cue(cls_1fps=None, rhythm_50hz=rhythm, duration_s=6.0, seed=7, hit_points_s=(4.0,))
    style = cue.tokens[tk.STREAMS.index("style")]
    assert (style[:PILOT_FRAMES] == style[0]).all()
    lo, hi = gen.style_meters[STYLES[int(style[0])]].tempo_bpm
    assert lo <= cue.grid.bpm <= hi
    free = {f + d for f in (100, 200) for d in range(-CHANGE_SLACK, CHANGE_SLACK + 1)}
    changes = set(np.flatnonzero(style[1:] != style[:-1]) + 1)
    assert changes <= free, sorted(changes - free)
    loose = gen.generate_cue(cls_1fps=None, rhythm_50hz=rhythm, duration_s=6.0, seed=7, tempo_lock=False)
    loose_style = loose.tokens[tk.STREAMS.index("style")]
    assert set(np.flatnonzero(loose_style[1:] != loose_style[:-1]) + 1) - free  # the hold is what held it


def test_with_hits_off_the_grid_is_fitted_to_the_cuts_the_model_sees(gen, one_torch_thread):
    """No hit points (hits off): the grid is fitted to the hard cuts in the rhythm input's cue
    channel (1.0), not to its dissolves (0.5), so whether a cut gets an accent is the model's
    choice on a beat, not ruled out by a grid that ignores the cutting. Nothing is forced there."""
    from engine.generator.cue_grid import picture_cut_frames

    frames = 400
    rhythm = np.zeros((frames, 2), np.float32)
    cuts = (37, 131, 226, 290)
    for f in cuts:
        rhythm[f : f + 2, 1] = 1.0  # a cut may mark two frames: it is one cut
    rhythm[170, 1] = 0.5  # a dissolve
    assert picture_cut_frames(torch.from_numpy(rhythm)) == list(cuts)
    cue = gen.generate_cue(cls_1fps=None, rhythm_50hz=rhythm, duration_s=8.0, seed=3)
    hits = tuple(f / 50 for f in cuts)
    forced = gen.generate_cue(cls_1fps=None, rhythm_50hz=rhythm, duration_s=8.0, seed=3, hit_points_s=hits)
    assert cue.grid == forced.grid  # the grid the cuts as hit points would get
    alone = gen.generate_cue(cls_1fps=None, rhythm_50hz=np.zeros_like(rhythm), duration_s=8.0, seed=3)
    assert alone.grid.origin == 0.0  # no cuts, no hits: the middle tempo from frame 0
    strong = set(tk.strong_drum_onsets().tolist())
    assert all(int(forced.tokens[0, f]) in strong for f in cuts)  # a hit point is forced; a cut alone is not:
    assert not all(int(cue.tokens[0, f]) in strong for f in cuts)


def test_a_stream_starts_notes_only_where_its_style_does():
    """The composer of a slow style never starts a drum hit or a melody note on an odd sixteenth;
    the meters a model carries say so, and the grid keeps each stream to its style's positions."""
    from engine.corpus.style_meters import onset_positions

    assert onset_positions("cinematic_strings")["drums"] == [0, 2]
    assert onset_positions("ambient")["harmony"] == [0]
    assert onset_positions("electronic_pulse")["drums"] == [0, 1, 2, 3]
    meter = Meter.from_dict(
        {"tempo_bpm": [70, 80], "steps_per_beat": 4, "onset_positions": {"drums": [0, 2], "bass": [0, 3]}}
    )
    grid = fit_to_hits([10, 90], 400, meter)
    step = grid.step_frames
    at = lambda frames: set(np.round((frames - grid.origin) / step).astype(int) % 4)  # noqa: E731
    assert at(grid.onset_frames(0, 400, "drums")) == {0, 2}
    assert at(grid.onset_frames(0, 400, "bass")) == {0}  # bass starts on eighths: position 3 is none
    assert at(grid.onset_frames(0, 400, "melody")) == {0, 1, 2, 3}  # not named: every step
    assert tempo_grid.onset_boost(grid, "drums") == pytest.approx(math.log(grid.beat_frames / 2))
    with pytest.raises(ValueError, match="onset positions"):
        Meter.from_dict({"tempo_bpm": [70, 80], "onset_positions": {"drums": [4]}})
