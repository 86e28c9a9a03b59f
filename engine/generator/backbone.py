"""The frozen backbone: an audiocraft LMModel plus its EnCodec, built or loaded the MusicGen way.

Every backbone, the embedded `tiny` one included, is built by audiocraft's own builders and
loaders. Training writes MusicGen's layout (`state_dict.bin` / `compression_state_dict.bin` holding
`xp.cfg` + `best_state`), so a checkpoint written here and a real MusicGen checkpoint take the same
code path. The weights shipped in resources/ are plain safetensors instead (`lm.safetensors`,
`codec.safetensors`: loading them runs no pickle), each carrying its `xp.cfg` in its metadata. Nothing
here ever downloads: a missing file is a `ModelNotFoundError` that names the command that fetches it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelNotFoundError
from engine.generator.config import BUILTIN, GeneratorConfig

# audiocraft's SEANet still uses torch's old weight_norm; the warning is about torch internals,
# not something a user can act on, and it would break the CLI's one-line-per-message output.
warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)

log = logging.getLogger(__name__)

LM_FILE = "state_dict.bin"
CODEC_FILE = "compression_state_dict.bin"
LM_SAFETENSORS = "lm.safetensors"
CODEC_SAFETENSORS = "codec.safetensors"
TEXT_ENCODER_FILE = "text_encoder.safetensors"
ADAPTERS_FILE = "adapters.safetensors"
MODELS_ENV = "VIDMUSICIAN_MODELS_DIR"

_LM_DEFAULTS: dict[str, Any] = {
    "dim": 256,
    "num_heads": 8,
    "num_layers": 6,
    "hidden_scale": 4,
    "n_q": 4,
    "card": 256,
    "dropout": 0.0,
    "activation": "gelu",
    "norm_first": True,
    "bias_ff": False,
    "bias_attn": False,
    "bias_proj": False,
    "past_context": None,
    "causal": True,
    "custom": False,
    "memory_efficient": True,
    "attention_as_float32": False,
    "layer_scale": None,
    "positional_embedding": "sin",
    "xpos": False,
    "checkpointing": "none",
    "weight_init": "gaussian",
    "depthwise_init": "current",
    "zero_bias_init": True,
    "cross_attention": True,
}
_CODEC_DEFAULTS: dict[str, Any] = {
    "sample_rate": 16000,
    "dimension": 64,
    "n_filters": 16,
    "ratios": [8, 5, 4, 2],
    "n_q": 4,
    "bins": 256,
    "lstm": 0,
    "n_residual_layers": 1,
}


def is_symbolic(cfg: GeneratorConfig) -> bool:
    """The embedded default's codec: notes rendered through a soundfont, no weights (DESIGN §3)."""
    return cfg.codec.get("type") == "symbolic"


def build_codec(cfg: GeneratorConfig):
    """The preset's compression model when it has no weights to load (the symbolic renderer)."""
    from engine.symbolic.codec import SymbolicCodec

    options = {k: v for k, v in cfg.codec.items() if k != "type"}
    return SymbolicCodec(**options).eval()


@dataclass
class Backbone:
    """The frozen pair the adapters sit on, and whether its weights were trained."""

    lm: Any  # audiocraft.models.lm.LMModel
    codec: Any  # audiocraft.models.encodec.CompressionModel
    trained: bool
    source: str  # folder the weights came from, or "random init (seed N)"
    window_s: float

    @property
    def sample_rate(self) -> int:
        return int(self.codec.sample_rate)

    @property
    def frame_rate(self) -> float:
        return float(self.codec.frame_rate)


def lm_xp_cfg(cfg: GeneratorConfig) -> dict[str, Any]:
    """An audiocraft training config (`xp.cfg`) for the builtin LM, as builders expect it."""
    lm = {**_LM_DEFAULTS, **cfg.lm}
    n_q = lm["n_q"]
    return {
        "lm_model": "transformer_lm",
        "device": "cpu",
        "dtype": "float32",
        "dataset": {"segment_duration": cfg.window_s},
        "transformer_lm": lm,
        "codebooks_pattern": {
            "modeling": "delay",
            "delay": {"delays": list(range(n_q)), "flatten_first": 0, "empty_initial": 0},
        },
        "attribute_dropout": {},
        "classifier_free_guidance": {"training_dropout": 0.1, "inference_coef": cfg.sampling.cfg_coef},
        # The stock text path: a hashed-text lookup table (offline, no tokenizer files), cross-attended.
        "conditioners": {
            "description": {"model": "lut", "lut": {"n_bins": 1024, "dim": 64, "tokenizer": "noop"}}
        },
        "fuser": {
            "cross_attention_pos_emb": False,
            "cross_attention_pos_emb_scale": 1.0,
            "sum": [],
            "prepend": [],
            "cross": ["description"],
            "input_interpolate": [],
        },
    }


