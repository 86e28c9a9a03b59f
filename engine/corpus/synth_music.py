"""A small synthesizer: drums, bass, lead and pad rendered from a clip plan, in numpy.

Why: the paired music must put its onsets exactly on the plan's event times and sound like its
world (timbre, mode, register, tempo, density). Every percussive hit and every note starts on an
event; the pad fades in slowly and changes chord only on downbeats (always events), so an onset
detector finds the events and little else. Cheap: a 10 s clip renders in tens of milliseconds.
"""

from __future__ import annotations

import numpy as np

from engine.corpus.plan import ClipPlan, Event
from engine.corpus.worlds import World

PEAK = 0.89  # output peak, about -1 dBFS
_ATTACK_S = 0.002


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def oscillator(wave: str, freq: float, t: np.ndarray) -> np.ndarray:
    """One periodic waveform at `freq` over times `t` (seconds); naive, aliasing is harmless here."""
    ph = freq * t
    frac = ph - np.floor(ph)
    if wave == "sine":
        return np.sin(2 * np.pi * ph)
    if wave == "saw":
        return 2.0 * frac - 1.0
    if wave == "square":
        return np.where(frac < 0.5, 0.7, -0.7)
    if wave == "pulse":
        return np.where(frac < 0.25, 0.7, -0.7)
    if wave == "triangle":
        return 2.0 * np.abs(2.0 * frac - 1.0) - 1.0
    if wave == "bell":  # two-operator FM with a decaying index: a bell/electric piano
        return np.sin(2 * np.pi * ph + 2.5 * np.exp(-t / 0.3) * np.sin(2 * np.pi * 3.5 * ph))
    if wave == "pluck":  # harmonics that die faster the higher they are
        out = np.zeros_like(t)
        for h in range(1, 7):
            out += np.sin(2 * np.pi * h * ph) * np.exp(-t * (2.0 + 4.0 * h)) / h
        return out
    raise ValueError(f"unknown waveform {wave!r}")


def _fade_tail(sound: np.ndarray, sr: int, tail_s: float = 0.05) -> np.ndarray:
    """Fade the last `tail_s` to zero: a cut-off decay is a click, and a click is a false onset."""
    n = min(len(sound), int(tail_s * sr))
    sound[len(sound) - n :] *= np.linspace(1.0, 0.0, n)
    return sound


def _place(out: np.ndarray, sound: np.ndarray, start_s: float, sr: int) -> None:
    i = int(round(start_s * sr))
    n = min(len(sound), len(out) - i)
    if n > 0:
        out[i : i + n] += sound[:n]


def _note(wave: str, midi: float, dur_s: float, decay_s: float, sr: int) -> np.ndarray:
    n = max(1, int(dur_s * sr))
    t = np.arange(n) / sr
    env = np.minimum(t / _ATTACK_S, 1.0) * np.exp(-t / decay_s)
    return _fade_tail(oscillator(wave, midi_hz(midi), t) * env, sr, 0.02)


def _noise_hit(rng: np.random.Generator, dur_s: float, decay_s: float, sr: int, bright: bool) -> np.ndarray:
    n = int(dur_s * sr)
    noise = rng.standard_normal(n)
    if bright:  # first difference: a cheap high-pass
        noise = np.diff(noise, prepend=0.0) * 0.6
    t = np.arange(n) / sr
    return _fade_tail(noise * np.exp(-t / decay_s) * np.minimum(t / _ATTACK_S, 1.0), sr)


def _kick(kit: str, sr: int) -> np.ndarray:
    f_start, f_end, decay = {
        "punchy": (160.0, 50.0, 0.18),
        "heavy": (130.0, 42.0, 0.25),
        "soft": (110.0, 55.0, 0.12),
        "chip": (200.0, 60.0, 0.1),
        "brush": (120.0, 60.0, 0.15),
    }[kit]
    n = int(0.6 * sr)
    t = np.arange(n) / sr
    freq = f_end + (f_start - f_end) * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    body = np.sin(phase) if kit != "chip" else np.sign(np.sin(phase)) * 0.6
    return _fade_tail(body * np.exp(-t / decay) * np.minimum(t / _ATTACK_S, 1.0), sr)


def _snare(kit: str, rng: np.random.Generator, sr: int) -> np.ndarray:
    decay = {"punchy": 0.09, "heavy": 0.12, "soft": 0.05, "chip": 0.06, "brush": 0.14}[kit]
    noise = _noise_hit(rng, 0.4, decay, sr, bright=kit != "brush")
    t = np.arange(len(noise)) / sr
    tone = np.sin(2 * np.pi * 190.0 * t) * np.exp(-t / 0.05)
    if kit == "chip":  # sample-and-hold noise: the 8-bit "crunch"
        noise = np.repeat(noise[::8], 8)[: len(noise)]
    return _fade_tail(0.7 * noise + 0.4 * tone, sr)


