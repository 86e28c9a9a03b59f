"""The visual feature step for one scene: CLS at 1 fps, rhythm and cues at 50 Hz, hard cuts.

decode once (media) -> tower crops of the distinct frames on the 1 fps and 25 fps grids
(preprocess) -> ONNX Runtime tower (encoders) -> CLS rows at 1 fps, patch-change curve at 25 fps,
cuts/fades from the same pass (rhythm) -> cached on disk (feature_cache).

The 1 fps grid is t_i = start + i s and the 25 fps grid t_k = start + k/25 s, so every 1 fps
frame is also a 25 fps frame: each distinct frame is resized and encoded exactly once.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.encoders import default_cache_root, tower_for_preset
from engine.feature_cache import FeatureCache
from engine.media import MediaInfo, check_range, decode_grids, probe_media
from engine.preprocess import normalise_batch
from engine.rhythm import CutDetector, cue_channel, patch_change_curve, rhythm_curve
from engine.timebase import GRID_FPS, SEMANTIC_FPS, TOKEN_RATE

__all__ = ["MediaInfo", "SceneFeatures", "extract_scene_features", "probe_media", "rhythm_for_media"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SceneFeatures:
    cls_1fps: np.ndarray  # float32 [N, embed_dim], N = max(1, ceil(duration_s))
    rhythm_50hz: np.ndarray  # float32 [T], T = round(duration_s * 50)
    cues_50hz: np.ndarray  # float32 [T] in [0, 1]
    cuts_s: tuple[float, ...]  # hard cuts, seconds relative to start_s
    encoder_id: str
    fades_s: tuple[float, ...] = ()  # fade-to/from-black boundaries, relative to start_s
    from_cache: bool = False


def default_cache_dir() -> Path:
    return default_cache_root() / "features"


def _compute(
    path: str, start_s: float, end_s: float, info: MediaInfo, tower, sequence_rate
) -> dict[str, Any]:
    detector = CutDetector(info.fps)
    t0 = time.perf_counter()
    grids = decode_grids(
        path,
        start_s,
        end_s,
        (SEMANTIC_FPS, GRID_FPS),
        tower.pre,
        native_sink=detector.feed,
        sequence_rate=sequence_rate,
    )
    t1 = time.perf_counter()
    pooled, tokens = tower.encode(normalise_batch(grids.crops, tower.pre))
    t2 = time.perf_counter()
    cuts, fades = detector.result()
    log.debug(
        "%s %.2f-%.2f s: %d frames decoded, %d encoded; decode %.2f s, tower %.2f s",
        path,
        start_s,
        end_s,
        grids.frames_decoded,
        len(grids.crops),
        t1 - t0,
        t2 - t1,
    )
    n_cls = max(1, math.ceil(end_s - start_s - 1e-9))
    return {
        "cls_1fps": pooled[grids.grids[SEMANTIC_FPS]][:n_cls].astype(np.float32),
        "d_25": patch_change_curve(tokens[grids.grids[GRID_FPS]]),
        "cuts_s": np.asarray(cuts, dtype=np.float64),
        "fades_s": np.asarray(fades, dtype=np.float64),
    }


def extract_scene_features(
    path: str,
    start_s: float,
    end_s: float,
    *,
    preset: str = "tiny",
    hit_points_s: Sequence[float] = (),
    cache_dir: str | None = None,
    encoder_dir: str | None = None,
    sequence_rate: float | None = None,
) -> SceneFeatures:
    """Features of `path` over [start_s, end_s) (media seconds); raises MediaError subclasses.

    `hit_points_s` are marker times relative to start_s; `encoder_dir` overrides the preset's
    exported tower folder; `sequence_rate` is the frame rate of an image-sequence pattern.
    """
    path = os.fspath(path)
    info = probe_media(path, sequence_rate=sequence_rate)
    check_range(path, info, start_s, end_s)
    end_s = min(end_s, info.duration_s)
    tower = tower_for_preset(preset, encoder_dir)
    cache = FeatureCache(cache_dir or default_cache_dir())
    key = cache.key(cache.content_hash(path), start_s, end_s, (SEMANTIC_FPS, GRID_FPS), tower.encoder_id)
    data = cache.get(key)
    hit = data is not None
    if data is None:
        data = _compute(path, start_s, end_s, info, tower, sequence_rate)
        cache.put(key, data)
    duration = end_s - start_s
    n = int(round(duration * TOKEN_RATE))
    cuts = tuple(float(t) for t in data["cuts_s"])
    fades = tuple(float(t) for t in data["fades_s"])
    return SceneFeatures(
        cls_1fps=data["cls_1fps"],
        rhythm_50hz=rhythm_curve(data["d_25"], duration),
        cues_50hz=cue_channel(n, cuts, fades, [float(t) for t in hit_points_s]),
        cuts_s=cuts,
        encoder_id=tower.encoder_id,
        fades_s=fades,
        from_cache=hit,
    )


def rhythm_for_media(
    path: str,
    start_s: float | None = None,
    end_s: float | None = None,
    preset: str = "tiny",
    *,
    cache_dir: str | None = None,
    encoder_dir: str | None = None,
) -> dict[str, Any]:
    """The `vm-engine rhythm --json` document: {"fps": 50, "curve": [...], "cuts_s": [...]}."""
    start = 0.0 if start_s is None else float(start_s)
    end = probe_media(path).duration_s if end_s is None else float(end_s)
    feats = extract_scene_features(
        path, start, end, preset=preset, cache_dir=cache_dir, encoder_dir=encoder_dir
    )
    return {
        "fps": TOKEN_RATE,
        "curve": [round(float(v), 6) for v in feats.rhythm_50hz],
        "cuts_s": [round(t, 6) for t in feats.cuts_s],
    }