def codec_xp_cfg(cfg: GeneratorConfig) -> dict[str, Any]:
    """An audiocraft EnCodec config (SEANet + RVQ) for the builtin codec."""
    c = {**_CODEC_DEFAULTS, **cfg.codec}
    return {
        "compression_model": "encodec",
        "device": "cpu",
        "encodec": {
            "autoencoder": "seanet",
            "quantizer": "rvq",
            "sample_rate": c["sample_rate"],
            "channels": 1,
            "causal": False,
            "renormalize": False,
        },
        "seanet": {
            "dimension": c["dimension"],
            "channels": 1,
            "causal": False,
            "n_filters": c["n_filters"],
            "n_residual_layers": c["n_residual_layers"],
            "ratios": list(c["ratios"]),
            "activation": "ELU",
            "activation_params": {"alpha": 1.0},
            "norm": "weight_norm",
            "norm_params": {},
            "kernel_size": 7,
            "residual_kernel_size": 3,
            "last_kernel_size": 7,
            "dilation_base": 2,
            "pad_mode": "constant",
            "true_skip": True,
            "compress": 2,
            "lstm": c["lstm"],
            "disable_norm_outer_blocks": 0,
            "encoder": {},
            "decoder": {"trim_right_ratio": 1.0},
        },
        "rvq": {
            "n_q": c["n_q"],
            "q_dropout": False,
            "bins": c["bins"],
            "decay": 0.99,
            "kmeans_init": True,
            "kmeans_iters": 50,
            "threshold_ema_dead_code": 2,
        },
    }


def build_random(cfg: GeneratorConfig, device: str = "cpu") -> Backbone:
    """A deterministic untrained backbone: same seed, same weights, and the caller's RNG untouched."""
    from audiocraft.models import builders
    from omegaconf import OmegaConf

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.init_seed)
        lm = builders.get_lm_model(OmegaConf.create(lm_xp_cfg(cfg)))
        if is_symbolic(cfg):
            codec = build_codec(cfg)
        else:
            codec = builders.get_compression_model(OmegaConf.create(codec_xp_cfg(cfg)))
            # RVQ codebooks start empty (k-means init on first data): seed them from the encoder's
            # own output on noise so that decoding random tokens gives sound, not silence.
            noise = torch.randn(4, 1, codec.sample_rate)
            with torch.no_grad():
                codec.quantizer(codec.encoder(noise), codec.frame_rate)
    lm.eval()
    codec.eval()
    return Backbone(
        lm.to(device),
        codec.to(device),
        trained=False,
        source=f"random init (seed {cfg.init_seed})",
        window_s=cfg.window_s,
    )


def save_musicgen_layout(backbone: Backbone, cfg: GeneratorConfig, folder: Path) -> None:
    """Write the backbone as MusicGen ships it: `state_dict.bin` + `compression_state_dict.bin`."""
    import audiocraft
    from omegaconf import OmegaConf

    folder.mkdir(parents=True, exist_ok=True)
    parts = [(LM_FILE, lm_xp_cfg(cfg), backbone.lm)]
    if not is_symbolic(cfg):  # the renderer has no weights: the preset's config rebuilds it
        parts.append((CODEC_FILE, codec_xp_cfg(cfg), backbone.codec))
    for name, xp, module in parts:
        pkg = {
            "best_state": module.state_dict(),
            "xp.cfg": OmegaConf.to_yaml(OmegaConf.create(xp)),
            "version": audiocraft.__version__,
            "exported": True,
        }
        tmp = folder / (name + ".tmp")
        torch.save(pkg, tmp)
        os.replace(tmp, folder / name)


