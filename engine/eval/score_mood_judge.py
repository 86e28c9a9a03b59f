"""The mood judge that reads the notes: which of the seven moods does a cue's score play?

Why a second judge beside `mood_judge` (which hears the audio, held-out accuracy about 0.25): a
mood is mostly the mode, and three seconds of audio rarely say which note is home; the score says
which chord roots last longest and so where home is, and how the melody's register, density,
articulation and repetition and the chords' qualities moved. So this judge reads a cue's tokens
(the `.npy` beside its WAV, decoded by `engine.symbolic.tokens`), as an editor's music editor reads
a cue sheet. Like the audio judge it is trained only on composed corpus music (never model
output), every clip in one mood across all eight styles (`mood_judge.mood_clip`), features
standardised by the style's own train clips (`predict` takes the style the cue's style stream
plays), and its accuracy on held-out composed clips is measured and reported with every figure it
gives. It judges what was written, not what a listener hears: the audio judge stays for that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.corpus.moods import MOODS
from engine.corpus.splits import item_seed
from engine.eval import judge_cache
from engine.eval.mood_judge import MAJOR_MOODS, mood_clip, relative_to_style, style_statistics
from engine.symbolic import tokens as symbolic_tokens
from engine.symbolic.score import CHORD_QUALITIES, FRAME_RATE, STYLES, SymbolicScore

log = logging.getLogger(__name__)
VERSION = 1
C = 0.3  # inverse L2 strength of the logistic regression
QUALITIES = tuple(CHORD_QUALITIES)
FEATURE_NAMES = (
    *(f"degree_{d}" for d in range(12)),  # share of sounding time per semitone above home
    "melody_pitch",
    "melody_spread",
    "melody_step",
    "melody_repeats",
    "melody_pitch_variety",
    "melody_rate",
    "melody_legato",
    "melody_accent",
    "bass_rate",
    "bass_accent",
    "drums_rate",
    "drums_accent",
    "harmony_rate",
    "harmony_accent",
    *(f"chord_{q}" for q in QUALITIES),
)


def home_pitch_class(score: SymbolicScore) -> int | None:
    """The pitch class the cue rests on: the chord root that sounds longest (the bass's longest
    pitch class where no chord sounds)."""
    weight = np.zeros(12)
    for chord in score.harmony:
        weight[chord.root % 12] += chord.end - chord.start
    if not weight.any():
        for note in score.bass:
            weight[note.pitch % 12] += note.end - note.start
    return int(np.argmax(weight)) if weight.any() else None


def score_mood_features(score: SymbolicScore) -> np.ndarray:
    """[len(FEATURE_NAMES)] what a mood changes in a score, from its notes alone."""
    seconds = max(score.num_frames / FRAME_RATE, 1e-3)
    home = home_pitch_class(score) or 0
    degrees = np.zeros(12)
    for note in (*score.melody, *score.bass):
        degrees[(note.pitch - home) % 12] += note.end - note.start
    for chord in score.harmony:
        for interval in CHORD_QUALITIES[chord.quality]:
            degrees[(chord.root + interval - home) % 12] += chord.end - chord.start
    degrees = degrees / max(degrees.sum(), 1e-9)
    melody = sorted(score.melody, key=lambda n: n.start)
    pitches = np.array([n.pitch for n in melody], dtype=float)
    steps = np.abs(np.diff(pitches)) if pitches.size > 1 else np.zeros(1)
    starts = np.array([n.start for n in melody], dtype=float)
    gaps = np.diff(starts) if starts.size > 1 else np.zeros(0)
    lengths = np.array([n.end - n.start for n in melody[:-1]], dtype=float)
    legato = float(np.mean(lengths / np.maximum(gaps, 1.0))) if gaps.size else 1.0

    def accent(events) -> float:
        return float(np.mean([e.accent for e in events])) if events else 0.0

    qualities = np.zeros(len(QUALITIES))
    for chord in score.harmony:
        qualities[QUALITIES.index(chord.quality)] += chord.end - chord.start
    qualities = qualities / max(qualities.sum(), 1e-9)
    return np.array(
        [
            *degrees,
            float(pitches.mean()) if pitches.size else 0.0,
            float(pitches.std()) if pitches.size else 0.0,
            float(steps.mean()),
            float(np.mean(steps == 0)),
            len(set(pitches.tolist())) / max(pitches.size, 1),
            len(melody) / seconds,
            legato,
            accent(melody),
            len(score.bass) / seconds,
            accent(score.bass),
            len(score.drums) / seconds,
            accent(score.drums),
            len(score.harmony) / seconds,
            accent(score.harmony),
            *qualities,
        ]
    )


def tokens_mood_features(tokens: np.ndarray) -> np.ndarray:
    """`score_mood_features` of a cue's tokens [streams, frames]."""
    return score_mood_features(symbolic_tokens.decode(np.asarray(tokens)))


