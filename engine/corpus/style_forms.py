"""Each style's harmony and registers as a trained model folder carries them (`style_forms.json`).

Why: the decoder writes form into a cue — one key, a progression per bar from the style's own
progressions, a cadence at the end — and keeps melody and bass in the registers the style plays
in. The LM learned those from the composer; the product path cannot import the corpus, so the
recipe writes them beside the weights, as it does the meters (`style_meters.json`).
"""

from __future__ import annotations

from engine.corpus.styles import SCALES, STYLES, style


def style_forms() -> dict[str, dict]:
    """Style -> its scale (semitones above the tonic), progressions and cadences (chords as
    [semitones above the tonic, quality]), bars per chord and the melody and bass registers."""
    out = {}
    for name in STYLES:
        s = style(name)
        out[name] = {
            "mode": s.mode,
            "scale": list(SCALES[s.mode]),
            "progressions": [[[root, quality] for root, quality in p] for p in s.progressions],
            "cadences": [[[root, quality] for root, quality in c] for c in s.cadences],
            "chord_bars": s.chord_bars,
            "melody_register": list(s.melody_register),
            "bass_register": list(s.bass_register),
            "arpeggio": s.arpeggio,
        }
    return out
