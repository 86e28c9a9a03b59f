"""No mood asked for: a model trained on moods plays the style the pictures chose as its table
writes it (the caption it learned the neutral mood as), not a mood drawn at random."""

from __future__ import annotations

import numpy as np
import pytest

from engine.generator.music_generator import MusicGenerator
from engine.symbolic.score import STREAMS, STYLES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _texts(gen, monkeypatch) -> list:
    seen = []
    original = gen._condition_fn

    def recording(cls, text, guided):
        seen.append(text)
        return original(cls, text, guided)

    monkeypatch.setattr(gen, "_condition_fn", recording)
    return seen


def test_a_cue_with_no_words_is_conditioned_on_its_styles_neutral_caption(monkeypatch):
    gen = MusicGenerator.load("tiny")
    assert gen._moods_trained()  # the shipped model learned the moods' words
    seen = _texts(gen, monkeypatch)
    cue = gen.generate_cue(cls_1fps=np.zeros((3, 128), np.float32), rhythm_50hz=None, duration_s=3.0, seed=2)
    style = STYLES[int(cue.tokens[STREAMS.index("style"), 0])]  # the style it opens in
    assert seen[0] is None  # the pictures choose the style first
    assert seen[-1] == gen.vocabulary.captions[style]  # then it plays that style, no mood words


def test_a_named_mood_keeps_its_own_words(monkeypatch):
    gen = MusicGenerator.load("tiny")
    seen = _texts(gen, monkeypatch)
    gen.generate_cue(cls_1fps=None, rhythm_50hz=None, duration_s=2.0, seed=2, prompt="tense")
    assert len(set(seen)) == 1 and "tense" in seen[0]
