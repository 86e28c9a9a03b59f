"""Presets as data: each preset is a folder of JSON configs under resources/presets/<name>/.

`visual.json` configures the image tower (features), `generator.json` the music model. Keeping
them as separate files lets each part of the engine own its config and lets a user add a preset
by dropping a folder, without touching code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.errors import PresetError

DEFAULT_PRESET = "tiny"


def presets_root() -> Path:
    return Path(str(resources.files("resources"))) / "presets"


def resources_root() -> Path:
    return Path(str(resources.files("resources")))


def available_presets() -> list[str]:
    return sorted(p.name for p in presets_root().iterdir() if p.is_dir() and not p.name.startswith("_"))


@dataclass(frozen=True)
class Preset:
    name: str
    folder: Path
    visual: dict[str, Any]
    generator: dict[str, Any]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise PresetError(f"{path}: not valid JSON ({exc}); fix or remove the file") from exc


def load_preset(name: str) -> Preset:
    folder = presets_root() / name
    if not folder.is_dir():
        known = ", ".join(available_presets()) or "none"
        raise PresetError(f"unknown preset {name!r}; choose one of: {known}")
    return Preset(
        name=name,
        folder=folder,
        visual=_read_json(folder / "visual.json"),
        generator=_read_json(folder / "generator.json"),
    )
