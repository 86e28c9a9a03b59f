"""A generator config far smaller than `tiny` (same classes, same code paths) for fast tests."""

from __future__ import annotations

import torch

from engine.generator.config import GeneratorConfig

SMALL = {
    "cls_dim": 16,
    "rhythm_channels": 2,
    "lm": {"dim": 32, "num_heads": 4, "num_layers": 4, "n_q": 4, "card": 32},
    "codec": {"dimension": 16, "n_filters": 4, "bins": 32},
    "text_encoder": {"d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4},
    "lora_rank": 4,
    "window_s": 2.0,
    "context_s": 0.6,
    "crossfade_s": 0.05,
    "init_seed": 7,
    "sampling": {"temperature": 1.0, "top_k": 250, "cfg_coef": 3.0},
}


def small_config(**overrides) -> GeneratorConfig:
    return GeneratorConfig.from_dict({**SMALL, **overrides})


def wake_rhythm(model, seed: int = 0) -> None:
    """Give the zero-initialised in-attention a non-zero O, as training would."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = model.rhythm.proj_in.weight
        w.copy_(torch.randn(w.shape, generator=g))