def _drums(ev: Event, world: World, rng: np.random.Generator, sr: int) -> np.ndarray:
    kit = world.kit
    on_beat = float(ev.beat_in_bar).is_integer()
    if ev.kind == "cut":  # kick + crash
        crash = 0.25 * _noise_hit(rng, 1.0, 0.3, sr, bright=True)
        crash[: int(0.6 * sr)] += _kick(kit, sr)
        return crash
    if ev.kind == "flash":
        return 0.9 * _snare(kit, rng, sr)
    if on_beat and world.backbeat and ev.beat_in_bar in (1, 3):
        return 0.8 * _snare(kit, rng, sr)
    if on_beat:
        return 0.9 * _kick(kit, sr)
    return 0.6 * _noise_hit(rng, 0.12, 0.03, sr, bright=True)  # hat


def _pad(plan: ClipPlan, world: World, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    bounds = [c[0] for c in plan.chords] + [n / sr]
    for (start, degree), end in zip(plan.chords, bounds[1:], strict=True):
        i0, i1 = int(start * sr), min(n, int(end * sr) + int(0.05 * sr))
        if i1 <= i0:
            continue
        t = np.arange(i1 - i0) / sr
        seg = np.zeros(i1 - i0)
        for k, note in enumerate(plan.chord_midi(degree)):
            seg += oscillator(world.pad, midi_hz(note) * (1.0 + 0.003 * (k - 1)), t)
        fade_in = 1.5 if start == 0.0 else 0.12  # soft entry at the clip start: no onset there
        env = np.minimum(t / fade_in, 1.0) ** 2
        env[-int(0.05 * sr) :] *= np.linspace(1.0, 0.0, int(0.05 * sr))
        out[i0:i1] += seg * env / 3.0
    # one-pole low-pass: keeps the pad warm and out of the onset detector's way
    from scipy.signal import lfilter

    a = np.exp(-2 * np.pi * 1200.0 / sr)
    return lfilter([1 - a], [1, -a], out)


def render_music(plan: ClipPlan, world: World, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Mono float32 music of `plan.duration_s` seconds at `sample_rate`, peak about -1 dBFS."""
    sr = sample_rate
    n = int(round(plan.duration_s * sr))
    drums, bass, lead = np.zeros(n), np.zeros(n), np.zeros(n)
    times = [e.time_s for e in plan.events] + [plan.duration_s]
    for i, ev in enumerate(plan.events):
        gap = max(0.08, times[i + 1] - ev.time_s)
        _place(drums, _drums(ev, world, rng, sr) * ev.strength, ev.time_s, sr)
        chord = plan.chord_midi(plan.chord_at(ev.time_s))
        on_beat = float(ev.beat_in_bar).is_integer()
        if ev.kind == "cut" or (on_beat and ev.kind == "accent"):
            bass_note = 33 + (chord[0] - 33) % 12  # A1..G#2 whatever the key: no sub-audio clicks
            _place(bass, _note(world.bass, bass_note, gap, 0.35, sr) * ev.strength, ev.time_s, sr)
        if ev.kind == "flash":  # a bright chord stab
            stab = sum(_note(world.lead, m + 12, min(gap, 0.5), 0.15, sr) for m in chord)
            _place(lead, stab * ev.strength / 2.0, ev.time_s, sr)
        elif ev.kind == "accent" and not on_beat:  # an arpeggio note on the off-beats
            note = chord[int(rng.integers(0, 3))] + 12 * int(rng.integers(0, 2))
            _place(lead, _note(world.lead, note, min(gap, 0.4), 0.12, sr) * ev.strength, ev.time_s, sr)
        elif ev.kind == "cut":
            _place(lead, _note(world.lead, chord[0] + 12, min(gap, 0.6), 0.25, sr) * 0.7, ev.time_s, sr)
    d, b, ld, pd = world.mix
    mix = d * drums + b * bass + ld * lead + pd * _pad(plan, world, n, sr)
    if world.tone_hz < sr / 2:
        from scipy.signal import lfilter

        a = np.exp(-2 * np.pi * world.tone_hz / sr)
        mix = lfilter([1 - a], [1, -a], mix)
    peak = float(np.max(np.abs(mix))) or 1.0
    return (mix * (PEAK / peak)).astype(np.float32)
