"""`vm-train tiny`: a smoke-sized budget runs every step and assembles a loadable model folder; a
second run with --resume skips every complete step; the plan scales with the budget."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from engine.generator import backbone as bb
from engine.generator.form import STYLE_FORMS_FILE
from engine.generator.prompt_intent import VOCABULARY_FILE
from engine.generator.tempo_grid import STYLE_METERS_FILE
from engine.train.cli import main
from engine.train.recipe import RecipeError, estimated_minutes, plan_for_budget

STEPS = ["synth", "prepare", "real-music", "stage0-lm", "stage1", "stage2"]  # real music: the default share


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_plan_scales_with_the_budget_and_refuses_nonsense():
    small, full = plan_for_budget(0.05), plan_for_budget(120)
    assert (small.train_clips, small.val_clips, small.heldout_clips) == (4, 1, 2)
    assert min(small.lm_steps, small.stage1_steps, small.stage2_steps) >= 3
    assert max(small.lm_steps, small.stage1_steps, small.stage2_steps) <= 10
    assert full.train_clips > 1000 and full.lm_steps > 3000
    assert plan_for_budget(60).lm_steps == pytest.approx(full.lm_steps / 2, rel=0.01)
    assert estimated_minutes(full) == pytest.approx(120, rel=0.03)  # the budget is spent, not exceeded
    assert estimated_minutes(plan_for_budget(30)) == pytest.approx(30, rel=0.03)
    with pytest.raises(RecipeError, match="budget-minutes"):
        plan_for_budget(0)


def test_smoke_budget_builds_a_loadable_model_and_resume_skips_done_steps(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    argv = ["tiny", "--out", str(out), "--budget-minutes", "0.05", "--threads", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert list(result["steps"]) == STEPS
    assert "MB; copy it to resources/models/tiny/" in captured.err
    folder = out / "model-two-stage"
    names = {p.name for p in folder.iterdir()}
    assert {
        bb.LM_SAFETENSORS,
        bb.TEXT_ENCODER_FILE,
        bb.ADAPTERS_FILE,
        "prompt_words.json",
        VOCABULARY_FILE,
    } <= names
    assert bb.CODEC_SAFETENSORS not in names  # the symbolic renderer has no weights
    assert not any(p.suffix == ".bin" for p in folder.iterdir())  # what ships runs no pickle
    assert result["size_mb"] == pytest.approx(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, abs=0.01)
    assert json.loads((folder / "recipe.json").read_text())["rhythm_source"] == "patch"
    words = json.loads((folder / "prompt_words.json").read_text())
    assert words == sorted(words) and len(words) >= 3  # the captions' words, for the unknown-word warning
    assert (out / "model-stage1-only" / bb.ADAPTERS_FILE).is_file()  # stage 1 alone, the ablation's row
    assert (
        len((out / "stage2" / "metrics.jsonl").read_text().splitlines()) == plan_for_budget(0.05).stage2_steps
    )

    # the generator's own loading path, from a models folder
    models = tmp_path / "models"
    shutil.copytree(folder, models / "tiny")
    monkeypatch.setenv(bb.MODELS_ENV, str(models))
    from engine.generator.music_generator import MusicGenerator

    gen = MusicGenerator.from_preset_config("tiny", _tiny_config())
    assert gen.trained and gen.weights == str(models / "tiny")
    rhythm = np.zeros((50, 2), np.float32)
    rhythm[::25, 0] = 1.0
    audio = gen.generate(cls_1fps=np.zeros((1, 128), np.float32), rhythm_50hz=rhythm, duration_s=0.4, seed=0)
    assert audio.shape == (19200, 2) and np.isfinite(audio).all()  # 48 kHz stereo from the renderer

    # resume: every step is already complete; without --resume the folder is refused
    before = (out / "recipe.json").read_text()
    assert main([*argv, "--resume"]) == 0
    err = capsys.readouterr().err
    assert all(f"{s}: already complete, skipped" in err for s in STEPS) and "running" not in err
    assert json.loads((out / "recipe.json").read_text())["done"] == json.loads(before)["done"]
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err
    # a step not marked complete (interrupted after its checkpoint) runs again from its checkpoint
    state = json.loads(before)
    del state["done"]["stage2"]
    (out / "recipe.json").write_text(json.dumps(state))
    assert main([*argv, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "stage2: running" in err and "stage1: already complete" in err
    assert main(["tiny", "--out", str(out), "--budget-minutes", "1", "--resume"]) == 2
    assert "another plan" in capsys.readouterr().err


def _tiny_config():
    from engine.generator.config import GeneratorConfig
    from engine.presets import load_preset

    p = load_preset("tiny")
    return GeneratorConfig.from_dict(p.generator)


def test_shipped_tiny_model_is_what_the_default_command_reproduces():
    """resources/models/tiny came from `vm-train tiny` with its default budget, in the shipped layout."""
    from dataclasses import asdict

    from engine.presets import resources_root
    from engine.train.cli import build_parser

    folder = resources_root() / "models" / "tiny"
    recipe = json.loads((folder / "recipe.json").read_text())
    defaults = build_parser().parse_args(["tiny", "--out", "x"])
    assert recipe["plan"] == asdict(plan_for_budget(defaults.budget_minutes))
    assert recipe.get("real_music_share", 0.0) == defaults.real_music  # its stage 0's real-music share
    assert recipe["variant"] == "two-stage" and set(recipe["steps"]) >= set(STEPS)
    names = {p.name for p in folder.iterdir()}
    assert names == {
        bb.LM_SAFETENSORS,
        "prompt_words.json",
        bb.TEXT_ENCODER_FILE,
        bb.ADAPTERS_FILE,
        "generator.json",
        "recipe.json",
        STYLE_METERS_FILE,  # the styles' tempo ranges: the tempo grid stays inside them
        VOCABULARY_FILE,  # the editor words mapped to styles, moods and energy
        STYLE_FORMS_FILE,  # the styles' progressions and registers: the form the decoder writes
    }
    encoders = resources_root() / "encoders" / "tiny"
    total = sum(p.stat().st_size for p in [*folder.iterdir(), *encoders.iterdir()])
    assert total <= 50e6  # the budget: model + ONNX tower
    shipped = json.loads((folder / "generator.json").read_text())
    preset = json.loads((resources_root() / "presets" / "tiny" / "generator.json").read_text())
    assert shipped == {**shipped, **preset}  # the weights fit the preset's architecture
