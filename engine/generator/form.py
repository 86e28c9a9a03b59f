"""Decoding with form: one key per cue, a progression per bar, themes and grooves that return, and
a cadence with its notes released where a cue ends into silence.

Why: the tiny LM picks plausible notes frame by frame but has no idea of key, bar or phrase (its
melodies leap two octaves in ten seconds, its grooves never repeat a bar, a cue stops mid-chord).
A composer writes the form first — key, harmonic plan, phrase plan, ending — and lets the notes
follow it. `FormPlan` is that plan for one cue, laid on the cue's tempo grid; `FormDecoder` turns
it into log-odds added to the LM's own logits at every sampling step (constrained sampling, as the
tempo grid does): the chord of each bar is the only chord the harmony stream may strike and is
struck where it changes, melody and bass play the key's notes, favour chord tones and steps over
leaps, the melody repeats its 2-bar cell and brings the theme back at phrase lags, the drums repeat
the bar before (a fill is free at a phrase's last bar), and a cue that ends into silence closes
with a cadence and rests before its out point.

The harmony and registers per style come from the model folder's `style_forms.json` (written by
the recipe from the composer's style table); the product path never imports the corpus.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.generator.grid_position import PHRASE_BARS
from engine.generator.tempo_grid import Meter, TempoGrid
from engine.symbolic import tokens as symbolic_tokens
from engine.symbolic.modes import SCALES, SEVENTHS, darken, harmonize
from engine.symbolic.score import ACCENTS, BASS_RANGE, CHORD_QUALITIES, MELODY_RANGE, STREAMS

STYLE_FORMS_FILE = "style_forms.json"

DRUMS, BASS, HARMONY, MELODY, STYLE = (
    STREAMS.index(s) for s in ("drums", "bass", "harmony", "melody", "style")
)
PERIOD_BARS = 8  # a period: two 4-bar phrases, the second closing with the style's cadence
FILL_FROM = 0.5  # the drums are free from here in a phrase's last bar (a fill into the next)

# Log-odds of the plan (added to the LM's logits; -inf is a mask).
CHORD_TONE_ODDS = 1.0  # melody and bass notes that belong to the bar's chord
STEP_ODDS = 0.5  # per semitone of melodic step beyond a whole tone
MAX_LEAP = 9  # a melody never leaps further than a major sixth from its last note
BASS_STEP_ODDS = 0.15  # per semitone of bass move beyond a fifth
MOTIF_ODDS = 10.0  # the melody plays again what it played at the plan's lag (pitch and rhythm)
DRUM_ODDS = 12.0  # the drums play again the bar before (the same kit set on the same step)
BASS_RHYTHM_ODDS = 1.5  # the bass starts notes where it did a bar before
REGISTER_SLACK = 2  # semitones a melody or bass may stray outside its style's register
CADENCE_BEATS = 2  # the approach chord's length before the closing tonic
SEAM_BEATS = 1.0  # a chord or bass note sounding this long before a seam rings on to it
RELEASE_S = 0.6  # a cue ending into silence rests this long before its out point (the tail rings)
# A fresh cue whose first beat comes this many frames or more after its in point enters on its
# first frame with the chord and bass of its opening bar, held into that beat. Music that starts
# from digital silence a few frames in is a hard entry of the whole band at once: a listener (and
# an onset detector) hears one blow louder than anything after it, and a short cue reads as a
# single stab rather than a pulse (montage cues of 3-5 s: the entry 4-13x their other onsets).
ENTRY_MIN_FRAMES = 2

# A mood's note-level play (`MoodPlay`) as log-odds on the melody's onsets: per unit of its
# density (sadness -0.4: fewer notes; action +0.4: more), and an ostinato's pulse, its figure
# taking nearly every grid onset (tense cues read as tension from their notes in 7, 10, 12 and 17
# of 30 at 1, 2, 3 and 5: `prompt_obedience --mood-seeds 1,2,3,4,5,6`). Its accents are the
# composer's, the only ones allowed: metric (a melody note on a beat medium, off it soft; bass and
# chords medium on the bar's first beat; an ostinato's every note medium, the first of its phrase
# strong), one level softer or stronger on the grid frames its dynamics drew
# (`FormPlan.accent_shifts`, each with the chance |dynamics|: romance -0.4, action +0.5); the
# drums keep the LM's (a style's backbeat is its own; leaning them with the dynamics lost 8 cues
# of 210). Left to the LM, a mood's words turned nearly every accent soft (mean accent of a tense
# cue's melody 0.12, the composer's tension 0.84: guidance overshoots), and odds the size of the
# composer's chances did not move it. A mood's melody keeps near its register's centre: left to
# the LM a romantic ballad's tune sat 2 semitones over the composer's and read as wonder (+7).
# Tense cues read as tension in 17 -> 24 of 30 with the marcato pulse, romance 15 -> 21 with the
# centre (2 per octave; 3 read 8 cues fewer overall, the phrase's strong opening on every mood 9).
DENSITY_ODDS = 3.0
MOOD_CENTRE_ODDS = 2.0  # log-odds per octave a mood's melody note lies from its register's centre
OSTINATO_ODDS = 5.0

# The last two chords of a cue that ends into silence, per mode (root above the tonic, quality):
# the approach, then the tonic.
FINAL_CADENCE = {
    "major": ((7, "dom7"), (0, "maj")),
    "minor": ((7, "dom7"), (0, "min")),
    "dorian": ((7, "min7"), (0, "min")),
    "mixolydian": ((10, "maj"), (0, "maj")),
    "lydian": ((2, "maj"), (0, "maj")),
}
TRIAD_OF = {"dom7": "maj", "maj7": "maj", "min7": "min"}  # a seventh chord without its seventh
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)  # every style's mode is one of its rotations (a key signature)
# Krumhansl–Kessler key profiles (probe-tone ratings, tonic first): which of two signatures that
# hold the same notes the music leans to
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

Chord = tuple[int, str]  # (semitones above the tonic, quality)


@dataclass(frozen=True)
class StyleForm:
    """A style's harmony and registers (`style_forms.json`)."""

    mode: str
    scale: tuple[int, ...]
    progressions: tuple[tuple[Chord, ...], ...]
    cadences: tuple[tuple[Chord, ...], ...]
    chord_bars: float
    melody_register: tuple[int, int]
    bass_register: tuple[int, int]
    arpeggio: bool = False  # the melody arpeggiates the chord (it moves by chord tones, not steps)
    # the closing approach chord, where a mood moved the style into another mode (`in_mode`);
    # None: the mode's own (`FINAL_CADENCE`)
    approach: Chord | None = None

    @property
    def final_cadence(self) -> tuple[Chord, Chord]:
        """(approach, tonic) of a cue that ends into silence."""
        to_home, home = FINAL_CADENCE[self.mode]
        return (self.approach or to_home), home

    @classmethod
    def from_dict(cls, d: dict) -> StyleForm:
        chords = lambda rows: tuple(tuple((int(r) % 12, str(q)) for r, q in row) for row in rows)  # noqa: E731
        form = cls(
            str(d["mode"]),
            tuple(int(x) % 12 for x in d["scale"]),
            chords(d["progressions"]),
            chords(d["cadences"]),
            float(d["chord_bars"]),
            (int(d["melody_register"][0]), int(d["melody_register"][1])),
            (int(d["bass_register"][0]), int(d["bass_register"][1])),
            bool(d.get("arpeggio", False)),
        )
        qualities = {q for row in (*form.progressions, *form.cadences) for _, q in row}
        if not form.progressions or not qualities <= set(CHORD_QUALITIES) or form.chord_bars <= 0:
            raise ValueError("a style form needs progressions of known chord qualities and chord_bars > 0")
        if form.mode not in FINAL_CADENCE:
            raise ValueError(f"mode {form.mode!r} unknown; use one of {', '.join(FINAL_CADENCE)}")
        return form


