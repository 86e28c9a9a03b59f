"""The eight musical styles the composer writes: tempo, meter, grooves, harmony, bass, melody, words.

Why data, not code: a style is what an arranger would write on a lead sheet — a tempo range, a
meter, a few drum patterns, progressions and a cadence, how often chords are struck, how the bass
moves, what a melody bar sounds like — so each one is a table the one composer (`compose.py`)
reads. Instruments and mix are not here: the renderer's per-style table owns them.

Patterns are strings with one character per grid step of a bar (`Style.steps_per_bar` of them):
- drums, per piece: `.` nothing, `o` soft, `x` medium, `X` strong (accent 0 / 1 / 2);
- comp (harmony attacks) and melody rhythms: `x` attack, `X` accented attack, `-` hold, `.` rest;
- bass: `R` root, `3` third, `5` fifth, `8` octave, `P` passing tone towards the next root,
  `A` chromatic approach to the next root, `-` hold, `.` rest.
Chords are (semitones above the key's tonic, quality from score.CHORD_QUALITIES).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.corpus.moods import MOOD_TABLE, NEUTRAL, mood, mood_words
from engine.symbolic.modes import SCALES
from engine.symbolic.score import BASS_RANGE, CHORD_QUALITIES, DRUM_PIECES, MELODY_RANGE, STYLES

ChordSpec = tuple[int, str]
Groove = dict[str, str]


@dataclass(frozen=True)
class Style:
    name: str
    words: tuple[str, ...]  # the caption's phrases, in order ("cinematic strings", "minor", ...)
    tempo_bpm: tuple[float, float]
    beats_per_bar: int
    steps_per_beat: int  # 4 = straight sixteenths; 3 = triplets (swing, compound feel)
    mode: str  # a key of SCALES
    progressions: tuple[tuple[ChordSpec, ...], ...]  # each chord lasts `chord_bars` bars
    chord_bars: float  # harmonic rhythm: bars per chord (0.5, 1 or 2)
    cadences: tuple[tuple[ChordSpec, ...], ...]  # fill the last two bars of every 8-bar section
    comp: tuple[str, ...]  # harmony attack patterns, one per section variant
    grooves: tuple[Groove, ...]  # drum patterns; sections alternate and vary them
    fill: Groove  # the drum fill over the last `fill_beats` beats before a section change
    fill_beats: int
    bass: tuple[str, ...]  # bass patterns, one per section variant
    bass_register: tuple[int, int]  # MIDI range the bass stays in (inside BASS_RANGE)
    melody_rhythms: tuple[str, ...]  # one-bar rhythms a motif is built from
    melody_register: tuple[int, int]  # inside MELODY_RANGE
    melody_leap: int  # largest scale-step move of a motif
    arpeggio: bool  # the melody arpeggiates chord tones (a steady pulse) instead of a tune
    staccato: bool  # melody notes sound for half their step span
    event_rate: float  # chance per beat of a visual event (flash / motion accent) in a shot

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat


def _bar(*pairs: str) -> str:
    return "".join(pairs)


STYLE_TABLE: dict[str, Style] = {
    s.name: s
    for s in (
        Style(
            name="cinematic_strings",
            words=("cinematic strings", "minor", "slow", "sweeping"),
            tempo_bpm=(68.0, 92.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="minor",
            progressions=(
                ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),  # i-VI-III-VII
                ((0, "min"), (5, "min"), (8, "maj"), (7, "maj")),  # i-iv-VI-V
                ((0, "min"), (8, "maj"), (5, "min"), (10, "maj")),  # i-VI-iv-VII
            ),
            chord_bars=1,
            cadences=(((5, "min"), (7, "dom7")), ((8, "maj"), (10, "maj")), ((5, "min"), (7, "sus4"))),
            comp=("x---------------", "x-------x-------"),
            grooves=(
                {"tom_low": "X.......x.......", "kick": "x...............", "ride": "........o......."},
                {"tom_low": "X.....x.x.......", "kick": "x.......x......."},
                {"tom_low": "x...o...x...o...", "kick": "x..............."},
            ),
            fill={"tom_low": "x.x.x.X.", "tom_high": "o.o.x.x."},
            fill_beats=2,
            bass=("R-------------5-", "R-------5-------", "R-----------P---"),
            bass_register=(36, 52),
            melody_rhythms=("x-------x---x---", "x-----x-x-------", "x-------x-------", "x---x---x-------"),
            melody_register=(60, 84),
            melody_leap=4,
            arpeggio=False,
            staccato=False,
            event_rate=0.12,
        ),
        Style(
            name="piano_ballad",
            words=("piano ballad", "major", "slow", "warm", "gentle"),
            tempo_bpm=(60.0, 80.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="major",
            progressions=(
                ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),  # I-V-vi-IV
                ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),  # vi-IV-I-V
                ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),  # I-vi-IV-V
                ((0, "maj7"), (4, "min"), (5, "maj"), (7, "sus4")),  # Imaj7-iii-IV-Vsus
            ),
            chord_bars=1,
            cadences=(((5, "maj"), (7, "dom7")), ((2, "min7"), (7, "dom7")), ((5, "maj"), (0, "maj"))),
            comp=("x-------x-------", "x---x---x---x---", "x-----x---x-----"),
            grooves=(
                {"kick": "x.......o.......", "snare": "........o.......", "hat_closed": "o.o.o.o.o.o.o.o."},
                {"kick": "x.........o.....", "snare": "....o.......o...", "hat_closed": "o...o...o...o..."},
                {"kick": "x...............", "ride": "o...o...o...o..."},
            ),
            fill={"snare": "o.o.x.x.", "tom_low": "......o."},
            fill_beats=2,
            bass=("R-------5-------", "R-----------P---", "R-------3-----A-"),
            bass_register=(33, 50),
            melody_rhythms=("x---x---x-x-x---", "x-----x-x---x---", "x---x-x-x-------", "..x-x---x---x---"),
            melody_register=(60, 81),
            melody_leap=3,
            arpeggio=False,
            staccato=False,
            event_rate=0.1,
        ),
        Style(
            name="indie_rock",
            words=("indie rock", "major", "upbeat", "driving guitars"),
            tempo_bpm=(112.0, 138.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="mixolydian",
            progressions=(
                ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),  # I-V-vi-IV
                ((0, "maj"), (5, "maj"), (9, "min"), (7, "maj")),  # I-IV-vi-V
                ((0, "maj"), (10, "maj"), (5, "maj"), (0, "maj")),  # I-bVII-IV-I
                ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),  # vi-IV-I-V
            ),
            chord_bars=1,
            cadences=(((5, "maj"), (7, "maj")), ((10, "maj"), (5, "maj")), ((7, "sus4"), (7, "maj"))),
            comp=("x-x-x-x-x-x-x-x-", "x--x--x-x--x--x-", "x---x-x-x---x-x-"),
            grooves=(
                {"kick": "x.......x.x.....", "snare": "....x.......x...", "hat_closed": "x.x.x.x.x.x.x.x."},
                {"kick": "x.....x.x.......", "snare": "....x.......x...", "hat_closed": "x.x.x.x.x.x.x.x."},
                {"kick": "x.x.....x.x.....", "snare": "....x.......x..o", "hat_open": "x.x.x.x.x.x.x.x."},
                {"kick": "x.......x.....x.", "snare": "....x.......x...", "ride": "x.x.x.x.x.x.x.x."},
            ),
            fill={"snare": "xxxx....", "tom_high": "....xx..", "tom_low": "......xX"},
            fill_beats=2,
            bass=("R-R-R-R-R-R-R-A-", "R-R-R-R-5-5-P-A-", "R--R--R-R-8-R-A-"),
            bass_register=(28, 48),
            melody_rhythms=("x.x.x---..x.x---", "x---x.x...x.x-x-", "..x.x-x-x.x-x---", "x-x-..x-x-x-x---"),
            melody_register=(62, 84),
            melody_leap=3,
            arpeggio=False,
            staccato=False,
            event_rate=0.25,
        ),
        Style(
            name="electronic_pulse",
            words=("electronic pulse", "minor", "fast", "synth arpeggios", "four on the floor"),
            tempo_bpm=(118.0, 132.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="minor",
            progressions=(
                ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),
                ((0, "min7"), (5, "min7"), (8, "maj7"), (10, "sus4")),
                ((0, "min"), (0, "min"), (8, "maj"), (10, "maj")),
            ),
            chord_bars=1,
            cadences=(((8, "maj"), (10, "sus4")), ((5, "min7"), (7, "sus4"))),
            comp=("..x...x...x...x.", "x-------x-------", "..x..x..x..x..x."),
            grooves=(
                {"kick": "X...x...x...x...", "snare": "....x.......x...", "hat_open": "..x...x...x...x."},
                {"kick": "X...x...x...x...", "hat_closed": "oxoxoxoxoxoxoxox", "snare": "....x.......x..."},
                {
                    "kick": "X...x...x...x.o.",
                    "hat_open": "..x...x...x...x.",
                    "hat_closed": "o...o...o...o...",
                },
            ),
            fill={"snare": "oooxxxxX", "kick": "x.x.x.x."},
            fill_beats=2,
            bass=(".R.R.R.R.R.R.R.R", "R.8.R.8.R.8.R.8.", "..R-..R-..R-..A-"),
            bass_register=(28, 46),
            melody_rhythms=("xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx", "x.x.x.x.x.x.x.x."),
            melody_register=(64, 88),
            melody_leap=2,
            arpeggio=True,
            staccato=True,
            event_rate=0.3,
        ),
        Style(
            name="acoustic_folk",
            words=("acoustic folk", "major", "waltz", "strummed guitar"),
            tempo_bpm=(96.0, 126.0),
            beats_per_bar=3,
            steps_per_beat=4,
            mode="major",
            progressions=(
                ((0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")),  # I-IV-I-V
                ((0, "maj"), (7, "maj"), (5, "maj"), (0, "maj")),  # I-V-IV-I
                ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),  # I-vi-IV-V
                ((0, "maj"), (2, "min"), (5, "maj"), (7, "sus4")),  # I-ii-IV-Vsus
            ),
            chord_bars=1,
            cadences=(((7, "maj"), (0, "maj")), ((5, "maj"), (7, "dom7"))),
            comp=("x---x---x---", "x---x-x-x-x-", "x-----x-x---"),
            grooves=(
                {"kick": "x...........", "snare": "....o...o...", "hat_closed": "o.o.o.o.o.o."},
                {"kick": "x.......o...", "snare": "....x...x...", "hat_closed": "o...o...o..."},
                {"kick": "x...........", "tom_low": "....o...o...", "hat_open": "o.......o..."},
            ),
            fill={"snare": "o.x.", "tom_low": "..x."},
            fill_beats=1,
            bass=("R---5---5---", "R---5---P---", "R-------A---"),
            bass_register=(36, 52),
            melody_rhythms=("x---x---x---", "x-x-x---x---", "x-----x-x-x-", "x-------x---"),
            melody_register=(62, 81),
            melody_leap=2,
            arpeggio=False,
            staccato=False,
            event_rate=0.15,
        ),
        Style(
            name="jazz_trio",
            words=("jazz trio", "swing", "walking bass", "seventh chords"),
            tempo_bpm=(110.0, 168.0),
            beats_per_bar=4,
            steps_per_beat=3,
            mode="major",
            progressions=(
                ((2, "min7"), (7, "dom7"), (0, "maj7"), (0, "maj7")),  # ii-V-I
                ((4, "min7"), (9, "dom7"), (2, "min7"), (7, "dom7")),  # iii-VI-ii-V
                ((0, "maj7"), (9, "min7"), (2, "min7"), (7, "dom7")),  # I-vi-ii-V
                ((0, "maj7"), (5, "maj7"), (4, "min7"), (9, "dom7")),  # I-IV-iii-VI
            ),
            chord_bars=1,
            cadences=(((2, "min7"), (7, "dom7")), ((4, "min7"), (9, "dom7"))),
            comp=("..x.....x...", "...x..x.....", "x.....x..x.."),
            grooves=(
                {"ride": "x..x.xx..x.x", "hat_closed": "...x.....x..", "kick": "o..........."},
                {"ride": "x..x.xx..x.x", "hat_closed": "...x.....x..", "snare": "........o..o"},
                {"ride": "x..x..x..x.x", "hat_closed": "...x.....x..", "snare": ".....o......"},
            ),
            fill={"snare": "x.xx.x", "tom_low": ".....X"},
            fill_beats=2,
            bass=("R--3--5--A--", "R--5--P--A--", "R--8--5--A--"),
            bass_register=(28, 52),
            melody_rhythms=("x.xx.xx.x---", "..xx.xx.xx.x", "x--x.x..xx.x", "x.xx.x-----."),
            melody_register=(60, 84),
            melody_leap=3,
            arpeggio=False,
            staccato=False,
            event_rate=0.15,
        ),
        Style(
            name="ambient",
            words=("ambient", "lydian", "very slow", "soft pads", "floating"),
            tempo_bpm=(60.0, 76.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="lydian",
            progressions=(
                ((0, "maj7"), (2, "maj")),  # I-II (the lydian colour)
                ((0, "sus2"), (9, "min7")),
                ((0, "maj7"), (7, "sus2")),
            ),
            chord_bars=2,
            cadences=(((2, "maj"), (0, "sus2")), ((7, "sus2"), (0, "maj7"))),
            comp=("x---------------", "x---------------"),
            grooves=(
                {"ride": "o.......o......."},
                {"hat_closed": "o...o...o...o..."},
                {"ride": "o...o...o...o...", "kick": "o..............."},
            ),
            fill={"ride": "o.o.o.o.", "tom_low": "......o."},
            fill_beats=2,
            bass=("R---------------", "R-------5-------"),
            bass_register=(31, 48),
            melody_rhythms=("x.x.x.x.x.x.x.x.", "x---x---x---x---"),
            melody_register=(64, 91),
            melody_leap=2,
            arpeggio=True,
            staccato=False,
            event_rate=0.06,
        ),
        Style(
            name="action_percussion",
            words=("action percussion", "minor", "very fast", "pounding drums", "staccato"),
            tempo_bpm=(134.0, 160.0),
            beats_per_bar=4,
            steps_per_beat=4,
            mode="minor",
            progressions=(
                ((0, "min"), (8, "maj"), (10, "maj"), (0, "min")),  # i-VI-VII-i
                ((0, "min"), (1, "maj"), (0, "min"), (10, "maj")),  # i-bII-i-VII (phrygian)
                ((0, "sus4"), (0, "min"), (8, "maj"), (7, "maj")),
            ),
            chord_bars=1,
            cadences=(((8, "maj"), (7, "maj")), ((1, "maj"), (7, "dom7"))),
            comp=("x..x..x.x..x..x.", "x.x.x.x.x.x.x.x.", "X..x..x...x.x..."),
            grooves=(
                {"kick": "X..x..x.X..x..x.", "snare": "....X.......X...", "tom_low": "..x...x...x...x."},
                {"kick": "X.x.X.x.X.x.X.x.", "tom_high": "..x...x...x...xx", "snare": "....X.......X..."},
                {"kick": "X..x..x.X.....x.", "tom_low": "xx..xx..xx..xx..", "snare": "....X.......X..."},
            ),
            fill={"tom_high": "xxxx....", "tom_low": "....xxxX", "snare": "x.x.x.xX"},
            fill_beats=2,
            bass=("R.R.R.R.R.R.R.R.", "R..R..R.R..R..A.", "RRR.RRR.RRR.R.A."),
            bass_register=(28, 45),
            melody_rhythms=("x.x.x...x.x.x...", "x..x..x.x.x.....", "x.xx.xx.x......."),
            melody_register=(57, 79),
            melody_leap=2,
            arpeggio=False,
            staccato=True,
            event_rate=0.4,
        ),
    )
}


def style(name: str) -> Style:
    """The style called `name`; KeyError lists the known ones."""
    try:
        return STYLE_TABLE[name]
    except KeyError:
        raise KeyError(f"unknown style {name!r}; known: {', '.join(STYLES)}") from None


def style_words(name: str) -> tuple[str, ...]:
    """The single words of a style's caption (what a text prompt may use to ask for it)."""
    return tuple(dict.fromkeys(w for phrase in style(name).words for w in phrase.split()))


