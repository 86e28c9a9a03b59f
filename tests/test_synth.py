"""The procedural corpus in memory: determinism, splits, the beat grid, and its own ground truth.

Ground-truth metrics (stated here and in engine/corpus/truth_check.py):
- music: librosa onset_detect (hop 256) vs the event times, mir_eval onset F-measure at +-70 ms,
  required >= 0.8 on every clip; a control with the events shifted by a sixteenth note must fail.
- pictures: frame-difference peaks of the *decoded H.264 file* vs the event times, F-measure at
  +- half a frame, required >= 0.95 on every clip; a shifted control must fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.corpus.errors import SynthConfigError
from engine.corpus.splits import SPLIT_SPAN, SPLITS, item_seed, split_of_seed
from engine.corpus.synth import SynthConfig, generate_item, stream_items
from engine.corpus.truth_check import music_agreement, video_agreement
from engine.corpus.worlds import WORLD_NAMES, WORLDS

SHORT = SynthConfig(min_duration_s=4.0, max_duration_s=5.0, size=96)


@pytest.fixture(scope="module")
def one_per_world():
    """Five short clips of the validation split, one per world (seeds are world-balanced)."""
    return [generate_item(item_seed("val", i), SHORT) for i in range(len(WORLDS))]


def _events(item) -> np.ndarray:
    return np.asarray([e["time_s"] for e in item.truth["events"]])


def test_same_seed_same_item_and_different_seeds_differ():
    a, b = generate_item(7, SHORT), generate_item(7, SHORT)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.audio, b.audio)
    assert a.truth == b.truth
    c = generate_item(7 + len(WORLDS), SHORT)  # same world, other seed
    assert c.truth["world"] == a.truth["world"]
    assert c.truth["events"] != a.truth["events"] or c.audio.shape != a.audio.shape


def test_item_shapes_and_formats(one_per_world):
    for item in one_per_world:
        t = item.truth
        assert item.frames.dtype == np.uint8 and item.frames.shape[1:] == (96, 96, 3)
        assert item.frames.shape[0] == round(t["duration_s"] * t["fps"])
        assert item.audio.dtype == np.float32 and item.audio.ndim == 1
        assert len(item.audio) == round(t["duration_s"] * t["sample_rate"])
        assert np.isfinite(item.audio).all() and 0.5 < np.abs(item.audio).max() <= 0.9
        assert 4.0 <= t["duration_s"] <= 5.0
        assert t["split"] == "val" and t["world"] in WORLD_NAMES
        assert t["text"].endswith("bpm") and t["tags"][0] in t["text"]
        assert {e["kind"] for e in t["events"]} <= {"cut", "flash", "accent"}


def test_consecutive_seeds_cover_every_world(one_per_world):
    assert sorted(i.truth["world"] for i in one_per_world) == sorted(WORLD_NAMES)


def test_events_sit_on_the_beat_grid_and_downbeats_are_events(one_per_world):
    for item in one_per_world:
        t = item.truth
        world = next(w for w in WORLDS if w.name == t["world"])
        beats = np.asarray(t["beat_times_s"])
        beat = 60.0 / t["tempo_bpm"]
        assert np.allclose(np.diff(beats), beat, atol=1e-5)
        lo, hi = world.tempo_bpm
        assert lo <= t["tempo_bpm"] <= hi
        grid = (_events(item) - beats[0]) / (beat / world.subdivision)
        assert np.allclose(grid, np.round(grid), atol=1e-4)
        for d in t["downbeat_times_s"]:
            assert np.isclose(_events(item), d, atol=1e-5).any()
        assert all(e["frame"] == round(e["time_s"] * t["fps"]) for e in t["events"])


def test_music_onsets_agree_with_visual_events(one_per_world):
    for item in one_per_world:
        events, sr = _events(item), item.truth["sample_rate"]
        assert len(events) >= 4
        good = music_agreement(item.audio, sr, events)
        assert good.f_measure >= 0.8, (item.truth["world"], good)
        sixteenth = 60.0 / item.truth["tempo_bpm"] / 4
        shifted = music_agreement(item.audio, sr, events + sixteenth)
        assert shifted.f_measure < 0.5, (item.truth["world"], shifted)


def test_visual_events_are_frame_difference_spikes_in_the_encoded_video(one_per_world, tmp_path):
    from engine.corpus.corpus_check import decode_video
    from engine.corpus.media_out import write_video

    for item in one_per_world:
        path = tmp_path / f"{item.id}.mp4"
        write_video(item.frames, item.truth["fps"], path)
        frames, fps = decode_video(path)
        assert fps == 25 and frames.shape == item.frames.shape
        events = _events(item)
        good = video_agreement(frames, fps, events)
        assert good.f_measure >= 0.95, (item.truth["world"], good)
        assert video_agreement(frames, fps, events + 0.1).f_measure < 0.5


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
    stream = stream_items("heldout", SHORT, start=3)
    items = [next(stream) for _ in range(2)]
    assert [i.truth["seed"] for i in items] == [item_seed("heldout", 3), item_seed("heldout", 4)]
    assert {i.truth["split"] for i in items} == {"heldout"}


def test_bad_settings_are_clear_errors():
    for bad, word in [
        (SynthConfig(size=161), "size"),
        (SynthConfig(min_duration_s=6, max_duration_s=5), "duration"),
        (SynthConfig(sample_rate=100), "sample rate"),
        (SynthConfig(audio_format="mp3"), "audio format"),
    ]:
        with pytest.raises(SynthConfigError, match=word):
            generate_item(0, bad)


def _audio_features(item) -> np.ndarray:
    """Spectral shape (mean log-mel minus its mean: loudness-free) and its variation over time."""
    import librosa

    mel = librosa.feature.melspectrogram(y=item.audio, sr=item.truth["sample_rate"], n_mels=40)
    logmel = np.log(mel + 1e-6)
    mean = logmel.mean(axis=1)
    return np.concatenate([mean - mean.mean(), logmel.std(axis=1)])


def _colour_histogram(item) -> np.ndarray:
    q = (item.frames[::5] // 64).reshape(-1, 3).astype(int)
    hist = np.bincount(q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2], minlength=64)
    return hist / hist.sum()


@pytest.mark.slow
def test_worlds_are_separable_from_audio_alone_and_from_pictures_alone():
    """A linear classifier trained on 5 train clips per world names the world of 3 held-out clips
    per world, from audio alone (accuracy >= 0.8, chance 0.2) and from pictures alone (>= 0.9)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(WORLDS)
    config = SynthConfig(min_duration_s=4.0, max_duration_s=5.0, size=48)
    train = [generate_item(item_seed("train", i), config) for i in range(5 * n)]
    test = [generate_item(item_seed("heldout", i), config) for i in range(3 * n)]
    for feature, floor in ((_audio_features, 0.8), (_colour_histogram, 0.9)):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit([feature(i) for i in train], [i.truth["world"] for i in train])
        guesses = clf.predict([feature(i) for i in test])
        accuracy = float(np.mean([g == i.truth["world"] for g, i in zip(guesses, test, strict=True)]))
        assert accuracy >= floor, (feature.__name__, accuracy)
