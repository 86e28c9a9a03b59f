"""`vm-train synth` / `vm-train check` on disk: layout, sidecars, resume after an interruption,
splits, determinism, clear errors (the clips themselves: test_corpus_clips.py)."""

from __future__ import annotations

import json

import pytest

from engine.corpus.clips import ClipConfig, stream_items
from engine.corpus.errors import SynthConfigError
from engine.corpus.manifest import ManifestEntry, read_manifest, write_manifest
from engine.corpus.splits import SPLIT_SPAN, SPLITS, item_seed, split_of_seed
from engine.train.cli import main

SMALL = ["--min-duration", "2", "--max-duration", "2.5", "--size", "48", "--quiet"]


def _synth(out, count, seed=0, split="train", extra=()) -> list[str]:
    argv = ["synth", "--out", str(out), "--count", str(count), "--seed", str(seed), "--split", split]
    return argv + SMALL + list(extra)


def test_synth_writes_video_score_truth_and_manifest(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(_synth(out, 2)) == 0
    entries = read_manifest(out)
    assert [e.seed for e in entries] == [item_seed("train", i) for i in range(2)]
    for e in entries:
        truth = json.loads(e.truth.read_text())
        assert e.text == truth["text"] and e.id == truth["id"] and e.music is None
        assert e.video.name == truth["video"] and e.score.name == truth["score"]
        assert e.video.parent == out.resolve() / "train"
        assert 2.0 <= truth["duration_s"] <= 2.5 and truth["size"] == 48


def test_rerun_skips_complete_clips_and_redoes_an_interrupted_one(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(_synth(out, 2)) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 2
    first, second = sorted((out / "train").glob("*.mp4"))
    stamp = first.stat().st_mtime_ns
    second.with_suffix(".json").unlink()  # interrupted: video and score written, truth (last) not yet
    assert main(_synth(out, 3)) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["written"], again["skipped"]) == (2, 1)
    assert first.stat().st_mtime_ns == stamp
    assert len(read_manifest(out)) == 3 and not list(out.rglob("*.part"))


def test_regenerated_clips_are_identical_and_splits_share_a_folder(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(_synth(a, 1, split="heldout")) == 0 and main(_synth(b, 1, split="heldout")) == 0
    (ta,) = (a / "heldout").glob("*.score.json")
    (tb,) = (b / "heldout").glob("*.score.json")
    assert ta.read_bytes() == tb.read_bytes()
    truth = ta.name.replace(".score", "")
    assert json.loads(ta.with_name(truth).read_text()) == json.loads(tb.with_name(truth).read_text())
    assert main(_synth(a, 1, split="val")) == 0
    entries = read_manifest(a)
    assert sorted(e.split for e in entries) == ["heldout", "val"]
    assert [e.split for e in read_manifest(a, split="val")] == ["val"]


def test_splits_are_disjoint_seed_ranges():
    firsts = [item_seed(s, 0) for s in SPLITS]
    lasts = [item_seed(s, SPLIT_SPAN - 1) for s in SPLITS]
    for s, a, b in zip(SPLITS, firsts, lasts, strict=True):
        assert split_of_seed(a) == split_of_seed(b) == s
    assert all(lasts[i] < firsts[i + 1] for i in range(len(SPLITS) - 1))
    with pytest.raises(SynthConfigError, match="split"):
        item_seed("test", 0)
    with pytest.raises(SynthConfigError, match="seed"):
        split_of_seed(len(SPLITS) * SPLIT_SPAN)


def test_stream_items_draw_fresh_clips_of_one_split_only():
    stream = stream_items("heldout", ClipConfig(2.0, 2.5, 32), start=3)
    items = [next(stream) for _ in range(2)]
    assert [i.truth["seed"] for i in items] == [item_seed("heldout", 3), item_seed("heldout", 4)]
    assert {i.truth["split"] for i in items} == {"heldout"}


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--size", "63"], "size"),
        (["--min-duration", "9", "--max-duration", "5"], "duration"),
        (["--min-duration", "1"], "duration"),
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


def test_check_refuses_an_item_without_a_score(tmp_path, capsys):
    """A manifest of the retired single-shot audio corpus (music, truth, no score) gets one clear line."""
    truth = tmp_path / "train-0000000000.json"
    truth.write_text("{}")
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "a.wav").write_bytes(b"x")
    old = ManifestEntry(
        video=tmp_path / "a.mp4", music=tmp_path / "a.wav", split="train", text="t", truth=truth
    )
    write_manifest([old], tmp_path)
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "without a score" in err[0] and "vm-train synth" in err[0]


def test_check_reads_each_spans_mood_and_refuses_an_unknown_one(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(_synth(out, 3)) == 0
    capsys.readouterr()
    assert main(["check", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["per_item"]
    truths = [json.loads(e.truth.read_text()) for e in read_manifest(out)]
    assert [r["moods"] for r in rows] == [t["moods"] for t in truths]
    bad = read_manifest(out)[0].truth
    truth = json.loads(bad.read_text())
    truth["spans"][0]["mood"] = "kazoo"
    bad.write_text(json.dumps(truth))
    assert main(["check", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "kazoo" in err[0] and "vm-train synth" in err[0]
