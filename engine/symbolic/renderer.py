"""Notes to a produced stereo cue: a General MIDI soundfont per stream, a reverb per style, a master.

Why this shape: each stream plays through its own `tinysoundfont` synth (offline, no system
library) so stems come for free and each stream has its own reverb send; the style table
(`orchestra`) decides programs, kit, voicing, levels, pan and room, switching at style-span
starts; a light master (pedalboard: high-pass, gentle bus compression, a limiter) makes the sum
sound mixed rather than raw. Every note is released at its end frame (and everything still
sounding at the cue's end is released there), so nothing rings past `tail_frames`.
"""

from __future__ import annotations

import dataclasses
import operator
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.symbolic import tokens as tk
from engine.symbolic.orchestra import Orchestration, Part, orchestration, voice_chord
from engine.symbolic.score import FRAME_RATE, SymbolicScore
from engine.symbolic.soundfont import find_soundfont, soundfont_bytes
from engine.timebase import CUE_SAMPLE_RATE

PITCHED = ("bass", "harmony", "melody")
AUDIO_STREAMS = ("drums", *PITCHED)  # the streams that sound (style only steers them)
DRUM_RING_FRAMES = {"crash": 150, "ride": 75, "hat_open": 40}  # one-shots are released after this
DRUM_RING_DEFAULT = 25
STYLE_RAMP_S = 0.05  # reverb and master level cross over this long at a style change
MIX_HEADROOM_DB = -6.0  # the synths' sum sits here before the style's master gain
CC_VOLUME, CC_PAN = 7, 10


@dataclass(frozen=True, order=True)
class Event:
    """One MIDI action at a frame; `rank` orders a frame's actions: releases, programs, notes."""

    frame: int
    rank: int  # 0 note off, 1 program / controller, 2 note on
    key: int = 0
    velocity: int = 0
    program: int = -1  # rank 1: the program (or kit) to select
    level: int = 100
    pan: int = 64
    # A pitched stream's articulation: channel 0 plays its program, 1 its short notes'
    # (`Part.short_program`). Drums always play on channel 9.
    channel: int = 0


def note_events(score: SymbolicScore) -> dict[str, list[Event]]:
    """Per sounding stream, the sorted MIDI actions that play the score in its styles."""
    n = score.num_frames
    spans = list(score.style_spans)
    out: dict[str, list[Event]] = {name: [] for name in AUDIO_STREAMS}
    for start, style in spans:
        o = orchestration(style)
        out["drums"].append(Event(start, 1, program=o.kit.preset, level=o.kit.level, pan=o.kit.pan))
        for name in PITCHED:
            part = getattr(o, name)
            programs = (part.program,) if part.short_program is None else (part.program, part.short_program)
            for channel, program in enumerate(programs):
                out[name].append(
                    Event(start, 1, program=program, level=part.level, pan=part.pan, channel=channel)
                )

    def style_of(frame: int) -> Orchestration:
        return orchestration(score.style_at(frame))

    strokes: dict[int, dict[int, int]] = {}  # key -> frame -> velocity
    rings: dict[tuple[int, int], int] = {}
    for hit in score.drums:
        if not 0 <= hit.frame < n:
            continue
        kit = style_of(hit.frame).kit
        for piece in hit.pieces:
            for key in kit.keys[piece]:
                velocity = max(kit.velocity_of(piece, hit.accent), strokes.get(key, {}).get(hit.frame, 0))
                strokes.setdefault(key, {})[hit.frame] = velocity
                ring = DRUM_RING_FRAMES.get(piece, DRUM_RING_DEFAULT)
                rings[key, hit.frame] = max(ring, rings.get((key, hit.frame), 0))
    for key, by_frame in strokes.items():
        frames = sorted(by_frame)
        for i, frame in enumerate(frames):
            # released after its ring, or where the same key is struck again, or at the end
            following = frames[i + 1] if i + 1 < len(frames) else n
            out["drums"].append(Event(frame, 2, key, by_frame[frame]))
            out["drums"].append(Event(min(frame + rings[key, frame], following, n), 0, key))
    for name in ("bass", "melody"):
        for note in getattr(score, name):
            if not 0 <= note.start < n:
                continue
            part = getattr(style_of(note.start), name)
            key = min(max(int(note.pitch) + part.transpose, 0), 127)
            channel = _articulation(part, note.start, note.end, n)
            out[name].append(Event(note.start, 2, key, part.velocity[note.accent], channel=channel))
            out[name].append(Event(min(note.end, n), 0, key, channel=channel))
    previous: tuple[int, ...] | None = None
    for chord in score.harmony:
        if not 0 <= chord.start < n:
            continue
        o = style_of(chord.start)
        previous = voice_chord(chord.root, chord.quality, o.voicing, previous)
        channel = _articulation(o.harmony, chord.start, chord.end, n)
        for key in previous:
            velocity = o.harmony.velocity[chord.accent]
            out["harmony"].append(Event(chord.start, 2, key + o.harmony.transpose, velocity, channel=channel))
            out["harmony"].append(Event(min(chord.end, n), 0, key + o.harmony.transpose, channel=channel))
    return {name: sorted(events, key=_EVENT_ORDER) for name, events in out.items()}