def musicgen_to_safetensors(source: Path, dest: Path, codec_state: dict | None = None) -> None:
    """Re-write MusicGen's layout in `source` as `lm.safetensors` + `codec.safetensors` in `dest`.

    Each file keeps its audiocraft config (`xp.cfg`, YAML) in the safetensors metadata, so loading
    builds the exact architecture with audiocraft's builders and runs no pickle. `codec_state`
    replaces the codec's weights (same keys and shapes; e.g. a codec whose decoder was trained on).
    """
    from safetensors.torch import save_file

    dest.mkdir(parents=True, exist_ok=True)
    for src_name, name in ((LM_FILE, LM_SAFETENSORS), (CODEC_FILE, CODEC_SAFETENSORS)):
        if not (source / src_name).is_file() and name == CODEC_SAFETENSORS:
            continue  # a symbolic backbone: the renderer has no weights
        pkg = torch.load(source / src_name, map_location="cpu", weights_only=True)
        state = pkg["best_state"]
        if name == CODEC_SAFETENSORS and codec_state is not None:
            if {k: v.shape for k, v in codec_state.items()} != {k: v.shape for k, v in state.items()}:
                raise ModelNotFoundError(f"{source / src_name}: the replacement codec has other weights")
            state = codec_state
        state = {k: v.contiguous() for k, v in state.items()}
        tmp = dest / (name + ".part")
        save_file(
            state, str(tmp), metadata={"xp.cfg": pkg["xp.cfg"], "audiocraft": str(pkg.get("version", ""))}
        )
        os.replace(tmp, dest / name)


def has_safetensors_layout(folder: Path, cfg: GeneratorConfig | None = None) -> bool:
    codec_needed = cfg is None or not is_symbolic(cfg)
    return (folder / LM_SAFETENSORS).is_file() and (
        not codec_needed or (folder / CODEC_SAFETENSORS).is_file()
    )


def _load_safetensors_module(path: Path, kind: str, device: str):
    from audiocraft.models import builders
    from omegaconf import OmegaConf
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as f:
            xp = (f.metadata() or {}).get("xp.cfg")
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ModelNotFoundError(f"{path}: unreadable ({exc}); copy the model folder again") from exc
    if not xp:
        raise ModelNotFoundError(
            f"{path}: no xp.cfg in its metadata; re-assemble it with `vm-train tiny --resume`"
        )
    cfg = OmegaConf.create(xp)
    cfg.device = "cpu"
    module = builders.get_lm_model(cfg) if kind == "lm" else builders.get_compression_model(cfg)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelNotFoundError(
            f"{path}: weights do not match its own xp.cfg ({str(exc).splitlines()[0]}); copy the model folder again"
        ) from exc
    return module.to(device).eval(), cfg


def load_safetensors_layout(
    folder: Path, device: str = "cpu", window_s: float | None = None, cfg: GeneratorConfig | None = None
) -> Backbone:
    """The backbone of a shipped model folder (`lm.safetensors` + `codec.safetensors`, or the
    symbolic renderer built from `cfg`)."""
    lm, lm_cfg = _load_safetensors_module(folder / LM_SAFETENSORS, "lm", device)
    if cfg is not None and is_symbolic(cfg):
        codec = build_codec(cfg)
    else:
        codec, _ = _load_safetensors_module(folder / CODEC_SAFETENSORS, "codec", device)
    seg = float(lm_cfg.dataset.segment_duration)
    return Backbone(
        lm, codec, trained=True, source=str(folder), window_s=seg if window_s is None else min(window_s, seg)
    )


