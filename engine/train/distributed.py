"""Multi-process training through torchrun / DistributedDataParallel: gloo on CPU, nccl on GPU.

torchrun (or any launcher) sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; with
WORLD_SIZE > 1 the trainer joins the group, each rank takes its slice of the global batch
(`batches.Batcher`), DDP averages the gradients, and only rank 0 writes checkpoints and metrics.
Multi-node is the same thing with torchrun's --nnodes / --rdzv-endpoint.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(requested: str, local_rank: int) -> torch.device:
    """`auto`: this rank's GPU when there is one, else the CPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    return torch.device(requested)


def init_distributed(device: str = "auto") -> DistContext:
    """Join the process group that the launcher's environment describes (a no-op for one process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = pick_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        log.info("rank %d/%d joined (%s on %s)", rank, world, backend, dev)
    return DistContext(rank, world, local_rank, dev)


def wrap(module: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    """DDP around the objective when there are several processes (frozen weights are not synced)."""
    if not ctx.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    # A rank whose slice has no text prompt (or only CFG-dropped rows) leaves T5 out of its graph:
    # DDP must then treat those gradients as zeros, which is what one process would have summed.
    return DDP(module, device_ids=ids, broadcast_buffers=False, find_unused_parameters=True)


def mean_across(value: float, ctx: DistContext) -> float:
    """The mean of a per-rank scalar over all ranks (equal-sized local batches)."""
    if not ctx.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return float(t.item()) / ctx.world


def gather_objects(obj, ctx: DistContext) -> list:
    if not ctx.enabled:
        return [obj]
    out = [None] * ctx.world
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()
