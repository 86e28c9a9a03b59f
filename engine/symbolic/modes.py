"""Modes and how a chord moves between them, and how tension darkens one: the rules the composer
and the decoder share.

Why here: a mood plays a style in another mode. The composer writes its training corpus that way
(`engine.corpus.mood_styles`) and the form decoder writes a cue asked for in that mood the same
way (`engine.generator.form.in_mode`), so the model is served the harmony it was trained on.
"""

from __future__ import annotations

from engine.symbolic.score import CHORD_QUALITIES

ChordSpec = tuple[int, str]  # (semitones above the tonic, a key of CHORD_QUALITIES)

# Every mode as a rotation of the major scale: the key signature's notes from the mode's tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
SEVENTHS = {"dom7", "maj7", "min7"}
SUSPENDED = {"sus2", "sus4"}


def _degree_of(root: int, scale: tuple[int, ...]) -> int:
    """The scale degree of `root` (semitones above the tonic), or of the nearest scale tone below
    a chromatic root (bII -> I)."""
    root %= 12
    return max(d for d, pc in enumerate(scale) if pc <= root)


def _stack(scale: tuple[int, ...], degree: int, *thirds: int) -> tuple[int, ...]:
    """Semitones above the degree's root of the scale tones `thirds` scale steps above it."""
    base = scale[degree]
    return tuple((scale[(degree + k) % 7] - base) % 12 for k in thirds)


def fits(root: int, quality: str, scale: tuple[int, ...]) -> bool:
    """Every tone of the chord is in the scale."""
    return all((root + i) % 12 in scale for i in CHORD_QUALITIES[quality])


def harmonize(chord: ChordSpec, from_mode: str, to_mode: str) -> ChordSpec:
    """The chord on the same scale degree of `to_mode`, with that mode's own triad or seventh;
    a suspended chord stays suspended where the new scale has its tones. Major I-IV-V in minor is
    i-iv-v; a chromatic root (bII) falls to the degree below it. Lydian's diminished #iv becomes
    its major II, the mode's colour chord."""
    root, quality = chord
    source, target = SCALES[from_mode], SCALES[to_mode]
    degree = _degree_of(root, source)
    new_root = target[degree]
    if quality in SUSPENDED and fits(new_root, quality, target):
        return new_root, quality
    third, fifth, seventh = _stack(target, degree, 2, 4, 6)
    triad = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim"}[(third, fifth)]
    if quality in SEVENTHS:
        triad = {("maj", 11): "maj7", ("maj", 10): "dom7", ("min", 10): "min7"}.get((triad, seventh), triad)
    if to_mode == "lydian" and (new_root, triad) == (6, "dim"):
        return 2, "maj"
    return new_root, triad


def darken(chord: ChordSpec, mode: str) -> ChordSpec:
    """Tension's harmony: a major chord (triad or seventh) becomes suspended (sus4, else sus2)
    where the scale of `mode` has the tones; minor, diminished and suspended chords stay."""
    root, quality = chord
    if quality in ("maj", "maj7", "dom7"):
        for sus in ("sus4", "sus2"):
            if fits(root, sus, SCALES[mode]):
                return root, sus
    return chord
