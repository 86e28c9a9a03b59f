"""The three training stages: what each builds, what it trains, what stays frozen, what it writes.

stage0-lm  (presets without a pretrained backbone, e.g. `tiny`): the backbone LM and the small
           T5 text encoder learn from scratch on the corpus's style tags (text → T5 → projector →
           cross-attention). The only stage in which the backbone is trainable. Frozen: the codec
           (the preset's own; `tiny`'s is the symbolic renderer, with no weights), the Embedding
           Manager, LoRA (kept at B = 0 so the exported T5 is exactly the one trained) and the
           rhythm path (zero).
stage1     the semantic path (DESIGN §2): Embedding Manager, T5 LoRA, projector. Frozen: the LM,
           the codec, T5's own weights, the rhythm path (not fed: stage 1 sees no rhythm).
stage2     the rhythm path (in-attention O and L_j) on top of stage 1's adapters. O starts at zero,
           so step 0 computes exactly the stage-1 model. Frozen: everything stage 1 trained
           (unless `train_semantic`), plus the LM, the codec and T5.

Each stage writes a folder the generator loads (`engine.generator.backbone` file names):
stage 0 a whole builtin preset (state_dict.bin, compression_state_dict.bin, text_encoder.safetensors,
adapters.safetensors); stages 1 and 2 adapters.safetensors (plus, for a builtin backbone, copies of
the backbone files so the folder is complete).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.errors import EngineInputError
from engine.generator import backbone as bb
from engine.generator.adapters import load_adapters, save_adapters
from engine.generator.config import BUILTIN, GeneratorConfig
from engine.generator.model import VidMusicianLM
from engine.generator.music_generator import save_text_encoder

log = logging.getLogger(__name__)

STAGES = ("stage0-lm", "stage1", "stage2")


class StageError(EngineInputError):
    """A stage asked for with inputs it cannot use (wrong backbone kind, missing init)."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    uses_cls: bool  # the 1 fps CLS pseudo-tokens go into T5
    uses_rhythm: bool  # the rhythm curve goes into in-attention
    text_prob: float  # chance that an item's text tags are given (the product mixes both)


SPECS = {
    "stage0-lm": StageSpec("stage0-lm", uses_cls=False, uses_rhythm=False, text_prob=1.0),
    # Pictures are what stages 1 and 2 must learn: with the caption in half the batches (0.5) the
    # backbone took the style from the text and the pictures' path stayed weak (held-out style
    # accuracy 0.18); captions in a quarter keep prompt + pictures working together.
    "stage1": StageSpec("stage1", uses_cls=True, uses_rhythm=False, text_prob=0.25),
    "stage2": StageSpec("stage2", uses_cls=True, uses_rhythm=True, text_prob=0.25),
}


# The LM's stock text conditioner and fuser: VidMusician feeds cross-attention itself, so they get no grad.
_LM_UNUSED = ("lm.condition_provider.", "lm.fuser.")


def _semantic_adapter(name: str) -> bool:
    return (
        name.startswith("semantic.embedding_manager.")
        or name.startswith("semantic.projector.")
        or (name.startswith("semantic.t5.") and "lora_" in name)
    )


