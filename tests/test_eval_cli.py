"""vm-eval end to end on a small random symbolic model and 2 held-out clips (its numbers are poor:
that is fine), plus the spec parser's errors, the unknown-prompt warning and the neural codec's scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.corpus.clips import ClipConfig, synth_corpus
from engine.corpus.styles import known_prompt_words
from engine.eval.cli import main
from engine.eval.models import load_generator, parse_spec
from engine.generator import backbone as bb
from engine.generator.music_generator import MusicGenerator
from tests._trainer_data import SMALL, small_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SYMBOLIC = {
    **SMALL,
    "cls_dim": 128,
    "lm": {"dim": 32, "num_heads": 4, "num_layers": 2, "n_q": 5, "card": 290},
    "codec": {"type": "symbolic"},
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A random small symbolic generator (the tiny tower's 128-d CLS) in a `vm-train tiny` model folder."""
    folder = tmp_path_factory.mktemp("model")
    gen = MusicGenerator.from_config(small_config(**SYMBOLIC), preset="tiny")
    gen.save_weights(folder)
    (folder / "generator.json").write_text(json.dumps(SYMBOLIC))
    (folder / "prompt_words.json").write_text(json.dumps(sorted(known_prompt_words())))
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    synth_corpus(root, 2, 0, "heldout", ClipConfig(min_duration_s=3.0, max_duration_s=4.0, size=64))
    return root


@pytest.mark.slow
def test_vm_eval_end_to_end_on_a_random_symbolic_model(model_dir, corpus, tmp_path, capsys, shots_video):
    out, docs = tmp_path / "eval", tmp_path / "docs"
    argv = [f"full={model_dir}", f"blind=backbone-only:{model_dir}", f"text=style-text:{model_dir}"]
    argv += ["--heldout-dir", str(corpus), "--heldout", "2", "--real", str(shots_video)]
    argv += ["--classifier-train", "16", "--classifier-heldout", "8", "--out", str(out), "--docs", str(docs)]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["style_classifier"]["classes"][0] == "cinematic_strings"
        and len(doc["style_classifier"]["classes"]) == 8
    )
    labels = [m["label"] for m in doc["models"]]
    assert labels == ["reference (composed score rendered)", "full", "blind", "text"]
    ref = doc["models"][0]["synthetic"]
    assert ref["summary"]["clips"] == 2 and ref["summary"]["token_style_correct"] == 1.0
    assert ref["summary"]["stereo_48k"] == 1.0 and ref["summary"]["flatness"] < 0.05
    assert all(c["style"] in doc["style_classifier"]["classes"] for c in ref["clips"])
    full = doc["models"][1]
    # hits on and off (the model alone), prompted with another style, on both kinds of clip
    assert {"synthetic", "synthetic_alone", "synthetic_prompted", "real", "real_alone"} <= set(full)
    assert full["symbolic"] and "codec" not in full  # the renderer cannot encode: no codec rows
    on, off = full["real"]["clips"][0], full["real_alone"]["clips"][0]
    assert on["edit_points"] == 2 and on["cut_accent"] == 1.0  # the shots video's 2 cuts, forced accents
    assert 0.0 <= off["cut_accent"] <= 1.0 and 0.0 < on["cut_chance"] < 1.0
    for row in full["synthetic_prompted"]["clips"]:
        clip = next(c for c in ref["clips"] if c["clip"] == row["clip"])
        assert row["style"] != clip["style"] and row["prompt"].startswith(row["style"].split("_")[0])
    blind, text = doc["models"][2], doc["models"][3]
    assert blind["backbone_only"] and set(blind) & {"synthetic_alone", "synthetic_prompted"} == set()
    assert text["style_text"] and "real" not in text
    assert [c["style"] for c in text["synthetic"]["clips"]] == [
        "cinematic_strings",
        "piano_ballad",
    ]  # round robin
    table = (out / "eval.md").read_text()
    for needle in ("| full |", "cut accent (±50 ms)", "held-out, hits off", "Prompt steering", "Style judge"):
        assert needle in table
    assert "| model | cinematic_strings | piano_ballad |" in table  # the per-style table over 8 styles
    assert json.loads((out / "eval.json").read_text())["models"][1]["label"] == "full"
    pngs = sorted(p.name for p in docs.glob("*.png"))
    # bars, reference (1 synth), full and blind (1 synth + 1 real each), text (1 synth)
    assert "eval_bars.png" in pngs and len(pngs) == 1 + 1 + 2 * 2 + 1, pngs
    assert Image.open(docs / "eval_bars.png").size[0] >= 400
    import soundfile as sf

    oggs = sorted(docs.glob("*.ogg"))
    assert len(oggs) == 3 and all(
        sf.info(str(p)).format == "OGG" and sf.info(str(p)).duration <= 10.0 for p in oggs
    )
    assert any("real_alone" in p.name for p in oggs) and any("_real_shots" in p.name for p in oggs)


def test_an_unknown_prompt_word_warns_and_the_music_is_not_silent(model_dir):
    gen = load_generator(parse_spec(str(model_dir)))
    assert gen.prompt_warning("warm piano, slow") is None
    warning = gen.prompt_warning("warm piano, zyxophone")
    assert warning is not None and "'zyxophone'" in warning and len(warning.splitlines()) == 1
    audio = gen.generate(
        cls_1fps=None,
        rhythm_50hz=None,
        duration_s=2.0,
        seed=0,
        prompt="warm piano, zyxophone",
        hit_points_s=(0.5,),
    )
    assert audio.shape == (96000, 2) and float(np.sqrt(np.mean(audio**2))) > 1e-3


def test_codec_scores_still_score_a_neural_codec():
    from engine.eval.evaluate import codec_scores

    gen = MusicGenerator.from_config(small_config(cls_dim=128), preset="tiny")
    t = np.arange(48000 * 2) / 48000
    render = np.stack([np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32) * 0.3
    scores = codec_scores(gen.backbone.codec, {"clip": (render, None)}, (), 20.0)
    item = scores["heldout"]["items"][0]
    assert item["file"] == "clip" and np.isfinite(item["si_snr_db"]) and item["mel_distance"] > 0
    assert scores["real"]["items"] == []


def test_bad_model_spec_is_a_one_line_error(tmp_path, capsys):
    rc = main([str(tmp_path / "nowhere"), "--no-real", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "nowhere" in err and len(err.strip().splitlines()) == 1
    assert parse_spec("tiny").target == "tiny" and parse_spec("a=backbone-only:tiny").blind
    text = parse_spec("t=style-text:tiny")
    assert text.target == "tiny" and text.blind and text.style_text and not parse_spec("tiny").style_text


def test_folder_without_adapters_is_refused_unless_backbone_only(tmp_path):
    gen = MusicGenerator.from_config(small_config(cls_dim=128), preset="tiny")
    bb.save_musicgen_layout(gen.backbone, gen.config, tmp_path)
    (tmp_path / "generator.json").write_text(json.dumps({**SMALL, "cls_dim": 128}))
    from engine.eval.models import ModelSpecError, load_generator

    with pytest.raises(ModelSpecError, match="backbone-only"):
        load_generator(parse_spec(str(tmp_path)))
    assert load_generator(parse_spec(f"backbone-only:{tmp_path}")).sample_rate == 16000
