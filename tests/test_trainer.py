"""Trainer: the loss goes down, exact resume, stage 2 starts at stage 1, frozen parts stay put,
the written folders load in the generator, bad settings fail with a sentence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.generator import backbone as bb
from engine.generator.adapters import load_adapters
from engine.generator.music_generator import MusicGenerator, build_model
from engine.train.batches import Batcher
from engine.train.cli import main
from engine.train.loop import TrainConfig, lr_factor, train_stage
from engine.train.objective import TokenObjective
from engine.train.shards import ShardDataset
from engine.train.stages import SPECS, StageError, build_stage_model
from tests._trainer_data import SMALL, small_config, write_shards

FAST = dict(batch=4, segment_s=1.0, lr=3e-3, warmup_steps=2, checkpoint_every=5, cond_dropout=0.2)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return write_shards(tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="module")
def data(shards):
    return ShardDataset(shards, "train"), ShardDataset(shards, "val")


def _run(stage, out, data, steps, init=None, backbone_dir=None, **kw):
    sm = build_stage_model(stage, small_config(), "small", init=init, backbone_dir=backbone_dir)
    stop = kw.pop("stop_after", None)
    resume = kw.pop("resume", False)
    cfg = TrainConfig(steps=steps, **{**FAST, **kw})
    return sm, train_stage(stage, sm, data[0], cfg, out, val_data=data[1], resume=resume, stop_after=stop)


def _metrics(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_schedule_warms_up_then_decays_to_the_floor():
    f = [lr_factor(s, warmup=4, total=20, min_ratio=0.1) for s in range(25)]
    assert f[:4] == [0.25, 0.5, 0.75, 1.0]
    assert all(a >= b for a, b in zip(f[4:], f[5:], strict=False))
    assert f[20] == pytest.approx(0.1) and f[24] == pytest.approx(0.1)
    assert f[12] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))


def test_batches_are_a_function_of_step_and_split_over_ranks(data):
    b = Batcher(data[0], 1.0, 4, seed=3, cond_dropout=0.5, text_prob=0.5)
    whole, again = b.batch(7), b.batch(7)
    assert torch.equal(whole.codes, again.codes) and whole.prompts == again.prompts
    halves = [b.batch(7, rank=r, world=2) for r in range(2)]
    assert torch.equal(torch.cat([h.codes for h in halves]), whole.codes)
    assert torch.equal(torch.cat([h.cls for h in halves]), whole.cls)
    assert (
        whole.codes.shape == (4, 4, 50) and whole.cls.shape == (4, 1, 16) and whole.rhythm.shape == (4, 50, 2)
    )
    assert not torch.equal(b.batch(8).codes, whole.codes)


@pytest.mark.slow
def test_a_few_hundred_steps_lower_the_loss(tmp_path, data):
    _, result = _run(
        "stage0-lm", tmp_path, data, 300, eval_every=100, checkpoint_every=300, lr=1e-2, warmup_steps=20
    )
    lines = _metrics(tmp_path / "metrics.jsonl")
    assert [x["step"] for x in lines] == list(range(1, 301))
    first = np.mean([x["loss"] for x in lines[:10]])
    last = np.mean([x["loss"] for x in lines[-10:]])
    assert first > 0.9 * math.log(32)  # starts at chance
    assert last < 0.5 * first, (first, last)  # measured here: 3.70 -> 0.01
    vals = [x["val_loss"] for x in lines if "val_loss" in x]  # unseen items; measured: 1.98, 2.10, 2.21
    assert len(vals) == 3 and min(vals) < 0.7 * first, vals


def test_resume_reproduces_the_uninterrupted_run(tmp_path, data):
    full, cut = tmp_path / "full", tmp_path / "cut"
    sm_full, _ = _run("stage0-lm", full, data, 12, eval_every=4)
    _run("stage0-lm", cut, data, 12, eval_every=4, stop_after=7)
    assert json.loads((cut / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 7
    with open(cut / "metrics.jsonl", "a") as fh:  # a line an interrupted run wrote after its checkpoint
        fh.write(json.dumps({"step": 8, "loss": 0.0}) + "\n")
    sm_cut, result = _run("stage0-lm", cut, data, 12, eval_every=4, resume=True)
    assert result["step"] == 12
    a = dict(sm_full.model.named_parameters())
    b = dict(sm_cut.model.named_parameters())
    for name in a:
        assert torch.equal(a[name], b[name]), name
    strip = ("seconds", "tokens_per_s")
    ma = [{k: v for k, v in x.items() if k not in strip} for x in _metrics(full / "metrics.jsonl")]
    mb = [{k: v for k, v in x.items() if k not in strip} for x in _metrics(cut / "metrics.jsonl")]
    assert ma == mb


def test_stage2_starts_from_exactly_the_stage1_model(tmp_path, data):
    s1, _ = _run("stage1", tmp_path / "s1", data, 6)
    s2 = build_stage_model("stage2", small_config(), "small", init=tmp_path / "s1")
    batch = Batcher(data[0], 1.0, 2, seed=5).batch(0)
    assert batch.rhythm.abs().sum() > 0
    s1.model.eval()
    s2.model.eval()
    with torch.no_grad():
        before, _ = TokenObjective(s1.model, SPECS["stage1"]).logits(batch)
        after, _ = TokenObjective(s2.model, SPECS["stage2"]).logits(batch)
    assert torch.equal(torch.nan_to_num(before), torch.nan_to_num(after))
    # and stage 2 then learns in the rhythm path only: stage 1's adapters and the LM stay put
    frozen = {k: v.clone() for k, v in s2.model.named_parameters() if not k.startswith("rhythm.")}
    train_stage("stage2", s2, data[0], TrainConfig(steps=4, **FAST), tmp_path / "s2")
    assert s2.model.rhythm.proj_in.weight.abs().sum() > 0
    for k, v in s2.model.named_parameters():
        if k in frozen:
            assert torch.equal(v, frozen[k]), k


def test_stage1_trains_only_the_semantic_adapters(tmp_path, data):
    sm = build_stage_model("stage1", small_config(), "small")
    before = {k: v.clone() for k, v in sm.model.named_parameters()}
    result = train_stage("stage1", sm, data[0], TrainConfig(steps=3, **FAST), tmp_path)
    changed = {k for k, v in sm.model.named_parameters() if not torch.equal(v, before[k])}
    assert changed and all(
        k.startswith(("semantic.embedding_manager.", "semantic.projector.")) or "lora_" in k for k in changed
    ), changed
    assert any("lora_B" in k for k in changed)
    assert result["trainable_parameters"] == sum(
        v.numel()
        for k, v in before.items()
        if k.startswith("semantic.") and not k.startswith("semantic.t5.") or "lora_" in k
    )


def test_stage0_folder_loads_in_the_generator_and_stage_folders_chain(tmp_path, data, monkeypatch):
    s0, _ = _run("stage0-lm", tmp_path / "s0", data, 3)
    folder = tmp_path / "s0" / "model"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [bb.LM_FILE, bb.CODEC_FILE, bb.TEXT_ENCODER_FILE, bb.ADAPTERS_FILE]
    )
    models = tmp_path / "models"
    (models / "small").mkdir(parents=True)
    for p in folder.iterdir():
        (models / "small" / p.name).write_bytes(p.read_bytes())
    monkeypatch.setenv(bb.MODELS_ENV, str(models))
    cfg = small_config()
    backbone, found = bb.load_backbone("small", cfg)  # the generator's own loading path
    assert backbone.trained and found == models / "small"
    model = build_model(cfg, backbone, found)
    load_adapters(model, found / bb.ADAPTERS_FILE, backbone_id="small")
    want = dict(s0.model.named_parameters())
    for k, v in model.named_parameters():
        if not k.startswith("lm.condition_provider."):
            assert torch.equal(v, want[k]), k
    gen = MusicGenerator("small", cfg, backbone, model, trained=True)
    audio = gen.generate(cls_1fps=None, rhythm_50hz=None, duration_s=0.3, seed=1, prompt="funk bass groove")
    assert audio.shape == (round(0.3 * backbone.sample_rate),) and np.isfinite(audio).all()
    # stage 1 on this backbone starts from stage 0's projector; stage 2 goes on from stage 1
    fresh = build_stage_model("stage1", cfg, "small", backbone_dir=folder)
    assert torch.equal(fresh.model.semantic.projector.weight, s0.model.semantic.projector.weight)
    _run("stage1", tmp_path / "s1", data, 2, backbone_dir=folder)
    assert (tmp_path / "s1" / "model" / bb.LM_FILE).is_file()
    _, r2 = _run("stage2", tmp_path / "s2", data, 2, backbone_dir=folder, init=tmp_path / "s1")
    assert (tmp_path / "s2" / "model" / bb.ADAPTERS_FILE).is_file() and r2["step"] == 2


def test_precision_bf16_autocast_runs(tmp_path, data):
    _, result = _run("stage1", tmp_path, data, 2, precision="bf16")
    assert result["precision"] == "bf16" and math.isfinite(result["last"]["loss"])


def test_bad_settings_fail_with_a_sentence(tmp_path, data):
    _run("stage1", tmp_path, data, 2)
    with pytest.raises(StageError, match="--resume"):
        _run("stage1", tmp_path, data, 2)
    with pytest.raises(StageError, match="other settings"):
        _run("stage1", tmp_path, data, 2, resume=True, lr=0.5)
    with pytest.raises(StageError, match="--init"):
        build_stage_model("stage2", small_config(), "small")


def test_cli_stage_runs_and_reports_errors(tmp_path, shards, capsys):
    config = tmp_path / "generator.json"
    config.write_text(json.dumps(SMALL))
    common = [
        "--data",
        str(shards),
        "--config",
        str(config),
        "--preset",
        "small",
        "--batch",
        "2",
        "--segment",
        "1",
        "--threads",
        "1",
    ]
    assert main(["stage1", "--out", str(tmp_path / "s1"), "--steps", "2", *common]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["step"] == 2 and out["model"].endswith("model")
    rc = main(
        [
            "stage2",
            "--out",
            str(tmp_path / "s2"),
            "--steps",
            "2",
            "--init",
            str(tmp_path / "nowhere"),
            *common,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:") and "nowhere" in err


def test_change_weight_counts_the_frames_where_a_stream_changes(data):
    """The style stream's decisive frames (its first, and any change) weigh `change_weight`: the
    weighted loss of that codebook moves toward the CE on those frames, the others stay as they are."""
    sm = build_stage_model("stage1", small_config(), "small")
    sm.model.eval()
    batch = Batcher(data[0], 1.0, 2, seed=3).batch(0)
    k = 1
    T = batch.codes.shape[-1]
    batch.codes[:, k] = 3  # a style-like stream: one token held, one change halfway
    batch.codes[:, k, T // 2 :] = 7
    with torch.no_grad():  # a sharp head: the CE differs from frame to frame, so weights show
        torch.nn.init.normal_(
            sm.model.lm.linears[k].weight, std=2.0, generator=torch.Generator().manual_seed(0)
        )
        logits, mask = TokenObjective(sm.model, SPECS["stage1"]).logits(batch)
        logits = torch.nan_to_num(logits)  # the delay pattern's invalid steps are NaN
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), batch.codes.reshape(-1), reduction="none"
        ).view(batch.codes.shape)
        plain = TokenObjective(sm.model, SPECS["stage1"])(batch)
        heavy = TokenObjective(sm.model, SPECS["stage1"], change_codebook=k, change_weight=1e6)(batch)
    row = batch.codes[:, k]
    changed = torch.ones_like(row, dtype=torch.bool)
    changed[:, 1:] = row[:, 1:] != row[:, :-1]
    valid = mask[k][None].expand_as(row)
    keep = changed & valid
    decisive = (ce[:, k] * keep).sum(-1) / keep.sum(-1)  # the loss on the weighted frames alone
    others = torch.stack(
        [(ce[:, j] * mask[j]).sum(-1) / mask[j].sum() for j in range(ce.shape[1]) if j != k], 1
    )
    expected = torch.cat([others, decisive[:, None]], 1).mean()
    assert heavy.item() == pytest.approx(expected.item(), rel=1e-3)
    assert heavy.item() != pytest.approx(plain.item(), rel=1e-3)
