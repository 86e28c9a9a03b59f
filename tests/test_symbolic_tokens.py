"""The symbolic token space: exact round trips, the id layout, and the generator's masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.symbolic import tokens as tk
from engine.symbolic.score import (
    ACCENTS,
    BASS_RANGE,
    CHORD_QUALITIES,
    DRUM_PIECES,
    MELODY_RANGE,
    STREAMS,
    STYLES,
    Chord,
    DrumHit,
    Note,
    SymbolicScore,
)


def _cuts(draw, n: int, min_gap: int = 1, max_count: int = 12) -> list[int]:
    """Sorted distinct frames in [0, n), at least min_gap apart."""
    frames = sorted(set(draw(st.lists(st.integers(0, n - 1), max_size=max_count))))
    out: list[int] = []
    for f in frames:
        if not out or f - out[-1] >= min_gap:
            out.append(f)
    return out


@st.composite
def scores(draw) -> SymbolicScore:
    n = draw(st.integers(1, 400))
    accent = st.integers(0, ACCENTS - 1)

    def monophonic(make):
        starts = _cuts(draw, n)
        events = []
        for i, s in enumerate(starts):
            limit = starts[i + 1] if i + 1 < len(starts) else n
            events.append(make(s, draw(st.integers(s + 1, limit))))
        return tuple(events)

    drums = tuple(
        DrumHit(f, tuple(p for p in DRUM_PIECES if p in chosen), draw(accent))
        for f in _cuts(draw, n)
        for chosen in [draw(st.sets(st.sampled_from(DRUM_PIECES), min_size=1, max_size=3))]
    )
    bass = monophonic(lambda s, e: Note(s, e, draw(st.integers(*BASS_RANGE)), draw(accent)))
    melody = monophonic(lambda s, e: Note(s, e, draw(st.integers(*MELODY_RANGE)), draw(accent)))
    harmony = monophonic(
        lambda s, e: Chord(
            s, e, draw(st.integers(0, 11)), draw(st.sampled_from(list(CHORD_QUALITIES))), draw(accent)
        )
    )
    span_starts = [0] + [f for f in _cuts(draw, n, tk.MIN_STYLE_FRAMES) if f >= tk.MIN_STYLE_FRAMES]
    spans, previous = [], None
    for f in span_starts:
        # keep consecutive spans distinct and every span at least MIN_STYLE_FRAMES long
        if spans and n - f < tk.MIN_STYLE_FRAMES:
            break
        style = draw(st.sampled_from([s for s in STYLES if s != previous]))
        spans.append((f, style))
        previous = style
    return SymbolicScore(n, tuple(spans), drums, bass, harmony, melody)


@settings(max_examples=150, deadline=None)
@given(scores())
def test_round_trip_is_exact(score: SymbolicScore) -> None:
    codes = tk.encode(score)
    assert codes.shape == (len(STREAMS), score.num_frames) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < tk.CARD
    for k, name in enumerate(STREAMS):
        assert tk.valid_ids(name)[codes[k]].all(), name
    back = tk.decode(codes)
    assert back == score
    assert np.array_equal(tk.encode(back), codes)


def test_layout_fits_one_card_of_a_few_hundred() -> None:
    assert tk.CARD == 290
    assert tk.STREAM_SIZES == {"drums": 278, "bass": 86, "harmony": 290, "melody": 149, "style": 8}
    assert len(tk.DRUM_SETS) == 92
    assert tk.drum_id(("kick",), 0) == 2
    assert tk.note_id("bass", BASS_RANGE[0], 2) == 4
    assert tk.chord_id(11, "dim", 2) == tk.CARD - 1
    assert tk.note_id("melody", MELODY_RANGE[1], 2) == tk.STREAM_SIZES["melody"] - 1


def test_a_later_onset_ends_the_note_before_it() -> None:
    long_then_short = SymbolicScore(
        40,
        ((0, "jazz_trio"),),
        bass=(Note(0, 40, 40, 1), Note(10, 20, 43, 2)),
    )
    back = tk.decode(tk.encode(long_then_short))
    assert back.bass == (Note(0, 10, 40, 1), Note(10, 20, 43, 2))


def test_bad_scores_get_a_clear_error() -> None:
    base = dict(num_frames=20, style_spans=((0, "ambient"),))
    with pytest.raises(tk.TokenError, match="outside 28..55"):
        tk.encode(SymbolicScore(**base, bass=(Note(0, 4, 20, 0),)))
    with pytest.raises(tk.TokenError, match="monophonic"):
        tk.encode(SymbolicScore(**base, melody=(Note(3, 5, 60, 0), Note(3, 6, 62, 0))))
    with pytest.raises(tk.TokenError, match="distinct pieces"):
        tk.encode(SymbolicScore(**base, drums=(DrumHit(0, ("kick", "snare", "ride", "crash"), 0),)))
    with pytest.raises(tk.TokenError, match="unknown style"):
        tk.encode(SymbolicScore(20, ((0, "polka"),)))
    with pytest.raises(tk.TokenError, match="quality"):
        tk.encode(SymbolicScore(**base, harmony=(Chord(0, 4, 0, "aug", 0),)))


def test_style_flicker_is_smoothed_but_can_be_kept() -> None:
    row = np.array([0] * 60 + [3] + [0] * 60 + [5] * 60)
    codes = np.zeros((len(STREAMS), len(row)), dtype=np.int64)
    codes[STREAMS.index("style")] = row
    assert tk.decode(codes).style_spans == ((0, STYLES[0]), (121, STYLES[5]))
    assert tk.decode(codes, min_style_frames=1).style_spans == (
        (0, STYLES[0]),
        (60, STYLES[3]),
        (61, STYLES[0]),
        (121, STYLES[5]),
    )


def test_invalid_ids_decode_as_rests_and_are_counted() -> None:
    codes = np.zeros((len(STREAMS), 10), dtype=np.int64)
    codes[STREAMS.index("drums"), 2] = tk.HOLD  # drums have no hold
    codes[STREAMS.index("bass"), 3] = 200  # beyond the bass ids
    codes[STREAMS.index("melody"), 4] = tk.CARD  # the delay pattern's special token
    score = tk.decode(codes)
    assert score.meta["invalid_tokens"] == 3
    assert score.drums == score.bass == score.melody == ()


def test_masks_and_onsets() -> None:
    for name in STREAMS:
        mask = tk.valid_ids(name)
        assert mask.shape == (tk.CARD,) and mask.dtype == bool
        assert mask.sum() == tk.STREAM_SIZES[name] - (1 if name == "drums" else 0)
        onsets = tk.onset_ids(name)
        assert mask[onsets].all()
        assert all(tk.is_onset(name, int(i)) for i in onsets)
        assert not tk.is_onset(name, tk.REST)
    assert not tk.is_onset("style", 3)
    strong = tk.strong_drum_onsets()
    assert len(strong) > 0
    rebuilt = tk.decode(np.vstack([strong[None], np.zeros((len(STREAMS) - 1, len(strong)), dtype=np.int64)]))
    for hit in rebuilt.drums:
        assert hit.accent == ACCENTS - 1 and ("kick" in hit.pieces or "crash" in hit.pieces)
    # every strong kick/crash set is there: 92 sets minus those with neither kick nor crash (C(6,1..3) = 41)
    assert len(strong) == 92 - 41
    assert set(tk.onset_ids("bass", accent=2)) == {
        i for i in tk.onset_ids("bass") if tk.onset_accent("bass", i) == 2
    }