def load_backbone_folder(folder: Path, cfg: GeneratorConfig, device: str = "cpu") -> Backbone:
    """A trained backbone from `folder`, in the shipped safetensors layout or MusicGen's layout."""
    if has_safetensors_layout(folder, cfg):
        return load_safetensors_layout(folder, device, window_s=cfg.window_s, cfg=cfg)
    return load_musicgen_layout(folder, device, window_s=cfg.window_s, cfg=cfg)


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Make every Hugging Face lookup inside the block local-only (no download, ever)."""
    import huggingface_hub.constants as hf_constants

    saved_env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    saved_flag = hf_constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    hf_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hf_constants.HF_HUB_OFFLINE = saved_flag
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_musicgen_layout(
    folder: Path, device: str = "cpu", window_s: float | None = None, cfg: GeneratorConfig | None = None
) -> Backbone:
    """Load a folder in MusicGen's layout through audiocraft's loaders (the path real weights take);
    a symbolic preset's folder holds only the LM (its renderer is rebuilt from `cfg`)."""
    from audiocraft.models import loaders

    symbolic = cfg is not None and is_symbolic(cfg)
    needed = (LM_FILE,) if symbolic else (LM_FILE, CODEC_FILE)
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{folder}: missing {', '.join(missing)}; a backbone folder needs both "
            f"{LM_FILE} and {CODEC_FILE} (MusicGen's layout)"
        )
    with hub_offline():
        try:
            lm = loaders.load_lm_model(str(folder), device=device)
            codec = (
                build_codec(cfg) if symbolic else loaders.load_compression_model(str(folder), device=device)
            )
        except OSError as exc:  # transformers / hub: a file the checkpoint refers to is not cached
            raise ModelNotFoundError(
                f"{folder}: the checkpoint needs files that are not on this machine ({exc}). Fetch them "
                "once with `huggingface-cli download <repo>` (e.g. t5-base, facebook/encodec_32khz)"
            ) from exc
    if "self_wav" in lm.condition_provider.conditioners:  # as MusicGen.get_pretrained does for -melody
        lm.condition_provider.conditioners["self_wav"].match_len_on_eval = True
        lm.condition_provider.conditioners["self_wav"]._use_masking = False
    seg = float(lm.cfg.dataset.segment_duration)
    return Backbone(
        lm.eval(),
        codec.eval(),
        trained=True,
        source=str(folder),
        window_s=seg if window_s is None else min(window_s, seg),
    )


def models_root() -> Path:
    """Where preset weights live: $VIDMUSICIAN_MODELS_DIR or resources/models."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env)
    from engine.presets import resources_root

    return resources_root() / "models"


def find_musicgen_folder(preset: str, hf_repo: str) -> Path:
    """A local folder for `preset`, else the Hugging Face cache snapshot of `hf_repo`; never downloads."""
    local = models_root() / preset
    if (local / LM_FILE).is_file() and (local / CODEC_FILE).is_file():
        return local
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snap = Path(snapshot_download(hf_repo, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        snap = None
    if snap is not None and (snap / LM_FILE).is_file() and (snap / CODEC_FILE).is_file():
        return snap
    raise ModelNotFoundError(
        f"preset {preset!r}: MusicGen weights not found. Fetch them with "
        f"`huggingface-cli download {hf_repo} {LM_FILE} {CODEC_FILE}` "
        f"(and `huggingface-cli download t5-base` plus `huggingface-cli download facebook/encodec_32khz` "
        f"for its text encoder and codec), or put "
        f"{LM_FILE} and {CODEC_FILE} in {local}"
    )


def load_backbone(preset: str, cfg: GeneratorConfig, device: str = "cpu") -> tuple[Backbone, Path | None]:
    """The preset's backbone and the folder its weights (and adapters) come from, if any."""
    if cfg.backbone == BUILTIN:
        folder = models_root() / preset
        present = [n for n in (LM_FILE, LM_SAFETENSORS) if (folder / n).is_file()]
        if not present:
            log.info("preset %s: no trained weights in %s, using a random init", preset, folder)
            return build_random(cfg, device), None
        return load_backbone_folder(folder, cfg, device), folder
    folder = find_musicgen_folder(preset, cfg.hf_repo or "")
    if "melody" in (cfg.hf_repo or ""):
        _check_demucs_cached(preset)
    return load_musicgen_layout(folder, device, window_s=cfg.window_s), folder


def _check_demucs_cached(preset: str) -> None:
    """MusicGen-melody's chroma conditioner loads demucs' htdemucs, which demucs would download."""
    import importlib.util

    hub = Path(torch.hub.get_dir()) / "checkpoints"
    if importlib.util.find_spec("demucs") is None or not any(hub.glob("955717e8-*.th")):
        raise ModelNotFoundError(
            f"preset {preset!r}: MusicGen-melody's chroma conditioner needs demucs and its htdemucs weights. "
            f"Install it with `pip install demucs` and fetch the weights once with "
            f"`python -c \"from demucs.pretrained import get_model; get_model('htdemucs')\"` (into {hub})"
        )
