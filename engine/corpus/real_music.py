"""Real music on the LM's grid: a `music21` corpus work as a SymbolicScore, with a style caption.

Why: the composer's corpus has grooves and styles but no idea of phrase, theme or key (DESIGN §3b);
real tunes and chorales have them. A work's notes are exact, so it tokenizes like the composer's
scores: melody from the top part, harmony from its chord symbols (lead sheets) or else from all
its voices sounding together (chordify → root + the nearest of CHORD_QUALITIES), bass from the
lowest part (or the chord symbols' bass), no drums. The work is written as one of its repertory's
styles (the first whose bar and mode fit its meter and key), at a tempo drawn in that style's
range, transposed to a random key and by octaves into the style's registers, so its caption is
the composer's own (styles.caption) and the decoder's tempo grid for that style fits its notes.
Only the works engine/corpus/repertories.py admits are ever listed for training.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.corpus.repertories import Repertory, admitted
from engine.corpus.styles import Style, caption, style
from engine.symbolic.score import (
    BASS_RANGE,
    CHORD_QUALITIES,
    FRAME_RATE,
    MELODY_RANGE,
    Chord,
    Note,
    SymbolicScore,
)

MIN_SECONDS = 4.0  # shorter pieces are skipped (a training crop is 2-6 s)
PHRASE_BARS = 4  # the first note of every 4th bar gets the strong accent, as the composer's phrases
_MAJOR_MODES = {"major", "lydian", "mixolydian"}
_EPS = 1e-6


class PieceSkipped(Exception):
    """One piece cannot be put on the grid; the message says why."""


@dataclass(frozen=True)
class RealPiece:
    id: str  # "<repertory>:<path under music21/corpus>#<number in the file>"
    repertory: str
    split: str
    text: str  # the caption, styles.caption(style, tempo)
    score: SymbolicScore


def corpus_root() -> Path:
    """The installed music21 package's corpus folder."""
    return Path(_music21().__file__).parent / "corpus"


def _music21():
    """music21, imported with its one-time note about matplotlib (used only for its plots) muted."""
    with contextlib.redirect_stderr(io.StringIO()):
        import music21
    return music21


def repertory_files(rep: Repertory, root: Path | None = None) -> list[Path]:
    """The encoded files of a repertory (its folders' music files, sorted)."""
    root = root or corpus_root()
    files: list[Path] = []
    for rel in rep.paths:
        path = root / rel
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix in {".abc", ".mxl", ".xml", ".musicxml", ".krn"}
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: listed for repertory {rep.name} but not in this music21 corpus")
    return files


def split_of(piece_id: str) -> str:
    """A fixed split per piece: 1 in 20 held out (the real-melody ceilings), 1 in 20 validation."""
    h = zlib.crc32(piece_id.encode("utf-8")) % 20
    return "heldout" if h == 0 else "val" if h == 1 else "train"


def read_scores(path: Path) -> list:
    """The music21 scores in one file (an ABC tune book holds many)."""
    m21 = _music21()
    parsed = m21.converter.parse(str(path))
    if isinstance(parsed, m21.stream.Opus):
        return list(parsed.scores)
    return [parsed]


# --- chords -------------------------------------------------------------------------------------

_QUALITY_SETS = {q: frozenset(iv) for q, iv in CHORD_QUALITIES.items()}
_TRIADS = ("maj", "min")  # what two tones of a chord most often belong to


def nearest_chord(
    pcs: set[int] | frozenset[int], root: int | None = None, bass: int | None = None
) -> tuple[int, str]:
    """(root, quality) of CHORD_QUALITIES nearest to the pitch classes `pcs`: most tones shared,
    fewest missing or extra; a given `root` (a chord symbol's) is kept; on a tie, a major or minor
    triad, then the chord on the `bass` (root position), wins."""
    best = None
    for r in range(12) if root is None else (root,):
        rel = frozenset((p - r) % 12 for p in pcs)
        for i, (quality, tones) in enumerate(_QUALITY_SETS.items()):
            score = 2 * len(rel & tones) - len(tones - rel) - len(rel - tones)
            key = (score, quality in _TRIADS, r == bass, -i)
            if best is None or key > best[0]:
                best = (key, r, quality)
    return best[1], best[2]


def _chord_symbols(score) -> list[tuple[float, int, str, int]]:
    """(offset, root pc, quality, bass pc) of each chord symbol of the top part (N.C. ends chords:
    quality "")."""
    m21 = _music21()
    out = []
    for cs in score.parts[0].flatten().getElementsByClass(m21.harmony.ChordSymbol):
        if isinstance(cs, m21.harmony.NoChord):
            out.append((float(cs.offset), 0, "", 0))
            continue
        pcs = {p.pitchClass for p in cs.pitches}
        if not pcs or cs.root() is None:
            continue
        root, quality = nearest_chord(pcs, cs.root().pitchClass)
        out.append((float(cs.offset), root, quality, cs.bass().pitchClass if cs.bass() else root))
    return out


