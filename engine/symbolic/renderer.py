"""Notes to a produced stereo cue: a General MIDI soundfont per stream, a reverb per style, a master.

Why this shape: each stream plays through its own `tinysoundfont` synth (offline, no system
library) so stems come for free and each stream has its own reverb send; the style table
(`orchestra`) decides programs, kit, voicing, levels, pan and room, switching at style-span
starts; a light master (pedalboard: high-pass, gentle bus compression, a limiter) makes the sum
sound mixed rather than raw. Every note is released at its end frame (and everything still
sounding at the cue's end is released there), so nothing rings past `tail_frames`. Whatever the
font, each part plays at the balance voiced on TimGM6mb and each note starts early by its
sample's attack (`font_levels`), so a hit point's accent is heard on its frame in every stem.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import operator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.symbolic import font_levels
from engine.symbolic import tokens as tk
from engine.symbolic.orchestra import Orchestration, Part, orchestration, voice_chord
from engine.symbolic.preview import demo_score
from engine.symbolic.score import FRAME_RATE, STYLES, DrumHit, SymbolicScore
from engine.symbolic.soundfont import find_soundfont, loaded_synth
from engine.timebase import CUE_SAMPLE_RATE

PITCHED = ("bass", "harmony", "melody")
AUDIO_STREAMS = ("drums", *PITCHED)  # the streams that sound (style only steers them)
DRUM_RING_FRAMES = {"crash": 150, "ride": 75, "hat_open": 40}  # one-shots are released after this
DRUM_RING_DEFAULT = 25
CHOKE_S = 0.08  # a cymbal choked by hand at a cue's cutoff (`drums_choke`) dies this fast
FLAM_FRAMES = 2  # weaker strokes this close to a strong accent are absorbed by it (`_without_flams`)
STYLE_RAMP_S = 0.05  # reverb and master level cross over this long at a style change
MIX_HEADROOM_DB = -6.0  # the synths' sum sits here before the style's master gain
CC_VOLUME, CC_PAN = 7, 10
LOW_SHELF_HZ, PRESENCE_HZ, PRESENCE_Q = 160.0, 3500.0, 0.6  # `Room.low_db` / `Room.presence_db`


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
    # (`Part.short_program`). Drums: one kit channel per place in the stereo field (`drum_channel`).
    channel: int = 0


def note_events(score: SymbolicScore, font: Path | None = None) -> dict[str, list[Event]]:
    """Per sounding stream, the sorted MIDI actions that play the score in its styles; with the
    `font` it plays through, each drum key's velocity and a short program's volume are matched to
    TimGM6mb's balance (`font_levels`; the part's own level is `stream_gain`'s)."""
    n = score.num_frames
    spans = list(score.style_spans)
    out: dict[str, list[Event]] = {name: [] for name in AUDIO_STREAMS}
    for start, style in spans:
        o = orchestration(style)
        for pan, channel in _drum_channels(o.kit).items():
            out["drums"].append(
                Event(start, 1, program=o.kit.preset, level=o.kit.level, pan=pan, channel=channel)
            )
        for name in PITCHED:
            part = getattr(o, name)
            for channel, program, pan in _part_channels(name, part):
                # gain ∝ (CC7 / 127) ** 3 in tinysoundfont: the short program's ratio to the long one's
                ratio = _part_gain(font, o, name, program) / _part_gain(font, o, name, part.program)
                level = min(127, round(part.level * ratio ** (1 / 3)))
                out[name].append(Event(start, 1, program=program, level=level, pan=pan, channel=channel))

    def style_of(frame: int) -> Orchestration:
        return orchestration(score.style_at(frame))

    strokes: dict[tuple[int, int], dict[int, int]] = {}  # (channel, key) -> frame -> velocity
    rings: dict[tuple[int, int, int], int] = {}
    for hit in _without_flams(score.drums):
        if not 0 <= hit.frame < n:
            continue
        kit = style_of(hit.frame).kit
        channels = _drum_channels(kit)
        for piece in hit.pieces:
            channel = channels[kit.pan_of(piece)]
            for key in kit.keys[piece]:
                scaled = kit.velocity_of(piece, hit.accent) * _key_ratio(font, kit, key)
                struck = strokes.setdefault((channel, key), {})
                struck[hit.frame] = max(min(127, max(1, round(scaled))), struck.get(hit.frame, 0))
                ring = DRUM_RING_FRAMES.get(piece, DRUM_RING_DEFAULT)
                rings[channel, key, hit.frame] = max(ring, rings.get((channel, key, hit.frame), 0))
    for (channel, key), by_frame in strokes.items():
        frames = sorted(by_frame)
        for i, frame in enumerate(frames):
            # released after its ring, or where the same key is struck again, or at the end
            following = frames[i + 1] if i + 1 < len(frames) else n
            out["drums"].append(Event(frame, 2, key, by_frame[frame], channel=channel))
            end = min(frame + rings[channel, key, frame], following, n)
            out["drums"].append(Event(end, 0, key, channel=channel))
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
        articulation = _articulation(o.harmony, chord.start, chord.end, n)
        upper = sorted(previous)[len(previous) // 2 :]
        for key in previous:
            velocity = o.harmony.velocity[chord.accent]
            # channels 0/1: the upper/lower voices of the long notes, 2/3 of the short ones
            channel = 2 * articulation + (key not in upper)
            out["harmony"].append(Event(chord.start, 2, key + o.harmony.transpose, velocity, channel=channel))
            out["harmony"].append(Event(min(chord.end, n), 0, key + o.harmony.transpose, channel=channel))
    return {name: sorted(events, key=_EVENT_ORDER) for name, events in out.items()}


def sound_fingerprint(soundfont: Path | None = None) -> str:
    """A digest of how the renderer sounds now: a bar of every style (`demo_score`) and a second's
    rest after it (the cutoff), rendered through `soundfont` (default: `find_soundfont`). A judge
    fitted on rendered audio is kept with it and refitted when it changes (`judge_cache`): a new
    mix or font is a new sound, and a judge trained on the old one hears through it."""
    digest = hashlib.sha256()
    for style in STYLES:
        bar = demo_score(style, bars=1)
        score = dataclasses.replace(bar, num_frames=bar.num_frames + FRAME_RATE)
        digest.update(np.round(render(score, 16000, soundfont=soundfont), 5).tobytes())
    return digest.hexdigest()[:16]


def drums_choke(score: SymbolicScore) -> int | None:
    """The frame the drummer chokes the kit in a cue that ends into silence: where its last
    pitched note is released, or a drum struck later has rung `DRUM_RING_DEFAULT`; None where a
    note sounds to the cue's end. A GM kit ignores note-offs, so a crash struck with the last chord
    rang on under the reverb's tonal tail as noise (flatness 0.10-0.16 over the last third of a
    short cue, where music_measures allows 0.05)."""
    ends = [n.end for n in (*score.bass, *score.melody)] + [c.end for c in score.harmony]
    if not ends or max(ends) >= score.num_frames:
        return None
    last_hit = max((h.frame for h in score.drums if h.frame < score.num_frames), default=-1)
    return min(score.num_frames, max(max(ends), last_hit + DRUM_RING_DEFAULT))


def _fade_out(samples: int, at: int, length: int) -> np.ndarray:
    """A gain [samples] of 1 up to sample `at`, then a half-cosine down to 0 over `length`."""
    gain = np.ones(samples, dtype=np.float32)
    if at < samples:
        ramp = 0.5 * (1 + np.cos(np.linspace(0, np.pi, max(1, length), dtype=np.float32)))
        gain[at : at + len(ramp)] = ramp[: samples - at]
        gain[at + len(ramp) :] = 0.0
    return gain


def _part_channels(name: str, part: Part) -> list[tuple[int, int, int]]:
    """(channel, program, pan) a part plays on. Bass and melody: 0 its program, 1 its short notes'.
    Harmony: 0 and 1 its program for the chord's upper and lower voices, `spread` either side of
    its pan (violins left and cellos right, as an orchestra sits), 2 and 3 the same for short
    notes: a panned mono sound stays perfectly correlated left and right (a pan knob makes no
    width); two sides that play different notes do."""
    programs = (part.program,) if part.short_program is None else (part.program, part.short_program)
    if name != "harmony":
        return [(channel, program, part.pan) for channel, program in enumerate(programs)]
    sides = (max(0, part.pan - part.spread), min(127, part.pan + part.spread))
    return [(2 * a + side, program, sides[side]) for a, program in enumerate(programs) for side in (0, 1)]


def _is_accent(hit: DrumHit) -> bool:
    """A strong kick or crash: what a hit point is forced to (`tokens.strong_drum_onsets`)."""
    return hit.accent == tk.STRONG and ("kick" in hit.pieces or "crash" in hit.pieces)


def _without_flams(hits: tuple[DrumHit, ...]) -> list[DrumHit]:
    """The drum hits less any weaker stroke within FLAM_FRAMES of a strong accent: a stroke a
    frame or two before a hit point's accent is heard as a flam whose onset is the early one (a
    model's kick + hat one frame before a forced crash read 20 ms early), one just after smears it.
    The accent absorbs them, as a drummer plays one stroke there."""
    accents = sorted(h.frame for h in hits if _is_accent(h))
    if not accents:
        return list(hits)
    kept = []
    for hit in hits:
        i = bisect.bisect_left(accents, hit.frame - FLAM_FRAMES)
        near = i < len(accents) and abs(accents[i] - hit.frame) <= FLAM_FRAMES
        if _is_accent(hit) or not near:
            kept.append(hit)
    return kept


def _drum_channels(kit) -> dict[int, int]:
    """The kit's places in the stereo field (CC10) -> the synth channel that plays each."""
    return {pan: channel for channel, pan in enumerate(sorted({kit.pan_of(p) for p in kit.keys}))}


def _part_gain(font: Path | None, o: Orchestration, name: str, program: int) -> float:
    """`program`'s loudness ratio to TimGM6mb's on a note in the middle of the part's register."""
    if font is None:
        return 1.0
    part = getattr(o, name)
    key = {"bass": 40, "harmony": o.voicing.center, "melody": 72}[name] + part.transpose
    return font_levels.gain(font, program, key)


def _kit_gain(font: Path | None, kit) -> float:
    """The kit's loudness ratio to TimGM6mb's: the geometric mean over the keys it strikes."""
    if font is None:
        return 1.0
    keys = sorted({k for ks in kit.keys.values() for k in ks})
    return float(np.exp(np.mean([np.log(font_levels.gain(font, kit.preset, k, drums=True)) for k in keys])))


def _key_ratio(font: Path | None, kit, key: int) -> float:
    """One drum key's loudness ratio against the kit's as a whole (applied to its velocity)."""
    if font is None:
        return 1.0
    return font_levels.gain(font, kit.preset, key, drums=True) / _kit_gain(font, kit)


def stream_gain(font: Path | None, style: str, name: str) -> float:
    """A stream's loudness ratio to TimGM6mb's in `style` (applied to its stem)."""
    o = orchestration(style)
    if name == "drums":
        return _kit_gain(font, o.kit)
    return _part_gain(font, o, name, getattr(o, name).program)


def _articulation(part: Part, start: int, end: int, num_frames: int) -> int:
    """The channel that plays a note from `start` to `end`: 1 where the part plays it short. A note
    still sounding when the cue ends was not written short (the cue cuts it): it keeps its program."""
    if end >= num_frames:
        return 0
    return int(part.plays_short((end - start) / FRAME_RATE))


# Event's own order (its fields as a tuple), built once per event instead of per comparison.
_EVENT_ORDER = operator.attrgetter(*(f.name for f in dataclasses.fields(Event)))


def _synth(soundfont: Path, sample_rate: int, drums: bool):
    """A silent synth with the soundfont loaded (`loaded_synth`, kept per thread); every render
    sets programs, volume and pan at frame 0, so no state leaks."""
    synth, sfid = loaded_synth(soundfont, sample_rate, drums)
    synth.sounds_off()
    synth.generate(sample_rate // 10)  # let the killed voices' fast release run out, unheard
    return synth, sfid


def _event_times(events: list[Event], hop: int, sample_rate: int, soundfont: Path, drums: bool) -> list[int]:
    """The sample each event plays at: its frame's, a note-on earlier by its program's attack lead
    (`font_levels.attack_lead_s`, so it is heard on its frame), and a note-off of the same key no
    later than the next note-on it must precede; a program change before any lead of its frame."""
    leads: dict[tuple[int, int], int] = {}
    program = {}  # channel -> program
    times = []
    max_lead = int(font_levels.MAX_LEAD_S * sample_rate)
    for e in events:
        t = e.frame * hop
        if e.rank == 1:
            program[e.channel] = e.program
            t = max(0, t - max_lead)
        elif e.rank == 2:
            bucket = e.key if drums else e.key // 12 * 12 + 6  # a probe per octave for pitched notes
            lead_key = (program.get(e.channel, 0), bucket)
            if lead_key not in leads:
                seconds = font_levels.attack_lead_s(soundfont, lead_key[0], bucket, drums, sample_rate)
                leads[lead_key] = int(round(seconds * sample_rate))
            t = max(0, t - leads[lead_key])
        times.append(t)
    next_on: dict[tuple[int, int], int] = {}
    for i in range(len(events) - 1, -1, -1):  # a release never lands after the restrike it precedes
        e = events[i]
        if e.rank == 2:
            next_on[e.channel, e.key] = times[i]
        elif e.rank == 0 and (e.channel, e.key) in next_on:
            times[i] = min(times[i], next_on[e.channel, e.key])
    return times


def _synth_stream(
    events: list[Event], total_frames: int, hop: int, sample_rate: int, soundfont: Path, drums: bool
) -> np.ndarray:
    times = _event_times(events, hop, sample_rate, soundfont, drums)  # probes first: they share the synth
    synth, sfid = _synth(soundfont, sample_rate, drums)
    out = np.zeros((total_frames * hop, 2), dtype=np.float32)
    order = sorted(range(len(events)), key=lambda i: (times[i], events[i].rank))
    written = 0
    for i in order:
        e = events[i]
        target = min(times[i], total_frames * hop)
        if target > written:
            out[written:target] = np.frombuffer(synth.generate(target - written), dtype=np.float32).reshape(
                -1, 2
            )
            written = target
        channel = e.channel
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


def _tone(
    signal: np.ndarray, weights: dict[str, np.ndarray], sample_rate: int, kit: bool = False
) -> np.ndarray:
    """The signal through each style's bus EQ (`Room.low_db`, `Room.presence_db`) over the style's
    share of it, crossing over at a style change. With `kit`, the drums' correction before the
    bus: `Kit.presence_db` less the bus's presence (an instrument made brighter speaks, a snare or
    a cymbal made brighter is more noise), so the kit ends at its own presence. One bus pass and
    one kit pass instead of one per stem: EQ is linear, the sum's tone is the stems'."""
    from pedalboard import LowShelfFilter, PeakFilter, Pedalboard

    out = np.zeros_like(signal)
    for style, w in weights.items():
        o = orchestration(style)
        low = 0.0 if kit else o.room.low_db
        presence = o.kit.presence_db - o.room.presence_db if kit else o.room.presence_db
        part = signal if len(weights) == 1 else signal * w
        if low == 0.0 and presence == 0.0:
            out += part
            continue
        board = Pedalboard(
            [
                LowShelfFilter(cutoff_frequency_hz=LOW_SHELF_HZ, gain_db=low),
                PeakFilter(cutoff_frequency_hz=PRESENCE_HZ, gain_db=presence, q=PRESENCE_Q),
            ]
        )
        out += board(np.ascontiguousarray(part, dtype=np.float32), sample_rate)
    return out


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
    events = note_events(score, font)
    dry = {
        name: _synth_stream(events[name], total, hop, sample_rate, font, drums=name == "drums")
        for name in AUDIO_STREAMS
    }
    samples = total * hop
    weights = _style_weights(score, samples, sample_rate)
    for name, stem in dry.items():  # each part as loud as the table was voiced (on TimGM6mb)
        if len(weights) == 1:
            stem *= np.float32(stream_gain(font, next(iter(weights)), name))
        else:
            stem *= sum(w * np.float32(stream_gain(font, style, name)) for style, w in weights.items())
    choke = drums_choke(score)
    if choke is not None:
        dry["drums"] *= _fade_out(samples, choke * hop, int(CHOKE_S * sample_rate))
    dry["drums"] = _tone(dry["drums"], weights, sample_rate, kit=True)
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
        return _master(_tone(mix, weights, sample_rate) * gain, sample_rate)
    wet_stems = {}
    for name, stem in dry.items():
        signal = stem.copy()
        for style, w in weights.items():
            o, a = orchestration(style), first[style]
            signal[:, a:] += _room(stem[:, a:] * w[a:], o, send(name, o), sample_rate)
        wet_stems[name] = _tone(signal, weights, sample_rate) * gain
    return _master(sum(wet_stems.values()), sample_rate), wet_stems