@dataclass
class ScoreMoodJudge:
    """A fitted pipeline plus the evidence that it can be trusted."""

    pipeline: object  # sklearn Pipeline(StandardScaler, LogisticRegression)
    style_stats: dict[str, tuple[np.ndarray, np.ndarray]]
    classes: tuple[str, ...]
    train_items: int
    heldout_items: int
    heldout_accuracy: float
    heldout_mode_side: float  # judged and true mood both major/lydian (MAJOR_MOODS) or both minor
    confusion: list[list[int]]  # rows: true mood (MOODS order), columns: judged mood
    per_style: dict[str, float]

    def probabilities(self, tokens: np.ndarray, style: str) -> dict[str, float]:
        """Each mood's probability for a cue's `tokens` played in `style` (one of STYLES)."""
        row = relative_to_style(tokens_mood_features(tokens)[None], [style], self.style_stats)
        p = self.pipeline.predict_proba(row)[0]
        return {str(c): float(v) for c, v in zip(self.pipeline.classes_, p, strict=True)}

    def predict(self, tokens: np.ndarray, style: str) -> str:
        p = self.probabilities(tokens, style)
        return max(p, key=p.get)

    def report(self) -> dict:
        return {
            "model": f"standardised score features ({len(FEATURE_NAMES)}) -> logistic regression (C={C})",
            "trained_on": f"{self.train_items} composed train-split scores, each in one mood",
            "heldout_items": self.heldout_items,
            "heldout_accuracy": self.heldout_accuracy,
            "heldout_mode_side": self.heldout_mode_side,
            "classes": list(self.classes),
            "confusion": self.confusion,
            "per_style_accuracy": self.per_style,
        }


def _features(split: str, count: int) -> tuple[np.ndarray, list[str], list[str]]:
    rows, styles, moods = [], [], []
    for i in range(count):
        score, style, name = mood_clip(item_seed(split, i), i)
        rows.append(score_mood_features(score))
        styles.append(style)
        moods.append(name)
    return np.stack(rows), styles, moods


def train_score_mood_judge(n_train: int = 2240, n_heldout: int = 448) -> ScoreMoodJudge:
    """Fit on `n_train` composed train-split scores, then measure on `n_heldout` held-out ones."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, train_styles, y = _features("train", n_train)
    stats = style_statistics(x, train_styles)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    pipeline.fit(relative_to_style(x, train_styles, stats), np.asarray(y))
    hx, held_styles, truth = _features("heldout", n_heldout)
    judged = pipeline.predict(relative_to_style(hx, held_styles, stats))
    truth, held_styles = np.asarray(truth), np.asarray(held_styles)
    accuracy = float(np.mean(judged == truth))
    log.info("score mood judge: held-out accuracy %.3f (%d clips)", accuracy, n_heldout)
    return ScoreMoodJudge(
        pipeline,
        stats,
        MOODS,
        n_train,
        n_heldout,
        accuracy,
        float(np.mean([(t in MAJOR_MOODS) == (j in MAJOR_MOODS) for t, j in zip(truth, judged, strict=True)])),
        [[int(np.sum((truth == t) & (judged == j))) for j in MOODS] for t in MOODS],
        {s: float(np.mean(judged[held_styles == s] == truth[held_styles == s])) for s in STYLES if np.any(held_styles == s)},
    )


def load_or_train(path: str | Path, n_train: int = 2240, n_heldout: int = 448) -> ScoreMoodJudge:
    """The one cached at `path` when fitted with this version and sizes, else a fresh one
    (saved there: `judge_cache`)."""
    return judge_cache.load_or_fit(path, VERSION, "judge", n_train, n_heldout, train_score_mood_judge)