def configure_trainable(model: VidMusicianLM, stage: str, train_semantic: bool = False) -> dict:
    """Set requires_grad for `stage`; returns {"trainable": n_params, "groups": {...}} for the log."""
    model.requires_grad_(False)
    for name, p in model.named_parameters():
        if stage == "stage0-lm":
            on = (
                (name.startswith("lm.") and not name.startswith(_LM_UNUSED))
                or name.startswith("grid.")
                or name.startswith("semantic.projector.")
                or (name.startswith("semantic.t5.") and "lora_" not in name)
            )
        elif stage == "stage1":
            on = _semantic_adapter(name)
        elif stage == "stage2":
            on = name.startswith("rhythm.") or (train_semantic and _semantic_adapter(name))
        else:
            raise StageError(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
        p.requires_grad_(on)
    groups: dict[str, int] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            key = ".".join(name.split(".")[:2])
            groups[key] = groups.get(key, 0) + p.numel()
    return {"trainable": sum(groups.values()), "groups": groups}


def set_modes(model: VidMusicianLM, stage: str) -> None:
    """Frozen modules stay in eval mode (no dropout drift); the trained ones go to train mode."""
    model.eval()
    if stage == "stage0-lm":
        model.lm.train()
        model.semantic.t5.train()
    model.rhythm.train()
    if model.semantic is not None:
        model.semantic.embedding_manager.train()
        model.semantic.projector.train()


@dataclass
class StageModel:
    """A stage's model plus where it came from (for export and for the stage-2 init check)."""

    model: VidMusicianLM
    backbone: bb.Backbone
    cfg: GeneratorConfig
    preset: str
    folder: Path | None  # the backbone folder (None: a random builtin init)


def _save_package(module: torch.nn.Module, xp: dict, path: Path) -> None:
    """One file of MusicGen's layout: {"best_state", "xp.cfg", "version", "exported"} (as audiocraft)."""
    import audiocraft
    from omegaconf import OmegaConf

    pkg = {
        "best_state": module.state_dict(),
        "xp.cfg": OmegaConf.to_yaml(OmegaConf.create(xp)),
        "version": audiocraft.__version__,
        "exported": True,
    }
    tmp = path.with_name(path.name + ".part")
    torch.save(pkg, tmp)
    tmp.replace(path)


def _load_backbone(cfg: GeneratorConfig, preset: str, backbone_dir: str | Path | None):
    if backbone_dir is not None:
        folder = Path(backbone_dir)
        return bb.load_musicgen_layout(folder, window_s=cfg.window_s, cfg=cfg), folder
    return bb.load_backbone(preset, cfg)


def build_stage_model(
    stage: str,
    cfg: GeneratorConfig,
    preset: str,
    *,
    backbone_dir: str | Path | None = None,
    init: str | Path | None = None,
) -> StageModel:
    """The model a stage starts from, built the way the generator builds it (same classes, seeds)."""
    from engine.generator.music_generator import build_model

    if stage not in SPECS:
        raise StageError(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
    if stage == "stage0-lm":
        if cfg.backbone != BUILTIN:
            raise StageError(f"preset {preset!r} has a pretrained backbone; stage0-lm is for builtin presets")
        backbone, folder = bb.build_random(cfg), None
        model = build_model(cfg, backbone, None)
    else:
        backbone, folder = _load_backbone(cfg, preset, backbone_dir)
        model = build_model(cfg, backbone, folder)
        if folder is not None and (folder / bb.ADAPTERS_FILE).is_file():
            load_adapters(model, folder / bb.ADAPTERS_FILE, backbone_id=preset)  # e.g. stage 0's projector
    if stage == "stage2":
        if init is None:
            raise StageError("stage2 needs --init: the stage-1 output folder (or its adapters.safetensors)")
        path = Path(init)
        if path.is_dir():
            path = path / "model" / bb.ADAPTERS_FILE
        load_adapters(model, path, backbone_id=preset)
        if model.rhythm.proj_in.weight.abs().max() != 0:
            log.warning("%s: the rhythm path is not zero; stage 2 will not start from stage 1 exactly", path)
    return StageModel(model, backbone, cfg, preset, folder)


def export_stage(sm: StageModel, stage: str, out: Path) -> Path:
    """Write `out/model/` in the generator's layout; returns that folder."""
    sm.model.cpu()  # the files load on any machine
    folder = out / "model"
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"stage": stage}
    if stage == "stage0-lm":
        _save_package(sm.backbone.lm, bb.lm_xp_cfg(sm.cfg), folder / bb.LM_FILE)
        if not bb.is_symbolic(sm.cfg):  # the symbolic renderer has no weights to save
            _save_package(sm.backbone.codec, bb.codec_xp_cfg(sm.cfg), folder / bb.CODEC_FILE)
        save_text_encoder(sm.model, sm.cfg, folder / bb.TEXT_ENCODER_FILE)
    elif sm.cfg.backbone == BUILTIN and sm.folder is not None and sm.folder.resolve() != folder.resolve():
        for name in (bb.LM_FILE, bb.CODEC_FILE, bb.TEXT_ENCODER_FILE):
            if (sm.folder / name).is_file():
                shutil.copyfile(sm.folder / name, folder / name)
    save_adapters(sm.model, folder / bb.ADAPTERS_FILE, backbone_id=sm.preset, extra=extra)
    return folder


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.detach().clone().cpu() for k, p in model.named_parameters() if p.requires_grad}
