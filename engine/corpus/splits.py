"""Train / validation / held-out splits as disjoint seed ranges.

Why: an item is a pure function of its seed, so splitting the seed space splits the data. Each
split owns its own range of `SPLIT_SPAN` seeds; no seed (hence no clip) can be in two splits, and
the held-out range is never drawn by a trainer that asks for train items.
"""

from __future__ import annotations

from engine.corpus.errors import SynthConfigError

SPLITS: tuple[str, ...] = ("train", "val", "heldout")
SPLIT_SPAN = 1 << 30
_BASE = {name: i * SPLIT_SPAN for i, name in enumerate(SPLITS)}


def item_seed(split: str, index: int) -> int:
    """The global seed of item `index` (0-based, within the split's range) of `split`."""
    if split not in _BASE:
        raise SynthConfigError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    if not 0 <= index < SPLIT_SPAN:
        raise SynthConfigError(
            f"item index {index} is outside 0..{SPLIT_SPAN - 1}; use a smaller --seed/--count"
        )
    return _BASE[split] + index


def split_of_seed(seed: int) -> str:
    """The split that owns the global seed `seed`."""
    i = seed // SPLIT_SPAN
    if seed < 0 or i >= len(SPLITS):
        raise SynthConfigError(f"seed {seed} belongs to no split (valid: 0..{len(SPLITS) * SPLIT_SPAN - 1})")
    return SPLITS[i]
