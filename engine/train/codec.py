"""Stage 0: the tiny preset's audio codec, trained on fresh synthetic music, resumable exactly.

Why: the tiny LM predicts codec tokens, so the codec comes first. It is audiocraft's own
EncodecModel (SEANet n_filters 16, dimension 64, no LSTM, RVQ 4 x 256, 16 kHz, ratios [8,5,4,2]
-> 50 Hz frames: DESIGN.md §3 calibration), trained with reconstruction losses only (L1 on the
waveform + multi-resolution log-STFT + the VQ commitment penalty). Each step's batch is a pure
function of (seed, step) drawn from the synth corpus's train split, so a checkpoint needs only
the model, the optimiser, the torch RNG state and the step to resume bit-for-bit.

Files under `out/`: `checkpoint.pt` (atomic), `metrics.jsonl` (one line per step).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.corpus.errors import SynthConfigError
from engine.corpus.splits import SPLIT_SPAN, item_seed
from engine.corpus.synth import SynthConfig, generate_music

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


@dataclass(frozen=True)
class CodecTrainConfig:
    """Optimisation settings; stored in the checkpoint and checked on resume."""

    batch: int = 8
    segment_s: float = 1.0
    lr: float = 3e-4
    seed: int = 0
    sample_rate: int = 16000
    checkpoint_every: int = 50
    # Phase 2 ("decoder"): start from the codec in `init_from` and train its decoder alone; the
    # encoder and codebooks stay frozen (eval mode: no EMA updates), so the tokens every LM was
    # trained on keep their meaning while the audio they decode to improves.
    decoder_only: bool = False
    init_from: str = ""


def build_codec(sample_rate: int = 16000):
    """The tiny EncodecModel (about 1.6 M parameters, 4 codebooks of 256 at 50 Hz)."""
    from audiocraft.models.encodec import EncodecModel
    from audiocraft.modules.seanet import SEANetDecoder, SEANetEncoder
    from audiocraft.quantization.vq import ResidualVectorQuantizer

    ratios = [8, 5, 4, 2]
    seanet = dict(channels=1, dimension=64, n_filters=16, n_residual_layers=1, ratios=ratios, lstm=0)
    quantizer = ResidualVectorQuantizer(dimension=64, n_q=4, bins=256, q_dropout=False, kmeans_init=False)
    hop = int(np.prod(ratios))
    return EncodecModel(
        SEANetEncoder(**seanet),
        SEANetDecoder(**seanet),
        quantizer,
        frame_rate=sample_rate // hop,
        sample_rate=sample_rate,
        channels=1,
    )


def batch_for_step(step: int, cfg: CodecTrainConfig) -> np.ndarray:
    """(batch, 1, samples) float32 crops of fresh train-split music; a pure function of (seed, step)."""
    synth = SynthConfig(min_duration_s=2.0, max_duration_s=4.0, sample_rate=cfg.sample_rate)
    n = int(cfg.segment_s * cfg.sample_rate)
    rng = np.random.default_rng([cfg.seed, step])
    out = np.zeros((cfg.batch, 1, n), np.float32)
    for b in range(cfg.batch):
        index = (cfg.seed * 1_000_003 + step * cfg.batch + b) % SPLIT_SPAN
        audio = generate_music(item_seed("train", index), synth)
        start = int(rng.integers(0, max(1, len(audio) - n)))
        crop = audio[start : start + n]
        out[b, 0, : len(crop)] = crop
    return out


def stft_loss(x, y, sizes: tuple[int, ...] = (256, 512, 1024)):
    """Multi-resolution L1 distance of log magnitudes plus spectral convergence."""
    import torch

    total = x.new_zeros(())
    for n_fft in sizes:
        window = torch.hann_window(n_fft, device=x.device)
        sx = torch.stft(x.flatten(0, 1), n_fft, n_fft // 4, window=window, return_complex=True).abs()
        sy = torch.stft(y.flatten(0, 1), n_fft, n_fft // 4, window=window, return_complex=True).abs()
        total = total + (torch.log(sx + 1e-5) - torch.log(sy + 1e-5)).abs().mean()
        total = total + torch.linalg.norm(sy - sx) / (torch.linalg.norm(sy) + 1e-7)
    return total / len(sizes)


def reconstruction_loss(model, batch: np.ndarray) -> float:
    """L1 + multi-resolution STFT loss of `model` on `batch`, without training (for evaluation)."""
    import torch

    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(batch)
        y = model(x).x
        value = float((y - x).abs().mean() + stft_loss(y, x))
    model.train()
    return value


def load_codec(out: str | Path):
    """The codec saved in `out/checkpoint.pt`."""
    import torch

    path = Path(out) / CHECKPOINT
    if not path.is_file():
        raise SynthConfigError(f"{path} does not exist; train one with `vm-train codec --out {Path(out)}`")
    state = torch.load(path, weights_only=False)
    model = build_codec(state["config"]["sample_rate"])
    model.load_state_dict(state["model"])
    return model


def _save(path: Path, state: dict) -> None:
    import torch

    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train_codec(
    out: str | Path, steps: int, resume: bool = False, cfg: CodecTrainConfig | None = None
) -> dict:
    """Train until `steps` total steps; with `resume`, continue from `out/checkpoint.pt` exactly."""
    import torch

    cfg = cfg or CodecTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path, metrics_path = out / CHECKPOINT, out / METRICS
    if steps < 1 or cfg.batch < 1 or cfg.segment_s <= 0.1:
        raise SynthConfigError(f"--steps {steps} / batch {cfg.batch} / segment {cfg.segment_s}s are invalid")
    if ckpt_path.exists() and not resume:
        raise SynthConfigError(f"{ckpt_path} exists; pass --resume to continue it or choose another --out")
    torch.manual_seed(cfg.seed)
    if cfg.decoder_only:
        model = load_codec(cfg.init_from)
        for p in model.parameters():
            p.requires_grad_(False)
        for p in model.decoder.parameters():
            p.requires_grad_(True)
    else:
        model = build_codec(cfg.sample_rate)
    optim = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, betas=(0.5, 0.9))
    step = 0
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False)
        if state["config"] != asdict(cfg):
            raise SynthConfigError(
                f"{ckpt_path} was trained with {state['config']}; resume with the same settings"
            )
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        torch.set_rng_state(state["torch_rng"])
        step = state["step"]
        if metrics_path.exists():  # drop lines written after the checkpoint by an interrupted run
            kept = [ln for ln in metrics_path.read_text().splitlines() if json.loads(ln)["step"] <= step]
            metrics_path.write_text("".join(ln + "\n" for ln in kept))
    elif metrics_path.exists():
        metrics_path.unlink()

    model.train()
    if cfg.decoder_only:
        model.encoder.eval()
        model.quantizer.eval()
    last: dict = {}
    with open(metrics_path, "a", encoding="utf-8") as metrics:
        while step < steps:
            t0 = time.perf_counter()
            x = torch.from_numpy(batch_for_step(step, cfg))
            result = model(x)
            l1 = (result.x - x).abs().mean()
            spec = stft_loss(result.x, x)
            penalty = (
                result.penalty if result.penalty is not None and not cfg.decoder_only else x.new_zeros(())
            )
            loss = l1 + spec + penalty
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            step += 1
            last = {
                "step": step,
                "loss": float(loss.detach()),
                "l1": float(l1.detach()),
                "stft": float(spec.detach()),
                "commit": float(penalty.detach()),
                "seconds": round(time.perf_counter() - t0, 4),
            }
            metrics.write(json.dumps(last) + "\n")
            metrics.flush()
            if step % cfg.checkpoint_every == 0 or step == steps:
                _save(
                    ckpt_path,
                    {
                        "model": model.state_dict(),
                        "optim": optim.state_dict(),
                        "torch_rng": torch.get_rng_state(),
                        "step": step,
                        "config": asdict(cfg),
                    },
                )
    log.info("codec: step %d loss %.4f", step, last.get("loss", float("nan")))
    return {"step": step, "checkpoint": str(ckpt_path), "metrics": str(metrics_path), "last": last}