def in_mode(form: StyleForm, mode: str) -> StyleForm:
    """`form` with its harmony moved into `mode` degree by degree, as the composer plays a style
    in a mood (`engine.symbolic.modes.harmonize`: a sad prompt over a major style's I–V–vi–IV
    writes i–v–VI–iv); unchanged for its own mode or a mode it does not know. Its closing approach
    moves the same way (a sad piano ballad closes v7–i, as the composer's minor ballads do, not
    V7–i), unless that makes it diminished (mixolydian's bVII in major): then the mode's own
    approach, as a triad where the style plays no sevenths (uplifting indie rock closes V–I)."""
    if mode == form.mode or mode not in SCALES or form.mode not in SCALES:
        return form
    rows = lambda chords: tuple(tuple(harmonize(c, form.mode, mode) for c in row) for row in chords)  # noqa: E731
    approach = harmonize(form.final_cadence[0], form.mode, mode)
    if approach[1] == "dim":
        approach = FINAL_CADENCE[mode][0]
        sevenths = {q for row in (*form.progressions, *form.cadences) for _, q in row} & SEVENTHS
        if not sevenths:
            approach = (approach[0], TRIAD_OF.get(approach[1], approach[1]))
    return replace(
        form,
        mode=mode,
        scale=SCALES[mode],
        progressions=rows(form.progressions),
        cadences=rows(form.cadences),
        approach=approach,
    )


@dataclass(frozen=True)
class MoodPlay:
    """How a mood plays a style beyond its mode: the model folder's vocabulary carries it per mood
    (`prompt_vocabulary.json`, written from the composer's mood table), so a cue asked for a mood
    is decoded the way the corpus wrote that mood — its melody's register moved, fewer or more
    notes, softer or stronger accents, tension's suspended chords, an ostinato's one-bar figure.
    Decoded from the mood's words alone, a 3-4 s tense cue played a pretty V7-i."""

    register_shift: int = 0  # semitones the melody's register moves (kept inside MELODY_RANGE)
    density: float = 0.0  # < 0 fewer melody onsets, > 0 more (`DENSITY_ODDS`)
    dynamics: float = 0.0  # < 0 softer accents, > 0 stronger (the chance of one level off the metric one)
    dissonant: bool = False  # major chords suspended (`modes.darken`), the approach included
    ostinato: bool = False  # every melody bar repeats the bar before

    @classmethod
    def from_dict(cls, d: dict) -> MoodPlay:
        play = cls(
            int(d.get("register_shift", 0)),
            float(d.get("density", 0.0)),
            float(d.get("dynamics", 0.0)),
            bool(d.get("dissonant", False)),
            bool(d.get("ostinato", False)),
        )
        if not (abs(play.density) <= 1 and abs(play.dynamics) <= 1 and abs(play.register_shift) <= 12):
            raise ValueError("a mood's density and dynamics lie in [-1, 1], its register shift in [-12, 12]")
        return play

    def register(self, register: tuple[int, int]) -> tuple[int, int]:
        """A melody `register` moved by the mood, kept inside MELODY_RANGE (as the composer does)."""
        lo, hi = register
        shift = max(MELODY_RANGE[0] - lo, min(MELODY_RANGE[1] - hi, self.register_shift))
        return lo + shift, hi + shift


def in_mood(form: StyleForm, play: MoodPlay | None) -> StyleForm:
    """`form` (already in the mood's mode, `in_mode`) with the mood's harmony: tension suspends
    its major chords as the composer's `mooded_style` does."""
    if play is None or not play.dissonant:
        return form
    rows = lambda chords: tuple(tuple(darken(c, form.mode) for c in row) for row in chords)  # noqa: E731
    return replace(form, progressions=rows(form.progressions), cadences=rows(form.cadences))


