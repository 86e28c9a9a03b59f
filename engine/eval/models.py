"""What `vm-eval` evaluates: model specs on the command line -> loaded generators.

A spec is `[LABEL=]TARGET`, TARGET being a model folder (the generator layout: lm.safetensors +
codec.safetensors or MusicGen's state_dict.bin + compression_state_dict.bin, text_encoder.safetensors, adapters.safetensors, optionally
generator.json and recipe.json written by `vm-train tiny`) or a preset name (its installed
weights). `backbone-only:TARGET` evaluates TARGET's frozen backbone with the video ignored: no CLS frames,
no rhythm curve, no prompt, hence no classifier-free guidance (the stage-0 LM's unconditional
output through the same sampler): the first row of the paper's ablation. `style-text:TARGET` evaluates
the same frozen backbone (no adapters), video ignored, prompted with the caption of a style assigned
round robin over the 8 styles (the text stage 0 was trained on) and judged against that style: does a
text prompt steer the backbone among the styles it knows (real footage is skipped for it). A folder whose recipe.json says
`"rhythm_source": "cls"` is fed the CLS-change rhythm (`visual.cls_change_curve`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineInputError

BLIND_PREFIX = "backbone-only:"
STYLE_TEXT_PREFIX = "style-text:"
RECIPE_FILE = "recipe.json"


class ModelSpecError(EngineInputError):
    """A model spec that names nothing loadable."""


@dataclass(frozen=True)
class ModelSpec:
    label: str
    target: str  # a folder or a preset name
    blind: bool = False  # backbone only: ignore the video
    style_text: bool = False  # prompt the bare backbone with the clip's style caption (implies blind)
    rhythm_source: str = "patch"

    @property
    def is_folder(self) -> bool:
        return Path(self.target).is_dir()


def parse_spec(text: str) -> ModelSpec:
    """`[LABEL=][backbone-only:|style-text:]TARGET` -> ModelSpec (the label defaults to the spec itself)."""
    label, _, rest = text.partition("=") if "=" in text else ("", "", text)
    style_text = rest.startswith(STYLE_TEXT_PREFIX)
    blind = style_text or rest.startswith(BLIND_PREFIX)
    target = rest.split(":", 1)[1] if blind else rest
    if not target:
        raise ModelSpecError(f"model spec {text!r} names no folder or preset; pass e.g. runs/tiny/model")
    path = Path(target)
    rhythm = "patch"
    if path.is_dir():
        recipe = path / RECIPE_FILE
        if recipe.is_file():
            rhythm = json.loads(recipe.read_text()).get("rhythm_source", "patch")
    else:
        from engine.presets import available_presets

        if target not in available_presets():
            raise ModelSpecError(
                f"model spec {text!r}: {target} is neither a model folder nor a preset "
                f"({', '.join(available_presets())}); pass a `vm-train tiny` model folder"
            )
    return ModelSpec(label or text, target, blind, style_text, rhythm)


def load_generator(spec: ModelSpec, device: str = "cpu"):
    """A MusicGenerator for `spec` (never cached: every spec is loaded fresh)."""
    from safetensors import safe_open

    from engine.generator import backbone as bb
    from engine.generator.adapters import load_adapters
    from engine.generator.config import load_generator_config
    from engine.generator.music_generator import MusicGenerator, build_model

    if not spec.is_folder:
        return MusicGenerator.load(spec.target, device=device)
    folder = Path(spec.target)
    cfg = load_generator_config("tiny", folder=folder)  # folder/generator.json when the recipe wrote one
    backbone = bb.load_backbone_folder(folder, cfg, device)
    model = build_model(cfg, backbone, folder)
    adapters = folder / bb.ADAPTERS_FILE
    preset = "tiny"
    if adapters.is_file() and not spec.style_text:
        with safe_open(str(adapters), framework="pt") as f:
            preset = (f.metadata() or {}).get("backbone", preset)
        load_adapters(model, adapters, backbone_id=preset)
    elif not spec.blind:
        raise ModelSpecError(f"{folder}: no {bb.ADAPTERS_FILE}; evaluate it as backbone-only:{folder}")
    gen = MusicGenerator(preset, cfg, backbone, model.to(device), trained=True, weights=str(folder))
    gen.read_model_notes(folder)  # prompt words (unknown-word warning), style meters (tempo grid)
    return gen
