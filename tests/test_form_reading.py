"""How the form measures read keys where notes alone are ambiguous: a short cue that never plays
the note telling two key signatures apart is in either (so a continued cue in the same key is not
counted as a key change at its seam), and a modal style's cue that closes on its own tonic is a
cadence (E mixolydian holds A major's notes and ends on E)."""

from __future__ import annotations

import numpy as np

from engine.eval.form_measures import collections, form_measures
from engine.symbolic import tokens as tk
from engine.symbolic.score import STREAMS, STYLES

MELODY, BASS, HARMONY, STYLE = (STREAMS.index(s) for s in ("melody", "bass", "harmony", "style"))


def _cue(
    melody: list[int], first_chord: tuple[int, str], last_chord: tuple[int, str], last_bass: int, style: str
) -> np.ndarray:
    """Tokens: the melody one note per 25 frames over `first_chord`, the last chord and bass struck
    at frame 330, everything released 50 frames before the end (frame 400)."""
    frames = 400
    tokens = np.full((len(STREAMS), frames), tk.REST, dtype=np.int64)
    tokens[STYLE] = STYLES.index(style)
    for i, pitch in enumerate(melody):
        tokens[MELODY, i * 25] = tk.note_id("melody", pitch, 1)
        tokens[MELODY, i * 25 + 1 : i * 25 + 20] = tk.HOLD
    tokens[HARMONY, 0] = tk.chord_id(*first_chord, 1)
    tokens[HARMONY, 1:330] = tk.HOLD
    root, quality = last_chord
    tokens[HARMONY, 330] = tk.chord_id(root, quality, 2)
    tokens[HARMONY, 331 : frames - 50] = tk.HOLD
    tokens[BASS, 330] = tk.note_id("bass", last_bass, 2)
    tokens[BASS, 331 : frames - 50] = tk.HOLD
    return tokens


def test_a_cue_without_the_telling_note_is_in_either_signature():
    # F# G# A# C# D#: in F# major (B) and C# major (B#) alike; the seventh note decides
    ambiguous = _cue([66, 68, 70, 73, 75, 73, 70, 68, 66, 68, 70], (6, "maj"), (6, "maj"), 42, "ambient")
    assert {1, 6} <= collections(ambiguous)
    told = _cue([66, 68, 70, 71, 73, 75, 73, 71, 70, 68, 66], (6, "maj"), (6, "maj"), 42, "ambient")  # B natural
    assert 1 not in collections(told) and 6 in collections(told)


def test_a_mixolydian_cue_closing_on_its_own_tonic_is_a_cadence():
    # a rock tune on A major's notes that leans on A (Krumhansl hears A major) and closes on E with
    # E in the bass: E mixolydian, indie rock's mode, at home
    tune = [69, 71, 73, 74, 73, 71, 69, 76, 73, 69, 71, 68]
    rock = form_measures(_cue(tune, (9, "maj"), (4, "maj"), 40, "indie_rock"))
    assert rock["key"] == "9 major"
    assert rock["silent_end"] and rock["tonic_end"] and rock["cadence_end"]
    # closing on E is no home for a major-mode style on those notes (a half cadence) ...
    folk = form_measures(_cue(tune, (9, "maj"), (4, "maj"), 40, "acoustic_folk"))
    assert folk["silent_end"] and not folk["tonic_end"]
    # ... nor is B minor for the rock tune (the signature's second degree: dorian, not its mode)
    off = form_measures(_cue(tune, (9, "maj"), (11, "min"), 47, "indie_rock"))
    assert off["silent_end"] and not off["tonic_end"]
