"""Weights: MusicGen's folder layout through audiocraft's loaders, adapters, missing files, tiny."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import AdapterMismatchError, ModelNotFoundError
from engine.generator import backbone as bb
from engine.generator.adapters import load_adapters, save_adapters
from engine.generator.music_generator import MusicGenerator, build_model
from engine.generator.zeroshot import ZeroShotPrompter, build_prompt, tempo_from_rhythm
from tests._generator_small import small_config, wake_rhythm


def _state_equal(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_checkpoint_in_musicgen_layout_loads_through_audiocraft_loaders(tmp_path):
    torch.set_num_threads(1)
    cfg = small_config()
    made = bb.build_random(cfg)
    bb.save_musicgen_layout(made, cfg, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {bb.LM_FILE, bb.CODEC_FILE}
    pkg = torch.load(tmp_path / bb.LM_FILE, weights_only=True)  # plain data, like the real release files
    assert {"best_state", "xp.cfg"} <= set(pkg)
    loaded = bb.load_musicgen_layout(tmp_path)
    assert loaded.trained and loaded.source == str(tmp_path)
    assert _state_equal(made.lm, loaded.lm) and _state_equal(made.codec, loaded.codec)
    codes = torch.randint(0, 32, (1, 4, 10))
    assert torch.equal(made.codec.decode(codes), loaded.codec.decode(codes))


def test_shipped_safetensors_layout_is_the_same_model_and_runs_no_pickle(tmp_path):
    torch.set_num_threads(1)
    cfg = small_config()
    made = bb.build_random(cfg)
    bb.save_musicgen_layout(made, cfg, tmp_path / "mg")
    bb.musicgen_to_safetensors(tmp_path / "mg", tmp_path / "ship")
    assert {p.name for p in (tmp_path / "ship").iterdir()} == {bb.LM_SAFETENSORS, bb.CODEC_SAFETENSORS}
    loaded = bb.load_backbone_folder(tmp_path / "ship", cfg)
    assert loaded.trained and loaded.source == str(tmp_path / "ship")
    assert _state_equal(made.lm, loaded.lm) and _state_equal(made.codec, loaded.codec)
    codes = torch.randint(0, 32, (1, 4, 10))
    assert torch.equal(made.codec.decode(codes), loaded.codec.decode(codes))


def test_damaged_shipped_weights_name_the_file(tmp_path):
    cfg = small_config()
    bb.save_musicgen_layout(bb.build_random(cfg), cfg, tmp_path / "mg")
    bb.musicgen_to_safetensors(tmp_path / "mg", tmp_path / "ship")
    lm = tmp_path / "ship" / bb.LM_SAFETENSORS
    lm.write_bytes(lm.read_bytes()[:1000])
    with pytest.raises(ModelNotFoundError, match=r"lm\.safetensors: unreadable"):
        bb.load_backbone_folder(tmp_path / "ship", cfg)


def test_musicgen_preset_finds_a_local_folder_and_loads_it(tmp_path, monkeypatch):
    cfg = small_config()
    bb.save_musicgen_layout(bb.build_random(cfg), cfg, tmp_path / "musicgen-small")
    monkeypatch.setenv(bb.MODELS_ENV, str(tmp_path))
    folder = bb.find_musicgen_folder("musicgen-small", "facebook/musicgen-small")
    assert folder == tmp_path / "musicgen-small"
    assert bb.load_musicgen_layout(folder).lm.dim == 32


def test_missing_musicgen_weights_name_what_to_fetch(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv(bb.MODELS_ENV, str(tmp_path / "models"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelNotFoundError) as err:
        MusicGenerator._load("musicgen-small", "cpu", zero_shot=False)
    msg = str(err.value)
    assert "huggingface-cli download facebook/musicgen-small" in msg
    assert str(tmp_path / "models" / "musicgen-small") in msg
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.bin"))  # nothing downloaded


def test_half_a_backbone_folder_is_an_error(tmp_path):
    cfg = small_config()
    bb.save_musicgen_layout(bb.build_random(cfg), cfg, tmp_path)
    (tmp_path / bb.CODEC_FILE).unlink()
    with pytest.raises(ModelNotFoundError, match="compression_state_dict.bin"):
        bb.load_musicgen_layout(tmp_path)


def test_adapters_roundtrip_and_compatibility_check(tmp_path):
    cfg = small_config()
    backbone = bb.build_random(cfg)
    trained = build_model(cfg, backbone, None)
    wake_rhythm(trained)
    with torch.no_grad():
        trained.semantic.embedding_manager.weight.add_(1.0)
    path = tmp_path / bb.ADAPTERS_FILE
    save_adapters(trained, path, backbone_id="small")
    fresh = build_model(cfg, backbone, None)
    load_adapters(fresh, path, backbone_id="small")
    a, b = trained.adapter_state(), fresh.adapter_state()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(AdapterMismatchError, match="backbone"):
        load_adapters(fresh, path, backbone_id="other")
    other_cfg = small_config(lm={"dim": 48, "num_heads": 4, "num_layers": 4, "n_q": 4, "card": 32})
    other = build_model(other_cfg, bb.build_random(other_cfg), None)
    with pytest.raises(AdapterMismatchError, match="lm_dim"):
        load_adapters(other, path, backbone_id="small")


def test_trained_builtin_folder_loads_and_reports_trained(tmp_path, monkeypatch):
    cfg = small_config()
    g = MusicGenerator.from_config(cfg, preset="tiny")
    wake_rhythm(g.model)
    with torch.no_grad():
        g.model.semantic.projector.bias.add_(0.5)
    g.save_weights(tmp_path / "tiny")
    assert {p.name for p in (tmp_path / "tiny").iterdir()} == {
        bb.LM_FILE,
        bb.CODEC_FILE,
        bb.TEXT_ENCODER_FILE,
        bb.ADAPTERS_FILE,
    }
    monkeypatch.setenv(bb.MODELS_ENV, str(tmp_path))
    loaded = MusicGenerator.from_preset_config("tiny", cfg)
    assert loaded.trained is True and g.trained is False
    assert _state_equal(loaded.model, g.model)
    cls = np.ones((2, 16), np.float32)
    a = g.generate(cls_1fps=cls, rhythm_50hz=None, duration_s=0.4, seed=1, prompt="x")
    b = loaded.generate(cls_1fps=cls, rhythm_50hz=None, duration_s=0.4, seed=1, prompt="x")
    assert np.array_equal(a, b)


@pytest.mark.slow
def test_tiny_preset_is_deterministic_random_init_until_trained(tmp_path, monkeypatch):
    monkeypatch.setenv(bb.MODELS_ENV, str(tmp_path))  # no trained weights there
    g = MusicGenerator._load("tiny", "cpu", zero_shot=False)
    assert g.trained is False and g.sample_rate == 48000 and g.frame_rate == 50  # the symbolic renderer
    assert g.preset == "tiny" and g.hop == 960 and g.symbolic
    n_lm = sum(p.numel() for p in g.backbone.lm.parameters())
    assert 2_000_000 < n_lm < 3_000_000
    assert g.trainable_parameter_count() > 0
    again = bb.build_random(g.config)
    assert _state_equal(again.lm, g.backbone.lm)
    out = g.generate(cls_1fps=np.zeros((1, 128), np.float32), rhythm_50hz=None, duration_s=0.5, seed=0)
    assert out.shape == (24000, 2)


def test_zero_shot_prompt_from_tags_and_tempo():
    fps = 50
    beat = np.zeros(fps * 8, np.float32)
    beat[:: fps // 2] = 1.0  # a hit every 0.5 s: 120 bpm
    assert tempo_from_rhythm(beat) == 120
    assert tempo_from_rhythm(np.random.default_rng(0).random(fps * 8)) is None
    assert tempo_from_rhythm(beat[:30]) is None
    vocab = {}

    def encode_text(texts):  # a deterministic stand-in text tower: one direction per text
        rng = np.random.default_rng(0)
        for t in texts:
            vocab.setdefault(t, rng.standard_normal(32))
        return np.stack([vocab[t] for t in texts])

    prompter = ZeroShotPrompter(encode_text)
    beach = vocab["a sunny beach"] + 0.1 * np.random.default_rng(1).standard_normal(32)
    tags = prompter.tags(np.stack([beach, beach]), k=1)
    assert tags == ["tropical house, bright marimba"]
    assert build_prompt(tags, 120, "no vocals") == "no vocals, tropical house, bright marimba, 120 bpm"


def test_zero_shot_generation_uses_the_stock_text_path(tmp_path, monkeypatch):
    cfg = small_config()
    backbone = bb.build_random(cfg)
    from engine.generator.model import VidMusicianLM

    g = MusicGenerator(
        "tiny", cfg, backbone, VidMusicianLM(backbone.lm, None, 2, 0.75), trained=False, zero_shot=True
    )
    beat = np.zeros((100, 2), np.float32)
    beat[::25, 0] = 1.0
    a = g.generate(cls_1fps=None, rhythm_50hz=beat, duration_s=2.0, seed=0, prompt="jazz")
    b = g.generate(cls_1fps=None, rhythm_50hz=beat, duration_s=2.0, seed=0, prompt="metal")
    assert a.shape == b.shape == (2 * g.sample_rate,)
    assert not np.array_equal(a, b)
