"""What a shot looks like as a whole, for telling worlds apart on real footage.

The tower's CLS embedding was learned on synthetic worlds and barely moves between a cartoon, a
black-and-white film and street footage; what does separate them is plain picture statistics:
brightness and contrast, how colourful the picture is (black-and-white has none), its palette
(a hue histogram weighted by colourfulness) and how much it moves. They are computed here, in
the engine, from frames decoded at `STATS_FPS` (centre crops of `STATS_SIZE` pixels), so the
editor side (`vm_editor.worlds`) decides world changes from numbers without decoding anything.
Each shot's result is cached like the tower's features (media content and decoded span).
"""

from __future__ import annotations

import os

import numpy as np

from engine.api import ProgramSegmentSpec, ShotPicture
from engine.feature_cache import FeatureCache
from engine.features import default_cache_dir
from engine.media import check_range, decode_grids, playable_s, probe_media
from engine.preprocess import PreprocessConfig

STATS_FPS = 4.0
STATS_SIZE = 64
HUE_BINS = 8
COLOUR_CHROMA = 0.08  # a pixel with less chroma (max - min of RGB in 0..1) counts as grey
_STATS_ID = f"picture-stats-v1-{STATS_SIZE}px-{HUE_BINS}hues"
_PRE = PreprocessConfig(size=STATS_SIZE, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), interpolation="bilinear")


def frame_stats(frames: np.ndarray) -> ShotPicture:
    """Statistics of uint8 RGB frames [N, H, W, 3] shown in order (N >= 1)."""
    rgb = frames.astype(np.float32) / 255.0
    hi, lo = rgb.max(axis=-1), rgb.min(axis=-1)
    chroma = hi - lo
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    # hue on the colour wheel (0..1), the usual hexcone formula
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.maximum(chroma, 1e-6)
    hue = (
        np.where(
            hi == r, ((g - b) / safe) % 6.0, np.where(hi == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)
        )
        / 6.0
    )
    bins = np.minimum((hue * HUE_BINS).astype(np.int64), HUE_BINS - 1)
    hues = np.bincount(bins.reshape(-1), weights=chroma.reshape(-1), minlength=HUE_BINS)
    hues = hues / max(float(hues.sum()), 1e-9)
    motion = float(np.abs(np.diff(luma, axis=0)).mean()) if len(luma) > 1 else 0.0
    return ShotPicture(
        luma=round(float(luma.mean()), 5),
        contrast=round(float(luma.std()), 5),
        saturation=round(float(chroma.mean()), 5),
        colour=round(float((chroma > COLOUR_CHROMA).mean()), 5),
        hues=tuple(round(float(h), 5) for h in hues),
        motion=round(motion, 5),
    )


def _shot_frames(seg: ProgramSegmentSpec, cache: FeatureCache) -> ShotPicture:
    info = probe_media(seg.path)
    lo, hi = sorted((seg.source_start_s, seg.source_end_s))
    half = 0.5 / info.fps
    lo = min(max(lo, 0.0), max(playable_s(info) - half, 0.0))
    hi = min(max(hi, lo + half), playable_s(info))  # a still image: its one frame
    check_range(seg.path, info, lo, hi)
    key = cache.key(cache.content_hash(seg.path), lo, hi, (STATS_FPS,), _STATS_ID)
    data = cache.get(key)
    if data is None:
        grids = decode_grids(seg.path, lo, hi, (STATS_FPS,), _PRE)
        data = {"frames": grids.crops[grids.grids[STATS_FPS]]}
        cache.put(key, data)
    return frame_stats(data["frames"])


def shot_pictures(
    shots: tuple[ProgramSegmentSpec, ...], *, cache_dir: str | os.PathLike | None = None
) -> list[ShotPicture | None]:
    """One `ShotPicture` per shot over its own source span (None for black); raises MediaError
    subclasses naming the file."""
    cache = FeatureCache(cache_dir or default_cache_dir())
    return [None if shot.path is None else _shot_frames(shot, cache) for shot in shots]
