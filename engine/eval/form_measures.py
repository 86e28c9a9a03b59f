"""Form measures of a symbolic cue: what a composer listens for beyond clean sound (DESIGN.md §3b).

Why from tokens: the cue's notes are exact (no transcription error), so a theme that returns, a
step or a leap, a bar of drums that repeats, the key of each two bars and what sounds at the last
frame are counted, not estimated. Definitions:
- motif recurrence: the share of a melody's 4-note shapes (its 3 successive intervals) that are
  heard more than once in the cue (random notes ≈ 0; folk tunes 0.6–0.8);
- melodic step: the mean |interval| in semitones between successive melody notes;
- groove recurrence: the share of drum bars (after the first) that repeat the bar one or two bars
  earlier (the same kit pieces, louder or softer, within a frame of a bar length earlier, all but
  one hit: an accent at a cut, a fill's last note), the bar length from the tempo grid the cue's
  onsets sit on;
- key stability: the share of 2-bar windows whose Krumhansl key is the cue's key or a neighbour
  (the same signature — relative major/minor count as one — or one a fifth away);
- ending: nothing sounds on the last frame (every pitched stream rests, no drum hit in the last
  quarter second) and the last chord and bass note are on the cue's tonic (a cadence).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from engine.symbolic import tokens as symbolic_tokens
from engine.symbolic.score import ACCENTS, CHORD_QUALITIES, STREAMS, STYLES
from engine.timebase import TOKEN_RATE

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
SILENT_TAIL_S = 0.25


def motif_recurrence(pitches: list[int] | np.ndarray) -> float:
    """Share of 4-note interval shapes heard more than once (nan under 4 notes)."""
    p = np.asarray(pitches, dtype=np.int64)
    if p.size < 4:
        return math.nan
    steps = np.diff(p)
    shapes = [tuple(steps[i : i + 3]) for i in range(len(steps) - 2)]
    counts = Counter(shapes)
    return sum(c for c in counts.values() if c > 1) / len(shapes)


def melodic_step(pitches: list[int] | np.ndarray) -> float:
    """Mean |interval| in semitones (nan under 2 notes)."""
    p = np.asarray(pitches, dtype=np.int64)
    return float(np.abs(np.diff(p)).mean()) if p.size >= 2 else math.nan


def key_of(weights: np.ndarray) -> tuple[int, str] | None:
    """(tonic, 'major'|'minor') of pitch-class weights [12] by the Krumhansl–Kessler profiles."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0 or np.count_nonzero(w) < 3:
        return None
    best, key = -np.inf, None
    for mode, profile in (("major", MAJOR), ("minor", MINOR)):
        for t in range(12):
            r = np.corrcoef(w, np.roll(profile, t))[0, 1]
            if np.isfinite(r) and r > best:
                best, key = r, (t, mode)
    return key


def collection(tokens: np.ndarray) -> int | None:
    """The key signature (as its major tonic) whose seven notes hold the most of a cue's notes
    (ties: the Krumhansl reading's), whatever mode the cue is in; None when nothing sounds."""
    score = symbolic_tokens.decode(np.asarray(tokens, dtype=np.int64))
    w = _pitch_weights(score, 0, score.num_frames)
    if w.sum() <= 0:
        return None
    major = (0, 2, 4, 5, 7, 9, 11)
    inside = np.array([w[[(t + x) % 12 for x in major]].sum() for t in range(12)])
    tied = np.flatnonzero(inside >= inside.max() - 1e-9 * inside.max()).tolist()
    key = key_of(w)
    return signature(key) if key is not None and signature(key) in tied else tied[0]


SIGNATURE_TIE = 0.02  # share of a cue's notes within which two key signatures hold it equally


def collections(tokens: np.ndarray) -> frozenset[int]:
    """Every key signature (as its major tonic) that holds the most of a cue's notes, within
    `SIGNATURE_TIE`: a short cue that never plays the note telling F# major from C# major is in
    either (the empty set when nothing sounds)."""
    score = symbolic_tokens.decode(np.asarray(tokens, dtype=np.int64))
    w = _pitch_weights(score, 0, score.num_frames)
    if w.sum() <= 0:
        return frozenset()
    major = (0, 2, 4, 5, 7, 9, 11)
    inside = np.array([w[[(t + x) % 12 for x in major]].sum() for t in range(12)]) / w.sum()
    return frozenset(np.flatnonzero(inside >= inside.max() - SIGNATURE_TIE).tolist())


