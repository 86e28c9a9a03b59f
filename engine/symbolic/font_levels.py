"""How loud a soundfont plays each program and drum key against TimGM6mb (the orchestra's balance
holds in any General MIDI font), and how long each takes to be heard after its note-on.

Why: the orchestra table's levels were voiced by ear and by the music measures on TimGM6mb, and
fonts differ a lot per program (FluidR3_GM's kits play about 7 dB hotter and its basses about
5 dB softer than TimGM6mb's, so a dense snare part rendered through it measured as noise). The
renderer multiplies each part by the ratio measured here — the same note at the same velocity
through both fonts — so the table means the same mix whichever font `find_soundfont` picks.
TimGM6mb ships in the `pretty-midi` wheel, so the reference is always there; without it (or when
it is the font playing) every ratio is 1.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.symbolic.soundfont import bundled_soundfont, loaded_synth
from engine.timebase import CUE_SAMPLE_RATE

PROBE_SAMPLE_RATE = CUE_SAMPLE_RATE  # the renderer's: its synths are the ones probed
PROBE_S = 1.0  # a pitched note as a part holds it: a pad swells in over half a second
PROBE_DRUM_S = 2.0  # a drum's whole decay: a cymbal that rings twice as long is twice the noise
PROBE_VELOCITY = 96
GAIN_RANGE_DB = 18.0  # a ratio beyond this is a missing or broken sample, not a level: ignored
ONSET_DB = -40.0  # a note is heard from where its envelope reaches this far under its peak
MAX_LEAD_S = 0.1  # a slower swell is the sound itself, not a late start


def _probe(font: Path, program: int, key: int, drums: bool, sample_rate: int) -> np.ndarray:
    """One note of `program` (a kit preset with `drums`) through `font`, mono, from its note-on,
    on the renderer's own synth (`loaded_synth`; never called while a stream is being played)."""
    synth, sfid = loaded_synth(font, sample_rate, drums)
    synth.sounds_off()
    synth.generate(sample_rate // 10)
    channel = 9 if drums else 0
    try:
        synth.program_select(channel, sfid, 128 if drums else 0, program, is_drums=drums)
    except RuntimeError:
        synth.program_select(channel, sfid, 128 if drums else 0, 0, is_drums=drums)
    synth.control_change(channel, 7, 100)
    synth.control_change(channel, 10, 64)
    synth.noteon(channel, key, PROBE_VELOCITY)
    seconds = PROBE_DRUM_S if drums else PROBE_S
    audio = np.frombuffer(synth.generate(int(seconds * sample_rate)), dtype=np.float32)
    synth.noteoff(channel, key)
    return audio.reshape(-1, 2).mean(axis=1)


@lru_cache(maxsize=4096)
def _level_db(font: Path, program: int, key: int, drums: bool) -> float | None:
    """K-weighted level (dB) of one note of `program` through `font`; None if silent."""
    audio = _probe(font, program, key, drums, PROBE_SAMPLE_RATE)
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1.0 / PROBE_SAMPLE_RATE)
    power = float((spectrum * _k_weighting(freqs)).sum()) / len(audio) ** 2
    return None if power < 1e-12 else 10.0 * np.log10(power)


@lru_cache(maxsize=4096)
def attack_lead_s(font: Path, program: int, key: int, drums: bool, sample_rate: int) -> float:
    """Seconds from a note-on until the note is heard: its envelope first reaches ONSET_DB under
    its peak (a sample's silent lead-in or a pad's slow swell; FluidR3's warm pad takes 65 ms,
    its drums under 4 ms), at most MAX_LEAD_S. The renderer starts the note this much earlier so
    a hit's chord or stroke is heard on its frame, with nothing above ONSET_DB before it. Probed
    at the render's own rate: the synth updates envelopes per 64-sample block."""
    envelope = np.abs(_probe(font, program, key, drums, sample_rate))
    peak = float(envelope.max())
    if peak <= 0.0:
        return 0.0
    first = int(np.argmax(envelope >= peak * 10 ** (ONSET_DB / 20)))
    return min(first / sample_rate, MAX_LEAD_S)


def _k_weighting(freqs: np.ndarray) -> np.ndarray:
    """ITU-R BS.1770's K-weighting (what LUFS measures) as a power factor: a high-pass near 38 Hz and
    a +4 dB shelf above about 1.5 kHz. Loudness as heard, with lows counted (A-weighting all but
    ignores a bass note's fundamental and turned FluidR3's basses up by what it could not hear)."""
    shelf = 10 ** (4.0 / 10)
    x = (freqs / 1500.0) ** 2
    return (1 + shelf * x) / (1 + x) * freqs**4 / (freqs**4 + 38.0**4)


@lru_cache(maxsize=4096)
def gain(font: Path, program: int, key: int, drums: bool = False) -> float:
    """Amplitude factor that makes `key` on `program` through `font` as loud as through TimGM6mb."""
    reference = bundled_soundfont()
    if reference is None or Path(font).resolve() == reference.resolve():
        return 1.0
    ours, theirs = _level_db(Path(font), program, key, drums), _level_db(reference, program, key, drums)
    if ours is None or theirs is None or abs(theirs - ours) > GAIN_RANGE_DB:
        return 1.0
    return float(10.0 ** ((theirs - ours) / 20.0))
