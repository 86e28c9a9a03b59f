"""`vm-train tiny --variant`: the ablation variants reuse the shared steps of one run folder and
assemble their own model folders (one-stage training; rhythm from CLS similarity)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.eval.models import load_generator, parse_spec
from engine.train.cli import main
from engine.train.shards import ShardDataset

ARGS = ["--budget-minutes", "0.05", "--threads", "1"]


@pytest.fixture(autouse=True)
def _threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_variants_share_the_backbone_and_differ_where_they_should(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["tiny", "--out", str(out), *ARGS, "--variant", "one-stage"]) == 0
    err = capsys.readouterr().err
    assert "one-stage: running" in err and "stage1: running" not in err  # no separate stage 1
    one = json.loads((out / "model-one-stage" / "recipe.json").read_text())
    assert one["variant"] == "one-stage" and "stage2" not in one["steps"]
    train = json.loads((out / "one-stage" / "train.json").read_text())
    groups = train["groups"]  # semantic and rhythm adapters trained together
    assert any(k.startswith("rhythm.") for k in groups) and any(k.startswith("semantic.") for k in groups)

    assert main(["tiny", "--out", str(out), *ARGS, "--variant", "cls-rhythm", "--resume"]) == 0
    err = capsys.readouterr().err
    for shared in ("synth", "prepare", "stage0-lm"):
        assert f"{shared}: already complete, skipped" in err
    assert "shards-cls: running" in err and "stage2-cls: running" in err
    patch = {it.id: it for it in ShardDataset(out / "shards", "train").items}
    cls = {it.id: it for it in ShardDataset(out / "shards-cls", "train").items}
    assert patch.keys() == cls.keys()
    for key, item in cls.items():
        assert np.array_equal(item.codes, patch[key].codes) and np.array_equal(item.cls, patch[key].cls)
        assert np.array_equal(item.rhythm[:, 1], patch[key].rhythm[:, 1])  # the cue channel is untouched
        assert not np.allclose(item.rhythm[:, 0], patch[key].rhythm[:, 0])  # the rhythm channel is CLS change
        assert item.rhythm[0, 0] == pytest.approx(1.0) and 0.0 <= item.rhythm[:, 0].min()
    spec = parse_spec(f"cls={out / 'model-cls-rhythm'}")
    assert spec.rhythm_source == "cls"
    gen = load_generator(spec)
    audio = gen.generate(
        cls_1fps=np.zeros((1, 128), np.float32),
        rhythm_50hz=np.zeros((20, 2), np.float32),
        duration_s=0.2,
        seed=1,
    )
    assert audio.shape == (9600, 2) and np.isfinite(audio).all()
