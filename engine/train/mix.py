"""Stage 0's data: the composer's shards and real music's, drawn at a fixed share of every batch.

Why a share, not a concatenation: the composer's corpus is a few hundred short clips and the real
music a different number of long pieces, so drawing items uniformly from both would let the counts
decide what the backbone hears. Here a batch row is real music with probability `real_share`
(within real music, a piece in proportion to its length, so every second is as likely), else a
composer clip drawn uniformly, exactly as without the mix. Real items have no pictures: they get
zero CLS rows and a zero rhythm curve of the composer's widths (read-only views, no memory), which
stage 0 never reads (it trains on captions alone; stages 1 and 2 refuse this data).
"""

from __future__ import annotations

import math

import numpy as np

from engine.train.shards import PreparedItem, ShardDataset, ShardsError


class MixedShards:
    """The composer's `ShardDataset` plus a real-music one, with per-item draw weights."""

    has_pictures = False

    def __init__(self, composer: ShardDataset, real: ShardDataset, real_share: float):
        if not 0.0 < real_share < 1.0:
            raise ShardsError(f"real-music share {real_share}: use a fraction in (0, 1), e.g. 0.3")
        mine, theirs = composer.codec, real.codec
        if any(mine[k] != theirs[k] for k in ("n_q", "card", "frame_rate")):
            raise ShardsError(
                f"{real.root}: tokens n_q={theirs['n_q']} card={theirs['card']} at {theirs['frame_rate']} Hz, "
                f"but {composer.root} has n_q={mine['n_q']} card={mine['card']} at {mine['frame_rate']} Hz; "
                "prepare both with the same preset"
            )
        self.root = composer.root
        self.codec = composer.codec
        self.frame_rate = composer.frame_rate
        self.real_share = float(real_share)
        cls_dim = composer.items[0].cls.shape[1]
        channels = composer.items[0].rhythm.shape[1]
        self.items: list[PreparedItem] = list(composer.items) + [
            PreparedItem(
                it.id,
                it.split,
                it.text,
                np.broadcast_to(
                    np.zeros((1, cls_dim), np.float32), (max(1, math.ceil(it.duration_s)), cls_dim)
                ),
                np.broadcast_to(np.zeros((1, channels), np.float32), (it.codes.shape[1], channels)),
                it.codes,
                it.duration_s,
                grid=it.grid,
            )
            for it in real.items
        ]
        self.is_real = np.array([False] * len(composer.items) + [True] * len(real.items))

    def __len__(self) -> int:
        return len(self.items)

    def draw_weights(self, pool: list[int]) -> np.ndarray:
        """Probabilities over `pool` (the usable item indices): the real share spread over the
        real pieces by length, the rest uniform over the composer's clips."""
        real = self.is_real[pool]
        if real.all() or not real.any():
            raise ShardsError(
                f"{self.root}: the mix needs usable items from both sources "
                f"({int((~real).sum())} composer, {int(real.sum())} real); use a shorter --segment"
            )
        frames = np.array([self.items[i].codes.shape[1] for i in pool], dtype=np.float64)
        weights = np.where(real, self.real_share * frames / frames[real].sum(), 0.0)
        weights[~real] = (1.0 - self.real_share) / (~real).sum()
        return weights
