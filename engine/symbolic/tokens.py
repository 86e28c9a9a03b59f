"""The symbolic token space: a SymbolicScore as parallel 50 Hz streams of ids, and back.

Why: the LM predicts one codebook per stream (MusicGen's delay pattern, one shared cardinality),
so every stream needs an id per frame. Tokenising a composed score is exact — every note is
known — so there is no codec to train and nothing is lost.

Id layout (all streams share `CARD`; ids a stream does not use are never valid for it):

- drums, bass, harmony, melody: 0 = rest, 1 = hold (the note or chord sounding since its onset
  goes on), then onset ids from `ONSET_BASE` = 2, accent fastest:
  - drums:   2 + set * 3 + accent, set = index in `DRUM_SETS` (1..3 pieces of DRUM_PIECES,
             92 sets) -> 2..277. Drums are one-shots: id 1 (hold) is not valid for drums.
  - bass:    2 + (pitch - BASS_RANGE[0]) * 3 + accent -> 2..85
  - melody:  2 + (pitch - MELODY_RANGE[0]) * 3 + accent -> 2..148
  - harmony: 2 + (root * 8 + quality) * 3 + accent, quality = index in CHORD_QUALITIES -> 2..289
- style: id = index in STYLES (0..7) on every frame; there is no rest or hold.

Bass and melody are monophonic and harmony plays one chord at a time: a later onset ends the
note before it. A hold after a rest (no onset to continue) decodes as a rest.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from engine.symbolic.score import (
    ACCENTS,
    BASS_RANGE,
    CHORD_QUALITIES,
    DRUM_PIECES,
    MAX_DRUM_PIECES,
    MELODY_RANGE,
    STREAMS,
    STYLES,
    Chord,
    DrumHit,
    Note,
    SymbolicScore,
)

REST = 0
HOLD = 1
ONSET_BASE = 2
STRONG = ACCENTS - 1

# Every set of 1..MAX_DRUM_PIECES kit pieces, pieces in DRUM_PIECES order (a hit's canonical form).
DRUM_SETS: tuple[tuple[str, ...], ...] = tuple(
    s for n in range(1, MAX_DRUM_PIECES + 1) for s in combinations(DRUM_PIECES, n)
)
_DRUM_SET_INDEX = {s: i for i, s in enumerate(DRUM_SETS)}
_QUALITIES = tuple(CHORD_QUALITIES)
_BASS_PITCHES = BASS_RANGE[1] - BASS_RANGE[0] + 1
_MELODY_PITCHES = MELODY_RANGE[1] - MELODY_RANGE[0] + 1

# How many ids each stream uses (ids 0..size-1).
STREAM_SIZES: dict[str, int] = {
    "drums": ONSET_BASE + len(DRUM_SETS) * ACCENTS,
    "bass": ONSET_BASE + _BASS_PITCHES * ACCENTS,
    "harmony": ONSET_BASE + 12 * len(_QUALITIES) * ACCENTS,
    "melody": ONSET_BASE + _MELODY_PITCHES * ACCENTS,
    "style": len(STYLES),
}
CARD = 290  # the LM's one cardinality for all codebooks: the largest stream (harmony)
assert CARD == max(STREAM_SIZES.values()), STREAM_SIZES

# Runs of the style stream shorter than this are absorbed by their neighbour when decoding
# (an instrument switch shorter than half a second is a sampling flicker, not a section change).
MIN_STYLE_FRAMES = 25


class TokenError(ValueError):
    """A score that the token space cannot hold (out-of-range pitch, unknown name, clash)."""


def _stream_index(stream: str | int) -> int:
    if isinstance(stream, str):
        if stream not in STREAMS:
            raise TokenError(f"unknown stream {stream!r}; the streams are {', '.join(STREAMS)}")
        return STREAMS.index(stream)
    if not 0 <= stream < len(STREAMS):
        raise TokenError(f"stream index {stream} out of range 0..{len(STREAMS) - 1}")
    return int(stream)


# --- per-stream id arithmetic -------------------------------------------------------------------


def drum_id(pieces: tuple[str, ...], accent: int) -> int:
    key = tuple(p for p in DRUM_PIECES if p in pieces)
    if len(key) != len(pieces) or len(set(pieces)) != len(pieces) or key not in _DRUM_SET_INDEX:
        raise TokenError(f"drum hit {pieces!r}: give 1..{MAX_DRUM_PIECES} distinct pieces from {DRUM_PIECES}")
    return ONSET_BASE + _DRUM_SET_INDEX[key] * ACCENTS + _accent(accent)


def note_id(stream: str, pitch: int, accent: int) -> int:
    low, high = BASS_RANGE if stream == "bass" else MELODY_RANGE
    if not low <= pitch <= high:
        raise TokenError(f"{stream} pitch {pitch} outside {low}..{high} (MIDI); transpose it by octaves")
    return ONSET_BASE + (pitch - low) * ACCENTS + _accent(accent)


def chord_id(root: int, quality: str, accent: int) -> int:
    if not 0 <= root < 12:
        raise TokenError(f"chord root {root} is not a pitch class 0..11")
    if quality not in CHORD_QUALITIES:
        raise TokenError(f"chord quality {quality!r} unknown; use one of {', '.join(_QUALITIES)}")
    return ONSET_BASE + (root * len(_QUALITIES) + _QUALITIES.index(quality)) * ACCENTS + _accent(accent)


def _accent(accent: int) -> int:
    if not 0 <= accent < ACCENTS:
        raise TokenError(f"accent {accent} outside 0..{ACCENTS - 1}")
    return int(accent)


def onset_accent(stream: str | int, token: int) -> int:
    """The accent (0..2) of an onset id; a TokenError for ids that are not onsets."""
    if not is_onset(stream, token):
        raise TokenError(f"id {token} is not an onset of stream {STREAMS[_stream_index(stream)]}")
    return (int(token) - ONSET_BASE) % ACCENTS


# --- masks for the generator --------------------------------------------------------------------


def valid_ids(stream: str | int) -> np.ndarray:
    """Boolean mask [CARD]: the ids this stream may take (a sampling mask for the LM)."""
    name = STREAMS[_stream_index(stream)]
    mask = np.zeros(CARD, dtype=bool)
    mask[: STREAM_SIZES[name]] = True
    if name == "drums":
        mask[HOLD] = False
    return mask


def is_onset(stream: str | int, token: int) -> bool:
    name = STREAMS[_stream_index(stream)]
    return name != "style" and ONSET_BASE <= int(token) < STREAM_SIZES[name]


def onset_ids(stream: str | int, accent: int | None = None) -> np.ndarray:
    """All onset ids of a stream, or only those of one accent."""
    name = STREAMS[_stream_index(stream)]
    if name == "style":
        return np.zeros(0, dtype=np.int64)
    ids = np.arange(ONSET_BASE, STREAM_SIZES[name], dtype=np.int64)
    if accent is not None:
        ids = ids[(ids - ONSET_BASE) % ACCENTS == _accent(accent)]
    return ids


def strong_drum_onsets() -> np.ndarray:
    """Drum ids a hit point may be forced to: strong accent, and a kick or a crash in the set."""
    return np.array(
        [
            ONSET_BASE + i * ACCENTS + STRONG
            for i, pieces in enumerate(DRUM_SETS)
            if "kick" in pieces or "crash" in pieces
        ],
        dtype=np.int64,
    )


# --- score <-> tokens ---------------------------------------------------------------------------


def encode(score: SymbolicScore) -> np.ndarray:
    """Tokens int64 [len(STREAMS), num_frames]. Notes past the end are cut at num_frames; a later
    onset ends the note before it; two onsets on one frame of one stream are an error."""
    n = int(score.num_frames)
    if n <= 0:
        raise TokenError(f"a score needs at least one frame (num_frames={n})")
    tokens = np.zeros((len(STREAMS), n), dtype=np.int64)
    tokens[STREAMS.index("drums")] = _encode_drums(score.drums, n)
    tokens[STREAMS.index("bass")] = _encode_spans(
        "bass", [(x.start, x.end, note_id("bass", x.pitch, x.accent)) for x in score.bass], n
    )
    tokens[STREAMS.index("harmony")] = _encode_spans(
        "harmony", [(c.start, c.end, chord_id(c.root, c.quality, c.accent)) for c in score.harmony], n
    )
    tokens[STREAMS.index("melody")] = _encode_spans(
        "melody", [(x.start, x.end, note_id("melody", x.pitch, x.accent)) for x in score.melody], n
    )
    tokens[STREAMS.index("style")] = _encode_style(score.style_spans, n)
    return tokens


def _encode_drums(hits: tuple[DrumHit, ...], n: int) -> np.ndarray:
    row = np.full(n, REST, dtype=np.int64)
    for hit in hits:
        if not 0 <= hit.frame < n:
            continue
        if row[hit.frame] != REST:
            raise TokenError(
                f"two drum hits on frame {hit.frame}; merge them into one hit (≤ {MAX_DRUM_PIECES} pieces)"
            )
        row[hit.frame] = drum_id(tuple(hit.pieces), hit.accent)
    return row


def _encode_spans(stream: str, events: list[tuple[int, int, int]], n: int) -> np.ndarray:
    row = np.full(n, REST, dtype=np.int64)
    events = sorted(e for e in events if 0 <= e[0] < n)
    for i, (start, end, token) in enumerate(events):
        if end <= start:
            raise TokenError(
                f"{stream} event at frame {start} ends at {end}: it must last at least one frame"
            )
        following = events[i + 1][0] if i + 1 < len(events) else n
        if following == start:
            raise TokenError(f"two {stream} onsets on frame {start}; the stream is monophonic")
        row[start] = token
        row[start + 1 : min(end, following, n)] = HOLD  # the next onset ends this note
    return row


def _encode_style(spans: tuple[tuple[int, str], ...], n: int) -> np.ndarray:
    if not spans or spans[0][0] != 0:
        raise TokenError("style_spans must start at frame 0, e.g. ((0, 'ambient'),)")
    row = np.zeros(n, dtype=np.int64)
    previous = -1
    for start, style in spans:
        if style not in STYLES:
            raise TokenError(f"unknown style {style!r}; use one of {', '.join(STYLES)}")
        if start <= previous:
            raise TokenError(f"style_spans must start on increasing frames (got {start} after {previous})")
        previous = start
        row[start:] = STYLES.index(style)
    return row


def decode(tokens: np.ndarray, *, min_style_frames: int = MIN_STYLE_FRAMES) -> SymbolicScore:
    """A SymbolicScore from tokens [len(STREAMS), T]. Ids a stream cannot take (unmasked sampling,
    the delay pattern's special token) decode as rests and are counted in meta["invalid_tokens"];
    style runs shorter than `min_style_frames` are absorbed by the run before (after, at the start)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[0] != len(STREAMS) or tokens.shape[1] == 0:
        raise TokenError(f"tokens must be [{len(STREAMS)}, frames] for streams {STREAMS}; got {tokens.shape}")
    tokens = tokens.astype(np.int64)
    invalid = 0
    rows = {}
    for k, name in enumerate(STREAMS):
        row = tokens[k].copy()
        bad = ~valid_ids(name)[np.clip(row, 0, CARD - 1)] | (row < 0) | (row >= CARD)
        invalid += int(bad.sum())
        row[bad] = 0 if name == "style" else REST
        rows[name] = row
    n = tokens.shape[1]
    drums = tuple(
        DrumHit(int(f), DRUM_SETS[(int(t) - ONSET_BASE) // ACCENTS], (int(t) - ONSET_BASE) % ACCENTS)
        for f, t in enumerate(rows["drums"])
        if t >= ONSET_BASE
    )
    bass = tuple(
        Note(s, e, BASS_RANGE[0] + (t - ONSET_BASE) // ACCENTS, a) for s, e, t, a in _spans(rows["bass"])
    )
    melody = tuple(
        Note(s, e, MELODY_RANGE[0] + (t - ONSET_BASE) // ACCENTS, a) for s, e, t, a in _spans(rows["melody"])
    )
    harmony = []
    for s, e, t, a in _spans(rows["harmony"]):
        root, quality = divmod((t - ONSET_BASE) // ACCENTS, len(_QUALITIES))
        harmony.append(Chord(s, e, root, _QUALITIES[quality], a))
    return SymbolicScore(
        num_frames=n,
        style_spans=_style_spans(rows["style"], min_style_frames),
        drums=drums,
        bass=bass,
        harmony=tuple(harmony),
        melody=melody,
        meta={"invalid_tokens": invalid} if invalid else {},
    )


def _spans(row: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(start, end, onset id, accent) for each onset and the holds that follow it."""
    out = []
    n = len(row)
    onset_frames = np.flatnonzero(row >= ONSET_BASE)
    for start in onset_frames:
        end = start + 1
        while end < n and row[end] == HOLD:
            end += 1
        token = int(row[start])
        out.append((int(start), int(end), token, (token - ONSET_BASE) % ACCENTS))
    return out


def _style_spans(row: np.ndarray, min_frames: int) -> tuple[tuple[int, str], ...]:
    change = np.flatnonzero(np.diff(row)) + 1
    starts = [0, *change.tolist()]
    ends = [*change.tolist(), len(row)]
    runs = [[s, e, int(row[s])] for s, e in zip(starts, ends, strict=True)]
    # Absorb short runs (shortest first) into the neighbour before, or after for the first run.
    while len(runs) > 1:
        i = min(range(len(runs)), key=lambda j: runs[j][1] - runs[j][0])
        if runs[i][1] - runs[i][0] >= min_frames:
            break
        if i > 0:
            runs[i - 1][1] = runs[i][1]
        else:
            runs[1][0] = runs[0][0]
        del runs[i]
        merged = [runs[0]]
        for run in runs[1:]:
            if run[2] == merged[-1][2]:
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        runs = merged
    return tuple((s, STYLES[style]) for s, _e, style in runs)
