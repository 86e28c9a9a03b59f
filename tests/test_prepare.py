"""`vm-train prepare`: composed corpus clips → shards with the right shapes (the scores' exact
symbolic tokens); a corrupt item is skipped with one clear line and counted; a second run
resumes (skips what is done)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.corpus.clips import ClipConfig, synth_corpus
from engine.corpus.manifest import read_manifest, write_manifest
from engine.generator import backbone as bb
from engine.symbolic import tokens as tk
from engine.symbolic.score import SymbolicScore
from engine.train.cli import main
from engine.train.prepare import prepare_dataset
from engine.train.shards import ShardDataset, read_index


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    cfg = ClipConfig(min_duration_s=2.0, max_duration_s=3.0, size=64)
    synth_corpus(root, 2, 0, "train", cfg)
    synth_corpus(root, 1, 0, "val", cfg)
    entries = read_manifest(root)
    broken = root / "train" / "broken.mp4"
    broken.write_bytes(b"")  # an interrupted copy
    lost = root / "train" / "broken.score.json"
    lost.write_text(entries[0].score.read_text())
    bad = entries[0].__class__(video=broken, music=None, split="train", text="x", id="broken", score=lost)
    write_manifest([*entries, bad], root)
    return root


@pytest.fixture(autouse=True)
def _no_trained_weights(tmp_path, monkeypatch):
    monkeypatch.setenv(bb.MODELS_ENV, str(tmp_path / "models"))  # the preset's config, no weights


def test_prepare_writes_shards_skips_the_corrupt_item_and_resumes(corpus, tmp_path):
    lines: list[str] = []
    out = tmp_path / "shards"
    summary = prepare_dataset(
        corpus, out, shard_size=2, cache_dir=str(tmp_path / "cache"), on_skip=lines.append
    )
    assert (summary["prepared"], summary["skipped"], summary["already_done"]) == (3, 1, 0)
    assert len(lines) == 1 and "broken.mp4" in lines[0] and "empty" in lines[0], lines
    index = read_index(out)
    assert [s["id"] for s in index["skipped"]] == ["broken"]
    assert len({it["shard"] for it in index["items"]}) == 2  # 3 items, 2 per shard
    train = ShardDataset(out, "train")
    assert len(train) == 2 and len(ShardDataset(out, "val")) == 1
    for item, entry in zip(
        train.items, [e for e in read_manifest(corpus, check_files=False) if e.id != "broken"], strict=False
    ):
        frames = item.codes.shape[1]
        assert item.codes.shape[0] == len(tk.STREAMS) and 0 <= item.codes.min() and item.codes.max() < tk.CARD
        score = SymbolicScore.from_dict(json.loads(entry.score.read_text()))
        assert np.array_equal(item.codes, tk.encode(score)[:, :frames])  # exact: no codec in between
        assert frames == int(np.floor(item.duration_s * 50 + 1e-6)) and 100 <= frames <= 150
        assert item.rhythm.shape == (frames, 2) and item.rhythm[:, 0].max() > 0
        assert item.cls.shape == (int(np.ceil(item.duration_s - 1e-9)), 128)
        assert item.text == entry.text and item.text
    again = prepare_dataset(
        corpus, out, shard_size=2, cache_dir=str(tmp_path / "cache"), on_skip=lines.append
    )
    assert (again["prepared"], again["already_done"], again["skipped"]) == (0, 3, 1)
    assert len(read_index(out)["items"]) == 3


def test_prepare_cli_prints_the_skip_and_a_summary(corpus, tmp_path, capsys):
    rc = main(
        [
            "prepare",
            str(corpus),
            "--out",
            str(tmp_path / "s"),
            "--split",
            "val",
            "--quiet",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["prepared"] == 1 and summary["skipped"] == 0
    assert "prepared 1, already done 0, skipped 0" in captured.err
    rc = main(["prepare", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "s2")])
    assert rc == 2 and capsys.readouterr().err.startswith("error:")