def _tones(chord) -> set[int]:
    root, quality = chord
    return {(root + i) % 12 for i in CHORD_QUALITIES[quality]}


def _pitch_weights(sonorities, lo: float, hi: float) -> tuple[np.ndarray, int | None, float | None]:
    """How long each pitch class sounds in [lo, hi) over all voices, the bass pitch class at the
    window's first sound, and when that is (None, None when all rest)."""
    weight = np.zeros(12)
    first = bass = None
    for a, b, midis in sonorities:
        overlap = min(b, hi) - max(a, lo)
        if overlap <= _EPS:
            continue
        for m in midis:
            weight[m % 12] += overlap
        if first is None or max(a, lo) < first - _EPS:
            first, bass = max(a, lo), min(midis) % 12
    return weight, bass, first


def _chordified(score, meter: _Meter) -> list[tuple[float, float, int, str]]:
    """(start, end, root pc, quality) of what all voices sound together. A beat where three or more
    pitch classes sound and form a chord (a chorale's voices) is its own chord; any other beat (an arpeggio, a passing tone, a melody over a held bass) takes the chord of its
    whole bar. A pitch class counts in a beat when the voices sound it for more than half the beat
    (an eighth-note passing tone does not), in a bar for more than an eighth of the bar; equal
    neighbours are joined."""
    m21 = _music21()
    sonorities = [
        (float(c.offset), float(c.offset + c.quarterLength), [p.midi for p in c.pitches])
        for c in score.chordify().flatten().getElementsByClass(m21.chord.Chord)
        if c.quarterLength > 0 and c.pitches
    ]
    if not sonorities:
        return []
    end_ql = max(b for _, b, _ in sonorities)
    out: list[list] = []
    bar = meter.pickup_ql % meter.bar_ql - meter.bar_ql
    while bar < end_ql - _EPS:
        weight, bass, _ = _pitch_weights(sonorities, bar, bar + meter.bar_ql)
        pcs = {int(p) for p in np.flatnonzero(weight > meter.bar_ql / 8)}
        bar_chord = nearest_chord(pcs, bass=bass) if len(pcs) >= 2 else None
        for k in range(round(meter.bar_ql / meter.beat_ql)):
            lo = bar + k * meter.beat_ql
            hi = lo + meter.beat_ql
            weight, bass, first = _pitch_weights(sonorities, lo, hi)
            if first is None:
                continue  # every voice rests: the chord before ends
            pcs = {int(p) for p in np.flatnonzero(weight > meter.beat_ql / 2)}
            chord = nearest_chord(pcs, bass=bass) if len(pcs) >= 3 else None
            if chord is not None and len(pcs & _tones(chord)) < 3:
                chord = None
            chord = chord or bar_chord
            joined = out and first <= out[-1][1] + _EPS
            # the chord before goes on when this beat only sounds part of it (G B D in a bar of G7)
            if chord is None or (joined and chord[0] == out[-1][2] and _tones(chord) <= _tones(out[-1][2:])):
                if joined:
                    out[-1][1] = hi  # the chord before goes on
                continue
            out.append([first, hi, *chord])
        bar += meter.bar_ql
    if out:
        out[-1][1] = min(out[-1][1], end_ql)
    return [tuple(x) for x in out]


# --- notes --------------------------------------------------------------------------------------


def _line(part, top: bool) -> list[tuple[float, float, int]]:
    """(start, end, midi) of a part's notes, ties joined, grace notes dropped; of a chord, its top
    (melody) or bottom (bass) note."""
    m21 = _music21()
    out = []
    for n in part.flatten().stripTies().notes:
        if isinstance(n, m21.harmony.ChordSymbol) or n.duration.isGrace or n.quarterLength <= 0:
            continue
        midis = [p.midi for p in n.pitches]
        if not midis:
            continue
        out.append((float(n.offset), float(n.offset + n.quarterLength), max(midis) if top else min(midis)))
    return out


def _octave_fit(pitches: list[int], register: tuple[int, int], limits: tuple[int, int]) -> list[int]:
    """Shift the whole line by octaves so most notes lie in `register`; notes still outside the
    stream's `limits` fold in by octaves (rare: a four-octave range)."""
    if not pitches:
        return []
    lo, hi = register
    centre = (lo + hi) / 2
    arr = np.asarray(pitches)
    best = max(
        range(-5, 6),
        key=lambda k: (
            int(((arr + 12 * k >= lo) & (arr + 12 * k <= hi)).sum()),
            -abs(arr.mean() + 12 * k - centre),
        ),
    )
    out = []
    for p in (int(x) + 12 * best for x in arr):
        while p < limits[0]:
            p += 12
        while p > limits[1]:
            p -= 12
        out.append(p)
    return out


