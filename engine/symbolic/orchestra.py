"""Who plays what in each style: GM programs, drum keys, chord voicing and the mix, as data.

Why a table: the tokens carry only time (which note, chord or hit on which frame) and the style
stream says which style plays; everything an arranger decides per style — instruments, kit,
register and spread of chords, loudness per accent, pan, reverb — lives here, so the renderer is
one loop over the table and a new style is a new row. Programs and keys are General MIDI
(0-based programs; kits are presets of bank 128 in GM2 numbering, which TimGM6mb, FluidR3 and
MuseScore General all have).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from engine.symbolic.score import CHORD_QUALITIES, DRUM_PIECES, STYLES


@dataclass(frozen=True)
class Part:
    """One pitched stream's instrument in one style."""

    program: int  # GM program, 0-based
    pan: int = 64  # MIDI CC10: 0 left, 64 centre, 127 right
    level: int = 100  # MIDI CC7 channel volume
    velocity: tuple[int, int, int] = (58, 84, 112)  # per accent: soft, medium, strong
    reverb_send: float = 0.2  # share of the dry signal sent to the style's reverb
    transpose: int = 0  # semitones (a celesta or a bass an octave off its written register)
    # Articulation by length: notes shorter than `short_s` play on `short_program` (a string
    # player takes short notes off the string: bowed, a string's slow attack smears every note of
    # a figure into one swell and the part has no pulse; plucked, each note speaks on its frame).
    short_program: int | None = None
    short_s: float = 0.0
    # Harmony only: its upper voices sit this far left of `pan`, its lower voices this far right
    # (negative: the other way, as a piano is heard, low notes left).
    spread: int = 0

    def plays_short(self, seconds: float) -> bool:
        """Whether a note this long is played on `short_program`."""
        return self.short_program is not None and seconds < self.short_s


CYMBALS = frozenset({"hat_closed", "hat_open", "ride", "crash"})
KIT_PAN = {
    "kick": 64, "snare": 62, "hat_closed": 84, "hat_open": 84, "ride": 42, "crash": 76,
    "tom_low": 44, "tom_high": 74,
}  # fmt: skip


@dataclass(frozen=True)
class Kit:
    """The drums of one style: a bank-128 kit preset and the GM keys each piece strikes."""

    preset: int
    keys: dict[str, tuple[int, ...]]
    level: int = 100
    # per accent: soft, medium, strong. The strong accent is what a hit point is forced to: it
    # must be heard over the style's bed (ambient's at 80 left a forced hit 2 frames from a
    # detected onset in the mix), so every kit plays it at 108 or more.
    velocity: tuple[int, int, int] = (55, 85, 118)
    reverb_send: float = 0.12
    pan: int = 64
    # Where each piece sits (CC10), as a kit miked overhead is heard from the audience: kick and
    # snare centre, hats right, ride and floor tom left, crash and toms across. Without it the
    # whole kit sat in the centre with the bass and a style's mix read near mono.
    piece_pan: dict[str, int] = field(default_factory=lambda: dict(KIT_PAN))
    # Cymbals and hats are noise: at the drums' own velocity they wash over the pitched parts (a
    # flat spectrum, "flatness" 0.07-0.17 on rock and action cues). A drummer plays them under
    # the kick and snare; this scales their velocity (about -9 dB at 0.6).
    cymbal_scale: float = 0.6
    # The kit's bell at the presence frequency (`Room.presence_db` is the pitched parts'): cut, as
    # a mix tames cymbals and snare there; FluidR3's kits are noisier than TimGM6mb's at one
    # loudness, and a model's busy snare part measured as noise (flatness 0.046 -> 0.034 at -3 dB).
    presence_db: float = -3.0

    def pan_of(self, piece: str) -> int:
        """The piece's CC10 pan, moved with the kit's own pan away from the centre."""
        return max(0, min(127, self.piece_pan.get(piece, 64) + self.pan - 64))

    def velocity_of(self, piece: str, accent: int) -> int:
        v = self.velocity[accent]
        if piece in CYMBALS:
            v = v * self.cymbal_scale
        return max(1, min(127, round(v)))