_MODE_DEGREE = {"major": 0, "minor": 9, "dorian": 2, "lydian": 5, "mixolydian": 7}  # tonic above the signature's


def _modes_played(tokens: np.ndarray) -> set[str]:
    """The modes of the styles a cue's style stream plays (the composer's tables)."""
    from engine.corpus.styles import style

    row = np.clip(np.asarray(tokens[STREAMS.index("style")], dtype=np.int64), 0, len(STYLES) - 1)
    return {style(STYLES[int(s)]).mode for s in np.unique(row)}


def signature(key: tuple[int, str]) -> int:
    """The key signature's major tonic (a minor key and its relative major share one)."""
    tonic, mode = key
    return tonic if mode == "major" else (tonic + 3) % 12


def _near_signature(a: int, b: int) -> bool:
    """The same key signature or one a fifth away (the cue's key or a neighbour, DESIGN.md §3b:
    a 2-bar window on the IV or V chord reads as that chord's key)."""
    return (a - b) % 12 in (0, 5, 7)


def _pitch_weights(score, start: int, end: int) -> np.ndarray:
    w = np.zeros(12)
    for note in (*score.melody, *score.bass):
        overlap = min(note.end, end) - max(note.start, start)
        if overlap > 0:
            w[note.pitch % 12] += overlap
    for chord in score.harmony:
        overlap = min(chord.end, end) - max(chord.start, start)
        if overlap > 0:
            for i in CHORD_QUALITIES[chord.quality]:
                w[(chord.root + i) % 12] += 0.5 * overlap
    return w


def cue_grid(tokens: np.ndarray, style_meters: dict | None = None):
    """The tempo grid the cue's onsets sit on (`tempo_grid.fit_to_onsets`), in the meter of the
    style it plays most, or None."""
    from engine.generator.tempo_grid import DEFAULT_METER, fit_to_onsets

    row = np.asarray(tokens[STREAMS.index("style")], dtype=np.int64)
    style = STYLES[int(np.bincount(np.clip(row, 0, len(STYLES) - 1), minlength=len(STYLES)).argmax())]
    meter = (style_meters or {}).get(style, DEFAULT_METER)
    onsets = np.flatnonzero((np.asarray(tokens[:4]) >= symbolic_tokens.ONSET_BASE).any(axis=0))
    # frame 0 last: a late first beat's entry sounds there off the grid (form.ENTRY_MIN_FRAMES),
    # but a cue whose first beat is frame 0 needs it when it has few notes
    return fit_to_onsets(onsets[onsets > 0], meter) or fit_to_onsets(onsets, meter)


