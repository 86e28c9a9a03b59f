"""Moods are a second axis the corpus carries: each span's mood changes its mode, register,
density, dynamics, harmony and melody figure, and its caption names it, so the model is trained on
the words editors use ("tense", "sad") with the music they mean.

Scores only: one 16-bar span per seed composed neutral and in a mood with the same composer seed
(`benchmarks.mood_figures`), ~0.01 s each.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.mood_figures import measure, span_for
from engine.corpus.clips import generate_score
from engine.corpus.compose import compose
from engine.corpus.meter import Span
from engine.corpus.mood_styles import check_moods, mooded_style
from engine.corpus.moods import MOOD_TABLE, MOODS, NEUTRAL, mood_words
from engine.corpus.shots import plan_edit
from engine.corpus.styles import caption, known_prompt_words, style
from engine.generator.prompt_intent import MOODS as PROMPT_MOODS
from engine.generator.prompt_intent import WORDS, Vocabulary, prompt_vocabulary
from engine.symbolic.modes import SCALES, darken, harmonize
from engine.symbolic.score import CHORD_QUALITIES, STYLES

SEEDS = range(16)


def _mean(mood: str, key: str, seeds=SEEDS) -> float:
    return float(np.mean([measure(seed, mood)[key] for seed in seeds]))


def test_the_corpus_moods_are_the_moods_editors_ask_for():
    assert set(MOODS) == set(PROMPT_MOODS)
    check_moods()
    for name in MOODS:  # the caption's words are prompt words of that mood, in the table's order
        words = mood_words(name)
        assert all(WORDS.get(w, {}).get("mood") == name for w in words), name
        in_table = [w for w, e in WORDS.items() if e.get("mood") == name and w in words]
        assert in_table == list(words)


def test_harmonize_moves_chords_by_scale_degree_into_the_new_mode():
    major_to_minor = [harmonize(c, "major", "minor") for c in ((0, "maj"), (5, "maj"), (7, "maj"))]
    assert major_to_minor == [(0, "min"), (5, "min"), (7, "min")]  # I-IV-V -> i-iv-v
    assert harmonize((9, "min"), "major", "minor") == (8, "maj")  # vi -> VI
    assert harmonize((7, "dom7"), "major", "minor") == (7, "min7")  # V7 -> v7
    assert harmonize((2, "min7"), "major", "minor") == (2, "dim")  # ii7 -> ii dim (no half-dim quality)
    assert harmonize((8, "maj"), "minor", "major") == (9, "min")  # VI -> vi
    assert harmonize((1, "maj"), "minor", "major") == (0, "maj")  # chromatic bII falls to I
    assert harmonize((7, "sus4"), "major", "minor") == (7, "sus4")  # suspended stays where it fits
    assert harmonize((5, "maj"), "major", "lydian") == (2, "maj")  # #iv dim -> lydian's colour II
    assert darken((3, "maj"), "minor") == (3, "sus4") and darken((8, "maj"), "minor") == (8, "sus2")
    assert darken((0, "min"), "minor") == (0, "min")


@pytest.mark.parametrize("mood", MOODS)
def test_every_moods_melody_and_chords_stay_in_its_modes_scale(mood):
    for seed in range(len(STYLES)):  # every style once
        span = span_for(seed, mood)
        score = compose([span], span.end_frame, [], np.random.default_rng([seed, 2]))
        scale = SCALES[mooded_style(span.spec, mood).mode]
        pcs = [(n.pitch - span.tonic) % 12 for n in score.melody]
        pcs += [(c.root + i - span.tonic) % 12 for c in score.harmony for i in CHORD_QUALITIES[c.quality]]
        assert pcs and all(pc in scale for pc in pcs), (mood, span.style)


def test_a_neutral_span_is_the_style_as_its_table_writes_it():
    assert mooded_style(style("jazz_trio"), NEUTRAL) is style("jazz_trio")
    assert _mean(NEUTRAL, "in_scale") < 1.0  # the styles' own chromatic chords (V7 in minor) stay


def test_a_sad_span_is_minor_lower_sparser_and_softer_than_the_same_seed_neutral():
    for seed in range(len(STYLES)):
        span = span_for(seed, "sadness")
        if mooded_style(span.spec, "sadness").mode != "minor":
            pytest.fail(f"sadness on {span.style} is not minor")
    assert _mean("sadness", "pitch") < _mean(NEUTRAL, "pitch") - 3
    assert _mean("sadness", "onsets_per_bar") < 0.8 * _mean(NEUTRAL, "onsets_per_bar")
    assert _mean("sadness", "accent") < _mean(NEUTRAL, "accent")
    assert _mean("sadness", "minor_chords") > _mean(NEUTRAL, "minor_chords")


def test_an_action_span_is_denser_and_louder_and_repeats_its_figure():
    assert _mean("action", "onsets_per_bar") > 1.15 * _mean(NEUTRAL, "onsets_per_bar")
    assert _mean("action", "accent") > 1.4 * _mean(NEUTRAL, "accent")
    assert _mean("action", "bar_repeats") > _mean(NEUTRAL, "bar_repeats")


def test_tension_plays_minor_and_suspended_chords_and_an_ostinato():
    assert _mean("tension", "major_chords") == 0.0 < _mean(NEUTRAL, "major_chords")
    assert _mean("tension", "minor_chords") > 2 * _mean(NEUTRAL, "minor_chords")
    assert _mean("tension", "bar_repeats") > _mean(NEUTRAL, "bar_repeats") + 0.15
    assert _mean("tension", "accent") < _mean(NEUTRAL, "accent")


def test_wonder_sits_higher_and_comedy_is_staccato():
    assert _mean("wonder", "pitch") > _mean(NEUTRAL, "pitch") + 4
    span = span_for(0, "comedy")  # cinematic strings: legato in its own mood
    legato = compose([span_for(0, NEUTRAL)], span.end_frame, [], np.random.default_rng([0, 2]))
    comic = compose([span], span.end_frame, [], np.random.default_rng([0, 2]))
    assert np.mean([n.end - n.start for n in comic.melody]) < 0.6 * np.mean(
        [n.end - n.start for n in legato.melody]
    )


def test_spans_carry_their_mood_through_to_dict_and_back():
    span = Span("ambient", 66.0, 3, 0, 500, -12.5, "wonder")
    assert Span.from_dict(span.to_dict()) == span
    old = {k: v for k, v in span.to_dict().items() if k != "mood"}  # a truth file from before moods
    assert Span.from_dict(old).mood == NEUTRAL
    with pytest.raises(ValueError, match="known: neutral, tension"):
        Span("ambient", 66.0, 3, 0, 500, 0.0, "kazoo")


def test_moods_are_drawn_per_span_apart_from_the_pictures():
    drawn = []
    for k in range(400):
        rng = np.random.default_rng([11, k])
        drawn += [s.mood for s in plan_edit(STYLES[k % len(STYLES)], 200, rng).spans]
    share = {m: drawn.count(m) / len(drawn) for m in MOOD_TABLE}
    assert 0.33 < share[NEUTRAL] < 0.47
    assert all(0.04 < share[m] < 0.13 for m in MOODS), share
    per_style = {(STYLES[k % len(STYLES)]) for k in range(400)}
    assert len(per_style) == len(STYLES)


def test_captions_and_truth_name_each_spans_mood():
    assert caption("acoustic_folk", 100.4, "tension") == (
        "acoustic folk, minor, waltz, strummed guitar, tense, suspense, dark, 100 bpm"
    )
    assert caption("piano_ballad", 70, NEUTRAL) == "piano ballad, major, slow, warm, gentle, 70 bpm"
    assert {w for m in MOODS for w in mood_words(m)} <= known_prompt_words()
    seen = set()
    for seed in range(24):
        _, truth = generate_score(seed)
        assert truth["moods"] == [s["mood"] for s in truth["spans"]]
        for span, text in zip(truth["spans"], truth["captions"], strict=True):
            assert text == caption(span["style"], span["tempo_bpm"], span["mood"])
            seen.add(span["mood"])
    assert len(seen) >= 6


def test_the_decoder_sends_a_moods_trained_words_to_a_text_encoder_that_learned_them():
    vocabulary = Vocabulary.from_dict(prompt_vocabulary({s: ", ".join(style(s).words) for s in STYLES}))
    known = known_prompt_words()

    def text(prompt: str, words=known) -> str | None:
        return vocabulary.encoder_text(prompt, vocabulary.parse(prompt, words), words)

    assert text("scary, 80 bpm") == caption("cinematic_strings", 80, "tension")
    assert text("sad piano") == "piano ballad, minor, slow, warm, gentle, sad, melancholy"
    assert text("warm piano, 72 bpm") == caption("piano_ballad", 72)
    before_moods = known - {w for m in MOODS for w in mood_words(m)}
    assert text("sad piano", before_moods) == "piano ballad, major, slow, warm, gentle"


def test_synth_refuses_a_broken_mood_table_before_any_clip(tmp_path, monkeypatch):
    from dataclasses import replace

    from engine.corpus import moods
    from engine.corpus.clips import synth_corpus
    from engine.corpus.errors import SynthConfigError

    broken = {**moods.MOOD_TABLE, "tension": replace(moods.MOOD_TABLE["tension"], mode="phrygian")}
    monkeypatch.setattr(moods, "MOOD_TABLE", broken)
    monkeypatch.setattr("engine.corpus.mood_styles.MOOD_TABLE", broken)
    with pytest.raises(SynthConfigError, match="phrygian"):
        synth_corpus(tmp_path / "c", 1)
    assert not (tmp_path / "c").exists()