@dataclass(frozen=True)
class Voicing:
    """How chords are spread: the register they stay in and close or open (drop-2) position."""

    low: int  # lowest MIDI note a chord tone may take
    high: int  # highest
    center: int  # where the first chord of a cue sits
    spread: str = "close"  # "close" | "open" (drop-2: the second voice from the top an octave down)
    voices: int = 3  # 3: sevenths lose their fifth; 4: triads double the root


@dataclass(frozen=True)
class Room:
    """The style's reverb (pedalboard's freeverb) and the master level."""

    size: float
    damping: float = 0.5
    width: float = 1.0
    wet: float = 0.35  # return level of the reverb bus
    master_db: float = 0.0  # gain before the bus compressor and limiter
    # The style's tone on the bus (pedalboard EQ): a low shelf under LOW_SHELF_HZ and a presence
    # bell at PRESENCE_HZ. GM soundfonts sound darker than library music (centroid 375-548 Hz on
    # the model's cues against about 800 Hz, 2-6 kHz 4-12 dB lower), mostly a heavy low end.
    low_db: float = 0.0
    presence_db: float = 0.0


@dataclass(frozen=True)
class Orchestration:
    style: str
    kit: Kit
    bass: Part
    harmony: Part
    melody: Part
    voicing: Voicing
    room: Room


# GM percussion keys: 35/36 kick, 37 side stick, 38 snare, 39 clap, 41/43 floor toms, 45/47 low
# toms, 48/50 high toms, 42 closed hat, 44 pedal hat, 46 open hat, 49/57 crash, 51 ride, 53 ride
# bell, 54 tambourine, 55 splash.
_KIT_STANDARD = {
    "kick": (36,),
    "snare": (38,),
    "hat_closed": (42,),
    "hat_open": (46,),
    "ride": (51,),
    "crash": (49,),
    "tom_low": (45,),
    "tom_high": (50,),
}


