"""Decoding with form: one key, the planned chords, themes and grooves that return, a cadence and
a release where a cue ends into silence — held even by an untrained LM, since the form is in the
decoder; and the form measures that tell it from random notes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.corpus.moods import MOODS, decoder_play
from engine.corpus.style_forms import style_forms
from engine.eval.form_measures import form_measures, groove_recurrence, key_of, melodic_step, motif_recurrence
from engine.generator import cue_grid
from engine.generator.config import GeneratorConfig
from engine.generator.form import (
    ENTRY_MIN_FRAMES,
    FINAL_CADENCE,
    MOOD_CENTRE_ODDS,
    RELEASE_S,
    STYLE_FORMS_FILE,
    FormDecoder,
    MoodPlay,
    StyleForm,
    approach_beats,
    drum_lag,
    in_mode,
    in_mood,
    melody_lag,
    plan_form,
    read_style_forms,
    related_grid,
    short_melody_lag,
)
from engine.generator.music_generator import MusicGenerator
from engine.generator.tempo_grid import TempoGrid, read_style_meters
from engine.presets import load_preset
from engine.symbolic import tokens as tk
from engine.symbolic.score import CHORD_QUALITIES, MELODY_RANGE, STREAMS, STYLES

MODEL = Path(__file__).resolve().parents[1] / "resources" / "models" / "tiny"


def _form(name: str = "piano_ballad") -> StyleForm:
    return StyleForm.from_dict(style_forms()[name])


def test_the_shipped_model_folder_carries_the_recipes_style_forms():
    shipped = read_style_forms(MODEL)
    assert shipped is not None and (MODEL / STYLE_FORMS_FILE).is_file()
    assert shipped == {name: StyleForm.from_dict(d) for name, d in style_forms().items()}


def test_a_bad_style_form_table_names_the_file_and_the_fix(tmp_path):
    (tmp_path / STYLE_FORMS_FILE).write_text('{"ambient": {"mode": "lydian"}}')
    with pytest.raises(ValueError, match="style_forms.json.*vm-train"):
        read_style_forms(tmp_path)


def test_the_phrase_plan_states_repeats_contrasts_and_returns():
    assert [melody_lag(b) for b in range(8)] == [0, 0, 2, 2, 0, 0, 6, 0]
    assert [melody_lag(b) for b in range(8, 16)] == [8, 8, 2, 2, 8, 8, 6, 0]
    assert [drum_lag(b, 0.0) for b in range(8)] == [0, 1, 1, 1, 2, 1, 1, 1]
    assert drum_lag(3, 0.75) == 0  # the fill at a phrase's end


def test_the_plan_strikes_a_chord_at_every_change_and_closes_on_the_tonic():
    grid = TempoGrid(120.0, 0.0)  # a bar is 100 frames
    form = _form("piano_ballad")
    plan = plan_form(
        grid=grid, form=form, tonic=2, frames=1000, first=0, end_frame=1000, rng=np.random.default_rng(0)
    )
    starts = [s for s, _, _ in plan.chords]
    assert starts[0] <= 0 and plan.chords[-1][1] >= 1000
    assert all(any(s <= f < e for s, e, _ in plan.chords) for f in range(1000))
    assert {max(s, 0) for s in starts} <= set(plan.strikes) | {0}
    assert plan.release == 1000 - round(RELEASE_S * 50)
    # the tonic lands on the last strong beat (1 or 3 of the bar) a beat or more before the release
    assert plan.final is not None and plan.final % 50 == 0 and plan.release - 75 < plan.final <= plan.release - 25
    assert plan.chord_at(plan.final) == FINAL_CADENCE["major"][1]
    assert plan.chord_at(plan.final - 1) == FINAL_CADENCE["major"][0]
    # the theme: bar 2 repeats bar 0, bar 6 repeats bar 0
    assert plan.melody_from[200] == 0 and plan.melody_from[600] == 0


def test_a_cue_too_short_for_a_period_repeats_a_one_bar_figure():
    grid = TempoGrid(120.0, 0.0)  # a bar is 100 frames: 3 bars heard before the release
    plan = plan_form(
        grid=grid, form=_form("piano_ballad"), tonic=0, frames=330, first=0, end_frame=330,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert [short_melody_lag(b) for b in range(5)] == [0, 1, 2, 1, 2]
    assert plan.melody_from[100] == 0 and plan.melody_from[150] == 50 and plan.melody_from[200] == 0
    long = plan_form(
        grid=grid, form=_form("piano_ballad"), tonic=0, frames=1000, first=0, end_frame=1000,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert 100 not in long.melody_from  # a period's second bar is new material


def test_the_decoder_masks_notes_out_of_key_and_chords_out_of_the_plan():
    grid = TempoGrid(120.0, 0.0)
    plan = plan_form(
        grid=grid,
        form=_form("piano_ballad"),
        tonic=0,
        frames=400,
        first=0,
        end_frame=None,
        rng=np.random.default_rng(1),
    )
    dec = FormDecoder(plan, tk.CARD, len(STREAMS))
    melody = dec.bias(STREAMS.index("melody"), 10)
    for pitch in range(62, 80):
        allowed = np.isfinite(melody[tk.note_id("melody", pitch, 1)])
        assert allowed == (pitch % 12 in (0, 2, 4, 5, 7, 9, 11)), pitch  # C major, the ballad's register
    root, quality = plan.chord_at(0)
    harmony = dec.bias(STREAMS.index("harmony"), 0)  # a strike: only the planned chord
    assert np.isfinite(harmony[tk.chord_id(root % 12, quality, 2)])
    assert not np.isfinite(harmony[tk.REST]) and not np.isfinite(harmony[tk.HOLD])
    other = (root + 5) % 12
    assert not np.isfinite(harmony[tk.chord_id(other, "maj", 2)])


def test_a_chord_sounding_in_the_beat_before_a_seam_rings_across_it():
    """A cue that runs on into the next: a chord struck before the seam is held to it (a staccato
    texture's gap at the seam read as a 9 dB dip on a held-out montage); one already released is
    struck again on the grid's first frame of that beat; a cue ending into silence has no seam."""
    grid = TempoGrid(120.0, 0.0)  # a beat is 25 frames
    harmony = STREAMS.index("harmony")

    def decoder(end_frame, seam):
        plan = plan_form(
            grid=grid, form=_form("piano_ballad"), tonic=0, frames=450, first=0, end_frame=end_frame,
            rng=np.random.default_rng(1), seam=seam,
        )  # fmt: skip
        return plan, FormDecoder(plan, tk.CARD, len(STREAMS))

    plan, dec = decoder(None, 400)
    assert plan.seam == 400
    root, quality = plan.chord_at(380)
    dec.record(harmony, 380, tk.chord_id(root % 12, quality, 1))
    for f in range(381, 387):
        dec.record(harmony, f, tk.HOLD)
    row = dec.bias(harmony, 387)
    assert np.isfinite(row[tk.HOLD]) and np.isfinite(row).sum() == 1  # rings on to the seam
    assert dec.bias(harmony, 370) is not None and np.isfinite(dec.bias(harmony, 370)[tk.REST])  # a beat earlier: free
    _, released = decoder(None, 400)
    released.record(harmony, 350, tk.chord_id(root % 12, quality, 1))
    released.record(harmony, 360, tk.REST)
    assert np.isfinite(released.bias(harmony, 370)[tk.REST])  # before the seam's beat: free
    # released before the seam's beat: its first grid frame there strikes the chord (the texture
    # resting across a seam dipped 11 dB), then it rings on
    strike = released.bias(harmony, 375)
    assert not np.isfinite(strike[[tk.REST, tk.HOLD]]).any() and np.isfinite(strike[tk.chord_id(root % 12, quality, 1)])
    released.record(harmony, 375, tk.chord_id(root % 12, quality, 1))
    assert np.isfinite(released.bias(harmony, 387)).sum() == 1
    ended, _ = decoder(450, 400)
    assert ended.seam is None


def test_a_cue_whose_first_beat_comes_late_enters_on_its_first_frame():
    """Music starting from silence a few frames in is one hard blow louder than anything after
    it (a 3-5 s cue read as a stab, not a pulse; a continued cue's late start a 11 dB dip at its
    seam): the chord and bass of the opening bar sound from frame 0, allowed there off their grid,
    and hold into the first beat; a continued cue may hold what its prompt left sounding. A cue
    whose first beat is frame 0 has no entry."""
    harmony, bass, melody = (STREAMS.index(s) for s in ("harmony", "bass", "melody"))

    def plan(origin: float, first: int = 0):
        return plan_form(
            grid=TempoGrid(120.0, origin), form=_form("ambient"), tonic=2, frames=300, first=first,
            end_frame=None, rng=np.random.default_rng(0),
        )  # fmt: skip

    late = plan(14.0)
    assert late.entry == 14
    dec = FormDecoder(late, tk.CARD, len(STREAMS))
    root, quality = late.chord_at(0)
    chord = tk.chord_id((2 + root) % 12, quality, 0)
    struck = dec.bias(harmony, 0)
    assert np.isfinite(struck[chord]) and not np.isfinite(struck[[tk.REST, tk.HOLD]]).any()
    bass_row = dec.bias(bass, 0)
    pitches = tk.onset_ids("bass")
    allowed = pitches[np.isfinite(bass_row[pitches])]
    assert allowed.size and not np.isfinite(bass_row[[tk.REST, tk.HOLD]]).any()
    assert {int(dec.ids["bass"][i]) % 12 for i in allowed} == {(2 + root) % 12}  # the chord's root
    dec.record(harmony, 0, chord)
    held = dec.bias(harmony, 7)
    assert np.isfinite(held[tk.HOLD]) and np.isfinite(held).sum() == 1  # rings into the first beat
    assert dec.bias(melody, 7) is None or np.isfinite(dec.bias(melody, 7)[tk.REST])  # the tune is free
    silent_bass = FormDecoder(late, tk.CARD, len(STREAMS))
    silent_bass.record(bass, 0, tk.REST)
    assert np.isfinite(silent_bass.bias(bass, 5)[tk.REST])  # nothing sounds: nothing to hold
    assert plan(0.0).entry is None
    assert plan(float(ENTRY_MIN_FRAMES - 1)).entry is None
    continued = plan(14.0, first=-100)
    prompt = np.full((len(STREAMS), 100), tk.HOLD)
    prompt[:, 0] = tk.REST
    prompt[harmony, 60] = chord  # struck in the cue before, held to its seam
    prompt[STREAMS.index("style"), :] = STYLES.index("ambient")
    runs_on = FormDecoder(continued, tk.CARD, len(STREAMS), prompt=prompt).bias(harmony, 0)
    assert np.isfinite(runs_on[tk.HOLD]) and np.isfinite(runs_on[chord])
    prompt[harmony, 80] = tk.REST  # released before the seam: struck again
    assert not np.isfinite(FormDecoder(continued, tk.CARD, len(STREAMS), prompt=prompt).bias(harmony, 0)[tk.HOLD])
    masks = cue_grid.StreamMasks.for_card(tk.CARD)
    opened = masks.entering(masks.on_grid(masks.for_hits(frozenset()), TempoGrid(120.0, 14.0), 0, 300), 14)
    assert 0 in opened.onset_frames[harmony] and 0 in opened.onset_frames[bass]
    assert 0 not in opened.onset_frames[melody]


def test_a_style_taking_over_mid_cue_plays_on_its_related_grid():
    """Ambient after an electronic opening at 128 bpm starts its notes in half time (64 bpm, in its
    60–76 range), on its own onset positions; the opening style keeps the grid; a planned chord
    strike stands wherever it falls."""
    meters = read_style_meters(MODEL)
    electronic, ambient = meters["electronic_pulse"], meters["ambient"]
    grid = TempoGrid(128.0, 0.0, 4, 4, 50.0, electronic.onset_positions)
    assert related_grid(grid, electronic) is None
    half = related_grid(grid, ambient)
    assert half.bpm == 64.0 and half.origin == grid.origin and half.onset_positions == tuple(sorted(ambient.onset_positions))
    assert related_grid(grid, meters["jazz_trio"]).bpm == 128.0  # in its range: the same tempo, its swing steps
    plan = plan_form(
        grid=grid, form=_form("electronic_pulse"), tonic=0, frames=600, first=0, end_frame=None,
        rng=np.random.default_rng(2),
    )  # fmt: skip
    ids = {STYLES.index(n): m for n, m in meters.items()}
    dec = FormDecoder(plan, tk.CARD, len(STREAMS), meters=ids, home_style=STYLES.index("electronic_pulse"))
    melody, style = STREAMS.index("melody"), STREAMS.index("style")
    free = [f for f in grid.onset_frames(200, 400, "melody") if f not in plan.strikes | plan.roots | plan.accents]
    on_half = set(half.onset_frames(200, 400, "melody").tolist())
    dec.record(style, 150, STYLES.index("electronic_pulse"))
    assert all(np.isfinite(dec.bias(melody, f)[tk.ONSET_BASE :]).any() for f in free)  # its own grid
    dec.record(style, 190, STYLES.index("ambient"))
    for f in free:
        row = dec.bias(melody, f)
        assert np.isfinite(row[tk.ONSET_BASE :]).any() == (f in on_half), f
    assert any(f not in on_half for f in free) and any(f in on_half for f in free)
    # the drums too (only rest off its grid), but a hit point's accent stands wherever it falls
    drums = STREAMS.index("drums")
    on_drums = set(half.onset_frames(200, 400, "drums").tolist())
    off = [f for f in grid.onset_frames(200, 400, "drums") if f not in on_drums and f not in plan.strikes | plan.roots]
    assert off and all(np.isfinite(dec.bias(drums, f)).sum() == 1 for f in off)
    assert not dec._off_style_grid(drums, off[0], hit=True)


@pytest.fixture(scope="module")
def gen():
    """The tiny preset with random weights (no training needed: the form is the decoder's) and
    the shipped model folder's meters and forms."""
    g = MusicGenerator.from_config(GeneratorConfig.from_dict(load_preset("tiny").generator), preset="tiny")
    g.read_model_notes(MODEL)
    return g


def _cue(gen, seed: int, forms: bool, end: bool = True, seconds: float = 10.0):
    keep = gen.style_forms
    if not forms:
        gen.style_forms = None
    try:
        rng = np.random.default_rng(seed)
        cls = rng.standard_normal((int(seconds), 128)).astype(np.float32)
        return gen.generate_cue(
            cls_1fps=cls,
            rhythm_50hz=None,
            duration_s=seconds,
            seed=seed,
            hit_points_s=(2.0, 5.0),
            end_s=seconds if end else None,
        )
    finally:
        gen.style_forms = keep


def test_an_untrained_lm_decoded_with_form_plays_in_key_on_the_plan_and_ends(
    gen, one_torch_thread, monkeypatch
):
    plans = []
    real = cue_grid.cue_form

    def spy(**kw):
        out = real(**kw)
        plans.append(out.plan)
        return out

    import engine.generator.music_generator as music_generator

    monkeypatch.setattr(music_generator, "cue_form", spy)
    cue = _cue(gen, seed=4, forms=True)
    plan = plans[-1]
    score = tk.decode(cue.tokens.astype(np.int64))
    allowed = plan.scale
    for note in (*score.melody, *score.bass):
        assert note.pitch % 12 in allowed | plan.pitch_classes(plan.chord_at(note.start)), note
    for chord in score.harmony:
        planned = plan.chord_at(chord.start)
        assert chord.root == (plan.tonic + planned[0]) % 12 and chord.quality == planned[1]
    tail = cue.tokens[:4, plan.release :]
    assert (tail == tk.REST).all()  # released before the out point
    last = max(score.harmony, key=lambda c: c.start)
    assert last.root == plan.tonic  # ends on the tonic chord


def test_form_measures_tell_a_theme_and_a_groove_from_random_notes(gen, one_torch_thread):
    with_form = [form_measures(_cue(gen, seed=s, forms=True).tokens) for s in (1, 2)]
    without = [form_measures(_cue(gen, seed=s, forms=False, end=False).tokens) for s in (1, 2)]
    step = lambda rows: np.nanmean([r["melodic_step"] for r in rows])  # noqa: E731
    assert step(with_form) < 3.5 < step(without)  # an untrained LM leaps; the form steps
    assert all(r["silent_end"] for r in with_form)
    assert not all(r["silent_end"] for r in without)


def test_motif_step_groove_and_key_measures_on_known_material():
    theme = [60, 62, 64, 65, 64, 62, 60, 62, 64, 65, 64, 62, 60]
    assert motif_recurrence(theme) > 0.6 and melodic_step(theme) < 2.5
    rng = np.random.default_rng(0)
    random_notes = rng.integers(48, 96, 60)
    assert motif_recurrence(random_notes) < 0.1 and melodic_step(random_notes) > 8
    grid = TempoGrid(120.0, 0.0)  # 100-frame bars
    drums = np.zeros(800, dtype=np.int64)
    kick, hat = tk.drum_id(("kick",), 2), tk.drum_id(("hat_closed",), 1)
    for bar in range(8):
        drums[bar * 100] = kick
        drums[bar * 100 + 50] = kick
        for e in range(0, 100, 25):
            drums[bar * 100 + e + 12] = hat
    assert groove_recurrence(drums, grid) == 1.0
    scattered = np.zeros(800, dtype=np.int64)
    scattered[rng.choice(800, 40, replace=False)] = kick
    assert groove_recurrence(scattered, grid) < 0.3
    c_major = np.zeros(12)
    c_major[[0, 4, 7]] = 3
    c_major[[2, 5, 9, 11]] = 1
    assert key_of(c_major) == (0, "major")


def test_a_mood_moves_a_styles_harmony_into_its_mode_degree_by_degree():
    ballad = _form("piano_ballad")  # major: I-V-vi-IV
    sad = in_mode(ballad, "minor")
    assert sad.mode == "minor" and sad.scale == (0, 2, 3, 5, 7, 8, 10)
    assert sad.progressions[0] == ((0, "min"), (7, "min"), (8, "maj"), (5, "min"))  # i-v-VI-iv
    jazz = in_mode(_form("jazz_trio"), "minor")  # ii7-V7-Imaj7 -> ii(dim)-v7-i7
    assert jazz.progressions[0][:3] == ((2, "dim"), (7, "min7"), (0, "min7"))
    wonder = in_mode(ballad, "lydian")  # IV -> lydian's colour chord II
    assert wonder.progressions[0][-1] == (2, "maj") and wonder.scale == (0, 2, 4, 6, 7, 9, 11)
    assert in_mode(ballad, "major") is ballad and in_mode(ballad, "unknown") is ballad
    for mode in ("minor", "lydian", "mixolydian", "dorian"):
        moved = in_mode(ballad, mode)
        for row in (*moved.progressions, *moved.cadences):
            for root, quality in row:
                tones = {(root + t) % 12 for t in CHORD_QUALITIES[quality]}
                assert tones <= set(moved.scale), (mode, root, quality)


def test_a_prompts_mood_writes_the_cue_in_its_mode():
    forms = {name: StyleForm.from_dict(d) for name, d in style_forms().items()}
    grid = TempoGrid(bpm=90.0, origin=0.0)
    kw = dict(
        grid=grid, opening=1, prompt_codes=None, history=None, style_forms=forms, frames=500,
        end_frame=None, hits=frozenset(), seed=3, card=290, frame_rate=50.0,
    )  # fmt: skip
    major = cue_grid.cue_form(**kw)
    minor = cue_grid.cue_form(**kw, mode="minor")
    assert major.plan.form.mode == "major" and minor.plan.form.mode == "minor"
    assert major.plan.tonic == minor.plan.tonic  # the same seed: the same tonic, another mode
    assert minor.plan.scale == frozenset((minor.plan.tonic + x) % 12 for x in (0, 2, 3, 5, 7, 8, 10))


def test_a_moods_mode_moves_the_closing_approach_as_the_composer_moves_a_styles_cadences():
    sad = in_mode(_form("piano_ballad"), "minor")
    assert sad.final_cadence == ((7, "min7"), (0, "min"))  # v7-i, not V7-i
    assert _form("piano_ballad").final_cadence == FINAL_CADENCE["major"]
    # mixolydian's bVII would be diminished in major: the major V, a triad in a style without sevenths
    assert in_mode(_form("indie_rock"), "major").final_cadence == ((7, "maj"), (0, "maj"))
    assert in_mode(_form("cinematic_strings"), "minor").final_cadence == FINAL_CADENCE["minor"]


def test_a_short_cue_states_its_key_before_it_cadences():
    grid = TempoGrid(80.0, 0.0)  # a beat is 37.5 frames, a bar 150
    assert approach_beats(grid, 150) == 2 and approach_beats(grid, 75) == 1 and approach_beats(grid, 37) == 0
    form = _form("piano_ballad")
    for seed in range(6):  # a 3.6 s cue: its close on the third beat, the tonic before the approach
        plan = plan_form(
            grid=grid, form=form, tonic=0, frames=180, first=0, end_frame=180, rng=np.random.default_rng(seed)
        )
        assert plan.final == 75
        assert plan.chord_at(0)[0] == 0 and plan.chord_at(40) == FINAL_CADENCE["major"][0]
        assert plan.chord_at(75) == FINAL_CADENCE["major"][1]


def test_the_composers_moods_are_what_the_decoder_plays():
    """Each mood's play (register, density, dynamics, harmony, ostinato) ships in the model folder's
    vocabulary as the composer's table holds it."""
    from engine.generator.prompt_intent import Vocabulary

    shipped = Vocabulary.read(MODEL)
    for name in MOODS:
        assert shipped.play(name) == MoodPlay.from_dict(decoder_play(name)), name
    assert shipped.play(None) is None
    with pytest.raises(ValueError, match="density"):
        MoodPlay.from_dict({"density": 3})


def test_a_tense_cue_suspends_its_chords_repeats_its_bar_and_takes_the_composers_accents():
    tense = MoodPlay.from_dict(decoder_play("tension"))
    form = in_mood(in_mode(_form("cinematic_strings"), "minor"), tense)
    assert not {q for row in (*form.progressions, *form.cadences) for _, q in row} & {"maj", "maj7", "dom7"}
    grid = TempoGrid(120.0, 0.0)  # a beat is 25 frames, a bar 100
    plan = plan_form(
        grid=grid, form=form, tonic=0, frames=600, first=0, end_frame=600, rng=np.random.default_rng(2),
        mood=tense,
    )  # fmt: skip
    assert plan.chord_at(plan.final - 1) == (7, "sus4")  # the approach suspended too
    assert plan.melody_from[100] == 0 and plan.melody_from[250] == 150  # every bar repeats the bar before
    assert plan.accent_shifts and len(plan.accent_shifts) < len(grid.frames(0, 600))
    melody = STREAMS.index("melody")
    ids = [tk.note_id("melody", p, a) for p in range(55, 90) for a in range(3)]

    def levels(dec: FormDecoder, frame: int) -> set[int]:
        allowed = [i for i in ids if np.isfinite(dec.bias(melody, frame)[i])]
        assert allowed, frame
        return {tk.onset_accent("melody", i) for i in allowed}

    dec = FormDecoder(plan, tk.CARD, len(STREAMS))
    for frame in (f for f in (0, 100, 125, 112, 400) if f not in plan.accent_shifts):
        # an ostinato's only accent: its phrase (every 4 bars) opens strong, every other note marcato
        assert levels(dec, frame) == {2 if frame % 400 == 0 else 1}, frame
    sad = MoodPlay.from_dict(decoder_play("sadness"))
    plan = plan_form(
        grid=grid, form=in_mode(_form("piano_ballad"), "minor"), tonic=0, frames=600, first=0,
        end_frame=600, rng=np.random.default_rng(2), mood=sad,
    )  # fmt: skip
    dec = FormDecoder(plan, tk.CARD, len(STREAMS))
    for frame in (f for f in (0, 100, 125, 112) if f not in plan.accent_shifts):
        assert levels(dec, frame) == {1 if frame % 25 == 0 else 0}, frame  # metric: on a beat medium
    lo, _ = MELODY_RANGE  # the register moves, but never out of the melody's range
    assert MoodPlay(register_shift=-12).register((lo + 3, lo + 20)) == (lo, lo + 17)
    assert MoodPlay(register_shift=-3).register((lo + 3, lo + 20)) == (lo, lo + 17)


def test_a_moods_melody_keeps_to_the_centre_of_its_register():
    # Left to the LM, a romantic ballad's tune climbed 2 semitones over the composer's and read
    # as wonder (+7): with a mood, a note costs MOOD_CENTRE_ODDS per octave from the centre.
    form, grid = _form("piano_ballad"), TempoGrid(120.0, 0.0)
    lo, hi = form.melody_register
    romance = MoodPlay.from_dict(decoder_play("romance"))

    def lean(mood: MoodPlay | None) -> float:
        plan = plan_form(
            grid=grid, form=form, tonic=0, frames=400, first=0, end_frame=400,
            rng=np.random.default_rng(0), mood=mood,
        )  # fmt: skip
        chord = plan.chord_at(0)
        roots = [p for p in range(lo, hi + 1) if p % 12 == chord[0] % 12]  # tonic 0
        near, far = (f(roots, key=lambda p: abs(p - (lo + hi) / 2)) for f in (min, max))
        row = FormDecoder(plan, tk.CARD, len(STREAMS))._pitch_row("melody", chord)
        return float(row[tk.note_id("melody", near, 1)] - row[tk.note_id("melody", far, 1)])

    assert lean(None) == 0.0  # no mood: the register's notes are equal
    assert lean(romance) > 0.25 * MOOD_CENTRE_ODDS  # the chord's root at the register's edge costs more


def test_a_high_energy_cue_rides_out_its_close_where_a_calm_one_holds_the_tonic():
    grid = TempoGrid(120.0, 0.0)
    melody = STREAMS.index("melody")
    plans = {
        energy: plan_form(
            grid=grid, form=_form("indie_rock"), tonic=0, frames=400, first=0, end_frame=400,
            rng=np.random.default_rng(0), energy=energy,
        )  # fmt: skip
        for energy in ("low", "high")
    }
    assert plans["high"].rides_out and not plans["low"].rides_out
    after = plans["high"].final + 25  # a beat after the closing tonic, before the release
    assert after < plans["high"].release
    calm, riding = (FormDecoder(plans[e], tk.CARD, len(STREAMS)).bias(melody, after) for e in ("low", "high"))
    assert np.isfinite(calm).sum() == 1 and np.isfinite(calm[tk.HOLD])  # holds the tonic
    assert np.isfinite(riding[tk.ONSET_BASE :]).sum() > 5  # its figure goes on over it
    assert not np.isfinite(riding[tk.ONSET_BASE :]).all()  # in key and register
