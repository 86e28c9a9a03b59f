"""Each style's meter as a trained model folder carries it (`style_meters.json`): its tempo range,
its bar, and where in the beat each of its streams starts notes.

Why the onset positions: the decoder's tempo grid lets a stream start a note on any step its level
allows, but the composer of a slow style never starts a drum hit, a bass note or a melody note on
an odd sixteenth, and the LM, which cannot count frames, scatters them there (a cinematic cue's
toms on random sixteenths: no pulse a listener can hear, rhythmicity 0.16). The positions are
counted from the composer's own output over many bars, not read off its pattern tables, so fills,
arpeggios, passing notes and pickups count too.
"""

from __future__ import annotations

import numpy as np

from engine.corpus.compose import span_onsets
from engine.corpus.meter import Span
from engine.corpus.styles import STYLES, style

COUNT_BARS = 256  # bars composed per style to count its onset positions
MIN_SHARE = 0.01  # a position a stream uses for under 1 % of its onsets is a slip, not a habit
STREAMS = ("drums", "bass", "harmony", "melody")


def onset_positions(name: str, seed: int = 0) -> dict[str, list[int]]:
    """Stream -> the positions within the beat (0 = on the beat, in grid steps) where the composer
    of style `name` starts notes, over COUNT_BARS bars at the middle of its tempo range."""
    spec = style(name)
    lo, hi = spec.tempo_bpm
    probe = Span(name, (lo + hi) / 2, 0, 0, 1, 0.0)
    frames = int(np.ceil(COUNT_BARS * probe.bar_frames))
    span = Span(name, (lo + hi) / 2, 0, 0, frames, 0.0)
    starts = span_onsets(span, np.random.default_rng(seed))
    out = {}
    for stream in STREAMS:
        steps = np.round(
            (np.asarray(starts[stream], dtype=np.float64) - span.origin_frame) / span.step_frames
        )
        counts = np.bincount(steps.astype(np.int64) % spec.steps_per_beat, minlength=spec.steps_per_beat)
        share = counts / max(counts.sum(), 1)
        out[stream] = [int(p) for p in np.flatnonzero(share >= MIN_SHARE)] or list(range(spec.steps_per_beat))
    return out


def style_meters() -> dict[str, dict]:
    """Each style's tempo range, bar and onset positions (the generator's tempo grid stays within
    the range and starts each stream's notes where the style does)."""
    return {
        name: {
            "tempo_bpm": list(style(name).tempo_bpm),
            "steps_per_beat": style(name).steps_per_beat,
            "beats_per_bar": style(name).beats_per_bar,
            "onset_positions": onset_positions(name),
        }
        for name in STYLES
    }
