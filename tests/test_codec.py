"""Stage 0 codec: the tiny EncodecModel's shape, learning in a few dozen steps, exact resume."""

from __future__ import annotations

import json

import pytest
import torch

from engine.train.cli import main
from engine.train.codec import (
    CodecTrainConfig,
    batch_for_step,
    build_codec,
    load_codec,
    reconstruction_loss,
    train_codec,
)

TINY = CodecTrainConfig(batch=2, segment_s=0.5, lr=1e-3, checkpoint_every=4)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_codec_is_the_calibrated_tiny_one():
    model = build_codec()
    assert model.frame_rate == 50 and model.sample_rate == 16000
    assert model.num_codebooks == 4 and model.cardinality == 256
    n_params = sum(p.numel() for p in model.parameters())
    assert 1_000_000 < n_params < 2_500_000  # the calibrated 1.6 M
    codes, _ = model.encode(torch.zeros(1, 1, 16000))
    assert codes.shape == (1, 4, 50)


@pytest.mark.slow
def test_a_few_dozen_steps_lower_the_held_out_loss(tmp_path):
    val = CodecTrainConfig(batch=4, segment_s=0.5, seed=99)
    fixed = batch_for_step(0, val)  # other seed: clips the training never sees
    torch.manual_seed(TINY.seed)
    before = reconstruction_loss(build_codec(), fixed)
    train_codec(tmp_path, 40, cfg=TINY)
    after = reconstruction_loss(load_codec(tmp_path), fixed)
    assert after < 0.95 * before, (before, after)  # measured here: 4.60 -> 4.12
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, 41))


def test_resume_reproduces_the_uninterrupted_run_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train_codec(straight, 8, cfg=TINY)
    train_codec(split, 4, cfg=TINY)
    with open(split / "metrics.jsonl", "a") as fh:  # a line an interrupted run wrote after the checkpoint
        fh.write(json.dumps({"step": 5, "loss": 0.0}) + "\n")
    train_codec(split, 8, resume=True, cfg=TINY)
    a, b = load_codec(straight).state_dict(), load_codec(split).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    def losses(d):
        return [json.loads(x)["loss"] for x in (d / "metrics.jsonl").read_text().splitlines()]

    assert losses(straight) == losses(split) and len(losses(split)) == 8


def test_decoder_phase_trains_the_decoder_alone_so_tokens_keep_their_meaning(tmp_path):
    train_codec(tmp_path / "codec", 4, cfg=TINY)
    cfg = CodecTrainConfig(
        batch=2, segment_s=0.5, lr=1e-3, seed=1, decoder_only=True, init_from=str(tmp_path / "codec")
    )
    train_codec(tmp_path / "decoder", 6, cfg=cfg)
    before, after = load_codec(tmp_path / "codec"), load_codec(tmp_path / "decoder")
    a, b = before.state_dict(), after.state_dict()
    changed = {k for k in a if not torch.equal(a[k], b[k])}
    assert changed and all(k.startswith("decoder.") for k in changed)  # encoder and codebooks frozen
    x = torch.from_numpy(batch_for_step(0, CodecTrainConfig(batch=2, segment_s=0.5, seed=5)))
    assert torch.equal(before.encode(x)[0], after.encode(x)[0])  # same tokens for the LM
    # resuming checks the settings, the decoder phase's included
    with pytest.raises(Exception, match="same settings"):
        train_codec(tmp_path / "decoder", 8, resume=True, cfg=TINY)


def test_cli_refuses_to_overwrite_and_checks_settings_on_resume(tmp_path, capsys):
    args = ["codec", "--out", str(tmp_path), "--steps", "1", "--batch", "1", "--segment", "0.25"]
    assert main(args + ["--threads", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 1
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(args + ["--resume", "--lr", "0.1"]) == 2
    assert "same settings" in capsys.readouterr().err