def read_style_forms(folder: Path) -> dict[str, StyleForm] | None:
    """A model folder's style -> StyleForm table, or None when the folder has none."""
    path = Path(folder) / STYLE_FORMS_FILE
    if not path.is_file():
        return None
    try:
        return {
            name: StyleForm.from_dict(d) for name, d in json.loads(path.read_text(encoding="utf-8")).items()
        }
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{path}: not a style form table ({exc}); rewrite it with `vm-train`") from exc


# --- the key ------------------------------------------------------------------------------------


def pitch_class_weights(codes: np.ndarray) -> np.ndarray:
    """[12] how long each pitch class sounds in symbolic tokens [K, T] (melody, bass, chord tones)."""
    score = symbolic_tokens.decode(np.asarray(codes, dtype=np.int64))
    w = np.zeros(12)
    for note in (*score.melody, *score.bass):
        w[note.pitch % 12] += note.end - note.start
    for chord in score.harmony:
        for i in CHORD_QUALITIES[chord.quality]:
            w[(chord.root + i) % 12] += 0.5 * (chord.end - chord.start)
    return w


def key_signature(codes: np.ndarray) -> frozenset[int] | None:
    """The seven pitch classes (a major scale's, in any of its modes) that hold the most of the
    notes of symbolic tokens [K, T] — what a cue decoded with form was written in, whatever its
    mode — or None when nothing sounds. Chords that leave out a degree fit two signatures; the
    one whose tonic the notes lean to (Krumhansl) wins."""
    weights = pitch_class_weights(codes)
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return None
    inside = np.array([weights[[(t + x) % 12 for x in MAJOR_SCALE]].sum() for t in range(12)])
    tied = np.flatnonzero(inside >= inside.max() - 1e-9 * max(inside.max(), 1.0))

    def lean(t: int) -> float:  # the signature of major tonic t read as its major or relative minor
        major = np.corrcoef(weights, np.roll(MAJOR_PROFILE, t))[0, 1]
        minor = np.corrcoef(weights, np.roll(MINOR_PROFILE, (t + 9) % 12))[0, 1]
        return float(np.nanmax([major, minor, -1.0]))

    best = max(tied.tolist(), key=lean)
    return frozenset((best + x) % 12 for x in MAJOR_SCALE)


def tonic_in(signature: frozenset[int], scale: tuple[int, ...]) -> int | None:
    """The tonic whose `scale` has exactly the pitch classes of `signature` (a relative mode:
    F# minor's notes are D lydian's), or None when no tonic does."""
    for t in range(12):
        if frozenset((t + x) % 12 for x in scale) == signature:
            return t
    return None


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormPlan:
    """One cue's form on its grid, in global frames (0 = the cue's first new frame)."""

    tonic: int
    form: StyleForm
    grid: TempoGrid
    frames: int
    chords: tuple[tuple[int, int, Chord], ...]  # (start, end, chord) spans covering [0, frames)
    strikes: frozenset[int]  # harmony grid frames where a new chord must be struck
    roots: frozenset[int]  # bass grid frames where the bass must play the new chord's root
    melody_from: dict[int, int]  # melody grid frame -> the frame it repeats (the theme's lag)
    drums_from: dict[
        int, tuple[int, ...]
    ]  # drum grid frame -> the frames a groove bar earlier, nearest first
    bass_from: dict[int, int]  # bass grid frame -> the frame a bar earlier
    accents: frozenset[int]  # hit points: the chord and the bass strike there with the drums
    final: int | None  # the strong beat the closing tonic lands on (ends into silence), or None
    release: int | None  # from here every stream rests (ends into silence), or None
    # the frame the next cue takes over (a cue that runs on: its handle follows), or None; what
    # sounds in the beat before it rings across (`SEAM_BEATS`)
    seam: int | None = None
    # the cue's first harmony beat when it comes `ENTRY_MIN_FRAMES` or more after frame 0: the
    # chord and bass sound from frame 0 (struck there, or held on from a continued cue's prompt)
    # into it, else None
    entry: int | None = None
    mood: MoodPlay | None = None  # the mood's note-level play (a prompt or control named one)
    # grid frames where the mood's dynamics move the metric accent a level (`MoodPlay.dynamics`)
    accent_shifts: frozenset[int] = frozenset()
    # the melody rides out the closing tonic, its figure going on over it to the release (an
    # ostinato mood, a high-energy cue), where it would hold the tonic
    rides_out: bool = False

    @property
    def closing(self) -> int | None:
        """The first frame of the ending (the closing beat, else the release), or None."""
        return self.final if self.final is not None else self.release

    def chord_at(self, frame: int) -> Chord:
        for start, end, chord in self.chords:
            if start <= frame < end:
                return chord
        return self.chords[-1][2] if frame >= 0 else self.chords[0][2]

    def pitch_classes(self, chord: Chord) -> frozenset[int]:
        root, quality = chord
        return frozenset((self.tonic + root + i) % 12 for i in CHORD_QUALITIES[quality])

    @property
    def scale(self) -> frozenset[int]:
        return frozenset((self.tonic + s) % 12 for s in self.form.scale)


TEMPO_RATIOS = (0.5, 1.0, 2.0)  # the related tempos a style change may move to (half, same, double)


def related_grid(grid: TempoGrid, meter: Meter) -> TempoGrid | None:
    """The grid a style of `meter` plays on when it takes over a cue decoded on `grid`: the same
    downbeats at the related tempo (half, same or double) nearest its tempo range, with its own
    onset positions; None when that is `grid` itself. Ambient after an electronic opening at
    128 bpm plays in half time (64 bpm, its range 60–76), not at 128 (issue 25: ambient sections
    at 142–156 bpm)."""
    lo, hi = (math.log(t) for t in meter.tempo_bpm)

    def distance(ratio: float) -> float:
        t = math.log(grid.bpm * ratio)
        return max(lo - t, t - hi, 0.0) + (0.0 if ratio == 1.0 else 1e-9)  # ties keep the tempo

    ratio = min(TEMPO_RATIOS, key=distance)
    positions = tuple(sorted(meter.onset_positions))
    if ratio == 1.0 and meter.steps_per_beat == grid.steps_per_beat and positions == tuple(sorted(grid.onset_positions)):
        return None
    return TempoGrid(
        grid.bpm * ratio,
        grid.origin,
        meter.steps_per_beat,
        grid.beats_per_bar,
        grid.frame_rate,
        positions,
    )


