"""Real music from the music21 corpus: its notes and chords land on the grid as the work has them,
only licensed repertories are used, and stage 0's data mixes it with the composer's at its share."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest

from engine.corpus.compose import compose
from engine.corpus.melody_form import mean_abs_step, motif_recurrence
from engine.corpus.meter import Span
from engine.corpus.real_music import (
    _music21,
    choose_style,
    corpus_root,
    nearest_chord,
    pieces,
    read_scores,
    repertory_files,
    tokenize,
)
from engine.corpus.repertories import REPERTORIES, admitted, repertory
from engine.corpus.styles import caption, style
from engine.symbolic.score import BASS_RANGE, CHORD_QUALITIES, FRAME_RATE, MELODY_RANGE, STREAMS
from engine.symbolic.tokens import REST, decode, encode
from engine.train.batches import Batcher
from engine.train.cli import main
from engine.train.mix import MixedShards
from engine.train.prepare import load_prepare_codec
from engine.train.shards import PreparedItem, ShardDataset, ShardsError, ShardWriter

# music21's chord kinds in the two works below -> this project's qualities (read off by hand)
KIND = {"major": "maj", "minor": "min", "dominant-seventh": "dom7", "major-seventh": "maj7"}


def _work(rel: str):
    return read_scores(corpus_root() / rel)[0]


def _melody_midis(part) -> list[int]:
    m21 = _music21()
    return [
        max(p.midi for p in n.pitches)
        for n in part.flatten().stripTies().notes
        if not isinstance(n, m21.harmony.ChordSymbol) and not n.duration.isGrace
    ]


def _assert_round_trip(score) -> None:
    back = decode(encode(score))
    assert (back.melody, back.bass, back.harmony) == (score.melody, score.bass, score.harmony)
    assert back.style_spans == score.style_spans and not back.drums


def test_nearest_chord_names_the_usual_chords():
    assert nearest_chord({0, 4, 7}) == (0, "maj")
    assert nearest_chord({9, 0, 4}) == (9, "min")
    assert nearest_chord({7, 11, 2, 5}) == (7, "dom7")
    assert nearest_chord({11, 2, 5}) == (11, "dim")
    assert nearest_chord({0, 2, 7}, root=0) == (0, "sus2")
    assert nearest_chord({0, 4, 7, 9}, root=0) == (0, "maj")  # C6: the triad, not A minor 7
    assert nearest_chord({2, 5, 9, 0}, root=2) == (2, "min7")


def test_styles_fit_the_works_meter_and_mode():
    folk = repertory("ryans_mammoth").styles
    assert choose_style(folk, 3, False, "major").name == "acoustic_folk"
    assert choose_style(folk, 2, False, "major").name == "piano_ballad"  # two 2/4 bars to its 4/4
    assert choose_style(folk, 2, False, "minor").name == "cinematic_strings"
    assert choose_style(folk, 2, True, "major").name == "jazz_trio"  # 6/8: the triplet-grid style
    with pytest.raises(Exception, match="fits none"):
        choose_style(("acoustic_folk",), 4, False, "major")


def test_a_lead_sheet_plays_its_chord_symbols_and_tune():
    m21 = _music21()
    work = _work("leadSheet/fosterBrownHair.mxl")
    score = tokenize(work, "t", repertory("foster_lead_sheet").styles, np.random.default_rng(3))
    spec = style(score.style_at(0))
    assert spec.tempo_bpm[0] <= score.tempo_bpm <= spec.tempo_bpm[1]
    assert score.meta["harmony_from"] == "chord symbols" and not score.drums
    shift = score.meta["transpose"]
    per_ql = FRAME_RATE * 60.0 / score.tempo_bpm  # 4/4: the beat is a quarter
    symbols = [
        cs
        for cs in work.parts[0].flatten().getElementsByClass(m21.harmony.ChordSymbol)
        if not isinstance(cs, m21.harmony.NoChord)
    ][:8]
    expected = [
        (round(float(cs.offset) * per_ql), (cs.root().pitchClass + shift) % 12, KIND[cs.chordKind])
        for cs in symbols
    ]
    assert [(c.start, c.root, c.quality) for c in score.harmony[:8]] == expected
    assert [n.pitch % 12 for n in score.bass[:8]] == [(cs.bass().pitchClass + shift) % 12 for cs in symbols]
    tune = _melody_midis(work.parts[0])[:16]
    mine = [n.pitch for n in score.melody[:16]]
    assert np.diff(mine).tolist() == np.diff(tune).tolist()  # the same intervals
    assert (mine[0] - tune[0] - shift) % 12 == 0  # moved by the key shift and whole octaves
    lo, hi = spec.melody_register
    assert (
        np.mean([lo <= n.pitch <= hi for n in score.melody]) >= 0.85
    )  # the tune spans more than the register
    _assert_round_trip(score)


def test_a_four_part_hymn_takes_harmony_from_its_voices_and_bass_from_the_lowest():
    work = _work("johnson_j_r/lift_every_voice.mxl")
    assert [p.partName for p in work.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    score = tokenize(work, "t", repertory("johnson_lift_every_voice").styles, np.random.default_rng(0))
    assert score.style_at(0) == "jazz_trio"  # 6/8 needs the triplet grid
    assert score.meta["harmony_from"] == "voices" and len(score.harmony) > 20
    assert all(c.quality in CHORD_QUALITIES for c in score.harmony)
    shift = score.meta["transpose"]
    bass = _melody_midis(work.parts[3])  # one note at a time: the lowest is the note
    mine = [n.pitch for n in score.bass]
    assert np.diff(mine[:20]).tolist() == np.diff(bass[:20]).tolist()
    assert (mine[0] - bass[0] - shift) % 12 == 0
    assert all(BASS_RANGE[0] <= p <= BASS_RANGE[1] for p in mine)
    soprano = _melody_midis(work.parts[0])
    assert np.diff([n.pitch for n in score.melody[:20]]).tolist() == np.diff(soprano[:20]).tolist()
    assert all(MELODY_RANGE[0] <= n.pitch <= MELODY_RANGE[1] for n in score.melody)
    # the first chord holds the four voices' first notes (E-flat and G: a pickup on the dominant)
    first = {_melody_midis(part)[0] % 12 for part in work.parts}
    chord = score.harmony[0]
    assert first == {3, 7} and chord.start == 0
    assert {(chord.root - shift + i) % 12 for i in CHORD_QUALITIES[chord.quality]} >= first
    _assert_round_trip(score)


def test_only_admitted_repertories_are_listed_and_their_licences_are_in_the_corpus():
    root = corpus_root()
    names = {r.name for r in admitted()}
    assert names == {
        "foster_lead_sheet",
        "johnson_lift_every_voice",
        "liliuokalani_aloha_oe",
        "lusitano_madrigal",
        "weber_concertino",
        "corelli_grave",
    }
    for rep in admitted():
        (path,) = repertory_files(rep)
        data = (
            zipfile.ZipFile(path).read(
                next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("xml") and "META" not in n)
            )
            if path.suffix == ".mxl"
            else path.read_bytes()
        )
        rights = re.findall(r"<rights>([^<]*)</rights>", data.decode("utf-8"))
        assert rights and rights[0].strip() == rep.licence.quote, rep.name
    essen = (root / "essenFolksong" / "license.txt").read_text()
    assert "permission\nfor non-commercial distribution" in essen
    for rep in REPERTORIES:
        if rep.licence.name == "none stated":  # revisit the table if a licence file ever appears
            for rel in rep.paths:
                found = [
                    p for p in (root / rel).rglob("*") if re.match(r"(?i)(licen[cs]e|readme|copying)", p.name)
                ]
                assert not found, (rep.name, found)
    with pytest.raises(ValueError, match="not admitted"):
        next(pieces((repertory("ryans_mammoth"),)))


def test_melody_form_measures():
    assert mean_abs_step([60, 62, 64, 65]) == pytest.approx(5 / 3)
    assert motif_recurrence([60, 62, 64, 60, 62, 64, 60]) == pytest.approx(0.5)
    assert motif_recurrence([60, 61, 63, 66, 70, 75]) == 0.0
    assert motif_recurrence([60, 62, 64]) is None and mean_abs_step([60]) is None


def _composer_shards(root, codec) -> ShardDataset:
    writer = ShardWriter(root, codec, {"preset": "tiny", "rhythm_channels": 2}, 8)
    rng = np.random.default_rng(0)
    for i in range(6):
        span = Span("piano_ballad", 70.0, i, 0, 400, 0.0)
        codes = encode(compose([span], 400, [], rng)).astype(np.int32)
        writer.add(
            PreparedItem(
                f"clip-{i}",
                "train",
                caption("piano_ballad", 70.0),
                rng.standard_normal((8, 16)).astype(np.float32),
                rng.random((400, 2)).astype(np.float32),
                codes,
                8.0,
            )
        )
    writer.close()
    return ShardDataset(root, "train")


@pytest.mark.slow  # loads the tiny preset's codec (torch + audiocraft), as `prepare` does
def test_real_shards_mix_into_stage_zero_at_their_share(tmp_path, capsys):
    out = tmp_path / "real"
    rc = main(
        ["real-music", "--out", str(out), "--repertory", "foster_lead_sheet", "--repertory", "corelli_grave"]
    )
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["works"] == 2 and set(summary["repertories"]) == {"foster_lead_sheet", "corelli_grave"}
    assert summary["minutes"] > 2 and 1.0 < summary["mean_abs_step"] < 4.0
    index = json.loads((out / "index.json").read_text())
    assert index["features"]["pictures"] is False and len(index["items"]) == 2
    real = ShardDataset(out, split=None)  # both splits: the test needs its two pieces
    assert not real.has_pictures and all(it.cls.shape[1] == 0 for it in real.items)
    composer = _composer_shards(tmp_path / "composer", load_prepare_codec("tiny").info())
    mixed = MixedShards(composer, real, 0.3)
    batcher = Batcher(mixed, 2.0, 16, seed=1)
    assert batcher.weights is not None and batcher.weights.sum() == pytest.approx(1.0)
    assert batcher.weights[mixed.is_real[batcher.pool]].sum() == pytest.approx(0.3)
    drums = STREAMS.index("drums")
    rows = real_rows = 0
    for step in range(25):
        batch = batcher.batch(step)
        assert batch.cls.shape[2] == 16 and batch.rhythm.shape[2] == 2
        silent = (batch.codes[:, drums] == REST).all(dim=1)  # real music has no drums; the composer's has
        assert (batch.cls[silent] == 0).all() and (batch.rhythm[silent] == 0).all()
        rows += len(silent)
        real_rows += int(silent.sum())
    assert 0.2 < real_rows / rows < 0.4
    assert Batcher(composer, 2.0, 16, seed=1).weights is None  # one source: drawn as before
    with pytest.raises(ShardsError, match="share"):
        MixedShards(composer, real, 1.0)


@pytest.mark.slow  # a small LM's two stage-0 steps on the mix
@pytest.mark.usefixtures("one_torch_thread")
def test_stage_zero_trains_on_the_mix_and_later_stages_refuse_real_music(tmp_path, capsys):
    from engine.train.loop import TrainConfig, train_stage
    from engine.train.stages import StageError, build_stage_model
    from tests._trainer_data import small_config

    assert main(["real-music", "--out", str(tmp_path / "real"), "--repertory", "foster_lead_sheet"]) == 0
    capsys.readouterr()
    real = ShardDataset(tmp_path / "real", split=None)
    mixed = MixedShards(_composer_shards(tmp_path / "composer", real.codec), real, 0.5)
    cfg = small_config(
        lm={"dim": 32, "num_heads": 4, "num_layers": 2, "n_q": 5, "card": 290},
        codec={"dimension": 16, "n_filters": 4, "bins": 290},
    )
    run = TrainConfig(steps=2, batch=4, segment_s=2.0, warmup_steps=1, checkpoint_every=2)
    result = train_stage(
        "stage0-lm", build_stage_model("stage0-lm", cfg, "small"), mixed, run, tmp_path / "s0"
    )
    assert result["step"] == 2 and np.isfinite(result["last"]["loss"])
    with pytest.raises(StageError, match="no pictures"):
        train_stage("stage1", build_stage_model("stage0-lm", cfg, "small"), real, run, tmp_path / "s1")


def test_recipe_keeps_its_real_music_share(tmp_path):
    from engine.train.recipe import Recipe, RecipeError, plan_for_budget

    plan = plan_for_budget(5)
    Recipe(tmp_path, plan, real_music_share=0.3)
    assert json.loads((tmp_path / "recipe.json").read_text())["real_music_share"] == 0.3
    with pytest.raises(RecipeError, match="--real-music 0.3"):
        Recipe(tmp_path, plan, resume=True)  # a resume must not change what stage 0 learns from
    with pytest.raises(RecipeError, match=r"\[0, 1\)"):
        Recipe(tmp_path / "other", plan, real_music_share=1.0)
    assert (
        main(
            [
                "stage0-lm",
                "--data",
                str(tmp_path),
                "--out",
                str(tmp_path / "x"),
                "--steps",
                "1",
                "--real-share",
                "0.3",
            ]
        )
        == 2
    )


@pytest.mark.slow  # the whole tiny recipe at a smoke budget (about 40 s on 2 cores)
def test_tiny_recipe_mixes_real_music_into_stage_zero(tmp_path, capsys, monkeypatch):
    import engine.corpus.real_music as real_music

    monkeypatch.setattr(real_music, "admitted", lambda: (repertory("foster_lead_sheet"),))  # one quick work
    out = tmp_path / "run"
    argv = ["tiny", "--out", str(out), "--budget-minutes", "0.05", "--threads", "1", "--real-music", "0.5"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    steps = list(result["steps"])
    assert steps.index("prepare") < steps.index("real-music") < steps.index("stage0-lm")
    assert result["steps"]["real-music"]["works"] == 1
    assert json.loads((out / "model-two-stage" / "recipe.json").read_text())["real_music_share"] == 0.5
    index = json.loads((out / "shards-real" / "index.json").read_text())
    assert [it["music"] for it in index["items"]] == ["foster_lead_sheet:leadSheet/fosterBrownHair.mxl#0"]
    assert main([*argv[:-2], "--resume"]) == 2  # a resume without the share would change stage 0's data
    assert "--real-music 0.5" in capsys.readouterr().err


def _two_part_score(upper: list[tuple[str, float]], lower: list[tuple[str, float]], meter: str = "4/4"):
    m21 = _music21()
    score = m21.stream.Score()
    for line in (upper, lower):
        part = m21.stream.Part()
        part.append(m21.meter.TimeSignature(meter))
        part.append(m21.key.Key("C"))
        for name, ql in line:
            part.append(
                m21.note.Rest(quarterLength=ql) if name == "r" else m21.note.Note(name, quarterLength=ql)
            )
        score.insert(0, part.makeMeasures())
    return score


def test_voices_give_one_chord_per_beat_at_most_and_passing_tones_do_not_count():
    # bar 1: a C major arpeggio in eighths with a passing D over a C; bar 2: G7 spelled out over G
    upper = [(n, 0.5) for n in ("C5", "E5", "G5", "E5", "C5", "D5", "E5", "G5")]
    upper += [(n, 0.5) for n in ("G4", "B4", "D5", "F5", "D5", "B4", "G4", "F4")]
    lower = [("C3", 4.0), ("G2", 4.0)]
    score = tokenize(_two_part_score(upper, lower), "t", ("piano_ballad",), np.random.default_rng(1))
    shift, per_ql = score.meta["transpose"], FRAME_RATE * 60.0 / score.tempo_bpm
    assert score.meta["harmony_from"] == "voices"
    assert [(c.start, c.end, c.root, c.quality) for c in score.harmony] == [
        (0, round(4 * per_ql), shift % 12, "maj"),
        (round(4 * per_ql), score.num_frames, (7 + shift) % 12, "dom7"),
    ]
    assert [c.accent for c in score.harmony] == [1, 1]  # both on a downbeat
    assert [n.accent for n in score.melody[:3]] == [2, 0, 1]  # phrase start, off the beat, on the beat
    _assert_round_trip(score)
