"""What each mood does to the composer's music, measured from the notes against the same spans
played neutral: `python -m benchmarks.mood_figures [--seeds 50]`.

Per seed, one 16-bar span (the style cycles the eight, tempo and key drawn) is composed neutral and
in every mood with the same composer seed; the figures are means over seeds: melody pitch (MIDI),
melody onsets per bar, mean accent of every stream's onsets, share of chords on a minor third
(min, min7, dim), share of major-third chords (maj, maj7, dom7), and share of melody and chord
pitches inside the mood's scale, share of bars whose melody rhythm repeats the bar before
(ostinato).
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.corpus.compose import compose
from engine.corpus.meter import Span
from engine.corpus.mood_styles import mooded_style
from engine.corpus.moods import MOOD_TABLE
from engine.corpus.styles import SCALES, style
from engine.symbolic.score import CHORD_QUALITIES, STYLES

BARS = 16


def span_for(seed: int, mood: str) -> Span:
    """Seed `seed`'s span: its style, tempo and key do not depend on the mood."""
    rng = np.random.default_rng([seed, 1])
    name = STYLES[seed % len(STYLES)]
    lo, hi = style(name).tempo_bpm
    tempo = round(float(rng.uniform(lo, hi)), 3)
    probe = Span(name, tempo, int(rng.integers(12)), 0, 1, 0.0)
    return Span(name, tempo, probe.tonic, 0, round(BARS * probe.bar_frames), 0.0, mood)


def measure(seed: int, mood: str) -> dict[str, float]:
    span = span_for(seed, mood)
    score = compose([span], span.end_frame, [], np.random.default_rng([seed, 2]))
    scale = SCALES[mooded_style(span.spec, mood).mode]
    melody = [n.pitch for n in score.melody]
    accents = [n.accent for n in (*score.melody, *score.bass, *score.harmony)] + [
        d.accent for d in score.drums
    ]
    qualities = [c.quality for c in score.harmony]
    pcs = [(p - span.tonic) % 12 for p in melody]
    pcs += [(c.root + i - span.tonic) % 12 for c in score.harmony for i in CHORD_QUALITIES[c.quality]]
    steps = [round(n.start / span.step_frames) for n in score.melody]
    per_bar = span.spec.steps_per_bar
    bars = [tuple(s % per_bar for s in steps if s // per_bar == b) for b in range(BARS)]
    return {
        "pitch": float(np.mean(melody)),
        "bar_repeats": float(np.mean([a == b for a, b in zip(bars, bars[1:], strict=False)])),
        "onsets_per_bar": len(melody) / BARS,
        "accent": float(np.mean(accents)),
        "minor_chords": float(np.mean([q in ("min", "min7", "dim") for q in qualities])),
        "major_chords": float(np.mean([q in ("maj", "maj7", "dom7") for q in qualities])),
        "in_scale": float(np.mean([pc in scale for pc in pcs])),
    }


def figures(seeds: int) -> dict[str, dict[str, float]]:
    out = {}
    for mood in MOOD_TABLE:
        rows = [measure(seed, mood) for seed in range(seeds)]
        out[mood] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    args = parser.parse_args()
    table = figures(args.seeds)
    keys = list(next(iter(table.values())))
    print(f"{'mood':<9}" + "".join(f"{k:>15}" for k in keys))
    for mood, row in table.items():
        print(f"{mood:<9}" + "".join(f"{row[k]:>15.3f}" for k in keys))


if __name__ == "__main__":
    main()