def _bar_of(grid: TempoGrid, frame: float) -> int:
    return math.floor((frame - grid.origin) / (grid.step_frames * grid.steps_per("bar")) + 1e-6)


LagRule = Callable[[int, float], int]  # (bar from the cue's first, position in the bar 0..1) -> bars back


def _lagged(
    grid: TempoGrid, frames: np.ndarray, rule: LagRule, first_bar: int, lowest: int, extra: int = 0
) -> dict[int, int]:
    """Each frame -> the frame `rule` (+ `extra`) bars earlier on the grid's own steps (exact: a
    fractional step never drifts the lookup), when the rule names a lag and that frame is at or
    after `lowest`."""
    bar_steps = grid.steps_per("bar")
    out = {}
    for f in frames.tolist():
        k = round((f - grid.origin) / grid.step_frames)
        bar, step = divmod(k, bar_steps)
        lag = rule(bar - first_bar, step / bar_steps)
        if not lag:
            continue
        then = int(round(grid.origin + (k - (lag + extra) * bar_steps) * grid.step_frames))
        if then >= lowest:
            out[int(f)] = then
    return out


def _groove_sources(
    grid: TempoGrid, frames: np.ndarray, rule: LagRule, first_bar: int, lowest: int
) -> dict[int, tuple[int, ...]]:
    """Each drum frame -> the frame its groove bar played it, then that frame a bar and two bars
    further back (a hit point's forced accent there is not the groove: the decoder skips it)."""
    out: dict[int, tuple[int, ...]] = {}
    for extra in range(3):
        for f, then in _lagged(grid, frames, rule, first_bar, lowest, extra).items():
            out[f] = (*out.get(f, ()), then)
    return out


