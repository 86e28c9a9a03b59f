"""vm-eval end to end on a tiny random model and 2 held-out clips (its numbers are poor: that is fine),
plus the spec parser's errors and the plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.corpus.synth import SynthConfig, synth_corpus
from engine.eval.cli import main
from engine.eval.models import parse_spec
from engine.generator import backbone as bb
from engine.generator.service import MusicGenerator
from tests._trainer_data import SMALL, small_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A random small generator (the tiny visual tower's 128-d CLS) saved in the generator layout."""
    folder = tmp_path_factory.mktemp("model")
    gen = MusicGenerator.from_config(small_config(cls_dim=128), preset="tiny")
    gen.save_weights(folder)
    (folder / "generator.json").write_text(json.dumps({**SMALL, "cls_dim": 128}))
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    synth_corpus(root, 2, 0, "heldout", SynthConfig(min_duration_s=4.0, max_duration_s=4.5, size=64))
    return root


def test_vm_eval_end_to_end_on_a_random_model(model_dir, corpus, tmp_path, capsys, shots_video):
    out, docs = tmp_path / "eval", tmp_path / "docs"
    music = tmp_path / "music.wav"
    import soundfile as sf

    sf.write(music, np.sin(np.arange(32000) * 0.05).astype(np.float32) * 0.3, 16000)
    rc = main(
        [
            f"full={model_dir}",
            f"blind=backbone-only:{model_dir}",
            f"text=style-text:{model_dir}",
            "--heldout-dir",
            str(corpus),
            "--heldout",
            "2",
            "--real",
            str(shots_video),
            "--real-music",
            str(music),
            "--classifier-train",
            "40",
            "--classifier-heldout",
            "10",
            "--out",
            str(out),
            "--docs",
            str(docs),
            "--json",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["style_classifier"]["heldout_accuracy"] >= 0.8
    labels = [m["label"] for m in doc["models"]]
    assert labels == ["reference (corpus audio)", "full", "blind", "text"]
    ref = doc["models"][0]["synthetic"]["summary"]
    assert ref["clips"] == 2 and ref["onset_f"] > 0.8 and ref["hit"] > 0.9  # the corpus's own music
    assert ref["semantic_accuracy"] == 1.0
    full = doc["models"][1]
    assert (
        full["synthetic"]["summary"]["clips"] == 2 and 0.0 <= full["synthetic"]["summary"]["onset_f"] <= 1.0
    )
    assert full["real"]["clips"][0]["events"] == 2  # the shots video's two hard cuts
    assert doc["models"][2]["backbone_only"] is True
    text = doc["models"][3]  # prompted with each clip's caption; real footage has none and is skipped
    assert text["style_text"] is True and text["backbone_only"] is True
    assert text["synthetic"]["summary"]["clips"] == 2 and text["real"]["clips"] == []
    codec = full["codec"]
    assert len(codec["heldout"]["items"]) == 2 and len(codec["real"]["items"]) == 1
    assert np.isfinite(codec["heldout"]["si_snr_db"]) and codec["heldout"]["mel_distance"] > 0
    table = (out / "eval.md").read_text()
    assert "| full |" in table and "onset F (±70 ms)" in table and "Style judge" in table
    assert (
        "Semantic accuracy per world" in table
        and "| reference (corpus audio) |" in table.split("per world")[1]
    )
    assert json.loads((out / "eval.json").read_text())["models"][1]["label"] == "full"
    pngs = sorted(p.name for p in docs.glob("*.png"))
    assert (
        "eval_bars.png" in pngs and len(pngs) == 1 + 1 + 2 * 2 + 1
    )  # bars, reference, (1 synth + 1 real) per video-fed model, 1 synth for the caption-prompted one
    assert Image.open(docs / "eval_bars.png").size[0] >= 400


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
