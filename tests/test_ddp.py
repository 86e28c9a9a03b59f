"""DistributedDataParallel on CPU (gloo, two processes) matches one process at the same global batch."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from tests._trainer_data import small_config, write_shards

STEPS = 6
SETTINGS = dict(batch=4, segment_s=1.0, lr=3e-3, warmup_steps=2, cond_dropout=0.25, checkpoint_every=3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(stage: str, shards: str, out: str, world: int, init: str | None = None) -> None:
    from engine.train import distributed as dd
    from engine.train.loop import TrainConfig, train_stage
    from engine.train.shards import ShardDataset
    from engine.train.stages import build_stage_model

    torch.set_num_threads(1)
    ctx = dd.init_distributed("cpu")
    assert ctx.world == world
    try:
        sm = build_stage_model(stage, small_config(), "small", init=init)
        train_stage(
            stage, sm, ShardDataset(shards, "train"), TrainConfig(steps=STEPS, **SETTINGS), out, ctx=ctx
        )
    finally:
        dd.shutdown(ctx)


def _worker(rank: int, world: int, port: int, stage: str, shards: str, out: str, init: str | None) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    _train(stage, shards, out, world, init)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["stage0-lm", "stage2"])
def test_two_gloo_processes_match_one_process(tmp_path, monkeypatch, stage):
    shards = str(write_shards(tmp_path / "shards"))
    init = None
    if stage == "stage2":  # a trained stage 1 underneath, so the semantic memory is not trivial
        _train("stage1", shards, str(tmp_path / "s1"), 1)
        init = str(tmp_path / "s1")
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    _train(stage, shards, str(tmp_path / "one"), 1, init)
    mp.spawn(_worker, args=(2, _free_port(), stage, shards, str(tmp_path / "two"), init), nprocs=2, join=True)

    one = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=False)
    two = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=False)
    assert one["step"] == two["step"] == STEPS and two["world"] == 2 and len(two["rng"]) == 2
    assert one["trainable"].keys() == two["trainable"].keys() and one["trainable"]
    for name, a in one["trainable"].items():
        torch.testing.assert_close(
            two["trainable"][name], a, rtol=0, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}"
        )
    la = [json.loads(x)["loss"] for x in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x)["loss"] for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert la == pytest.approx(lb, abs=1e-5) and len(la) == STEPS and la[0] != la[-1]
