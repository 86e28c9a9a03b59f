"""Small prepared shards and a small generator config for the trainer tests (no video decoding).

The shards are written with the real `ShardWriter`; their tokens follow a rule the LM can learn
(codebook k at frame t is (t * (k + 1) + offset) mod card, offset per item), their rhythm curve has
spikes and their CLS rows differ per item, so every path of the model gets real inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.generator.config import GeneratorConfig
from engine.train.shards import PreparedItem, ShardWriter

CARD = 32
CLS_DIM = 16
SMALL = {
    "cls_dim": CLS_DIM,
    "rhythm_channels": 2,
    "lm": {"dim": 32, "num_heads": 4, "num_layers": 2, "n_q": 4, "card": CARD},
    "codec": {"dimension": 16, "n_filters": 4, "bins": CARD},
    "text_encoder": {"d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4},
    "lora_rank": 4,
    "window_s": 2.0,
    "context_s": 0.5,
    "crossfade_s": 0.05,
    "init_seed": 11,
}
TEXTS = ("bright synth pop, fast", "dark ambient pad, slow", "funk bass groove", None)


def small_config(**overrides) -> GeneratorConfig:
    return GeneratorConfig.from_dict({**SMALL, **overrides})


def write_shards(
    root: Path, n_train: int = 6, n_val: int = 2, seconds: float = 2.0, shard_size: int = 4
) -> Path:
    rng = np.random.default_rng(0)
    codec = {"sample_rate": 16000, "frame_rate": 50.0, "n_q": 4, "card": CARD, "source": "test"}
    writer = ShardWriter(root, codec, {"preset": "small", "rhythm_channels": 2}, shard_size)
    for i in range(n_train + n_val):
        frames = int(seconds * 50) + 25 * (i % 2)
        t = np.arange(frames)
        codes = np.stack([(t * (k + 1) + 3 * i) % CARD for k in range(4)]).astype(np.int32)
        rhythm = np.zeros((frames, 2), np.float32)
        rhythm[:: 25 - 2 * (i % 3), 0] = 1.0
        rhythm[::50, 1] = 1.0
        n_cls = int(np.ceil(frames / 50))
        writer.add(
            PreparedItem(
                id=f"item-{i}",
                split="train" if i < n_train else "val",
                text=TEXTS[i % len(TEXTS)],
                cls=rng.standard_normal((n_cls, CLS_DIM)).astype(np.float32),
                rhythm=rhythm,
                codes=codes,
                duration_s=frames / 50,
            )
        )
    writer.close()
    return root
