"""Generator speed: VidMusician adapters vs plain audiocraft `LMModel.generate`, same backbone.

Both sides sample the same number of frames with classifier-free guidance (batch 2), top-k 250,
from the same randomly initialised backbone config: `tiny` and a MusicGen-small-sized one
(dim 1024, 24 layers, 16 heads, card 2048, a t5-base-sized text encoder). The adapters' side
includes its per-scene work (T5 over the [CLS] pseudo-tokens, rhythm features). Runs alternate
(each side going first in turn) and the best of each is kept, since this machine's cores are shared. Peak memory is the process
resident high-water mark after both sides ran (it holds the weights of both; a per-side split
is not measurable from one process without an allocator hook).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np
import torch

from engine.generator import backbone as bb
from engine.generator.config import GeneratorConfig
from engine.generator.decoding import Sampling, generate_window
from engine.generator.service import build_model
from engine.presets import load_preset

SMALL_SIZED = {
    "cls_dim": 512,
    "lm": {"dim": 1024, "num_heads": 16, "num_layers": 24, "n_q": 4, "card": 2048},
    "codec": {"sample_rate": 32000, "ratios": [8, 5, 4, 4]},  # 50 Hz at 32 kHz, as MusicGen's EnCodec
    "text_encoder": {"d_model": 768, "d_kv": 64, "d_ff": 3072, "num_layers": 12, "num_heads": 12},
    "window_s": 30.0,
    "context_s": 12.0,
}


DEFAULT_THREADS = torch.get_num_threads()


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _measure(cfg: GeneratorConfig, seconds: float, repeats: int) -> dict[str, float]:
    from audiocraft.modules.conditioners import ConditioningAttributes

    torch.set_num_threads(cfg.cpu_threads or DEFAULT_THREADS)  # as the engine runs this preset
    backbone = bb.build_random(cfg)
    model = build_model(cfg, backbone, None)
    lm = backbone.lm
    frames = int(seconds * backbone.frame_rate)
    sampling = Sampling(1.0, 250, 3.0)
    rng = np.random.default_rng(0)
    cls = torch.from_numpy(rng.standard_normal((1, max(1, int(seconds)), cfg.cls_dim)).astype(np.float32))
    curve = torch.from_numpy(rng.random((1, frames, cfg.rhythm_channels)).astype(np.float32))

    def plain() -> None:
        attrs = [ConditioningAttributes(text={"description": "warm strings"})]
        lm.generate(None, attrs, max_gen_len=frames, use_sampling=True, temp=1.0, top_k=250, cfg_coef=3.0)

    def ours() -> None:
        with torch.no_grad():
            memory, _ = model.semantic(cls, ["warm strings"])
            generate_window(
                model,
                memory=memory,
                null_memory=torch.zeros_like(memory),
                rhythm_curve=curve,
                prompt=None,
                total_frames=frames,
                sampling=sampling,
                generator=torch.Generator().manual_seed(0),
            )

    times: dict[str, list[float]] = {"plain": [], "ours": []}
    plain()  # warm-up (first-call allocations, lazy imports)
    ours()
    for round_ in range(repeats):
        order = (("plain", plain), ("ours", ours))
        for name, fn in order if round_ % 2 == 0 else order[::-1]:  # no side always goes first
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    n_lm = sum(p.numel() for p in lm.parameters())
    return {
        "frames": frames,
        "audio_s": seconds,
        "lm_params_M": round(n_lm / 1e6, 2),
        "trainable_params_M": round(sum(p.numel() for p in model.trainable_parameters()) / 1e6, 3),
        "plain_tokens_per_s": round(frames / best["plain"], 2),
        "adapters_tokens_per_s": round(frames / best["ours"], 2),
        "plain_rtf": round(best["plain"] / seconds, 3),
        "adapters_rtf": round(best["ours"] / seconds, 3),
        "adapter_overhead_pct": round(100 * (best["ours"] / best["plain"] - 1), 1),
        "process_peak_rss_mb": round(_peak_mb(), 1),
        "torch_threads": torch.get_num_threads(),
        "adapter_params_mb_fp32": round(
            4 * sum(v.numel() for v in model.adapter_state().values()) / 2**20, 1
        ),
    }


def run() -> dict:
    torch.manual_seed(0)
    tiny_cfg = GeneratorConfig.from_dict(load_preset("tiny").generator)
    big_cfg = GeneratorConfig.from_dict(SMALL_SIZED)
    tiny = _measure(tiny_cfg, seconds=4.0, repeats=6)
    small = _measure(big_cfg, seconds=0.6, repeats=2)
    return {
        "name": "generator",
        "ratios": {
            "tiny_plain_over_adapters_time": round(
                tiny["adapters_rtf"] and tiny["plain_rtf"] / tiny["adapters_rtf"], 3
            ),
            "small_plain_over_adapters_time": round(small["plain_rtf"] / small["adapters_rtf"], 3),
        },
        "figures": {
            "tiny": tiny,
            "musicgen_small_sized_random": small,
            "device": "cpu",
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
