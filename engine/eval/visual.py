"""The generator's visual inputs for a clip, with the rhythm taken from patch tokens or from CLS.

Why: the ablation "rhythm from CLS similarity instead of patch tokens" needs the same [T, 2] input
the engine builds (rhythm channel, cue channel at 50 Hz) with only channel 0 changed to
d_t = 1 − cos(CLS_t, CLS_{t−1}) over the 25 fps grid (d_0 = 1), computed with the same tower and
decode path. The trainer's recipe uses it to re-derive shards and `vm-eval` to feed such a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.features import SceneFeatures, extract_scene_features

RHYTHM_SOURCES = ("patch", "cls")


@dataclass(frozen=True)
class VisualInputs:
    features: SceneFeatures
    cls_1fps: np.ndarray  # [N, D]
    rhythm_50hz: np.ndarray  # [T, 2]: rhythm (patch or CLS change), cue channel


def cls_change_curve(
    path: str, start_s: float, end_s: float, preset: str = "tiny", encoder_dir: str | None = None
) -> np.ndarray:
    """d_t = 1 − cos(CLS_t, CLS_{t−1}) on the 25 fps grid, resampled to 50 Hz (round(duration*50))."""
    from engine.encoders import tower_for_preset
    from engine.media import decode_grids
    from engine.preprocess import normalise_batch
    from engine.rhythm import patch_change_curve, rhythm_curve
    from engine.timebase import GRID_FPS

    tower = tower_for_preset(preset, encoder_dir)
    grids = decode_grids(path, start_s, end_s, (GRID_FPS,), tower.pre)
    pooled, _ = tower.encode(normalise_batch(grids.crops, tower.pre))
    d25 = patch_change_curve(pooled[grids.grids[GRID_FPS]][:, None, :])
    return rhythm_curve(d25, end_s - start_s)


def visual_inputs(
    path: str,
    start_s: float,
    end_s: float,
    *,
    rhythm_source: str = "patch",
    preset: str = "tiny",
    cache_dir: str | None = None,
) -> VisualInputs:
    """Features through the engine's own feature step; channel 0 replaced for `rhythm_source="cls"`."""
    if rhythm_source not in RHYTHM_SOURCES:
        raise ValueError(f"rhythm_source must be one of {RHYTHM_SOURCES}, not {rhythm_source!r}")
    feats = extract_scene_features(path, start_s, end_s, preset=preset, cache_dir=cache_dir)
    rhythm = feats.rhythm_50hz
    if rhythm_source == "cls":
        curve = cls_change_curve(path, start_s, end_s, preset)
        rhythm = np.zeros_like(feats.rhythm_50hz)
        n = min(len(curve), len(rhythm))
        rhythm[:n] = curve[:n]
    stacked = np.stack([rhythm, feats.cues_50hz], axis=1).astype(np.float32)
    return VisualInputs(feats, feats.cls_1fps.astype(np.float32), stacked)
