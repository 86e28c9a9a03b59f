"""What a preset's generator.json says, with the defaults filled in, as one typed object.

The JSON stays small (a preset names only what differs); every number the model needs lives
here with its default, so code never digs through raw dicts. `load_generator_config` is the one
place a config is found: `MusicGenerator`, the trainer, `vm-eval` and the benchmarks read it there,
so a model is served with the config it was trained with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.errors import PresetError

BUILTIN = "builtin"
MUSICGEN = "musicgen"
GENERATOR_FILE = "generator.json"


@dataclass(frozen=True)
class SamplingConfig:
    """Sampling defaults. Low temperature collapses into a drone (DESIGN §3), hence ~1."""

    temperature: float = 1.0
    top_k: int = 250
    cfg_coef: float = 3.0


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything the generator builds from: backbone, text encoder, adapters, windows.

    `backbone` is "builtin" (an audiocraft LM + EnCodec built from `lm`/`codec`, random until
    trained weights exist) or "musicgen" (a checkpoint in MusicGen's folder layout, found locally
    or in the Hugging Face cache under `hf_repo`).
    """

    cls_dim: int = 128
    rhythm_channels: int = 2
    backbone: str = BUILTIN
    hf_repo: str | None = None
    lm: dict[str, Any] = field(default_factory=dict)
    codec: dict[str, Any] = field(default_factory=dict)
    text_encoder: dict[str, Any] = field(default_factory=dict)
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_targets: tuple[str, ...] = ("q", "v")
    rhythm_fraction: float = 0.75
    # channels of where-in-the-music inputs (`grid_position`); 0: none (MusicGen, older tiny models)
    grid_channels: int = 0
    window_s: float = 10.0
    context_s: float = 4.0
    crossfade_s: float = 0.25
    init_seed: int = 1234
    # Torch threads for generation on a CPU (None = torch's default). A tiny model decodes one
    # token at a time: extra threads only add synchronisation, and on a loaded 2-core machine
    # they were 10-20x slower than one thread.
    cpu_threads: int | None = None
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "generator.json") -> GeneratorConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PresetError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")
        kwargs = dict(data)
        if "sampling" in kwargs:
            kwargs["sampling"] = SamplingConfig(**kwargs["sampling"])
        if "lora_targets" in kwargs:
            kwargs["lora_targets"] = tuple(kwargs["lora_targets"])
        cfg = cls(**kwargs)
        if cfg.backbone not in (BUILTIN, MUSICGEN):
            raise PresetError(f"{where}: backbone must be {BUILTIN!r} or {MUSICGEN!r}, not {cfg.backbone!r}")
        if cfg.backbone == MUSICGEN and not cfg.hf_repo:
            raise PresetError(f"{where}: a musicgen backbone needs 'hf_repo' (e.g. facebook/musicgen-small)")
        if not 0.0 <= cfg.context_s < cfg.window_s:
            raise PresetError(
                f"{where}: need 0 <= context_s < window_s (got {cfg.context_s}, {cfg.window_s})"
            )
        if not 0.0 < cfg.rhythm_fraction <= 1.0:
            raise PresetError(f"{where}: rhythm_fraction must be in (0, 1], got {cfg.rhythm_fraction}")
        if cfg.grid_channels not in (0, 9):  # grid_position.GRID_CHANNELS (not imported: no torch here)
            raise PresetError(f"{where}: grid_channels must be 0 (none) or 9, got {cfg.grid_channels}")
        return cfg


def load_generator_config(
    preset: str = "tiny", *, folder: str | Path | None = None, file: str | Path | None = None
) -> GeneratorConfig:
    """The generator config for a preset or a model folder; raises PresetError naming the file.

    `file`: an explicit generator.json (`vm-train --config`); else `folder`'s own generator.json
    when it has one (a `vm-train tiny` model folder); else the preset's
    (resources/presets/<preset>/generator.json).
    """
    path = Path(file) if file is not None else None
    if path is None and folder is not None and (Path(folder) / GENERATOR_FILE).is_file():
        path = Path(folder) / GENERATOR_FILE
    if path is not None:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise PresetError(
                f"{path}: cannot read the generator config ({exc}); pass a generator.json"
            ) from None
        return GeneratorConfig.from_dict(data, where=str(path))
    from engine.presets import load_preset

    p = load_preset(preset)
    if not p.generator:
        raise PresetError(f"preset {preset!r} has no {GENERATOR_FILE} in {p.folder}")
    return GeneratorConfig.from_dict(p.generator, where=str(p.folder / GENERATOR_FILE))
