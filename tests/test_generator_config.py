"""The one way to a generator's config (`load_generator_config`): explicit file, model folder, preset."""

from __future__ import annotations

import json

import pytest

from engine.errors import PresetError
from engine.generator.config import GENERATOR_FILE, GeneratorConfig, load_generator_config
from engine.presets import load_preset


def test_a_preset_reads_its_own_generator_json():
    cfg = load_generator_config("tiny")
    assert cfg == GeneratorConfig.from_dict(load_preset("tiny").generator)
    assert cfg.backbone == "builtin" and cfg.cls_dim > 0


def test_a_model_folder_brings_its_config_else_the_presets_and_a_file_beats_both(tmp_path):
    preset = load_generator_config("tiny")
    assert load_generator_config("tiny", folder=tmp_path) == preset  # no generator.json there
    (tmp_path / GENERATOR_FILE).write_text(json.dumps({"cls_dim": 24, "window_s": 6.0}))
    own = load_generator_config("tiny", folder=tmp_path)
    assert (own.cls_dim, own.window_s) == (24, 6.0) and own != preset
    explicit = tmp_path / "other.json"
    explicit.write_text(json.dumps({"cls_dim": 32}))
    assert load_generator_config("tiny", folder=tmp_path, file=explicit).cls_dim == 32


def test_bad_configs_name_the_file_and_the_fix(tmp_path):
    broken = tmp_path / GENERATOR_FILE
    broken.write_text("{not json")
    with pytest.raises(PresetError, match=f"{broken}: cannot read the generator config"):
        load_generator_config("tiny", folder=tmp_path)
    with pytest.raises(PresetError, match="missing.json: cannot read"):
        load_generator_config(file=tmp_path / "missing.json")
    broken.write_text(json.dumps({"no_such_key": 1}))
    with pytest.raises(PresetError, match="unknown keys"):
        load_generator_config(file=broken)
    with pytest.raises(PresetError, match="unknown preset 'nope'"):
        load_generator_config("nope")
