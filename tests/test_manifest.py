"""Dataset manifests: round trip, relative paths, and a specific error (file:line + fix) per fault."""

from __future__ import annotations

import json

import pytest

from engine.corpus.errors import ManifestError
from engine.corpus.manifest import ManifestEntry, iter_items, manifest_path, read_manifest, write_manifest
from engine.errors import EngineInputError


@pytest.fixture
def media(tmp_path):
    names = ["a.mp4", "a.wav", "b.mp4", "b.wav", "c.mp4", "c.flac"]
    for name in names:
        (tmp_path / "clips" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "clips" / name).write_bytes(b"x")
    return tmp_path


def _write_lines(root, lines) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (root / "manifest.jsonl").write_text(text + "\n")


def _line(stem, split="train", **extra) -> dict:
    music = "c.flac" if stem == "c" else f"{stem}.wav"
    return {"video": f"clips/{stem}.mp4", "music": f"clips/{music}", "split": split, **extra}


def test_round_trip_keeps_paths_relative(media):
    entries = [
        ManifestEntry(media / "clips/a.mp4", media / "clips/a.wav", "train", text="calm ambient", seed=1),
        ManifestEntry(media / "clips/c.mp4", media / "clips/c.flac", "heldout"),
    ]
    path = write_manifest(entries, media)
    assert path == media / "manifest.jsonl"
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {
        "video": "clips/a.mp4",
        "music": "clips/a.wav",
        "split": "train",
        "text": "calm ambient",
        "seed": 1,
    }
    back = read_manifest(media)
    assert [(e.video, e.music, e.split, e.text, e.seed) for e in back] == [
        ((media / "clips/a.mp4").resolve(), (media / "clips/a.wav").resolve(), "train", "calm ambient", 1),
        ((media / "clips/c.mp4").resolve(), (media / "clips/c.flac").resolve(), "heldout", None, None),
    ]
    assert [e.split for e in iter_items(media / "manifest.jsonl", split="heldout")] == ["heldout"]
    assert manifest_path(media) == manifest_path(path) == path


def test_blank_lines_are_ignored_and_absolute_paths_allowed(media):
    _write_lines(media, ["", _line("a"), "   ", {**_line("b"), "video": str(media / "clips/b.mp4")}])
    assert len(read_manifest(media)) == 2


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("{not json", ["not valid JSON"]),
        ("[1, 2]", ["expected a JSON object"]),
        ({"video": "clips/b.mp4", "split": "train"}, ["missing music"]),
        ({**_line("b"), "vidoe": "x"}, ["unknown key(s) vidoe", "allowed"]),
        (_line("b", split="test"), ["split 'test'", "train, val, heldout"]),
        ({**_line("b"), "text": 3}, ["'text' must be a non-empty string"]),
        ({**_line("b"), "seed": "7"}, ["'seed' must be an integer"]),
        ({**_line("b"), "music": "clips/missing.wav"}, ["music file", "missing.wav", "does not exist"]),
        (_line("a", split="val"), ["already listed at", "manifest.jsonl:1"]),
    ],
)
def test_each_fault_is_named_with_file_and_line(media, bad, words):
    _write_lines(media, [_line("a"), bad])
    with pytest.raises(ManifestError) as info:
        read_manifest(media)
    message = str(info.value)
    assert f"{media / 'manifest.jsonl'}:2" in message
    for word in words:
        assert word in message
    assert isinstance(info.value, EngineInputError)


def test_a_seed_in_two_splits_is_refused(media):
    _write_lines(media, [_line("a", seed=4), _line("b", split="heldout", seed=4)])
    with pytest.raises(ManifestError, match="seed 4 is in both 'train' and 'heldout'"):
        read_manifest(media)


def test_missing_files_can_be_allowed_for_a_dry_read(media):
    _write_lines(media, [{**_line("a"), "video": "clips/gone.mp4"}])
    with pytest.raises(ManifestError, match="does not exist"):
        read_manifest(media)
    (entry,) = read_manifest(media, check_files=False)
    assert entry.video.name == "gone.mp4"


def test_missing_manifest_and_bad_split_filter(media, tmp_path):
    with pytest.raises(ManifestError, match="vm-train synth"):
        read_manifest(tmp_path / "nowhere")
    _write_lines(media, [_line("a")])
    with pytest.raises(ManifestError, match="unknown split"):
        read_manifest(media, split="dev")
