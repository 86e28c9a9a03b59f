"""The style judge for semantic accuracy: which corpus world does a piece of music belong to?

Why this design: the judge must be trusted before it judges generated music, so it is simple and
robust (standardised log-mel statistics + onset rate and tempo, multinomial logistic regression),
trained only on the corpus's *real* train-split audio (the procedural renderer's output, never
codec reconstructions or model output), and its accuracy on held-out real corpus audio is measured
and reported before anything else.

Every generated clip reaches the judge through a codec, so it must judge style, not fidelity: each
train clip is also shown through `AUGMENTS` random channels (`channel.degrade`), the fit is
regularised (`C`), and the judge's accuracy on degraded held-out clips is reported beside the clean
one. Without this (version 2) the judge was 1.0 on clean held-out audio and 0.37 on the tiny codec's
reconstructions of it; with it, 0.96 clean, 0.89 through random channels and 0.89 on those
reconstructions (`docs/evaluation.md`).
C was chosen on clean + degraded held-out accuracy (0.03-0.3 tie; 1.0 is less robust).

Features (at 16 kHz): mean and standard deviation over time of the 64-band log-mel spectrogram
(`metrics.log_mel`), the onset rate (onsets per second) and the tempo / 200 BPM.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.corpus.splits import item_seed
from engine.corpus.synth import SynthConfig, generate_music
from engine.corpus.worlds import WORLD_NAMES
from engine.eval import metrics
from engine.eval.channel import degrade

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
VERSION = 3
AUGMENTS = 3  # degraded copies of each train clip
C = 0.1  # inverse L2 strength of the logistic regression
JUDGE_FLOOR = 0.9  # below this held-out accuracy the semantic scores are flagged as untrusted
# Clips of 2-10 s: the judge must also be right on short cues (trained on 4-10 s only, it fell
# to 0.83 on 2-3 s clips; with 2-10 s, 40 clips gave 1.0 on 2-3, 4-4.5 and 4-10 s held-out clips).
JUDGE_SYNTH = SynthConfig(min_duration_s=2.0, max_duration_s=10.0, sample_rate=SAMPLE_RATE)


def style_features(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One feature row for a mono clip (resampled to 16 kHz first)."""
    y = np.asarray(audio, dtype=np.float32)
    if sample_rate != SAMPLE_RATE:
        import soxr

        y = soxr.resample(y, sample_rate, SAMPLE_RATE).astype(np.float32)
    if y.size < metrics.MEL_FFT:
        y = np.pad(y, (0, metrics.MEL_FFT - y.size))
    mel = metrics.log_mel(y, SAMPLE_RATE)
    seconds = max(y.size / SAMPLE_RATE, 1e-3)
    onset_rate = len(metrics.music_onsets(y, SAMPLE_RATE)) / seconds
    tempo = metrics.music_tempo(y, SAMPLE_RATE)
    tempo = 0.0 if not np.isfinite(tempo) else tempo / 200.0
    return np.concatenate([mel.mean(axis=1), mel.std(axis=1), [onset_rate / 10.0, tempo]]).astype(np.float64)


def corpus_audio(split: str, count: int, start: int = 0, config: SynthConfig | None = None):
    """(audio, world) pairs of items start..start+count-1 of `split`, rendered in memory."""
    from engine.corpus.worlds import WORLDS

    config = config or SynthConfig(sample_rate=SAMPLE_RATE)
    for i in range(start, start + count):
        seed = item_seed(split, i)
        yield generate_music(seed, config), WORLDS[seed % len(WORLDS)].name


@dataclass
class StyleClassifier:
    """A fitted pipeline plus the evidence that it can be trusted."""

    pipeline: object  # sklearn Pipeline(StandardScaler, LogisticRegression)
    classes: tuple[str, ...]
    train_items: int
    heldout_items: int
    heldout_accuracy: float
    degraded_accuracy: float  # the same held-out clips, each through two random channels

    def predict(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
        return str(self.pipeline.predict(style_features(audio, sample_rate)[None])[0])

    def report(self) -> dict:
        return {
            "model": f"standardised log-mel mean/std + onset rate + tempo -> logistic regression (C={C})",
            "trained_on": f"{self.train_items} corpus train-split clips (real procedural audio), "
            f"each also through {AUGMENTS} random channels",
            "heldout_items": self.heldout_items,
            "heldout_accuracy": self.heldout_accuracy,
            "degraded_heldout_accuracy": self.degraded_accuracy,
            "trusted": self.heldout_accuracy >= JUDGE_FLOOR,
            "floor": JUDGE_FLOOR,
            "classes": list(self.classes),
        }

    def save(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(pickle.dumps({"version": VERSION, "classifier": self}))
        tmp.replace(path)


def train_style_classifier(
    n_train: int = 200, n_heldout: int = 50, config: SynthConfig | None = None
) -> StyleClassifier:
    """Fit on `n_train` train-split clips (+ degraded copies), then measure it on `n_heldout` held-out ones."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    config = config or JUDGE_SYNTH
    sr = config.sample_rate
    rng = np.random.default_rng(0)
    x, y = [], []
    for audio, world in corpus_audio("train", n_train, 0, config):
        for version in (audio, *(degrade(audio, sr, rng) for _ in range(AUGMENTS))):
            x.append(style_features(version, sr))
            y.append(world)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    pipeline.fit(np.stack(x), np.asarray(y))

    heldout = list(corpus_audio("heldout", n_heldout, 0, config))
    worlds = np.asarray([w for _, w in heldout])
    clean = pipeline.predict(np.stack([style_features(a, sr) for a, _ in heldout]))
    test_rng = np.random.default_rng(1)
    degraded = [
        pipeline.predict(np.stack([style_features(degrade(a, sr, test_rng), sr) for a, _ in heldout]))
        for _ in range(2)
    ]
    accuracy = float(np.mean(clean == worlds))
    degraded_accuracy = float(np.mean([np.mean(p == worlds) for p in degraded]))
    log.info(
        "style classifier: held-out accuracy %.3f clean, %.3f degraded (%d clips)",
        accuracy,
        degraded_accuracy,
        n_heldout,
    )
    return StyleClassifier(pipeline, WORLD_NAMES, n_train, n_heldout, accuracy, degraded_accuracy)


def load_or_train(path: str | Path, n_train: int = 200, n_heldout: int = 50) -> StyleClassifier:
    """The classifier cached at `path` when it was fitted with the same sizes, else a fresh one (saved)."""
    path = Path(path)
    if path.is_file():
        try:
            data = pickle.loads(path.read_bytes())
            clf = data["classifier"]
            if data.get("version") == VERSION and (clf.train_items, clf.heldout_items) == (
                n_train,
                n_heldout,
            ):
                return clf
        except (pickle.UnpicklingError, EOFError, KeyError, AttributeError):
            log.warning("%s: unreadable style classifier cache, refitting", path)
    clf = train_style_classifier(n_train, n_heldout)
    path.parent.mkdir(parents=True, exist_ok=True)
    clf.save(path)
    return clf
