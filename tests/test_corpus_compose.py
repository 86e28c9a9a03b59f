"""The composer's scores obey what the LM must learn: steady tempo, ranges, accents, phrases, fills.

Scores only (no pictures): `plan_edit` + `compose` for 5 clips of every style, ~0.05 s each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.corpus.compose import compose
from engine.corpus.meter import PHRASE_BARS, SECTION_BARS, Span
from engine.corpus.moods import NEUTRAL
from engine.corpus.shots import plan_edit
from engine.corpus.styles import check_table, known_prompt_words, style, style_words
from engine.symbolic.score import (
    BASS_RANGE,
    CHORD_QUALITIES,
    DRUM_PIECES,
    MAX_DRUM_PIECES,
    MELODY_RANGE,
    STYLES,
    SymbolicScore,
)

PER_STYLE = 8


def _clip(style_name: str, k: int, neutral: bool = False):
    """Clip k of a style; `neutral`: every span in the style's own mood (the same edit and notes
    drawn, without a mood's changes)."""
    rng = np.random.default_rng([STYLES.index(style_name), k])
    edit = plan_edit(style_name, int(rng.integers(150, 320)), rng)
    if neutral:
        edit = replace(edit, spans=tuple(replace(s, mood=NEUTRAL) for s in edit.spans))
    return edit, compose(list(edit.spans), edit.num_frames, edit.hit_frames(), rng)


@pytest.fixture(scope="module")
def clips():
    return {s: [_clip(s, k) for k in range(PER_STYLE)] for s in STYLES}


def _all(clips):
    return [c for per in clips.values() for c in per]


def _span_of(score: SymbolicScore, spans, frame: int) -> Span:
    return [s for s in spans if s.start_frame <= frame][-1]


def test_style_table_is_consistent_and_words_are_exposed():
    check_table()
    assert style_words("cinematic_strings") == ("cinematic", "strings", "minor", "slow", "sweeping")
    assert {"jazz", "swing", "ambient", "bpm"} <= known_prompt_words()
    with pytest.raises(KeyError, match="known"):
        style("polka")


def test_every_onset_is_on_its_span_grid_so_the_tempo_is_steady(clips):
    for edit, score in _all(clips):
        hits = set(edit.hit_frames())
        onsets = [h.frame for h in score.drums] + [n.start for n in (*score.bass, *score.melody)]
        onsets += [c.start for c in score.harmony]
        for f in onsets:
            if any(abs(f - h) <= 1 for h in hits):
                continue
            span = _span_of(score, edit.spans, f)
            k = round((f - span.origin_frame) / span.step_frames)
            assert span.step_frame(k) == f, (span.style, f)


def test_notes_chords_and_drums_stay_in_range(clips):
    for _, score in _all(clips):
        assert all(BASS_RANGE[0] <= n.pitch <= BASS_RANGE[1] for n in score.bass)
        assert all(MELODY_RANGE[0] <= n.pitch <= MELODY_RANGE[1] for n in score.melody)
        assert all(c.quality in CHORD_QUALITIES and 0 <= c.root < 12 for c in score.harmony)
        for h in score.drums:
            assert 1 <= len(h.pieces) <= MAX_DRUM_PIECES and set(h.pieces) <= set(DRUM_PIECES)
        for stream in (score.bass, score.melody, score.harmony):
            assert all(0 <= a.start < a.end <= score.num_frames for a in stream)
            assert all(a.end <= b.start for a, b in zip(stream, stream[1:], strict=False))  # one voice
        assert SymbolicScore.from_dict(score.to_dict()) == score


def test_every_cut_and_visual_event_gets_a_strong_kick_and_crash(clips):
    n_hits = 0
    for edit, score in _all(clips):
        by_frame = {h.frame: h for h in score.drums}
        for f in edit.hit_frames():
            hit = by_frame[f]
            assert {"kick", "crash"} <= set(hit.pieces) and hit.accent == 2
            assert not any(g in by_frame for g in (f - 1, f + 1))  # the groove yields within a frame
            n_hits += 1
    assert n_hits > 100


