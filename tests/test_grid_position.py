"""Where a frame sits in beat, bar and phrase: the features, the corpus and real pieces that carry
them, the model that is trained with them, and the decoder's cue grid that serves them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.generator import backbone as bb
from engine.generator.adapters import load_adapters, save_adapters
from engine.generator.grid_position import GRID_CHANNELS, GridSegment, cue_segment, grid_features
from engine.generator.music_generator import build_model
from engine.generator.tempo_grid import TempoGrid
from engine.train.batches import Batcher
from engine.train.loop import TrainConfig, train_stage
from engine.train.prepare import truth_grid
from engine.train.shards import PreparedItem, ShardDataset, ShardWriter
from engine.train.stages import build_stage_model
from tests._trainer_data import CARD, CLS_DIM, small_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _phase(rows: np.ndarray, level: int) -> np.ndarray:
    """The phase 0..1 of level 0 beat, 1 bar, 2 phrase, 3 period back from its (sin, cos)."""
    return np.mod(np.arctan2(rows[:, 2 * level], rows[:, 2 * level + 1]) / (2 * math.pi), 1.0)


def test_phases_follow_beats_bars_phrases_and_periods():
    # 120 bpm at 50 Hz: a beat every 25 frames, 4/4 bars of 100, bar 0 at frame 10
    f = grid_features([GridSegment(0, 1000, 10.0, 25.0, 4)], 0, 1000)
    assert f.shape == (1000, GRID_CHANNELS) and f.dtype == np.float32
    assert (f[:, 8] == 1).all()
    beat, bar, phrase, period = (_phase(f, i) for i in range(4))
    downbeats = [10, 110, 410, 810]
    assert np.allclose(bar[downbeats], 0, atol=1e-6) | np.allclose(bar[downbeats], 1, atol=1e-6)
    assert abs(beat[35]) < 1e-6 and abs(beat[47] - 12 / 25) < 1e-6
    assert abs(phrase[410]) < 1e-6 and abs(phrase[210] - 0.5) < 1e-6  # bar 4 starts a phrase
    assert abs(period[810]) < 1e-6 and abs(period[410] - 0.5) < 1e-6  # bar 8 starts a period
    assert abs(bar[60] - 0.5) < 1e-6


def test_frames_outside_every_segment_are_unknown_and_each_span_keeps_its_own_bars():
    segs = [GridSegment(0, 300, 0.0, 25.0, 4), GridSegment(400, 700, 380.0, 20.0, 3, bar0=2)]
    f = grid_features(segs, -50, 800)
    assert (f[:50] == 0).all() and (f[350:450] == 0).all() and (f[750:] == 0).all()
    assert (f[50:350, 8] == 1).all() and (f[450:750, 8] == 1).all()
    second = f[450:750]
    # the second span: 3/4 at 150 bpm, bar 0 counted 2 bars after the downbeat at 380
    assert abs(_phase(second, 2)[500 - 400] - 0.0) < 1e-6  # frame 500 = 380 + 2 bars of 60
    assert abs(_phase(second, 1)[410 - 400] - 0.5) < 1e-6


def test_a_cue_counts_its_phrases_from_its_first_bar_as_the_form_does():
    grid = TempoGrid(bpm=100.0, origin=-7.0, beats_per_bar=4)  # 30 frames a beat, 120 a bar
    seg = cue_segment(grid, -60, 1500)
    f = grid_features([seg], -60, 1560)
    at = lambda frame: f[frame + 60]  # noqa: E731
    first_downbeat = 113  # -7 + 120: the cue's first bar is the one holding frame 0 (from -7)
    assert abs(_phase(at(-7)[None], 2)[0]) < 1e-6  # the first bar opens phrase and period
    assert abs(_phase(at(first_downbeat + 3 * 120)[None], 2)[0]) < 1e-6
    assert abs(_phase(at(first_downbeat + 7 * 120)[None], 3)[0]) < 1e-6


def test_bad_grids_are_refused():
    for bad in ((0, 10, float("nan"), 25.0, 4), (0, 10, 0.0, 0.0, 4), (0, 10, 0.0, 25.0, 0)):
        with pytest.raises(ValueError):
            GridSegment(*bad)


def _model(grid_channels: int):
    cfg = small_config(grid_channels=grid_channels)
    return build_model(cfg, bb.build_random(cfg), None)


def test_the_grid_inputs_start_silent_then_reach_every_row_of_a_guidance_batch():
    torch.manual_seed(0)
    codes = torch.randint(0, CARD, (2, 4, 30))
    memory = torch.randn(2, 3, 32)
    where = torch.from_numpy(grid_features([GridSegment(0, 30, 3.0, 12.5, 4)], 0, 30))[None]
    plain, gridded = _model(0), _model(GRID_CHANNELS)
    with torch.no_grad():
        a = plain(codes, memory, plain.frame_additions(None, None, 30, 2))
        b = gridded(codes, memory, gridded.frame_additions(None, where, 30, 2))
        assert torch.equal(a, b)  # zero-initialised: the same model until it is trained
        gridded.grid.proj.weight.normal_()
        adds = gridded.frame_additions(None, where, 30, 2)
        assert len(adds) == 1 and torch.equal(adds[0][0], adds[0][1])  # conditioned and null row alike
        c = gridded(codes, memory, adds)
    assert not torch.allclose(b, c)


def test_the_grid_is_saved_with_the_adapters_and_older_checkpoints_still_load(tmp_path):
    model = _model(GRID_CHANNELS)
    with torch.no_grad():
        model.grid.proj.weight.uniform_()
    save_adapters(model, tmp_path / "a.safetensors", backbone_id="small")
    again = _model(GRID_CHANNELS)
    load_adapters(again, tmp_path / "a.safetensors", backbone_id="small")
    assert torch.equal(again.grid.proj.weight, model.grid.proj.weight)
    old = _model(0)
    save_adapters(old, tmp_path / "old.safetensors", backbone_id="small")
    load_adapters(_model(0), tmp_path / "old.safetensors", backbone_id="small")
    with pytest.raises(Exception, match="grid_channels"):
        load_adapters(_model(GRID_CHANNELS), tmp_path / "old.safetensors", backbone_id="small")


def _gridded_shards(root, with_grid=True):
    codec = {"sample_rate": 16000, "frame_rate": 50.0, "n_q": 4, "card": CARD, "source": "test"}
    writer = ShardWriter(root, codec, {"preset": "small", "rhythm_channels": 2}, 4)
    for i in range(6):
        frames = 150
        t = np.arange(frames)
        codes = np.stack([np.where(t % 50 == 0, 5, (t + k) % CARD) for k in range(4)]).astype(np.int32)
        grid = grid_features([GridSegment(0, frames, 0.0, 12.5, 4)], 0, frames) if with_grid else None
        writer.add(
            PreparedItem(
                f"item-{i}",
                "train",
                "funk bass groove",
                np.zeros((3, CLS_DIM), np.float32),
                np.zeros((frames, 2), np.float32),
                codes,
                frames / 50,
                grid=grid,
            )
        )
    writer.close()
    return ShardDataset(root, "train")


def test_batches_carry_the_grid_and_drop_it_from_some_rows(tmp_path):
    data = _gridded_shards(tmp_path / "g")
    assert all(it.grid is not None and it.grid.shape == (150, GRID_CHANNELS) for it in data.items)
    batcher = Batcher(data, 1.0, 8, seed=3, grid_dropout=0.5)
    flags = np.concatenate([batcher.batch(s).grid[:, :, 8].numpy() for s in range(10)])
    assert flags.shape[1] == 50 and set(np.unique(flags)) == {0.0, 1.0}
    assert 0.2 < (flags[:, 0] == 0).mean() < 0.8  # about half the rows without it
    plain = Batcher(_gridded_shards(tmp_path / "p", with_grid=False), 1.0, 8, seed=3)
    assert plain.batch(0).grid is None


def test_stage0_trains_the_grid_and_the_adapter_stages_keep_it(tmp_path):
    data = _gridded_shards(tmp_path / "g")
    cfg = small_config(grid_channels=GRID_CHANNELS)
    fast = dict(batch=4, segment_s=1.0, lr=3e-3, warmup_steps=1, checkpoint_every=5)
    sm = build_stage_model("stage0-lm", cfg, "small")
    train_stage("stage0-lm", sm, data, TrainConfig(steps=3, **fast), tmp_path / "s0")
    assert sm.model.grid.proj.weight.abs().sum() > 0
    folder = tmp_path / "s0" / "model"
    s1 = build_stage_model("stage1", cfg, "small", backbone_dir=folder)
    assert torch.equal(s1.model.grid.proj.weight, sm.model.grid.proj.weight)
    before = s1.model.grid.proj.weight.clone()
    train_stage("stage1", s1, data, TrainConfig(steps=2, **fast), tmp_path / "s1")
    assert torch.equal(s1.model.grid.proj.weight, before)


def test_a_composed_clip_and_a_real_piece_carry_their_bars(tmp_path):
    truth = tmp_path / "t.json"
    spans = [
        {"start_frame": 0, "end_frame": 200, "origin_frame": -30.0, "tempo_bpm": 120.0, "beats_per_bar": 4},
        {"start_frame": 200, "end_frame": 400, "origin_frame": 180.0, "tempo_bpm": 90.0, "beats_per_bar": 3},
    ]
    truth.write_text(json.dumps({"frame_rate": 50, "spans": spans}))
    f = truth_grid(truth, 400, 50.0)
    assert f.shape == (400, GRID_CHANNELS) and (f[:, 8] == 1).all()
    assert abs(_phase(f[[70]], 1)[0]) < 1e-6  # -30 + one 100-frame bar
    assert abs(_phase(f[[280]], 1)[0]) < 1e-6  # 180 + one 100-frame 3/4 bar at 90 bpm
    assert truth_grid(None, 400, 50.0) is None

    from engine.corpus.real_music import RealPiece
    from engine.symbolic.score import SymbolicScore
    from engine.train.real_shards import _item

    score = SymbolicScore(
        num_frames=300, style_spans=((0, "acoustic_folk"),), tempo_bpm=100.0,
        meta={"grid": {"origin_frame": 30.0, "beat_frames": 30.0, "beats_per_bar": 3}},
    )  # fmt: skip
    item = _item(RealPiece("r:x#1", "r", "train", "folk", score), "r_x_1")
    assert item.grid.shape == (300, GRID_CHANNELS)
    assert abs(_phase(item.grid[[120]], 1)[0]) < 1e-6  # 30 + a 90-frame bar
