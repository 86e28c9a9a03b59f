"""Symbolic-corpus clips: determinism, splits, the edit's shape, cuts in the pictures, distinct worlds,
and `vm-train synth` / `vm-train check` on disk."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.corpus.clips import ClipConfig, generate_item
from engine.corpus.errors import SynthConfigError
from engine.corpus.manifest import read_manifest
from engine.corpus.shots import plan_edit
from engine.corpus.splits import item_seed
from engine.corpus.truth_check import frame_difference
from engine.symbolic.score import STYLES, SymbolicScore
from engine.train.cli import main

SMALL = ClipConfig(min_duration_s=6.0, max_duration_s=8.0, size=64)


@pytest.fixture(scope="module")
def one_per_style():
    return [generate_item(item_seed("val", i), SMALL) for i in range(len(STYLES))]


def test_same_seed_same_clip_and_seeds_cycle_the_styles(one_per_style):
    a, b = generate_item(item_seed("val", 3), SMALL), one_per_style[3]
    assert np.array_equal(a.frames, b.frames) and a.score == b.score and a.truth == b.truth
    assert [i.truth["world"] for i in one_per_style] == list(STYLES)
    assert generate_item(item_seed("val", 11), SMALL).truth != b.truth


def test_frames_score_and_truth_agree(one_per_style):
    for item in one_per_style:
        t = item.truth
        assert item.frames.dtype == np.uint8 and item.frames.shape == (t["num_video_frames"], 64, 64, 3)
        assert item.score.num_frames == 2 * t["num_video_frames"] == t["num_frames"]
        assert 6.0 <= t["duration_s"] <= 8.0 and t["split"] == "val"
        assert [list(s) for s in item.score.style_spans] == t["style_spans"]
        assert t["text"] in t["captions"] and t["text"].endswith("bpm")
        assert all(c["frame_50"] == 2 * c["frame"] for c in t["cuts"])


def test_shot_lengths_cut_positions_dissolves_and_world_changes():
    lengths, on, dissolves, changes = [], [], 0, 0
    for k in range(96):
        rng = np.random.default_rng(k)
        edit = plan_edit(STYLES[k % 8], int(rng.integers(150, 300)), rng)
        starts = edit.shot_starts() + [edit.num_video_frames]
        lengths += [(b - a) / 25 for a, b in zip(starts, starts[1:], strict=False)]
        on += [t.on for t in edit.transitions]
        dissolves += sum(t.kind == "dissolve" for t in edit.transitions)
        changes += len(edit.spans) > 1
    lengths = np.asarray(lengths)
    assert lengths.min() >= 0.5 and lengths.max() <= 8.0
    assert 0.5 <= np.mean((lengths >= 1.5) & (lengths <= 4.0))
    assert on.count("downbeat") > len(on) / 2 and on.count("offbeat") > 0 and on.count("beat") > 0
    assert dissolves >= 10 and 10 <= changes <= 50


def test_hard_cuts_and_events_spike_in_the_pictures_dissolves_do_not(one_per_style):
    for item in one_per_style:
        d = frame_difference(item.frames)
        quiet = np.median(d[1:])
        spikes = [c["frame"] for c in item.truth["cuts"]] + [e["frame"] for e in item.truth["events"]]
        for f in spikes:
            assert d[f] > 4 * quiet and d[f] >= d[max(1, f - 2) : f + 3].max(), (item.id, f)
        for dis in item.truth["dissolves"]:
            inside = d[dis["start"] : dis["end"] + 1]
            assert inside.max() < max(d[f] for f in spikes) if spikes else True


def test_worlds_are_told_apart_from_single_frames():
    """Nearest-centroid on a coarse colour histogram of one frame: the worlds are visually distinct."""

    def hist(frame):
        q = (frame // 32).reshape(-1, 3).astype(int)
        return np.bincount(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2], minlength=512) / len(q)

    train = {s: [] for s in STYLES}
    test = []
    for i in range(24):
        item = generate_item(item_seed("train", i), ClipConfig(2.0, 3.0, 48))
        if len(item.truth["worlds"]) > 1:
            continue
        for f in item.frames[:: max(1, len(item.frames) // 4)]:
            if i < 16:
                train[item.truth["world"]].append(hist(f))
            else:
                test.append((item.truth["world"], hist(f)))
    cents = {s: np.mean(v, axis=0) for s, v in train.items() if v}
    correct = [min(cents, key=lambda s: np.abs(h - cents[s]).sum()) == w for w, h in test]
    assert len(cents) == 8 and np.mean(correct) >= 0.9


def test_synth_and_check_on_disk(tmp_path, capsys):
    out = tmp_path / "c"
    argv = ["synth", "--out", str(out), "--count", "3", "--split", "heldout", "--size", "64", "--quiet"]
    assert main([*argv, "--min-duration", "4", "--max-duration", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 3
    entries = read_manifest(out)
    assert [e.split for e in entries] == ["heldout"] * 3 and all(e.music is None for e in entries)
    for e in entries:
        truth = json.loads(e.truth.read_text())
        score = SymbolicScore.from_dict(json.loads(e.score.read_text()))
        assert score.num_frames == truth["num_frames"] and e.text == truth["text"]
    assert main(["check", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 3 and report["music_f_min"] == 1.0
    # every cut and visual event is a spike in the decoded H.264 (some slow motion also peaks: F < 1)
    assert min(r["video_recall"] for r in report["per_item"]) >= 0.95
    assert main([*argv, "--min-duration", "4", "--max-duration", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == 3


def test_bad_settings_fail_clearly():
    with pytest.raises(SynthConfigError, match="size"):
        generate_item(0, ClipConfig(size=63))
    with pytest.raises(SynthConfigError, match="no split"):
        generate_item(-1)
