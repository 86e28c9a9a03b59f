"""How a melody moves and repeats: its mean |step| and its 4-note motif recurrence (DESIGN §3b).

Why here: these are the "real melodies" ceilings a generated cue is held against (folk and film
melodies move by 2-3 semitones and restate their cells); they are measured on the same note
events the LM is trained on, so the corpus reports them for what it tokenizes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

MOTIF_NOTES = 4


def mean_abs_step(pitches: Sequence[int]) -> float | None:
    """Mean |interval| in semitones between consecutive notes (None under two notes)."""
    if len(pitches) < 2:
        return None
    return float(np.abs(np.diff(np.asarray(pitches, dtype=np.int64))).mean())


def motif_recurrence(pitches: Sequence[int], notes: int = MOTIF_NOTES) -> float | None:
    """Share of the melody's `notes`-note shapes (their intervals, so a transposed restatement
    counts) that are heard more than once in it (None when it has no such shape)."""
    steps = np.diff(np.asarray(pitches, dtype=np.int64))
    shapes = [tuple(steps[i : i + notes - 1]) for i in range(len(steps) - notes + 2)]
    if not shapes:
        return None
    counts = Counter(shapes)
    return sum(counts[s] > 1 for s in shapes) / len(shapes)