def _monophonic(events: list) -> tuple:
    """Each note or chord ends where the next one starts, as the token streams play them."""
    out = []
    for i, e in enumerate(events):
        nxt = events[i + 1].start if i + 1 < len(events) else e.end
        out.append(replace(e, end=min(e.end, nxt)))
    return tuple(out)


# --- the piece ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Meter:
    beats: int  # beats per bar
    beat_ql: float  # quarter lengths per beat
    compound: bool  # the beat divides in three (6/8, 9/8, 12/8)
    bar_ql: float
    pickup_ql: float  # how far the first downbeat lies after offset 0


def _meter(score) -> _Meter:
    m21 = _music21()
    ts = score.recurse().getElementsByClass(m21.meter.TimeSignature).first()
    if ts is None:
        raise PieceSkipped("no time signature")
    bar_ql = float(ts.barDuration.quarterLength)
    first = score.parts[0].getElementsByClass(m21.stream.Measure).first()
    pickup = 0.0
    if first is not None and float(first.paddingLeft) > 0:
        pickup = bar_ql - float(first.paddingLeft)
    return _Meter(
        int(ts.beatCount), float(ts.beatDuration.quarterLength), ts.beatDivisionCount == 3, bar_ql, pickup
    )


def _mode(score) -> str:
    m21 = _music21()
    k = score.recurse().getElementsByClass(m21.key.Key).first()
    if k is None or k.mode not in ("major", "minor"):
        k = score.analyze("key")
    return "major" if k.mode == "major" else "minor"


def choose_style(styles: tuple[str, ...], beats: int, compound: bool, mode: str) -> Style:
    """The first of `styles` whose bar holds whole bars of the work (4 beats hold 2) with the same
    beat division, preferring one of the work's mode; PieceSkipped if none fits."""
    fits = [
        style(s)
        for s in styles
        if style(s).beats_per_bar % beats == 0 and (style(s).steps_per_beat == 3) == compound
    ]
    if not fits:
        raise PieceSkipped(
            f"its meter ({beats} beats, {'compound' if compound else 'simple'}) fits none of {styles}"
        )
    same_mode = [s for s in fits if (s.mode in _MAJOR_MODES) == (mode == "major")]
    return (same_mode or fits)[0]


