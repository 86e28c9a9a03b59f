"""`vm-train synth --audio` / `vm-train check` on disk: layout, sidecars, resume, splits, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine.corpus.manifest import read_manifest
from engine.corpus.splits import item_seed
from engine.train.cli import main

SMALL = ["--audio", "--min-duration", "4", "--max-duration", "4.5", "--size", "64", "--quiet"]


def _synth(out, count, seed=0, split="train", extra=()) -> list[str]:
    argv = ["synth", "--out", str(out), "--count", str(count), "--seed", str(seed), "--split", split]
    return argv + SMALL + list(extra)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    assert main(_synth(out, 3)) == 0
    return out


def test_synth_writes_media_sidecars_and_manifest(corpus, capsys):
    entries = read_manifest(corpus)
    assert [e.split for e in entries] == ["train"] * 3
    assert [e.seed for e in entries] == [item_seed("train", i) for i in range(3)]
    for e in entries:
        truth = json.loads(e.truth.read_text())
        assert e.text == truth["text"] and e.id == truth["id"]
        assert e.video.name == truth["video"] and e.video.parent == corpus.resolve() / "train"
        audio, sr = sf.read(e.music, dtype="float32")
        assert sr == 16000 and abs(len(audio) / sr - truth["duration_s"]) < 1e-3
        for key in ("world", "tempo_bpm", "beat_times_s", "events", "text", "tags", "seed"):
            assert key in truth
        assert all({"time_s", "kind", "frame"} <= set(ev) for ev in truth["events"])


def test_check_command_scores_the_written_corpus(corpus, capsys):
    assert main(["check", str(corpus), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 3
    assert report["music_f_min"] >= 0.8 and report["video_f_min"] >= 0.95


def test_rerun_skips_complete_items_and_extends(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(_synth(out, 2)) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["written"], first["skipped"]) == (2, 0)
    video = sorted((out / "train").glob("*.mp4"))[0]
    stamp = video.stat().st_mtime_ns

    # an interrupted item: media written, sidecar not yet (it is always written last)
    sidecar = sorted((out / "train").glob("*.json"))[1]
    sidecar.unlink()
    assert main(_synth(out, 3)) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["written"], again["skipped"]) == (2, 1)
    assert video.stat().st_mtime_ns == stamp
    assert len(read_manifest(out)) == 3
    assert not list(out.rglob("*.part"))


def test_regenerated_items_are_identical(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(_synth(a, 1, seed=5)) == 0 and main(_synth(b, 1, seed=5)) == 0
    (ta,) = (a / "train").glob("*.json")
    (tb,) = (b / "train").glob("*.json")
    assert json.loads(ta.read_text()) == json.loads(tb.read_text())
    wa, _ = sf.read(ta.with_suffix(".wav"))
    wb, _ = sf.read(tb.with_suffix(".wav"))
    assert np.array_equal(wa, wb)


def test_splits_share_a_folder_without_overlap(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(_synth(out, 2, split="train")) == 0
    assert main(_synth(out, 2, split="heldout", extra=["--audio-format", "flac"])) == 0
    entries = read_manifest(out)
    assert sorted(e.split for e in entries) == ["heldout", "heldout", "train", "train"]
    assert {e.music.suffix for e in entries if e.split == "heldout"} == {".flac"}
    train_seeds = {e.seed for e in entries if e.split == "train"}
    held_seeds = {e.seed for e in entries if e.split == "heldout"}
    assert not train_seeds & held_seeds
    assert [e.split for e in read_manifest(out, split="heldout")] == ["heldout", "heldout"]


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--size", "63"], "size"),
        (["--sample-rate", "100"], "sample rate"),
        (["--min-duration", "9", "--max-duration", "5"], "duration"),
    ],
)
def test_bad_settings_exit_2_with_one_error_line(tmp_path, capsys, extra, word):
    assert main(_synth(tmp_path / "c", 1, extra=extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and word in err[0]


def test_bad_count_and_out_is_a_file(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "c"), "--count", "0", "--quiet"]) == 2
    assert "--count" in capsys.readouterr().err
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["synth", "--out", str(f), "--count", "1", "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_check_without_manifest_names_the_fix(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "vm-train synth" in capsys.readouterr().err
