"""The training loop shared by stage0-lm, stage1 and stage2.

AdamW (weight decay on matrices only), linear warmup then cosine decay to `min_lr_ratio`,
gradient clipping, mixed precision on GPU (bf16 autocast where the card has it, else fp16
autocast with a GradScaler), DDP when launched by torchrun, and exact resume: `out/checkpoint.pt`
holds the trainable tensors, the optimiser, scheduler and scaler states, every rank's
torch / CUDA / numpy / python RNG states and the step, which is also the data position (batches
are a pure function of (seed, step)). Lines of `out/metrics.jsonl` past the checkpoint's step
(written by an interrupted run) are dropped on resume, so the file reads as one run.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from engine.train import distributed as dd
from engine.train.batches import Batcher
from engine.train.objective import TokenObjective
from engine.train.shards import ShardDataset
from engine.train.stages import SPECS, StageError, StageModel, configure_trainable, export_stage, set_modes

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
VAL_SEED = 987_654_321
# Settings that do not change the arithmetic of a run: they may differ on resume.
_FREE_ON_RESUME = ("checkpoint_every", "eval_every", "eval_batches", "device")


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch: int = 8  # global batch: split evenly over the processes
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    segment_s: float = 4.0
    cond_dropout: float = 0.1
    seed: int = 0
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    device: str = "auto"
    train_semantic: bool = False  # stage 2 only: keep training the semantic adapters too
    checkpoint_every: int = 50
    eval_every: int = 0
    eval_batches: int = 2
    change_codebook: int | None = None  # see objective.TokenObjective: the symbolic style stream
    change_weight: float = 1.0

    def validate(self) -> TrainConfig:
        if self.steps < 1 or self.batch < 1 or self.lr <= 0 or self.segment_s < 0.5:
            raise StageError(
                f"--steps {self.steps}, --batch {self.batch}, --lr {self.lr}, --segment {self.segment_s} "
                "are invalid; use steps >= 1, batch >= 1, lr > 0, segment >= 0.5 s"
            )
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise StageError(f"--precision {self.precision!r}: use auto, fp32, bf16 or fp16")
        if not 0.0 <= self.cond_dropout < 1.0:
            raise StageError(f"--cond-dropout {self.cond_dropout} must be in [0, 1)")
        return self


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Multiplier of the base learning rate for optimiser step `step` (0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def _rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    decay, plain = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else plain).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), eps=1e-8)


def _atomic_save(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _truncate_metrics(path: Path, step: int) -> None:
    if path.exists():
        kept = [ln for ln in path.read_text().splitlines() if ln and json.loads(ln)["step"] <= step]
        path.write_text("".join(ln + "\n" for ln in kept))


def evaluate(objective: TokenObjective, batcher: Batcher, n: int, ctx: dd.DistContext, autocast) -> float:
    """Mean validation CE over `n` fixed batches (the same ones at every evaluation)."""
    total = 0.0
    with torch.no_grad(), autocast():
        for i in range(n):
            total += float(objective(batcher.batch(i, ctx.rank, ctx.world).to(ctx.device)))
    return dd.mean_across(total / n, ctx)


def train_stage(
    stage: str,
    sm: StageModel,
    train_data: ShardDataset,
    cfg: TrainConfig,
    out: str | Path,
    *,
    val_data: ShardDataset | None = None,
    resume: bool = False,
    stop_after: int | None = None,
    ctx: dd.DistContext | None = None,
) -> dict:
    """Train `sm.model` for `stage` up to `cfg.steps` steps; `stop_after` stops early (an interruption)."""
    cfg = cfg.validate()
    spec = SPECS[stage]
    ctx = ctx or dd.init_distributed(cfg.device)
    out = Path(out)
    ckpt_path, metrics_path = out / CHECKPOINT, out / METRICS
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
    if ckpt_path.exists() and not resume:
        raise StageError(f"{ckpt_path} exists; pass --resume to continue it or choose another --out")
    codec = train_data.codec
    lm = sm.model.lm
    if (codec["n_q"], codec["card"]) != (lm.num_codebooks, lm.card):
        raise StageError(
            f"{train_data.root}: tokens are n_q={codec['n_q']} card={codec['card']} but the LM wants "
            f"n_q={lm.num_codebooks} card={lm.card}; prepare the shards with this preset's codec"
        )
    if (spec.uses_cls or spec.uses_rhythm) and not train_data.has_pictures:
        raise StageError(
            f"{train_data.root}: these items have no pictures (real music is for stage0-lm only); "
            f"train {stage} on shards prepared from a manifest of videos"
        )
    model = sm.model.to(ctx.device)
    info = configure_trainable(model, stage, cfg.train_semantic)
    set_modes(model, stage)
    objective = TokenObjective(model, spec, cfg.change_codebook, cfg.change_weight)
    trained = dd.wrap(objective, ctx)
    optim = _optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, partial(lr_factor, warmup=cfg.warmup_steps, total=cfg.steps, min_ratio=cfg.min_lr_ratio)
    )
    precision = resolve_precision(cfg.precision, ctx.device)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=precision == "fp16")

    def autocast():
        if amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=ctx.device.type, dtype=amp_dtype)

    batcher = Batcher(train_data, cfg.segment_s, cfg.batch, cfg.seed, cfg.cond_dropout, spec.text_prob)
    val_batcher = None
    if val_data is not None and cfg.eval_every > 0:
        val_batcher = Batcher(val_data, cfg.segment_s, cfg.batch, VAL_SEED, 0.0, spec.text_prob)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    step = 0
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        mine, theirs = asdict(cfg), state["config"]
        diffs = [k for k in mine if k not in _FREE_ON_RESUME and mine[k] != theirs.get(k)]
        if state["stage"] != stage or diffs:
            raise StageError(
                f"{ckpt_path} is a {state['stage']} run with other settings ({', '.join(diffs) or 'stage'}); "
                "resume with the same stage and settings, or choose another --out"
            )
        if state["world"] != ctx.world:
            raise StageError(f"{ckpt_path} was written by {state['world']} processes; resume with as many")
        with torch.no_grad():
            for name, tensor in state["trainable"].items():
                params[name].copy_(tensor)
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"][ctx.rank], ctx.device)
        step = int(state["step"])
    else:
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        random.seed(cfg.seed)

    def save() -> None:
        rng = dd.gather_objects(_rng_state(ctx.device), ctx)
        if ctx.is_main:
            _atomic_save(
                {
                    "stage": stage,
                    "step": step,
                    "world": ctx.world,
                    "config": asdict(cfg),
                    "trainable": {n: p.detach().cpu().clone() for n, p in params.items()},
                    "optim": optim.state_dict(),
                    "sched": sched.state_dict(),
                    "scaler": scaler.state_dict(),
                    "rng": rng,
                    "data": {"seed": cfg.seed, "next_step": step},
                },
                ckpt_path,
            )

    if ctx.is_main:
        if resume:
            _truncate_metrics(metrics_path, step)
        elif metrics_path.exists():
            metrics_path.unlink()
        log.info(
            "%s: %d trainable parameters %s, precision %s, %d process(es)",
            stage,
            info["trainable"],
            info["groups"],
            precision,
            ctx.world,
        )
    last: dict = {}
    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    metrics = open(metrics_path, "a", encoding="utf-8") if ctx.is_main else None
    try:
        while step < end:
            t0 = time.perf_counter()
            batch = batcher.batch(step, ctx.rank, ctx.world).to(ctx.device)
            with autocast():
                loss = trained(batch)
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optim)
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), cfg.grad_clip)
            scaler.step(optim)
            scaler.update()
            lr = optim.param_groups[0]["lr"]
            sched.step()
            step += 1
            seconds = time.perf_counter() - t0
            last = {
                "step": step,
                "loss": dd.mean_across(float(loss.detach()), ctx),
                "lr": lr,
                "grad_norm": float(norm),
                "seconds": round(seconds, 4),
                "tokens_per_s": round(batch.tokens * ctx.world / max(seconds, 1e-9), 1),
            }
            if precision == "fp16":
                last["loss_scale"] = float(scaler.get_scale())
            if val_batcher is not None and (step % cfg.eval_every == 0 or step == cfg.steps):
                objective.eval()
                last["val_loss"] = evaluate(objective, val_batcher, cfg.eval_batches, ctx, autocast)
                set_modes(model, stage)
            if metrics is not None:
                metrics.write(json.dumps(last) + "\n")
                metrics.flush()
            if step % cfg.checkpoint_every == 0 or step == end:
                save()
    finally:
        if metrics is not None:
            metrics.close()
    result = {
        "stage": stage,
        "step": step,
        "checkpoint": str(ckpt_path),
        "metrics": str(metrics_path),
        "trainable_parameters": info["trainable"],
        "precision": precision,
        "world": ctx.world,
        "last": last,
    }
    if step >= cfg.steps and ctx.is_main:
        folder = export_stage(sm, stage, out)
        result["model"] = str(folder)
        (out / "train.json").write_text(
            json.dumps(
                {
                    **result,
                    "preset": sm.preset,
                    "backbone": str(sm.folder) if sm.folder else sm.backbone.source,
                    "config": asdict(cfg),
                    "groups": info["groups"],
                },
                indent=1,
            )
        )
    dd.barrier(ctx)
    return result