def tokenize(
    score,
    piece_id: str,
    styles: tuple[str, ...],
    rng: np.random.Generator,
    melody_parts: tuple[int, ...] = (0,),
    expand_repeats: bool = True,
) -> SymbolicScore:
    """A music21 Score as a SymbolicScore (one style span, no drums); PieceSkipped when it cannot be.
    The melody is the top note of `melody_parts` at each onset (a solo and a choir take turns).
    `expand_repeats`: the form as played (training), else as written (a measure of its motifs
    that does not count a repeated strain as recurrence)."""
    m21 = _music21()
    if not score.parts:
        raise PieceSkipped("no parts")
    meter = _meter(score)
    mode = _mode(score)
    spec = choose_style(styles, meter.beats, meter.compound, mode)
    score = score.toSoundingPitch()
    if expand_repeats:
        with contextlib.suppress(m21.repeat.ExpanderException, m21.exceptions21.Music21Exception):
            score = score.expandRepeats()  # the form as played: repeated strains are heard twice
    parts = [score.parts[i] for i in melody_parts if i < len(score.parts)] or [score.parts[0]]
    melody = sorted(n for part in parts for n in _line(part, top=True))
    if len(melody) < 4:
        raise PieceSkipped(f"only {len(melody)} melody notes")
    symbols = _chord_symbols(score)
    total_ql = max(float(score.highestTime), melody[-1][1])
    if symbols:
        bounds = [s[0] for s in symbols[1:]] + [total_ql]
        chords = [(s[0], e, s[1], s[2]) for s, e in zip(symbols, bounds, strict=True) if s[2]]
        bass = [(s[0], e, 12 * 3 + s[3]) for s, e in zip(symbols, bounds, strict=True) if s[2]]
        harmony_from = "chord symbols"
    elif len(score.parts) > 1:
        chords = _chordified(score, meter)
        bass = _line(score.parts[-1], top=False)
        harmony_from = "voices"
    else:
        chords, bass, harmony_from = [], [], "none"

    bpm = float(rng.uniform(*spec.tempo_bpm))
    per_ql = FRAME_RATE * 60.0 / bpm / meter.beat_ql
    num_frames = int(round(total_ql * per_ql))
    if num_frames < MIN_SECONDS * FRAME_RATE:
        raise PieceSkipped(f"{num_frames / FRAME_RATE:.1f} s at {bpm:.0f} bpm (need {MIN_SECONDS} s)")
    shift = int(rng.integers(-5, 7))  # a random key: every tonic is heard, as in the composer's corpus

    def frames(start: float, end: float) -> tuple[int, int]:
        a = int(round(start * per_ql))
        return a, max(a + 1, int(round(end * per_ql)))

    def position(offset: float) -> tuple[bool, bool, bool]:
        """(on a downbeat, on a beat, on a phrase's first downbeat)."""
        t = offset - meter.pickup_ql
        in_bar = t % meter.bar_ql
        down = min(in_bar, meter.bar_ql - in_bar) < _EPS
        in_beat = in_bar % meter.beat_ql
        on_beat = min(in_beat, meter.beat_ql - in_beat) < _EPS
        phrase = down and int(round(t / meter.bar_ql)) % PHRASE_BARS == 0
        return down, on_beat, phrase

    def notes(line, register, limits, accent_of) -> tuple[Note, ...]:
        pitches = _octave_fit([p + shift for _, _, p in line], register, limits)
        by_frame: dict[int, Note] = {}
        for (start, end, _), pitch in zip(line, pitches, strict=True):
            a, b = frames(start, end)
            if a >= num_frames:
                continue
            note = Note(a, min(b, num_frames), pitch, accent_of(start))
            if a not in by_frame or (pitch > by_frame[a].pitch) == (limits == MELODY_RANGE):
                by_frame[a] = note  # two notes on one frame: the melody keeps the top, the bass the bottom
        return _monophonic([by_frame[a] for a in sorted(by_frame)])

    def melody_accent(offset: float) -> int:
        down, on_beat, phrase = position(offset)
        return 2 if phrase else 1 if on_beat else 0

    def low_accent(offset: float) -> int:
        return 1 if position(offset)[0] else 0

    harmony: dict[int, Chord] = {}
    for start, end, root, quality in chords:
        a, b = frames(start, end)
        if a < num_frames:
            harmony[a] = Chord(a, min(b, num_frames), (root + shift) % 12, quality, low_accent(start))
    return SymbolicScore(
        num_frames=num_frames,
        style_spans=((0, spec.name),),
        melody=notes(melody, spec.melody_register, MELODY_RANGE, melody_accent),
        bass=notes(bass, spec.bass_register, BASS_RANGE, low_accent),
        harmony=_monophonic([harmony[a] for a in sorted(harmony)]),
        tempo_bpm=bpm,
        meta={
            "source": piece_id,
            "title": score.metadata.title if score.metadata and score.metadata.title else "",
            "meter": f"{meter.beats} beats of {meter.beat_ql:g} quarters",
            "mode": mode,
            "transpose": shift,
            "harmony_from": harmony_from,
            # its bars on the frame grid (engine.generator.grid_position): bar 0 at the first downbeat
            "grid": {
                "origin_frame": meter.pickup_ql * per_ql,
                "beat_frames": meter.beat_ql * per_ql,
                "beats_per_bar": meter.beats,
            },
        },
    )


def pieces(
    repertories: tuple[Repertory, ...] | None = None, seed: int = 0, limit: int | None = None
) -> Iterator[RealPiece | tuple[str, str]]:
    """Every piece of the admitted repertories (or those given), tokenized: a RealPiece, or
    (piece id, reason) for one that cannot be. `limit` stops after that many pieces of each."""
    m21 = _music21()
    root = corpus_root()
    for rep in admitted() if repertories is None else repertories:
        if not rep.admitted:
            raise ValueError(f"repertory {rep.name} is not admitted ({rep.licence.name}); see repertories.py")
        count = 0
        for path in repertory_files(rep, root):
            rel = path.relative_to(root).as_posix()
            try:
                scores = read_scores(path)
            except Exception as exc:  # music21 raises many kinds on a file it cannot parse
                yield (f"{rep.name}:{rel}", f"music21 cannot parse it ({type(exc).__name__}: {exc})")
                continue
            for number, m21_score in enumerate(scores):
                if limit is not None and count >= limit:
                    break
                count += 1
                piece_id = f"{rep.name}:{rel}#{number}"
                rng = np.random.default_rng([seed, zlib.crc32(piece_id.encode("utf-8"))])
                try:
                    score = tokenize(m21_score, piece_id, rep.styles, rng, rep.melody_parts)
                except PieceSkipped as exc:
                    yield (piece_id, str(exc))
                    continue
                except m21.exceptions21.Music21Exception as exc:  # a file music21 reads but cannot analyse
                    yield (piece_id, f"music21 cannot analyse it ({type(exc).__name__}: {exc})")
                    continue
                yield RealPiece(
                    piece_id, rep.name, split_of(piece_id), caption(score.style_at(0), score.tempo_bpm), score
                )
