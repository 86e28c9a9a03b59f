"""The symbolic tiny backbone end to end: tokens constrained per stream, hit points as strong
accents on their frame, stereo 48 kHz audio, stems, and continuation from saved tokens."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import GeneratorInputError
from engine.generator.config import GeneratorConfig
from engine.generator.music_generator import MusicGenerator
from engine.presets import load_preset
from engine.symbolic import tokens as tk


@pytest.fixture(scope="module")
def gen():
    cfg = GeneratorConfig.from_dict(load_preset("tiny").generator)
    return MusicGenerator.from_config(cfg, preset="tiny")


def _cls(n: int = 3) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 128)).astype(np.float32)


def test_every_stream_emits_only_its_own_ids_and_hits_are_strong_accents(gen, one_torch_thread):
    hits = (0.5, 1.24, 2.0)
    cue = gen.generate_cue(cls_1fps=_cls(), rhythm_50hz=None, duration_s=2.4, seed=3, hit_points_s=hits)
    assert cue.audio.shape == (2.4 * 48000, 2) and cue.sample_rate == 48000
    assert cue.tokens.shape == (len(tk.STREAMS), 120) and cue.tokens.dtype == np.int16
    for k in range(len(tk.STREAMS)):
        assert tk.valid_ids(k)[cue.tokens[k]].all(), tk.STREAMS[k]
    strong = set(tk.strong_drum_onsets().tolist())
    for t in hits:
        assert int(cue.tokens[0, round(t * 50)]) in strong
    # the constraint is what put them there: an untrained model alone rarely hits all three
    alone = gen.generate_cue(cls_1fps=_cls(), rhythm_50hz=None, duration_s=2.4, seed=3)
    assert sum(int(alone.tokens[0, round(t * 50)]) in strong for t in hits) < 3


def test_stems_are_the_streams_of_the_same_music(gen, one_torch_thread):
    cue = gen.generate_cue(cls_1fps=_cls(), rhythm_50hz=None, duration_s=1.5, seed=1, stems=True)
    assert set(cue.stems) == {"drums", "bass", "harmony", "melody"}
    for stem in cue.stems.values():
        assert stem.shape == cue.audio.shape and np.isfinite(stem).all()
    total = sum(cue.stems.values())
    assert np.abs(total).max() > 0 and np.abs(cue.audio).max() > 0
    # the mix is the stems through the master bus: they are strongly correlated
    r = np.corrcoef(total[:, 0], cue.audio[:, 0])[0, 1]
    assert r > 0.8


def test_continuation_from_saved_tokens_is_checked_and_deterministic(gen, one_torch_thread):
    first = gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=1.0, seed=5)
    a = gen.generate_cue(
        cls_1fps=None, rhythm_50hz=None, duration_s=1.0, seed=6, continuation_tokens=first.tokens
    )
    b = gen.generate_cue(
        cls_1fps=None, rhythm_50hz=None, duration_s=1.0, seed=6, continuation_tokens=first.tokens
    )
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.audio, b.audio)
    with pytest.raises(GeneratorInputError, match="tokens"):
        gen.generate_cue(
            cls_1fps=None, rhythm_50hz=None, duration_s=0.5, seed=0, continuation_tokens=first.tokens[:3]
        )
    with pytest.raises(GeneratorInputError, match="saved tokens"):
        gen.generate_cue(
            cls_1fps=None, rhythm_50hz=None, duration_s=0.5, seed=0, continuation=first.audio[:, 0]
        )


def test_an_unknown_prompt_word_is_named_in_a_warning(gen):
    gen.prompt_words = frozenset({"jazz", "trio", "swing", "piano"})
    try:
        assert gen.prompt_warning("jazz trio") is None
        warning = gen.prompt_warning("jazz kazoo")
        assert "'kazoo'" in warning and "jazz" not in warning.split("unknown")[0]
    finally:
        gen.prompt_words = None