def test_phrases_are_four_bars_and_sections_eight(clips):
    for edit, score in _all(clips):
        for span in edit.spans:
            inside = [f for f in score.meta["phrase_starts"] if span.start_frame <= f < span.end_frame]
            for a, b in zip(inside, inside[1:], strict=False):
                assert abs((b - a) - PHRASE_BARS * span.bar_frames) <= 1
            for f in score.meta["section_starts"]:
                if span.start_frame < f < span.end_frame:
                    bars = (f - span.origin_frame) / span.bar_frames
                    assert abs(bars - round(bars)) * span.bar_frames <= 1 and round(bars) % SECTION_BARS == 0


def test_a_fill_leads_into_every_section_change(clips):
    changes = 0
    for edit, score in _all(clips):
        fills = score.meta["fills"]
        for f in score.meta["section_starts"]:
            span = _span_of(score, edit.spans, max(0, f - 1))
            if f - span.spec.fill_beats * span.beat_frames < 0:
                continue  # the fill would lie before the clip begins
            changes += 1
            assert any(abs(end - f) <= 2 for _, end in fills), (score.style_spans, f, fills)
        for a, b in fills:
            assert any(a <= h.frame < b for h in score.drums)
    assert changes >= 10


def test_a_world_change_starts_a_new_style_span_on_a_cut(clips):
    changed = [(e, s) for e, s in _all(clips) if len(e.spans) > 1]
    assert changed
    for edit, score in changed:
        start = edit.spans[1].start_frame
        assert (
            score.style_spans[1] == (start, edit.spans[1].style)
            and edit.spans[0].style != edit.spans[1].style
        )
        assert start in score.meta["section_starts"]
        assert any(t.world_change and t.kind == "cut" and 2 * t.frame == start for t in edit.transitions)


def _stats(edit, score) -> list[float]:
    span = edit.spans[0]
    end = span.end_frame
    secs = end / 50
    mel = [n for n in score.melody if n.start < end]
    return [
        span.tempo_bpm / 100,
        len([h for h in score.drums if h.frame < end]) / secs / 4,
        len(mel) / secs / 4,
        float(np.mean([n.pitch for n in mel])) / 60 if mel else 0.0,
        len([n for n in score.bass if n.start < end]) / secs / 4,
        span.spec.beats_per_bar / 4,
        float(np.mean([n.end - n.start for n in mel])) / 25 if mel else 0.0,
    ]


def test_styles_differ_measurably(clips):
    """Leave-one-out nearest-centroid on simple score statistics tells the styles apart, each in
    its own (neutral) mood: a mood moves density and register on purpose (test_corpus_moods)."""
    neutral = {s: [_clip(s, k, neutral=True) for k in range(PER_STYLE)] for s in STYLES}
    rows = [(s, np.asarray(_stats(e, sc))) for s in STYLES for e, sc in neutral[s]]
    correct = 0
    for i, (label, x) in enumerate(rows):
        cents = {
            s: np.mean([v for j, (t, v) in enumerate(rows) if t == s and j != i], axis=0) for s in STYLES
        }
        correct += min(cents, key=lambda s: np.linalg.norm(x - cents[s])) == label
    assert correct / len(rows) >= 0.8
    tempo = {s: np.mean([e.spans[0].tempo_bpm for e, _ in clips[s]]) for s in STYLES}
    assert tempo["action_percussion"] > tempo["indie_rock"] > tempo["piano_ballad"]
    assert tempo["ambient"] < 80 and tempo["cinematic_strings"] < 95


def test_ambient_keeps_a_pulse(clips):
    for edit, score in clips["ambient"]:
        span = edit.spans[0]
        beats = [f for f, _, _ in span.beats()]
        pulse = {h.frame for h in score.drums} | {n.start for n in score.melody}
        assert sum(f in pulse for f in beats) >= 0.8 * len(beats)