def known_prompt_words() -> frozenset[str]:
    """Every word some caption uses (the styles' and the moods'), plus the tempo suffix "bpm"."""
    styles = {w for name in STYLES for w in style_words(name)}
    return frozenset(styles | {w for name in MOOD_TABLE for w in mood_words(name)} | {"bpm"})


def caption(name: str, tempo_bpm: float, mood_name: str = NEUTRAL) -> str:
    """The prompt a text encoder sees for a section of this style, in this mood, at this tempo:
    the style's words, then the mood's (none for neutral), then the tempo. A mood that changes
    the mode names its mode instead of the style's ("acoustic folk, minor, ..., tense")."""
    m = mood(mood_name)
    words = list(style(name).words)
    if m.mode is not None:
        words = [w for w in words if w not in SCALES]
        words.insert(1, m.mode)
    return ", ".join((*words, *m.words)) + f", {round(tempo_bpm)} bpm"


def check_table() -> None:
    """Raise ValueError if a pattern has the wrong length or a range / name is out of bounds."""
    if tuple(STYLE_TABLE) != STYLES:
        raise ValueError(f"style table {tuple(STYLE_TABLE)} != score.STYLES {STYLES}")
    for s in STYLE_TABLE.values():
        n = s.steps_per_bar
        patterns = [*s.comp, *s.bass, *s.melody_rhythms] + [p for g in s.grooves for p in g.values()]
        bad = [p for p in patterns if len(p) != n]
        if bad:
            raise ValueError(f"{s.name}: patterns {bad} are not {n} steps long")
        fill = [p for p in s.fill.values() if len(p) != s.fill_beats * s.steps_per_beat]
        pieces = {p for g in (*s.grooves, s.fill) for p in g}
        chords = [q for prog in (*s.progressions, *s.cadences) for _, q in prog]
        if fill or not pieces <= set(DRUM_PIECES) or not set(chords) <= set(CHORD_QUALITIES):
            raise ValueError(f"{s.name}: fill lengths {fill}, pieces {pieces} or chords {chords} invalid")
        if not (BASS_RANGE[0] <= s.bass_register[0] and s.bass_register[1] <= BASS_RANGE[1]):
            raise ValueError(f"{s.name}: bass register {s.bass_register} outside {BASS_RANGE}")
        if not (MELODY_RANGE[0] <= s.melody_register[0] and s.melody_register[1] <= MELODY_RANGE[1]):
            raise ValueError(f"{s.name}: melody register {s.melody_register} outside {MELODY_RANGE}")
        if any(len(c) not in (1, 2) for c in s.cadences):
            raise ValueError(f"{s.name}: a cadence is one or two chords over the section's last two bars")