def groove_recurrence(drums: np.ndarray, grid, hits: frozenset[int] | set[int] = frozenset()) -> float:
    """Share of drum bars (after the first, with a hit) that repeat the bar one or two bars earlier.

    Bars are windows of the grid's bar length; a hit repeats when the same kit pieces hit within a
    frame of one (or two) bar lengths earlier — a lag, so a grid fitted a fraction of a frame off
    never drifts a comparison. A bar repeats when every hit of it and of the earlier bar has its
    partner, but one. The bar line is put where the groove reads best (each step of the bar
    tried): a listener hears where a groove starts, and a fill then falls inside one bar.
    `hits`: frames of hit points (cuts, markers); the accent a hit puts within a frame of one is
    the picture's, not the groove's, and is left out of both bars compared (a groove with a crash
    on a cut still repeats: under quick cutting every bar has one, at a new place each time)."""
    if grid is None:
        return math.nan
    drums = np.asarray(drums, dtype=np.int64)
    bar = grid.step_frames * grid.steps_per("bar")
    accents = {int(h) + d for h in hits for d in (-1, 0, 1)}
    hits = {
        int(f): (int(drums[f]) - symbolic_tokens.ONSET_BASE) // ACCENTS
        for f in np.flatnonzero(drums >= symbolic_tokens.ONSET_BASE)
        if int(f) not in accents
    }
    best = math.nan
    for phase in np.arange(grid.steps_per("bar")) * grid.step_frames:  # where the bar line falls
        judged = same = 0
        for b in range(1, int((len(drums) - phase) // bar)):
            lo, hi = round(phase + b * bar), round(phase + (b + 1) * bar)
            now = {f: k for f, k in hits.items() if lo <= f < hi}
            if not now:
                continue
            judged += 1
            for lag in (1, 2):
                shift = bar * lag
                if lo - shift < phase - 1:
                    continue
                then = {f: k for f, k in hits.items() if round(lo - shift) <= f < round(hi - shift)}
                if _misses(now, then, shift) + _misses(then, now, -shift) <= 1:
                    same += 1
                    break
        if judged and not same / judged <= best:
            best = same / judged
    return best


def _misses(a: dict[int, int], b: dict[int, int], shift: float) -> int:
    """Hits of `a` with no hit of the same kit pieces in `b` within a frame of `shift` earlier."""
    return sum(not any(b.get(round(f - shift) + d) == k for d in (-1, 0, 1)) for f, k in a.items())


def form_measures(
    tokens: np.ndarray,
    frame_rate: float = TOKEN_RATE,
    style_meters: dict | None = None,
    grid=None,
    hits: frozenset[int] | set[int] = frozenset(),
) -> dict:
    """All the form measures of one cue's tokens [K, T] (see the module docstring); `grid`: the
    tempo grid the cue was decoded on when known, else the one its onsets fit; `hits`: the cue's
    hit-point frames, whose accents groove recurrence leaves out (`groove_recurrence_all` keeps
    them)."""
    tokens = np.asarray(tokens, dtype=np.int64)
    score = symbolic_tokens.decode(tokens)
    n = tokens.shape[1]
    melody = [x.pitch for x in sorted(score.melody, key=lambda x: x.start)]
    grid = grid if grid is not None else cue_grid(tokens, style_meters)
    key = key_of(_pitch_weights(score, 0, n))
    windows = []
    if grid is not None and key is not None:
        span = grid.step_frames * grid.steps_per("bar") * 2
        start = 0.0
        while start + span <= n + 1:
            k = key_of(_pitch_weights(score, int(start), int(start + span)))
            if k is not None:
                windows.append(_near_signature(signature(k), signature(key)))
            start += span
    last = tokens[:, -1]
    tail = int(round(SILENT_TAIL_S * frame_rate))
    pitched = [STREAMS.index(s) for s in ("bass", "harmony", "melody")]
    silent_end = (
        all(last[q] == symbolic_tokens.REST for q in pitched)
        and not (tokens[STREAMS.index("drums"), n - tail :] >= symbolic_tokens.ONSET_BASE).any()
    )
    tonic_end = False
    if key is not None and score.harmony and score.bass:
        tonic = key[0]
        last_chord = max(score.harmony, key=lambda c: c.start)
        last_bass = max(score.bass, key=lambda x: x.start)
        # the key's tonic or its relative's: Krumhansl reads a modal cue (lydian, dorian) as the
        # neighbour sharing its notes, so the pair is what "home" can be read as; and the pair of
        # the signature that holds the most notes (an F# minor cue whose melody leans on B read
        # as B minor by Krumhansl still holds A major's seven notes, F# minor's)
        held = collection(tokens)
        homes = {tonic, signature(key), (signature(key) + 9) % 12}
        if held is not None:
            homes |= {held, (held + 9) % 12}
            # a modal style's own home on those notes (rock's mixolydian ends on the signature's
            # fifth degree: E mixolydian holds A major's notes and closes on E)
            homes |= {(held + _MODE_DEGREE[m]) % 12 for m in _modes_played(tokens) if m in _MODE_DEGREE}
        tonic_end = last_chord.root in homes and last_bass.pitch % 12 == last_chord.root
    return {
        "motif_recurrence": motif_recurrence(melody),
        "melodic_step": melodic_step(melody),
        "leap_share": float(np.mean(np.abs(np.diff(melody)) > 5)) if len(melody) >= 2 else math.nan,
        "melody_notes": len(melody),
        "groove_recurrence": groove_recurrence(tokens[STREAMS.index("drums")], grid, hits),
        "groove_recurrence_all": groove_recurrence(tokens[STREAMS.index("drums")], grid),
        "key": None if key is None else f"{key[0]} {key[1]}",
        "key_stability": float(np.mean(windows)) if windows else math.nan,
        "silent_end": bool(silent_end),
        "tonic_end": bool(tonic_end),
        "cadence_end": bool(silent_end and tonic_end),
        "tempo_bpm": None if grid is None else float(grid.bpm),
    }
