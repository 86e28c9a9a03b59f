"""The mood judge that reads the notes (engine.eval.score_mood_judge).

Why these tests: it decides whether a cue asked for in a mood was written in it, so its features
must move the way a mood moves a score (minor reads minor above the chord it rests on, a higher or
busier or shorter melody reads so), it must read a cue's tokens as it reads the composer's score,
and fitted on composed clips it must name the mood of composed clips it never saw far above chance.
"""

from __future__ import annotations

import numpy as np

from engine.corpus.moods import MOODS
from engine.eval.score_mood_judge import (
    FEATURE_NAMES,
    ScoreMoodJudge,
    home_pitch_class,
    load_or_train,
    score_mood_features,
    tokens_mood_features,
    train_score_mood_judge,
)
from engine.symbolic import tokens as tk
from engine.symbolic.score import Chord, Note, SymbolicScore


def feature(row: np.ndarray, name: str) -> float:
    return float(row[FEATURE_NAMES.index(name)])


def _score(home: int, third: int, melody_pitches, note_frames: int, gap_frames: int) -> SymbolicScore:
    """Four bars resting on `home` (i-iv-i-V with the chord's `third`), a melody of even notes."""
    roots = [(home, third), ((home + 5) % 12, third), (home, third), ((home + 7) % 12, 4)]
    quality = {3: "min", 4: "maj"}
    harmony = tuple(
        Chord(i * 100, (i + 1) * 100 - (40 if i == 1 else 0), r, quality[q], 1) for i, (r, q) in enumerate(roots)
    )
    melody, t = [], 0
    for p in melody_pitches:
        melody.append(Note(t, t + note_frames, p, 1))
        t += note_frames + gap_frames
    bass = tuple(Note(c.start, c.end, 36 + c.root, 1) for c in harmony)
    return SymbolicScore(400, ((0, "piano_ballad"),), (), bass, harmony, tuple(melody))


def test_the_home_chord_and_the_mode_above_it():
    minor = _score(9, 3, [69, 72, 76, 72] * 4, 20, 5)  # A minor
    major = _score(0, 4, [72, 76, 79, 76] * 4, 20, 5)  # C major
    assert home_pitch_class(minor) == 9 and home_pitch_class(major) == 0
    m, M = score_mood_features(minor), score_mood_features(major)
    assert feature(m, "degree_3") > feature(m, "degree_4") and feature(M, "degree_4") > feature(M, "degree_3")
    assert feature(m, "chord_min") > 0.5 > feature(M, "chord_min")


def test_register_density_and_articulation_read_as_written():
    low_legato = score_mood_features(_score(0, 4, [60, 62, 64, 62] * 4, 24, 1))
    high_busy_short = score_mood_features(_score(0, 4, [84, 86, 88, 86] * 12, 3, 5))
    assert feature(high_busy_short, "melody_pitch") > feature(low_legato, "melody_pitch") + 20
    assert feature(high_busy_short, "melody_rate") > 2.5 * feature(low_legato, "melody_rate")
    assert feature(high_busy_short, "melody_legato") < 0.5 < feature(low_legato, "melody_legato")
    ostinato = score_mood_features(_score(0, 4, [72] * 16, 20, 5))
    assert feature(ostinato, "melody_repeats") == 1.0 and feature(low_legato, "melody_repeats") == 0.0


def test_a_cues_tokens_read_as_its_score():
    score = _score(9, 3, [69, 72, 76, 72] * 4, 20, 5)
    assert np.allclose(tokens_mood_features(tk.encode(score)), score_mood_features(score))


def test_fitted_on_composed_clips_it_names_unseen_clips_moods(tmp_path, monkeypatch):
    judge = train_score_mood_judge(n_train=560, n_heldout=112)
    chance = 1 / len(MOODS)
    assert judge.heldout_accuracy > 4 * chance  # 0.77 measured; chance 0.14
    assert judge.heldout_mode_side > 0.8
    assert sum(map(sum, judge.confusion)) == 112
    again = load_or_train(tmp_path / "judge.pkl", n_train=560, n_heldout=112)  # fitted and saved
    assert isinstance(again, ScoreMoodJudge) and (tmp_path / "judge.pkl").is_file()
    def no_fit(*_args, **_kwargs):
        raise AssertionError("fitted again though a judge of this version and size was saved")

    monkeypatch.setattr("engine.eval.score_mood_judge.train_score_mood_judge", no_fit)
    cached = load_or_train(tmp_path / "judge.pkl", n_train=560, n_heldout=112)
    assert cached.heldout_accuracy == again.heldout_accuracy  # read back
    tokens = tk.encode(_score(9, 3, [69, 72, 76, 72] * 4, 20, 5))
    probabilities = cached.probabilities(tokens, "piano_ballad")
    assert set(probabilities) == set(MOODS) and abs(sum(probabilities.values()) - 1) < 1e-6
