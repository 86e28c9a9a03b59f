"""Generator speed: VidMusician adapters vs plain audiocraft `LMModel.generate`, same backbone.

Both sides sample the same number of frames with classifier-free guidance (batch 2), top-k 250,
from the same randomly initialised backbone config: `tiny` and a MusicGen-small-sized one
(dim 1024, 24 layers, 16 heads, card 2048, a t5-base-sized text encoder). The adapters' side
includes its per-scene work (T5 over the [CLS] pseudo-tokens, rhythm features). Runs alternate
(each side going first in turn) and the best of each is kept, since this machine's cores are shared. Peak memory is the process
resident high-water mark after both sides ran (it holds the weights of both; a per-side split
is not measurable from one process without an allocator hook).

Real time: the service's whole `generate_cue` (windows, CFG, rendering) for 10 s of music, with
random weights, for the `tiny` preset (symbolic streams, soundfont rendering) side by side with
the neural-codec tiny it replaced (6 layers, EnCodec at 16 kHz), each with the fast step
(`FastStep`, its one-token steps in numpy), with `FastStep` computing every step through torch
(`torch_step`: the fast step as it was before the numpy path) and with audiocraft's streaming
forward. Times are the best of a few runs, wall
clock and CPU time of this process (on a machine shared with other work the CPU time is the
steadier one). Rendering is timed on its own from the cue's tokens; with random weights the
token streams are far busier than music, so the renderer's share is an upper bound.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np
import torch

from engine.generator import backbone as bb
from engine.generator import decoding, fast_step
from engine.generator.config import GeneratorConfig, load_generator_config
from engine.generator.decoding import Sampling, generate_window, window_steps
from engine.generator.longform import plan_windows
from engine.generator.music_generator import MusicGenerator, build_model

SMALL_SIZED = {
    "cls_dim": 512,
    "lm": {"dim": 1024, "num_heads": 16, "num_layers": 24, "n_q": 4, "card": 2048},
    "codec": {"sample_rate": 32000, "ratios": [8, 5, 4, 4]},  # 50 Hz at 32 kHz, as MusicGen's EnCodec
    "text_encoder": {"d_model": 768, "d_kv": 64, "d_ff": 3072, "num_layers": 12, "num_heads": 12},
    "window_s": 30.0,
    "context_s": 12.0,
}

# The tiny preset before the symbolic streams (resources/presets/tiny/generator.json at 1b20c10).
NEURAL_TINY = {
    "cls_dim": 128,
    "rhythm_channels": 2,
    "lm": {"dim": 256, "num_heads": 8, "num_layers": 6, "n_q": 4, "card": 256},
    "codec": {
        "sample_rate": 16000,
        "dimension": 64,
        "n_filters": 16,
        "ratios": [8, 5, 4, 2],
        "n_q": 4,
        "bins": 256,
        "lstm": 0,
    },
    "text_encoder": {"d_model": 128, "d_kv": 32, "d_ff": 256, "num_layers": 2, "num_heads": 4},
    "lora_rank": 8,
    "lora_alpha": 16,
    "rhythm_fraction": 0.75,
    "window_s": 10.0,
    "context_s": 4.0,
    "crossfade_s": 0.25,
    "init_seed": 1234,
    "cpu_threads": 1,
    "sampling": {"temperature": 1.0, "top_k": 250, "cfg_coef": 3.0},
}
REALTIME_SECONDS = 10.0

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


def _realtime(cfg: GeneratorConfig, seconds: float, repeats: int) -> dict[str, float]:
    """Times faster than real time of `generate_cue` (rendering included), fast step vs audiocraft."""
    torch.set_num_threads(cfg.cpu_threads or DEFAULT_THREADS)
    gen = MusicGenerator.from_config(cfg)
    rng = np.random.default_rng(0)
    cls = rng.standard_normal((int(seconds), cfg.cls_dim)).astype(np.float32)
    rhythm = rng.random(int(seconds * 50)).astype(np.float32)
    frames = int(round(seconds * gen.frame_rate))
    window = int(gen.backbone.window_s * gen.frame_rate)
    plan = plan_windows(frames, 0, window, int(cfg.context_s * gen.frame_rate))
    steps = sum(window_steps(gen.model, w.total, w.prompt) for w in plan)

    def cue():
        return gen.generate_cue(cls_1fps=cls, rhythm_50hz=rhythm, duration_s=seconds, seed=1)

    best: dict[str, tuple[float, float]] = {}
    # (decoding.FAST_STEP, fast_step.NUMPY_SINGLE_STEP): the engine's path, FastStep with every
    # step through torch (the fast step before the numpy single step), audiocraft's forward
    variants = {"fast": (True, True), "torch_step": (True, False), "audiocraft": (False, True)}
    saved = decoding.FAST_STEP, fast_step.NUMPY_SINGLE_STEP
    try:
        cue()  # warm-up: the soundfont, first-call allocations
        for round_ in range(repeats):
            for key in list(variants) if round_ % 2 == 0 else list(variants)[::-1]:
                if key != "fast" and round_ >= max(1, repeats // 2):
                    continue  # the older paths are slower and only there for comparison
                decoding.FAST_STEP, fast_step.NUMPY_SINGLE_STEP = variants[key]
                gc.collect()
                c0, w0 = time.process_time(), time.perf_counter()
                out = cue()
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                old = best.get(key, (float("inf"), float("inf")))
                best[key] = (min(old[0], wall), min(old[1], cpu))
    finally:
        decoding.FAST_STEP, fast_step.NUMPY_SINGLE_STEP = saved
    tokens = torch.from_numpy(out.tokens.astype(np.int64))[None]
    c0, w0 = time.process_time(), time.perf_counter()
    with torch.no_grad():
        gen.backbone.codec.decode(tokens, None)
    render_wall, render_cpu = time.perf_counter() - w0, time.process_time() - c0
    fig = {"audio_s": seconds, "frames": frames, "lm_steps": steps, "render_wall_s": round(render_wall, 3)}
    fig["render_cpu_s"] = round(render_cpu, 3)
    for key, (wall, cpu) in best.items():
        fig[f"{key}_wall_s"] = round(wall, 3)
        fig[f"{key}_cpu_s"] = round(cpu, 3)
        fig[f"{key}_x_real_time"] = round(seconds / wall, 2)
        fig[f"{key}_x_real_time_cpu"] = round(seconds / cpu, 2)
        fig[f"{key}_ms_per_step_cpu_excl_render"] = round(1e3 * max(cpu - render_cpu, 0.0) / steps, 3)
    return fig


def run() -> dict:
    torch.manual_seed(0)
    symbolic = _realtime(load_generator_config("tiny"), REALTIME_SECONDS, repeats=3)
    neural = _realtime(GeneratorConfig.from_dict(NEURAL_TINY), REALTIME_SECONDS, repeats=2)
    tiny_cfg = load_generator_config("tiny")
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
            "tiny_x_real_time": symbolic["fast_x_real_time"],
            "tiny_x_real_time_cpu": symbolic["fast_x_real_time_cpu"],
            "tiny_neural_x_real_time": neural["fast_x_real_time"],
            "tiny_neural_x_real_time_cpu": neural["fast_x_real_time_cpu"],
            "tiny_fast_step_over_audiocraft_cpu": round(
                symbolic["audiocraft_cpu_s"] / symbolic["fast_cpu_s"], 2
            ),
            "tiny_numpy_step_over_torch_step_lm_cpu": round(
                symbolic["torch_step_ms_per_step_cpu_excl_render"]
                / symbolic["fast_ms_per_step_cpu_excl_render"],
                2,
            ),
        },
        "figures": {
            "tiny_real_time": symbolic,
            "tiny_neural_codec_real_time": neural,
            "tiny": tiny,
            "musicgen_small_sized_random": small,
            "device": "cpu",
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
