"""A style as a mood plays it: the mood's mode, register and harmony applied to a style's table.

Why apart from the table (`moods.py`): this is the one place where the two axes meet. Chords move
into the mood's mode by scale degree (`harmonize`): a major style's I-IV-V in minor is i-iv-v,
every chord diatonic to the new mode, so melody and harmony stay in one scale; tension then
suspends the major chords (`darken`). The note-level parts of a mood (density, dynamics,
ostinato) are the composer's (`compose.py`).
"""

from __future__ import annotations

from dataclasses import replace

from engine.corpus.moods import MOOD_TABLE, NEUTRAL, mood
from engine.corpus.styles import SCALES, STYLE_TABLE, ChordSpec, Style
from engine.symbolic.score import CHORD_QUALITIES, MELODY_RANGE

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


def _fits(root: int, quality: str, scale: tuple[int, ...]) -> bool:
    return all((root + i) % 12 in scale for i in CHORD_QUALITIES[quality])


def harmonize(chord: ChordSpec, from_mode: str, to_mode: str) -> ChordSpec:
    """The chord on the same scale degree of `to_mode`, with that mode's own triad or seventh;
    a suspended chord stays suspended where the new scale has its tones. Major I-IV-V in minor is
    i-iv-v; a chromatic root (bII) falls to the degree below it."""
    root, quality = chord
    source, target = SCALES[from_mode], SCALES[to_mode]
    degree = _degree_of(root, source)
    new_root = target[degree]
    if quality in SUSPENDED and _fits(new_root, quality, target):
        return new_root, quality
    third, fifth, seventh = _stack(target, degree, 2, 4, 6)
    triad = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim"}[(third, fifth)]
    if quality in SEVENTHS:
        triad = {("maj", 11): "maj7", ("maj", 10): "dom7", ("min", 10): "min7"}.get((triad, seventh), triad)
    return new_root, triad


def lydian_colour(chord: ChordSpec) -> ChordSpec:
    """Wonder's harmony: lydian's diminished #iv becomes its major II, the mode's colour chord."""
    return (2, "maj") if chord == (6, "dim") else chord


def darken(chord: ChordSpec, mode: str) -> ChordSpec:
    """Tension's harmony: a major chord (triad or seventh) becomes suspended (sus4, else sus2)
    where the scale has the tones; minor, diminished and suspended chords stay."""
    root, quality = chord
    if quality in ("maj", "maj7", "dom7"):
        for sus in ("sus4", "sus2"):
            if _fits(root, sus, SCALES[mode]):
                return root, sus
    return chord


def mooded_style(spec: Style, name: str) -> Style:
    """The style `spec` as the mood `name` plays it (the style itself for neutral)."""
    m = mood(name)
    if m.name == NEUTRAL:
        return spec
    mode = m.mode or spec.mode

    def chords(progression: tuple[ChordSpec, ...]) -> tuple[ChordSpec, ...]:
        out = [harmonize(c, spec.mode, mode) for c in progression]
        if mode == "lydian":
            out = [lydian_colour(c) for c in out]
        return tuple(darken(c, mode) if m.dissonant else c for c in out)

    lo, hi = spec.melody_register
    shift = max(MELODY_RANGE[0] - lo, min(MELODY_RANGE[1] - hi, m.register_shift))
    return replace(
        spec,
        mode=mode,
        progressions=tuple(chords(p) for p in spec.progressions),
        cadences=tuple(chords(c) for c in spec.cadences),
        melody_register=(lo + shift, hi + shift),
        staccato=spec.staccato or m.staccato,
    )


def check_moods() -> None:
    """Raise ValueError if a mood names an unknown mode or leaves a chord outside its scale."""
    for m in MOOD_TABLE.values():
        if m.mode is not None and m.mode not in SCALES:
            raise ValueError(f"mood {m.name}: unknown mode {m.mode!r}")
        for spec in STYLE_TABLE.values():
            moody = mooded_style(spec, m.name)
            if m.name == NEUTRAL:
                continue
            bad = [
                c
                for p in (*moody.progressions, *moody.cadences)
                for c in p
                if not _fits(c[0], c[1], SCALES[moody.mode])
            ]
            if bad:
                raise ValueError(f"mood {m.name} on {spec.name}: chords {bad} leave the {moody.mode} scale")
