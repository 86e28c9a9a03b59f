"""A style as a mood plays it: the mood's mode, register and harmony applied to a style's table.

Why apart from the table (`moods.py`): this is the one place where the two axes meet. Chords move
into the mood's mode by scale degree (`engine.symbolic.modes.harmonize`, the rule the decoder's
`form.in_mode` shares): a major style's I-IV-V in minor is i-iv-v,
every chord diatonic to the new mode, so melody and harmony stay in one scale; tension then
suspends the major chords (`modes.darken`). The note-level parts of a mood (density, dynamics,
ostinato) are the composer's (`compose.py`).
"""

from __future__ import annotations

from dataclasses import replace

from engine.corpus.moods import MOOD_TABLE, NEUTRAL, mood
from engine.corpus.styles import STYLE_TABLE, Style
from engine.symbolic.modes import SCALES, ChordSpec, darken, fits, harmonize
from engine.symbolic.score import MELODY_RANGE


def mooded_style(spec: Style, name: str) -> Style:
    """The style `spec` as the mood `name` plays it (the style itself for neutral)."""
    m = mood(name)
    if m.name == NEUTRAL:
        return spec
    mode = m.mode or spec.mode

    def chords(progression: tuple[ChordSpec, ...]) -> tuple[ChordSpec, ...]:
        out = [harmonize(c, spec.mode, mode) for c in progression]
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
                if not fits(c[0], c[1], SCALES[moody.mode])
            ]
            if bad:
                raise ValueError(f"mood {m.name} on {spec.name}: chords {bad} leave the {moody.mode} scale")