def _keys(**overrides: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    return {**_KIT_STANDARD, **overrides}


ORCHESTRA: dict[str, Orchestration] = {
    "cinematic_strings": Orchestration(
        "cinematic_strings",
        # Orchestra kit: concert bass drum, snare, and the low toms as timpani-like booms.
        Kit(
            48,
            _keys(kick=(36, 41), tom_low=(41,), tom_high=(45,), crash=(49, 57), hat_open=(46,)),
            level=92,
            reverb_send=0.3,
        ),
        # Contrabass, right as on a stage; string ensemble; violin. Short notes are plucked
        # (pizzicato): a chord a beat long or a quick figure speaks on its beat instead of swelling.
        bass=Part(43, pan=80, level=100, reverb_send=0.3, short_program=45, short_s=0.8),
        harmony=Part(
            48,
            pan=64,
            level=96,
            velocity=(50, 72, 96),
            reverb_send=0.35,
            short_program=45,
            short_s=0.8,
            spread=26,
        ),
        melody=Part(40, pan=48, level=104, reverb_send=0.3, transpose=12, short_program=45, short_s=0.4),
        voicing=Voicing(50, 79, 64, spread="open", voices=4),
        room=Room(size=0.85, damping=0.35, wet=0.4, master_db=-0.5, presence_db=1.0),
    ),
    "piano_ballad": Orchestration(
        "piano_ballad",
        Kit(8, _keys(snare=(37,), crash=(55,)), level=78, velocity=(40, 62, 108), reverb_send=0.2),
        bass=Part(0, pan=50, level=92, velocity=(50, 70, 92)),  # piano left hand
        harmony=Part(0, pan=64, level=88, velocity=(44, 64, 86), reverb_send=0.25, spread=-18),
        melody=Part(0, pan=78, level=104, velocity=(60, 80, 104), reverb_send=0.25, transpose=12),
        voicing=Voicing(53, 74, 62, spread="close", voices=4),
        room=Room(size=0.7, damping=0.45, wet=0.33, master_db=12.0, low_db=-2.0, presence_db=2.0),
    ),
    "indie_rock": Orchestration(
        "indie_rock",
        # The kit sits under the guitars (CC7 74, not 90) with its crack tamed (-5 dB presence):
        # its snare and hats are noise, and at 80 and -3 dB a busy part made 5 of 33 prompted
        # cues measure as noise (flatness 0.05-0.09) over the guitars' chords; 1 of 33 now.
        Kit(
            16,
            _keys(crash=(49,), tom_low=(43,), tom_high=(48,)),
            level=74,
            velocity=(65, 95, 122),
            presence_db=-5.0,
        ),
        bass=Part(33, pan=64, level=90, velocity=(70, 92, 115), reverb_send=0.05),  # fingered bass
        # overdriven guitars hard left and right (two players, the chord split between them)
        harmony=Part(29, pan=54, level=92, velocity=(60, 80, 100), reverb_send=0.12, spread=40),
        melody=Part(27, pan=80, level=100, velocity=(70, 92, 112), reverb_send=0.2),  # clean lead guitar
        voicing=Voicing(47, 67, 57, spread="close", voices=3),
        room=Room(size=0.5, damping=0.5, wet=0.3, master_db=1.2, low_db=-3.0, presence_db=2.0),
    ),
    "electronic_pulse": Orchestration(
        "electronic_pulse",
        Kit(25, _keys(hat_open=(46,), crash=(49,)), level=80, velocity=(70, 95, 120)),  # TR-808
        bass=Part(38, pan=64, level=100, velocity=(80, 96, 112), reverb_send=0.05),  # synth bass 1
        harmony=Part(89, pan=64, level=86, velocity=(60, 74, 90), reverb_send=0.3, spread=40),  # warm pad
        melody=Part(81, pan=82, level=82, velocity=(70, 88, 104), reverb_send=0.25),  # saw lead
        voicing=Voicing(55, 79, 65, spread="open", voices=4),
        room=Room(size=0.6, damping=0.3, wet=0.3, master_db=0.2, low_db=-3.0, presence_db=4.0),
    ),
    "acoustic_folk": Orchestration(
        "acoustic_folk",
        Kit(
            8,
            _keys(snare=(37,), hat_open=(54,), ride=(54,)),
            level=86,
            velocity=(45, 70, 110),
            reverb_send=0.18,
        ),  # room kit, tambourine
        bass=Part(32, pan=62, level=96, reverb_send=0.1),  # acoustic bass
        # steel-string guitar, its chord across two players left and right of the flute's opposite
        harmony=Part(25, pan=50, level=98, velocity=(56, 76, 98), reverb_send=0.2, spread=30),
        melody=Part(73, pan=88, level=96, reverb_send=0.28),  # flute
        voicing=Voicing(52, 71, 60, spread="close", voices=4),
        room=Room(size=0.5, damping=0.5, wet=0.28, master_db=0.7, low_db=-2.0, presence_db=3.0),
    ),
    "jazz_trio": Orchestration(
        "jazz_trio",
        # Brush kit: pedal hat for the closed hat, the ride carries the time.
        Kit(
            40,
            _keys(kick=(35,), hat_closed=(44,), crash=(57,)),
            level=84,
            velocity=(45, 68, 108),
            reverb_send=0.15,
        ),
        bass=Part(32, pan=60, level=96, velocity=(64, 84, 104), reverb_send=0.1),  # upright bass
        # piano comping right of centre, low notes left; vibraphone left
        harmony=Part(0, pan=76, level=90, velocity=(46, 62, 82), reverb_send=0.18, spread=-28),
        melody=Part(11, pan=40, level=100, velocity=(58, 78, 100), reverb_send=0.22),
        voicing=Voicing(50, 76, 62, spread="open", voices=4),
        room=Room(size=0.35, damping=0.6, wet=0.22, master_db=3.0, low_db=-4.0, presence_db=4.0),
    ),
    "ambient": Orchestration(
        "ambient",
        Kit(
            24,
            _keys(kick=(35,), snare=(39,), hat_closed=(42,), hat_open=(46,), crash=(55,)),
            level=84,
            # A soft stroke at 35 (21 on a cymbal) was written and never heard: the ride or hats
            # that keep a slow cue's beat; at 50, 11 of 27 ambient cues miss a pulse, not 15.
            velocity=(50, 62, 112),
            reverb_send=0.4,
        ),
        bass=Part(35, pan=64, level=92, velocity=(50, 66, 84), reverb_send=0.25),  # fretless bass
        harmony=Part(89, pan=64, level=96, velocity=(50, 64, 80), reverb_send=0.45, spread=40),  # warm pad
        melody=Part(8, pan=80, level=96, velocity=(50, 68, 88), reverb_send=0.5, transpose=12),  # celesta
        voicing=Voicing(55, 81, 67, spread="open", voices=4),
        room=Room(size=0.95, damping=0.25, wet=0.5, master_db=0.0, low_db=-2.5, presence_db=4.5),
    ),
    "action_percussion": Orchestration(
        "action_percussion",
        Kit(
            48,
            _keys(kick=(36, 41), snare=(38,), tom_low=(41, 43), tom_high=(45, 48), crash=(49,)),
            level=80,
            velocity=(70, 98, 124),
            reverb_send=0.2,
        ),
        bass=Part(39, pan=64, level=92, velocity=(80, 100, 118), reverb_send=0.08),  # synth bass 2
        harmony=Part(
            48, pan=56, level=92, velocity=(70, 92, 116), reverb_send=0.25, spread=30
        ),  # string stabs
        melody=Part(61, pan=84, level=100, velocity=(72, 96, 120), reverb_send=0.25),  # brass section
        voicing=Voicing(50, 74, 62, spread="open", voices=4),
        room=Room(size=0.75, damping=0.4, wet=0.32, master_db=0.0, low_db=-2.0, presence_db=3.0),
    ),
}
assert set(ORCHESTRA) == set(STYLES), "every style needs a row"
assert all(set(o.kit.keys) == set(DRUM_PIECES) for o in ORCHESTRA.values()), "every kit plays every piece"


def orchestration(style: str) -> Orchestration:
    try:
        return ORCHESTRA[style]
    except KeyError:
        raise KeyError(f"no orchestration for style {style!r}; the styles are {', '.join(STYLES)}") from None


@functools.lru_cache(maxsize=1024)
def _inversions(root: int, quality: str, voicing: Voicing) -> tuple[tuple[tuple[int, ...], ...], np.ndarray]:
    """Every inversion (and octave) of a chord in `voicing`, as tuples and as an int array [C, v]."""
    pitch_classes = [(root + i) % 12 for i in CHORD_QUALITIES[quality]]
    if voicing.voices == 3 and len(pitch_classes) == 4:
        del pitch_classes[2]  # a seventh chord in three voices: root, third, seventh
    candidates = []
    for rotation in range(len(pitch_classes)):
        order = pitch_classes[rotation:] + pitch_classes[:rotation]
        for base in range(voicing.low - 12, voicing.high + 1):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                notes.append(notes[-1] + ((pc - notes[-1]) % 12 or 12))
            if voicing.voices == 4 and len(notes) == 3:
                notes.append(notes[0] + 12)  # four voices from a triad: double the bass note
            if voicing.spread == "open" and len(notes) >= 3:
                notes[-2] -= 12  # drop-2
                notes.sort()
            candidates.append(tuple(notes))
    return tuple(candidates), np.array(candidates, dtype=np.int64)


def voice_chord(
    root: int, quality: str, voicing: Voicing, previous: tuple[int, ...] | None = None
) -> tuple[int, ...]:
    """MIDI notes for a chord: of every inversion (and octave), the one nearest the previous chord
    (voice leading), or nearest the register's centre for the first; notes outside the register
    cost much more than any movement, so they happen only where no inversion fits.

    Costs, smallest first: (100 * semitones outside the register + movement, distance of the
    chord's mean from the centre), where movement is the sum over both chords' notes of the
    distance to the other chord's nearest note; ties go to the first inversion (lowest root
    position first). Vectorised over the candidates (a dense cue voices a chord per frame)."""
    chords, notes = _inversions(root, quality, voicing)
    outside = (np.maximum(0, voicing.low - notes) + np.maximum(0, notes - voicing.high)).sum(axis=1)
    centre = np.abs(notes.sum(axis=1) / notes.shape[1] - voicing.center)
    if not previous:
        primary, secondary = 100.0 * outside + centre, np.zeros(len(chords))
    else:
        dist = np.abs(notes[:, :, None] - np.asarray(previous, dtype=np.int64)[None, None, :])
        lead = dist.min(axis=2).sum(axis=1) + dist.min(axis=1).sum(axis=1)
        primary, secondary = 100.0 * outside + lead, centre
    best = primary == primary.min()
    best &= secondary == secondary[best].min()
    return chords[int(np.flatnonzero(best)[0])]