def _articulation(part: Part, start: int, end: int, num_frames: int) -> int:
    """The channel that plays a note from `start` to `end`: 1 where the part plays it short. A note
    still sounding when the cue ends was not written short (the cue cuts it): it keeps its program."""
    if end >= num_frames:
        return 0
    return int(part.plays_short((end - start) / FRAME_RATE))


# Event's own order (its fields as a tuple), built once per event instead of per comparison.
_EVENT_ORDER = operator.attrgetter(*(f.name for f in dataclasses.fields(Event)))

_local = threading.local()


def _synth(soundfont: Path, sample_rate: int, drums: bool):
    """A silent synth with the soundfont loaded, kept per thread (loading costs more than playing
    a few seconds); every render sets programs, volume and pan at frame 0, so no state leaks."""
    import tinysoundfont

    pool = _local.__dict__.setdefault("synths", {})
    key = (str(soundfont), sample_rate, drums)
    if key not in pool:
        synth = tinysoundfont.Synth(samplerate=sample_rate)
        pool[key] = (synth, synth.sfload(soundfont_bytes(soundfont)))
    synth, sfid = pool[key]
    synth.sounds_off()
    synth.generate(sample_rate // 10)  # let the killed voices' fast release run out, unheard
    return synth, sfid


def _synth_stream(
    events: list[Event], total_frames: int, hop: int, sample_rate: int, soundfont: Path, drums: bool
) -> np.ndarray:
    synth, sfid = _synth(soundfont, sample_rate, drums)
    out = np.zeros((total_frames * hop, 2), dtype=np.float32)
    written = 0
    for e in events:
        target = min(e.frame, total_frames) * hop
        if target > written:
            out[written:target] = np.frombuffer(synth.generate(target - written), dtype=np.float32).reshape(
                -1, 2
            )
            written = target
        channel = 9 if drums else e.channel
        if e.rank == 0:
            synth.noteoff(channel, e.key)
        elif e.rank == 2:
            synth.noteon(channel, e.key, min(max(int(e.velocity), 1), 127))
        else:
            try:
                synth.program_select(channel, sfid, 128 if drums else 0, e.program, is_drums=drums)
            except RuntimeError:  # a soundfont without this kit or program: the standard one
                synth.program_select(channel, sfid, 128 if drums else 0, 0, is_drums=drums)
            synth.control_change(channel, CC_VOLUME, e.level)
            synth.control_change(channel, CC_PAN, e.pan)
    if written < len(out):
        out[written:] = np.frombuffer(synth.generate(len(out) - written), dtype=np.float32).reshape(-1, 2)
    return out.T.copy()


def _style_weights(score: SymbolicScore, samples: int, sample_rate: int) -> dict[str, np.ndarray]:
    """Per style present, a 0..1 curve over samples: 1 inside its spans, crossing over at changes."""
    hop = sample_rate // FRAME_RATE
    ramp = max(1, int(STYLE_RAMP_S * sample_rate))
    weights: dict[str, np.ndarray] = {}
    bounds = [*(s for s, _ in score.style_spans), None]
    for (start, style), end in zip(score.style_spans, bounds[1:], strict=True):
        a = start * hop
        b = samples if end is None else min(end * hop, samples)
        w = weights.setdefault(style, np.zeros(samples, dtype=np.float32))
        w[a:b] = 1.0
    if len(weights) > 1:
        for style, w in weights.items():
            weights[style] = _moving_average(w, ramp)
        total = sum(weights.values())
        for style in weights:
            weights[style] /= np.maximum(total, 1e-6)
    return weights


def _moving_average(w: np.ndarray, n: int) -> np.ndarray:
    """`np.convolve(w, np.ones(n) / n, mode="same")` as float32, by a running sum: O(len) instead
    of O(len * n) (a 50 ms ramp at 48 kHz is 2,400 taps: 0.24 s of a dense 10 s cue's 1.67 s render,
    now 4 ms a style)."""
    if n > len(w):  # "same" then means the kernel's length: rare (a cue under 50 ms), left to numpy
        return np.convolve(w, np.ones(n, dtype=np.float32) / n, mode="same").astype(np.float32)
    # out[i] = (total[min(i + (n - 1) // 2 + 1, N)] - total[max(i - n // 2, 0)]) / n with total the
    # running sum from 0: the window [i - n // 2, i + (n - 1) // 2], clipped to the signal
    cumsum = np.cumsum(w, dtype=np.float64)
    N, before = len(w), n // 2
    padded = np.concatenate((np.zeros(before + 1), cumsum, np.full((n - 1) // 2, cumsum[-1])))
    return ((padded[n : n + N] - padded[:N]) / n).astype(np.float32)


def _room(stem: np.ndarray, o: Orchestration, send: float, sample_rate: int) -> np.ndarray:
    from pedalboard import Reverb

    reverb = Reverb(
        room_size=o.room.size, damping=o.room.damping, width=o.room.width, wet_level=1.0, dry_level=0.0
    )
    return reverb(np.ascontiguousarray(stem * send, dtype=np.float32), sample_rate) * o.room.wet


def _master(mix: np.ndarray, sample_rate: int) -> np.ndarray:
    from pedalboard import Compressor, HighpassFilter, Limiter, Pedalboard

    board = Pedalboard(
        [
            HighpassFilter(cutoff_frequency_hz=30.0),
            Compressor(threshold_db=-20.0, ratio=2.5, attack_ms=15.0, release_ms=180.0),
            Limiter(threshold_db=-1.0, release_ms=120.0),
        ]
    )
    return board(np.ascontiguousarray(mix, dtype=np.float32), sample_rate)


def render(
    score: SymbolicScore | np.ndarray,
    sample_rate: int = CUE_SAMPLE_RATE,
    stems: bool = False,
    *,
    tail_frames: int = 0,
    soundfont: Path | None = None,
) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """The cue as float32 [2, (num_frames + tail_frames) * sample_rate / 50] (channels first);
    with `stems`, also {stream: [2, samples]} for drums, bass, harmony and melody (each with its
    reverb and the master gain, before the bus compressor and limiter). `score` may be tokens
    [len(STREAMS), frames]. `tail_frames` renders past the end (released notes decay there): a
    crossfade handle."""
    if isinstance(score, np.ndarray):
        score = tk.decode(score)
    if sample_rate % FRAME_RATE:
        raise ValueError(f"sample_rate {sample_rate} must be a multiple of the {FRAME_RATE} Hz frame rate")
    hop = sample_rate // FRAME_RATE
    total = score.num_frames + max(0, int(tail_frames))
    font = Path(soundfont) if soundfont is not None else find_soundfont()
    events = note_events(score)
    dry = {
        name: _synth_stream(events[name], total, hop, sample_rate, font, drums=name == "drums")
        for name in AUDIO_STREAMS
    }
    samples = total * hop
    weights = _style_weights(score, samples, sample_rate)
    gain = np.zeros(samples, dtype=np.float32)
    for style, w in weights.items():
        gain += w * np.float32(10 ** ((MIX_HEADROOM_DB + orchestration(style).room.master_db) / 20))

    def send(name: str, o: Orchestration) -> float:
        return o.kit.reverb_send if name == "drums" else getattr(o, name).reverb_send

    # A style's reverb input is silent (exactly 0) before its first span: the reverb starts there
    # (its output before is 0, and after it is bit-identical to running it from the cue's start).
    first = {style: int(np.argmax(w > 0)) for style, w in weights.items()}
    if not stems:  # one reverb per style on the sum of the sends (a quarter of the work)
        mix = sum(dry.values())
        for style, w in weights.items():
            o, a = orchestration(style), first[style]
            mix[:, a:] += _room(
                sum(stem[:, a:] * send(name, o) for name, stem in dry.items()) * w[a:], o, 1.0, sample_rate
            )
        return _master(mix * gain, sample_rate)
    wet_stems = {}
    for name, stem in dry.items():
        signal = stem.copy()
        for style, w in weights.items():
            o, a = orchestration(style), first[style]
            signal[:, a:] += _room(stem[:, a:] * w[a:], o, send(name, o), sample_rate)
        wet_stems[name] = signal * gain
    return _master(sum(wet_stems.values()), sample_rate), wet_stems