def _closing_beat(grid: TempoGrid, release: int) -> int | None:
    """The last strong beat (a bar's first, or its middle in an even bar) a beat or more before
    `release`: where the tonic lands, so the closing chord rings one to three beats, not a bar."""
    beat = grid.beat_frames
    strong = {0, grid.beats_per_bar // 2} if grid.beats_per_bar % 2 == 0 else {0}
    best = None
    for f in grid.frames(0, release, "beat").tolist():
        k = round((f - grid.origin) / beat)
        if k % grid.beats_per_bar in strong and f + beat <= release:
            best = int(f)
    return best


def melody_lag(bar: int, _position: float = 0.0) -> int:
    """Bars back to the cell a melody bar repeats (0: new material). An 8-bar period states a
    2-bar cell, repeats it, contrasts, brings the cell back and closes freely; later periods
    return to the first period's theme."""
    m = bar % PERIOD_BARS
    if m in (2, 3):
        return 2
    if m == 6:
        return 6
    if m in (0, 1, 4, 5) and bar >= PERIOD_BARS:
        return PERIOD_BARS
    return 0


def short_melody_lag(bar: int, _position: float = 0.0) -> int:
    """A cue too short for a period (under 4 bars: a sting, a 3–8 s shot) states a one-bar
    figure and answers it: bar 1 repeats bar 0, bar 2 returns to it, and so on."""
    return 0 if bar <= 0 else 1 if bar % 2 else 2


SHORT_CUE_BARS = 4  # fewer bars than this: `short_melody_lag`


def ostinato_lag(bar: int, _position: float = 0.0) -> int:
    """An ostinato (tension, action): every bar repeats the one-bar figure of the bar before."""
    return int(bar > 0)


def approach_beats(grid: TempoGrid, final: int) -> int:
    """Beats the closing approach chord takes before the tonic on `final`: `CADENCE_BEATS` where
    as much of the cue comes before it, one beat in a cue that reaches its close within four
    beats, none within two — so a 3-4 s cue states its key before it cadences (a V7-i that was
    the whole cue read as in the key of V, its mood lost)."""
    opening = final / grid.beat_frames
    if opening >= 2 * CADENCE_BEATS - 1e-6:
        return CADENCE_BEATS
    return 1 if opening >= 2 - 1e-6 else 0


def drum_lag(bar: int, position: float = 0.0) -> int:
    """Bars back to the groove a drum bar repeats: the bar before; the second half of a 4-bar
    phrase's last bar is free (a fill), and the bar after it repeats the groove two bars back."""
    m = bar % 4
    if m == 3 and position >= FILL_FROM:
        return 0
    if m == 0:
        return 2 if bar > 0 else 0
    return 1


def bass_lag(bar: int, position: float = 0.0) -> int:
    """The bass repeats its rhythm a bar earlier (two after a phrase's last bar)."""
    return 2 if bar % 4 == 0 and bar > 0 else int(bar != 0)


def plan_form(
    *,
    grid: TempoGrid,
    form: StyleForm,
    tonic: int,
    frames: int,
    first: int,
    end_frame: int | None,
    rng: np.random.Generator,
    hits: frozenset[int] = frozenset(),
    frame_rate: float = 50.0,
    seam: int | None = None,
    mood: MoodPlay | None = None,
    energy: str | None = None,
) -> FormPlan:
    """The form of a cue of `frames` new frames (prompt frames from `first` < 0) on `grid`.

    Bars count from the cue's first bar; each period takes a progression from the style's (the
    next period another), its last two bars the style's cadence; a cue that ends into silence at
    `end_frame` (None: it runs on into the next cue) closes on the mode's approach chord and the
    tonic, struck on the last strong beat that leaves a beat before the release, and rests from
    `RELEASE_S` before that frame to the end of its frames (a handle past it stays silent). At
    the `hits` (cuts, markers) the chord and the bass strike with the drums' forced accent. A cue
    that runs on into the next at `seam` lets the chord and bass sounding in the beat before it
    ring across: a continued cue's seam never falls in a staccato texture's gap. A cue whose
    first harmony beat comes late enters on frame 0 (`ENTRY_MIN_FRAMES`). A cue shorter than
    `SHORT_CUE_BARS` opens on a progression that starts on the tonic, where the style has one. A
    `mood` with an ostinato repeats its melody's bar, one that is dissonant suspends the approach;
    an ostinato or a high `energy` rides out the close (`FormPlan.rides_out`)."""
    bar_frames = grid.step_frames * grid.steps_per("bar")
    first_bar = _bar_of(grid, 0)
    last_bar = _bar_of(grid, frames - 1)
    release = final = None
    if end_frame is not None:
        release = max(1, min(frames, end_frame) - int(round(RELEASE_S * frame_rate)))
        final = _closing_beat(grid, release)
    heard_bars = _bar_of(grid, (release or frames) - 1) - first_bar + 1
    theme_rule = melody_lag if heard_bars >= SHORT_CUE_BARS else short_melody_lag
    if mood is not None and mood.ostinato:
        theme_rule = ostinato_lag
    progressions = [form.progressions[int(i)] for i in rng.permutation(len(form.progressions))]
    if heard_bars < SHORT_CUE_BARS:  # a short cue states its key first (stable: still drawn)
        progressions.sort(key=lambda p: p[0][0] != 0)
    cadences = [form.cadences[int(i)] for i in rng.permutation(len(form.cadences))] if form.cadences else []
    per_chord = max(form.chord_bars, 0.5)
    chords: list[tuple[int, int, Chord]] = []
    half = max(1, int(round(1 / per_chord))) if per_chord < 1 else 1
    for bar in range(first_bar, last_bar + 1):
        rel = bar - first_bar
        start = grid.origin + bar * bar_frames
        for part in range(half):
            pos = rel + part / half
            period = rel // PERIOD_BARS
            m = pos % PERIOD_BARS
            if m >= PERIOD_BARS - 2 and cadences:
                cad = cadences[period % len(cadences)]
                chord = cad[min(len(cad) - 1, int((m - (PERIOD_BARS - 2)) / (2 / len(cad))))]
            else:
                prog = progressions[period % len(progressions)]
                chord = prog[int(m / per_chord) % len(prog)]
            s = int(round(start + part * bar_frames / half))
            e = int(round(start + (part + 1) * bar_frames / half))
            if chords and chords[-1][2] == chord and chords[-1][1] == s:
                chords[-1] = (chords[-1][0], e, chord)
            else:
                chords.append((s, e, chord))
    chords[0] = (min(chords[0][0], first), chords[0][1], chords[0][2])
    chords[-1] = (chords[-1][0], max(chords[-1][1], frames), chords[-1][2])
    if final is not None:  # the approach over the beats before the closing beat, then home
        approach = int(round(final - approach_beats(grid, final) * grid.beat_frames))
        to_home, home = form.final_cadence
        if mood is not None and mood.dissonant:
            to_home = darken(to_home, form.mode)
        kept = [(s, min(e, approach), c) for s, e, c in chords if s < approach]
        chords = [
            *kept,
            *([(approach, final, to_home)] if approach < final else []),
            (final, max(frames, final + 1), home),
        ]
        if chords[0][0] > min(first, 0):  # the close takes the whole cue: home from its start
            chords[0] = (min(first, 0), chords[0][1], chords[0][2])

    def first_on(level_frames: np.ndarray, at: int, until: int) -> int | None:
        after = level_frames[(level_frames >= at) & (level_frames < until)]
        return int(after[0]) if after.size else None

    harmony_frames = grid.onset_frames(0, frames, "harmony")
    bass_frames = grid.onset_frames(0, frames, "bass")
    strikes, roots = set(), set()
    entry = None
    if harmony_frames.size and harmony_frames[0] >= ENTRY_MIN_FRAMES and (release is None or release > 0):
        entry = int(harmony_frames[0])
    for s, e, _ in chords:
        if e <= 0:
            continue
        h = first_on(harmony_frames, max(s, 0), e)
        b = first_on(bass_frames, max(s, 0), e)
        if h is not None and (release is None or h < release):
            strikes.add(h)
        if b is not None and (release is None or b < release):
            roots.add(b)
    return FormPlan(
        tonic=int(tonic) % 12,
        form=form,
        grid=grid,
        frames=frames,
        chords=tuple(chords),
        strikes=frozenset(strikes),
        roots=frozenset(roots),
        accents=frozenset(int(h) for h in hits if 0 <= h < frames),
        melody_from=_lagged(grid, grid.onset_frames(0, frames, "melody"), theme_rule, first_bar, first),
        drums_from=_groove_sources(grid, grid.onset_frames(0, frames, "drums"), drum_lag, first_bar, first),
        bass_from=_lagged(grid, bass_frames, bass_lag, first_bar, first),
        final=final,
        release=release,
        seam=None if end_frame is not None or seam is None or not 0 < seam <= frames else int(seam),
        entry=entry,
        mood=mood,
        accent_shifts=frozenset()
        if mood is None
        else frozenset(f for f in grid.frames(first, frames).tolist() if rng.random() < abs(mood.dynamics)),
        rides_out=energy == "high" or (mood is not None and mood.ostinato),
    )


# --- the plan as log-odds -----------------------------------------------------------------------


def _id_tables(card: int) -> dict[str, np.ndarray]:
    """Per id of the shared cardinality: the melody / bass pitch it starts (-1: not an onset), the
    chord (root pc, quality index) it strikes (-1), and whether it is a drum onset."""
    ids = np.arange(card)
    onset = ids >= symbolic_tokens.ONSET_BASE
    idx = (ids - symbolic_tokens.ONSET_BASE) // ACCENTS

    def pitches(stream: str, low: int) -> np.ndarray:
        p = np.where(onset & (ids < symbolic_tokens.STREAM_SIZES[stream]), low + idx, -1)
        return p.astype(np.int64)

    nq = len(CHORD_QUALITIES)
    chord_ok = onset & (ids < symbolic_tokens.STREAM_SIZES["harmony"])
    return {
        "melody": pitches("melody", MELODY_RANGE[0]),
        "bass": pitches("bass", BASS_RANGE[0]),
        "root": np.where(chord_ok, idx // nq, -1),
        "quality": np.where(chord_ok, idx % nq, -1),
    }


class FormDecoder:
    """A cue's `FormPlan` as log-odds per sampling step, with the tokens played so far (global
    frames, prompt included) for the theme and groove memory."""

    def __init__(
        self,
        plan: FormPlan,
        card: int,
        num_codebooks: int,
        prompt: np.ndarray | None = None,
        styles: dict[int, StyleForm] | None = None,
        meters: dict[int, Meter] | None = None,
        home_style: int | None = None,
    ):
        self.plan = plan
        # style id -> its meter: a style taking over mid-cue starts its notes on its related grid
        self.meters = meters or {}
        self._related: dict[int, TempoGrid | None] = {}
        self.style_id: int | None = None
        self.home_style = home_style  # the style the grid was fitted for: its notes are the grid's
        # style id -> its form: a world change mid-cue brings the new style's registers and
        # figures over the same key and chords (None: the plan's style throughout)
        self.styles = styles or {}
        self.style: StyleForm = plan.form
        self.card = card
        self.K = num_codebooks
        p0 = 0 if prompt is None else int(prompt.shape[-1])
        self.p0 = p0
        self.played = np.full((num_codebooks, p0 + plan.frames), -1, dtype=np.int64)
        if prompt is not None:
            self.played[:, :p0] = prompt
            if p0:
                self.style_id = int(prompt[STYLE, -1])
        self.ids = _id_tables(card)
        self.last_melody = self._last_pitch(MELODY, self.ids["melody"])
        self.last_bass = self._last_pitch(BASS, self.ids["bass"])
        self._rows: dict[tuple, np.ndarray] = {}
        self.hits: set[int] = set()  # global frames whose drums a hit point forced
        self.onset_ids = np.arange(card) >= symbolic_tokens.ONSET_BASE
        # the grid's beats and bars (global frames): where a mood's accents fall (`_in_mood`)
        self.beats = frozenset(plan.grid.frames(-p0, plan.frames, "beat").tolist())
        self.bars = frozenset(plan.grid.frames(-p0, plan.frames, "bar").tolist())
        bar = plan.grid.step_frames * plan.grid.steps_per("bar")
        self.phrases = frozenset(
            f for f in self.bars if round((f - plan.grid.origin) / bar) % PHRASE_BARS == 0
        )
        self.quality_index = {q: i for i, q in enumerate(CHORD_QUALITIES)}

    def _last_pitch(self, q: int, table: np.ndarray) -> int | None:
        row = self.played[q, : self.p0]
        on = np.flatnonzero(row >= symbolic_tokens.ONSET_BASE)
        return int(table[row[on[-1]]]) if on.size else None

    def record(self, q: int, frame: int, token: int) -> None:
        """A token sampled for codebook `q` at global `frame` (new frames only)."""
        i = frame + self.p0
        if 0 <= i < self.played.shape[1] and q < self.K:
            self.played[q, i] = token
            if token >= symbolic_tokens.ONSET_BASE:
                if q == MELODY and self.ids["melody"][token] >= 0:
                    self.last_melody = int(self.ids["melody"][token])
                elif q == BASS and self.ids["bass"][token] >= 0:
                    self.last_bass = int(self.ids["bass"][token])
            if q == STYLE:  # the style playing now (known a step late)
                self.style_id = int(token)
                if token in self.styles:
                    self.style = self.styles[token]

    def _then(self, q: int, frame: int | None) -> int:
        if frame is None:
            return -1
        i = frame + self.p0
        return int(self.played[q, i]) if 0 <= i < self.played.shape[1] else -1

    # -- static rows (per chord) ---------------------------------------------------------------
    def _pitch_row(self, stream: str, chord: Chord) -> np.ndarray:
        """Log-odds over ids for a melody or bass note under `chord`: out of key or register -inf,
        chord tones favoured."""
        melody = self.style.melody_register
        if self.plan.mood is not None:
            melody = self.plan.mood.register(melody)
        key = (stream, chord, melody, self.style.bass_register)
        if key not in self._rows:
            table = self.ids[stream]
            lo, hi = melody if stream == "melody" else self.style.bass_register
            tones = self.plan.pitch_classes(chord)
            allowed = self.plan.scale | tones
            row = np.zeros(self.card)
            on = table >= 0
            pcs = np.where(on, table % 12, -1)
            ok = np.isin(pcs, list(allowed)) & (table >= lo - REGISTER_SLACK) & (table <= hi + REGISTER_SLACK)
            row[on & ~ok] = -np.inf
            row[on & ok & np.isin(pcs, list(tones))] += CHORD_TONE_ODDS
            if stream == "melody" and self.plan.mood is not None:  # the mood's register, its centre
                row[on & ok] -= MOOD_CENTRE_ODDS * np.abs(table[on & ok] - (lo + hi) / 2) / 12
            self._rows[key] = row
        return self._rows[key]

    def _chord_row(self, chord: Chord, strike: bool) -> np.ndarray:
        key = ("harmony", chord, strike)
        if key not in self._rows:
            root = (self.plan.tonic + chord[0]) % 12
            row = np.zeros(self.card)
            on = self.ids["root"] >= 0
            this = on & (self.ids["root"] == root) & (self.ids["quality"] == self.quality_index[chord[1]])
            row[on & ~this] = -np.inf
            if strike:
                row[~this] = -np.inf
            self._rows[key] = row
        return self._rows[key]

    # -- per step ------------------------------------------------------------------------------
    def bias(self, q: int, frame: int, hit: bool = False) -> np.ndarray | None:
        """[card] log-odds for codebook `q` at global `frame` (None: the plan says nothing)."""
        plan = self.plan
        if frame < 0 or frame >= plan.frames or q not in (DRUMS, BASS, HARMONY, MELODY):
            return None
        if plan.closing is not None and frame >= plan.closing:
            return self._ending(q, frame, hit)
        if self._off_style_grid(q, frame, hit):
            return self._quiet(q)
        if q == DRUMS:
            return self._drums(frame, hit)
        chord = plan.chord_at(frame)
        if q in (HARMONY, BASS) and (self._rings_to_seam(q, frame) or self._rings_from_entry(q, frame)):
            return self._only(symbolic_tokens.HOLD)
        if q in (HARMONY, BASS) and frame == 0 and plan.entry is not None and frame not in plan.accents:
            return self._strike(q, chord, may_hold=self._sounds_into(q, 0))
        if q in (HARMONY, BASS) and self._silent_into_seam(q, frame):
            return self._strike(q, chord, may_hold=False)
        if q == HARMONY:
            strike = frame in plan.strikes or frame in plan.accents
            return self._in_mood(q, frame, self._chord_row(chord, strike))
        if q == BASS:
            row = self._pitch_row("bass", chord)
            if frame in plan.roots or frame in plan.accents:
                row = row.copy()
                table = self.ids["bass"]
                root = (plan.tonic + chord[0]) % 12
                row[(table < 0) | (table % 12 != root)] = -np.inf
            row = self._add_step(row, self.ids["bass"], self.last_bass, BASS_STEP_ODDS, 7, None)
            memory = self._repeat(q, frame, plan.bass_from.get(frame), BASS_RHYTHM_ODDS, exact=False)
            return self._in_mood(q, frame, row if memory is None else row + memory)
        row = self._melody_row(chord)
        memory = self._repeat(q, frame, plan.melody_from.get(frame), MOTIF_ODDS, exact=True)
        return self._in_mood(q, frame, row if memory is None else row + memory)

    def _in_mood(self, q: int, frame: int, row: np.ndarray) -> np.ndarray:
        """`row` (melody, bass or harmony at `frame`) with the mood's play added: density and
        ostinato on the melody's onsets, only the composer's accent on every onset; unchanged
        with no mood."""
        play = self.plan.mood
        if play is None:
            return row
        pulse = q == MELODY and play.ostinato  # an ostinato's notes are marcato, its phrase opens strong
        if pulse and frame in self.phrases:
            level = ACCENTS - 1
        else:
            level = int(pulse or frame in (self.beats if q == MELODY else self.bars))
        if frame in self.plan.accent_shifts:
            level = min(ACCENTS - 1, max(0, level + (1 if play.dynamics > 0 else -1)))
        key = ("mood", q, level)
        if key not in self._rows:
            ids = np.arange(self.card)
            onset = (ids >= symbolic_tokens.ONSET_BASE) & (ids < symbolic_tokens.STREAM_SIZES[STREAMS[q]])
            odds = np.where((ids - symbolic_tokens.ONSET_BASE) % ACCENTS == level, 0.0, -np.inf)
            if q == MELODY:
                odds = odds + DENSITY_ODDS * play.density + (OSTINATO_ODDS if play.ostinato else 0.0)
            self._rows[key] = np.where(onset, odds, 0.0)
        return row + self._rows[key]

    def _off_style_grid(self, q: int, frame: int, hit: bool) -> bool:
        """Whether `frame` is off the related grid of the style playing now (a style that took
        over mid-cue, `related_grid`); the plan's strikes, roots and hits stand wherever they are."""
        if self.style_id is None or self.style_id == self.home_style or self.style_id not in self.meters or hit:
            return False
        plan = self.plan
        if frame in plan.strikes or frame in plan.roots or frame in plan.accents:
            return False
        if self.style_id not in self._related:
            self._related[self.style_id] = related_grid(plan.grid, self.meters[self.style_id])
        grid = self._related[self.style_id]
        return grid is not None and grid.onset_frames(frame, frame + 1, STREAMS[q]).size == 0

    def _quiet(self, q: int) -> np.ndarray:
        """Log-odds that allow only no new note: rest, or hold what sounds (drums only rest)."""
        row = np.full(self.card, -np.inf)
        row[symbolic_tokens.REST] = 0.0
        if q != DRUMS:
            row[symbolic_tokens.HOLD] = 0.0
        return row

    def _rings_to_seam(self, q: int, frame: int) -> bool:
        """Whether codebook `q` holds at `frame`: within `SEAM_BEATS` before the seam, a note or
        chord sounds (struck, then held), and no chord change or hit is due here."""
        plan = self.plan
        if plan.seam is None or not plan.seam - SEAM_BEATS * plan.grid.beat_frames <= frame < plan.seam:
            return False
        return self._sounding(q, frame)

    def _strike(self, q: int, chord: Chord, may_hold: bool) -> np.ndarray:
        """`chord` struck, or the bass its root; with `may_hold`, holding what sounds will do.
        Frame 0 of a cue whose first beat comes late (`ENTRY_MIN_FRAMES`: a continued cue may
        hold what its prompt left sounding, the music runs on across the seam), and the last
        grid frame before a seam where nothing sounds (`SEAM_BEATS`)."""
        if q == HARMONY:
            row = self._chord_row(chord, True)
        else:
            table = self.ids["bass"]
            root = (self.plan.tonic + chord[0]) % 12
            row = np.where((table < 0) | (table % 12 != root), -np.inf, self._pitch_row("bass", chord))
            row = self._add_step(row, table, self.last_bass, BASS_STEP_ODDS, 7, None)
        if may_hold:
            row = row.copy()
            row[symbolic_tokens.HOLD] = 0.0
        return row

    def _silent_into_seam(self, q: int, frame: int) -> bool:
        """Whether `frame` is codebook `q`'s first grid frame within `SEAM_BEATS` before the seam
        and nothing of it sounds there: a texture resting at a seam (strings' short chords, 2.8 s
        apart) dipped 11 dB across it, so the chord and bass strike there and ring across."""
        plan = self.plan
        if plan.seam is None or not plan.seam - SEAM_BEATS * plan.grid.beat_frames <= frame < plan.seam:
            return False
        lo = int(math.ceil(plan.seam - SEAM_BEATS * plan.grid.beat_frames))
        on_grid = plan.grid.onset_frames(lo, plan.seam, STREAMS[q])
        return bool(on_grid.size) and frame == int(on_grid[0]) and not self._sounds_into(q, frame)

    def _rings_from_entry(self, q: int, frame: int) -> bool:
        """Whether codebook `q` holds at `frame`: the chord or bass note a late first beat's
        cue entered with on frame 0 sounds on into that beat (`ENTRY_MIN_FRAMES`)."""
        entry = self.plan.entry
        return entry is not None and 0 < frame < entry and self._sounding(q, frame)

    def _sounding(self, q: int, frame: int) -> bool:
        """A note or chord of codebook `q` sounds into `frame` (struck, then held), and no chord
        change or hit is due there."""
        plan = self.plan
        if frame in plan.strikes or frame in plan.roots or frame in plan.accents:
            return False
        return self._sounds_into(q, frame)

    def _sounds_into(self, q: int, frame: int) -> bool:
        """The last thing codebook `q` did before `frame` (prompt included) was strike a note or
        chord, held since."""
        before = self.played[q, : frame + self.p0]
        sounding = before[(before != symbolic_tokens.HOLD) & (before >= 0)]
        return bool(sounding.size) and sounding[-1] >= symbolic_tokens.ONSET_BASE

    def _drums(self, frame: int, hit: bool) -> np.ndarray | None:
        """The groove: what the drums played a groove bar earlier (a hit point's forced accent is
        not the groove: skipped as a source)."""
        if hit:
            self.hits.add(frame)
            return None
        sources = [f for f in self.plan.drums_from.get(frame, ()) if f not in self.hits]
        return self._repeat(DRUMS, frame, sources[0] if sources else None, DRUM_ODDS, exact=True)

    def _melody_row(self, chord: Chord) -> np.ndarray:
        """A melody note: in key and register, a chord tone favoured; a tune moves by steps or
        repeats a note (a leap costs), an arpeggio moves by the chord's nearest tones."""
        row = self._pitch_row("melody", chord)
        table, last = self.ids["melody"], self.last_melody
        if self.style.arpeggio:  # chord tones, but still the nearest ones
            tones = list(self.plan.pitch_classes(chord))
            row = np.where((table >= 0) & ~np.isin(table % 12, tones), -np.inf, row)
            row = self._add_step(row, table, last, STEP_ODDS, 4, MAX_LEAP)
        else:
            row = self._add_step(row, table, last, STEP_ODDS, 2, MAX_LEAP)
        return row

    def _add_step(
        self, row: np.ndarray, table: np.ndarray, last: int | None, odds: float, free: int, limit: int | None
    ) -> np.ndarray:
        if last is None:
            return row
        on = table >= 0
        step = np.abs(np.where(on, table, last) - last)
        out = row - odds * np.maximum(step - free, 0)
        if limit is not None:
            out = np.where(on & (step > limit), -np.inf, out)
        return out

    def _repeat(self, q: int, frame: int, source: int | None, odds: float, exact: bool) -> np.ndarray | None:
        then = self._then(q, source)
        if then < 0:
            return None
        row = np.zeros(self.card)
        onsets = self.onset_ids
        if then >= symbolic_tokens.ONSET_BASE:
            if exact and q == MELODY:
                same = self.ids["melody"] == self.ids["melody"][then] + self._sequence(source, frame)
                row[same] += odds
            elif exact:
                row[then] += odds
            else:
                row[onsets] += odds
        else:
            row[onsets] -= odds
        return row

    def _sequence(self, source: int, frame: int) -> int:
        """Semitones a repeated melody note moves: none for a tune (its notes are the key's, over
        any chord), the move of the chord's root for an arpeggio (its notes are the chord's), so
        the figure keeps its shape over the new chord."""
        if not self.style.arpeggio:
            return 0
        move = (self.plan.chord_at(frame)[0] - self.plan.chord_at(source)[0]) % 12
        return move - 12 if move > 6 else move

    def _ending(self, q: int, frame: int, hit: bool) -> np.ndarray | None:
        """The close: the tonic struck on the closing beat in every pitched stream and held to the
        release, the drums playing their groove up to it (the pulse goes on under the last chord;
        the melody's figure too, over the tonic, where the plan rides out), then silence."""
        plan = self.plan
        if frame >= plan.release:
            return None if q == DRUMS and hit else self._only(symbolic_tokens.REST)
        if q == DRUMS:
            return self._drums(frame, hit)
        if q == MELODY and plan.rides_out and plan.final is not None and frame > plan.final:
            row = self._melody_row(plan.form.final_cadence[1])
            memory = self._repeat(q, frame, plan.melody_from.get(frame), MOTIF_ODDS, exact=True)
            return self._in_mood(q, frame, row if memory is None else row + memory)
        if frame == plan.final:
            if q == HARMONY:
                return self._in_mood(q, frame, self._chord_row(plan.form.final_cadence[1], True))
            table = self.ids["melody" if q == MELODY else "bass"]
            row = np.where((table < 0) | (table % 12 != plan.tonic), -np.inf, 0.0)
            last = self.last_melody if q == MELODY else self.last_bass
            row = self._add_step(row, table, last, STEP_ODDS, 2, None) if last is not None else row
            return self._in_mood(q, frame, row)
        return self._only(symbolic_tokens.HOLD)

    def _only(self, token: int) -> np.ndarray:
        """Log-odds that allow one id (rest, or hold what sounds)."""
        row = np.full(self.card, -np.inf)
        row[token] = 0.0
        return row
