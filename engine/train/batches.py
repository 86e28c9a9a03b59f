"""Training batches as a pure function of (seed, step): exact resume and DDP = one process.

Each step draws the *global* batch (items, crop starts, classifier-free-guidance dropout, whether
the text tags are given) from `numpy.random.default_rng([seed, step])`; rank r of W takes rows
r*B/W .. (r+1)*B/W - 1. So the data position of a run is just its step, a resumed run sees the
same batches as an uninterrupted one, and W processes together see exactly the batch that one
process would.

Crops start on whole seconds so that a crop's 1 fps CLS rows are exactly ceil(segment) rows,
the same frames the generator hands a window of that length.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.generator.grid_position import GRID_CHANNELS
from engine.train.shards import ShardDataset, ShardsError

log = logging.getLogger(__name__)
# Share of rows trained without the grid inputs (all zero, flag off), so the model still plays
# where no grid is known (a decode before its tempo is chosen, the tempo lock off).
GRID_DROPOUT = 0.1


@dataclass
class Batch:
    codes: torch.Tensor  # long [B, K, T]
    cls: torch.Tensor  # float [B, N, D]
    rhythm: torch.Tensor  # float [B, T, C]
    prompts: list[str | None]
    keep: torch.Tensor  # float [B]: 1 conditioned, 0 the null condition (CFG dropout)
    step_prompts: list[str | None] | None = None  # the prompts of the whole global batch of this step
    # float [B, T, GRID_CHANNELS]: where each frame sits in the music (zeros: not known / dropped)
    grid: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            self.codes.to(device),
            self.cls.to(device),
            self.rhythm.to(device),
            self.prompts,
            self.keep.to(device),
            self.step_prompts,
            None if self.grid is None else self.grid.to(device),
        )

    @property
    def tokens(self) -> int:
        return int(self.codes.numel())


class Batcher:
    def __init__(
        self,
        data: ShardDataset,
        segment_s: float,
        global_batch: int,
        seed: int,
        cond_dropout: float = 0.0,
        text_prob: float = 1.0,
        grid_dropout: float = GRID_DROPOUT,
    ):
        self.data = data
        self.frame_rate = data.frame_rate
        self.frames = int(round(segment_s * self.frame_rate))
        self.n_cls = max(1, math.ceil(segment_s - 1e-9))
        self.global_batch = int(global_batch)
        self.seed = int(seed)
        self.cond_dropout = float(cond_dropout)
        self.text_prob = float(text_prob)
        self.grid_dropout = float(grid_dropout)
        self.has_grid = any(it.grid is not None for it in data.items)
        self.pool = [i for i, it in enumerate(data.items) if it.codes.shape[1] >= self.frames]
        if not self.pool:
            longest = max(it.duration_s for it in data.items)
            raise ShardsError(
                f"{data.root}: no item is at least {segment_s} s long (longest {longest:.2f} s); "
                "use a shorter --segment"
            )
        self.weights = data.draw_weights(self.pool)  # None: every usable item equally likely
        if len(self.pool) < len(data.items):
            log.warning(
                "%d of %d items are shorter than %.2f s and are not used",
                len(data.items) - len(self.pool),
                len(data.items),
                segment_s,
            )

    def batch(self, step: int, rank: int = 0, world: int = 1) -> Batch:
        B = self.global_batch
        if B % world:
            raise ShardsError(f"global batch {B} does not split over {world} processes; use a multiple")
        rng = np.random.default_rng([self.seed, int(step)])
        if self.weights is None:
            picks = rng.integers(0, len(self.pool), size=B)
        else:  # a mix of sources (engine/train/mix.py): each drawn at its share
            picks = rng.choice(len(self.pool), size=B, p=self.weights)
        unit = rng.random(B)  # crop position, as a fraction of the whole-second starts that fit
        keep = rng.random(B) >= self.cond_dropout
        with_text = rng.random(B) < self.text_prob
        # drawn after the older draws, so a seed's items, crops and dropout stay what they were
        with_grid = rng.random(B) >= self.grid_dropout
        lo, hi = rank * B // world, (rank + 1) * B // world
        texts = [self.data.items[self.pool[picks[b]]].text for b in range(B)]
        step_prompts = [t if (with_text[b] and keep[b]) else None for b, t in enumerate(texts)]
        codes, cls, rhythm, prompts, grid = [], [], [], [], []
        for b in range(lo, hi):
            item = self.data.items[self.pool[picks[b]]]
            starts = int((item.codes.shape[1] - self.frames) // self.frame_rate) + 1
            start_s = min(int(unit[b] * starts), starts - 1)
            f0 = int(round(start_s * self.frame_rate))
            codes.append(item.codes[:, f0 : f0 + self.frames])
            rhythm.append(item.rhythm[f0 : f0 + self.frames])
            if self.has_grid:
                where = np.zeros((self.frames, GRID_CHANNELS), np.float32)
                if item.grid is not None and with_grid[b]:
                    where = item.grid[f0 : f0 + self.frames]
                grid.append(where)
            rows = item.cls[start_s : start_s + self.n_cls]
            if rows.shape[0] < self.n_cls:  # the last second of an item: repeat its last frame
                rows = np.concatenate([rows, np.repeat(item.cls[-1:], self.n_cls - rows.shape[0], 0)])
            cls.append(rows)
            prompts.append(step_prompts[b])
        return Batch(
            codes=torch.from_numpy(np.stack(codes).astype(np.int64)),
            cls=torch.from_numpy(np.stack(cls).astype(np.float32)),
            rhythm=torch.from_numpy(np.stack(rhythm).astype(np.float32)),
            prompts=prompts,
            keep=torch.from_numpy(keep[lo:hi].astype(np.float32)),
            step_prompts=step_prompts,
            grid=torch.from_numpy(np.stack(grid).astype(np.float32)) if self.has_grid else None,
        )
