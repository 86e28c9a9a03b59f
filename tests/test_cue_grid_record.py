"""What a cue records of how it was played: the tempo grid its notes start on and the seconds its
accents were forced on. A music editor reads the tempo to cut to it; the form measures read bars
and grooves on it (a grid fitted to the notes took a 4/4 at 60 bpm for one at 90 and read a
steady groove as none) and leave the picture's accents out of the groove."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engine.api import (
    Continuation,
    CueKey,
    CueResult,
    CueTempo,
    SceneRequest,
    ScoreRequest,
    continuation_from_dict,
    cue_from_dict,
)
from engine.eval.form_measures import groove_recurrence
from engine.generator.form import ENTRY_MIN_FRAMES
from engine.generator.tempo_grid import TempoGrid, from_cue_tempo, to_cue_tempo
from engine.pipeline import merge_hits, score
from engine.symbolic import tokens as tk
from vm_editor.score_track import cue_from_metadata


def _cue(**fields) -> CueResult:
    return CueResult(0, "a", "/x.wav", 2.0, 96000, 48000, "tiny", 1, None, 1, "h", "v", True, **fields)


def test_the_tempo_and_hits_travel_in_the_clip_metadata_and_as_json():
    tempo = CueTempo(bpm=96.0, downbeat_s=0.3125, beats_per_bar=3)
    key = CueKey(9, "minor", (0, 2, 4, 5, 7, 9, 11))
    cue = _cue(tempo=tempo, hit_points_s=(0.5, 1.25), key=key)
    meta = {**cue.metadata(), "record_start_frame": 0, "record_end_frame": 48, "rate": 24.0}
    assert meta["tempo"] == {"bpm": 96.0, "downbeat_s": 0.3125, "beats_per_bar": 3, "steps_per_beat": 4}
    assert meta["key"] == {"tonic": 9, "mode": "minor", "notes": [0, 2, 4, 5, 7, 9, 11]} and key.name == "A minor"
    back = cue_from_metadata(meta)
    assert back.tempo == tempo and back.hit_points_s == (0.5, 1.25) and back.key == key
    assert cue_from_dict(json.loads(json.dumps(dataclasses.asdict(cue)))) == cue  # the service's path
    assert "tempo" not in _cue().metadata() and "hit_points_s" not in _cue().metadata()  # older records


@pytest.mark.parametrize(
    "bad",
    [{"bpm": 0, "downbeat_s": 0}, {"bpm": "x", "downbeat_s": 0}, {"bpm": 90}, {"bpm": 90, "downbeat_s": "nan"},
     {"bpm": 90, "downbeat_s": 0, "beats_per_bar": 0}, "90 bpm", None],
)  # fmt: skip
def test_an_unreadable_recorded_tempo_reads_as_none_and_the_api_refuses_it(bad):
    meta = {**_cue().metadata(), "record_start_frame": 0, "record_end_frame": 48, "rate": 24.0, "tempo": bad}
    assert cue_from_metadata(meta).tempo is None
    meta["hit_points_s"] = "1.0"
    assert cue_from_metadata(meta).hit_points_s is None
    for key in ({"tonic": 12, "mode": "major", "notes": [0, 2, 4, 5, 7, 9, 11]}, {"tonic": 0, "mode": "x", "notes": [0]}, "C"):
        meta["key"] = key
        assert cue_from_metadata(meta).key is None
    if isinstance(bad, dict):
        with pytest.raises((ValueError, KeyError)):
            CueTempo.from_dict(bad)


def test_a_cut_found_in_the_media_beside_the_editors_cut_is_that_cut():
    assert merge_hits({3.2, 7.2}, [1.2, 3.04, 3.3, 8.2, 8.3]) == (1.2, 3.2, 7.2, 8.2)
    assert merge_hits(set(), []) == ()


def test_a_groove_with_the_pictures_accents_at_new_places_each_bar_still_repeats():
    grid = TempoGrid(120.0, 0.0)  # 100-frame bars
    drums = np.zeros(800, dtype=np.int64)
    kick, hat, crash = tk.drum_id(("kick",), 2), tk.drum_id(("hat_closed",), 1), tk.drum_id(("crash",), 2)
    for bar in range(8):
        drums[bar * 100] = kick
        drums[bar * 100 + 50] = kick
        for e in range(0, 100, 25):
            drums[bar * 100 + e + 12] = hat
    hits = set()
    for bar in range(1, 8):  # a cut in every bar, each at another step
        at = bar * 100 + 6 + 11 * bar
        drums[at] = crash
        hits.add(at)
    assert groove_recurrence(drums, grid) <= 0.5  # bars differ by their accents ...
    assert groove_recurrence(drums, grid, hits) == 1.0  # ... but the groove under them repeats


def test_a_scored_cue_records_its_grid_and_its_hits(tmp_path, one_torch_thread):
    scene = SceneRequest(index=0, name="a", duration_s=4.0, hit_points_s=(1.0, 2.5), ends=True)
    (cue,) = score(ScoreRequest(scenes=(scene,), cue_dir=str(tmp_path), seed=3)).cues
    assert cue.hit_points_s == (1.0, 2.5)
    assert cue.tempo is not None and 40 <= cue.tempo.bpm <= 200
    bar_s = 60.0 / cue.tempo.bpm * cue.tempo.beats_per_bar
    assert 0.0 <= cue.tempo.downbeat_s < bar_s
    # the notes start on that grid
    tokens = np.load(cue.tokens_path)
    grid = TempoGrid(cue.tempo.bpm, cue.tempo.downbeat_s * 50, cue.tempo.steps_per_beat, cue.tempo.beats_per_bar)
    pitched = tokens[1:4] >= tk.ONSET_BASE
    # ... but for the entry: a cue whose first beat comes late sounds its bass and chord from frame 0
    first_beat = grid.onset_frames(0, tokens.shape[1], "harmony")[0]
    assert first_beat >= ENTRY_MIN_FRAMES and pitched[:2, 0].all()
    pitched[:2, 0] = False
    onsets = np.flatnonzero(pitched.any(axis=0))
    steps = (onsets - grid.origin) / grid.step_frames
    assert onsets.size and np.all(np.abs(steps - np.round(steps)) * grid.step_frames <= 1.0)


def test_a_continued_cue_plays_on_the_very_beats_of_the_cue_before(tmp_path, one_torch_thread):
    """In one request and from a recorded take (regenerate, conform): the same bpm, its bar lines
    where the previous cue's fall (a grid fitted again to the notes landed a fraction of a frame
    off, and half the continued cue's notes a frame off the previous grid)."""
    first = SceneRequest(index=0, name="a", duration_s=4.0, hit_points_s=(1.5,), handle_s=1.0)
    second = SceneRequest(
        index=1, name="b", duration_s=4.0, ends=True, continue_from=Continuation(4.0, scene_index=0)
    )
    a, b = score(ScoreRequest(scenes=(first, second), cue_dir=str(tmp_path / "one"), seed=5)).cues
    assert a.key is not None and b.key is not None and b.key.notes == a.key.notes  # the same signature
    bar_s = 60.0 / a.tempo.bpm * a.tempo.beats_per_bar
    assert b.tempo.bpm == a.tempo.bpm and b.tempo.beats_per_bar == a.tempo.beats_per_bar
    assert abs(((b.tempo.downbeat_s + 4.0 - a.tempo.downbeat_s) / bar_s + 0.5) % 1.0 - 0.5) * bar_s < 1e-4
    # a new take of cue b from the recorded cue a
    again = dataclasses.replace(
        second, seed=99, continue_from=Continuation(4.0, tokens_path=a.tokens_path, tempo=a.tempo, key=a.key)
    )
    (c,) = score(ScoreRequest(scenes=(again,), cue_dir=str(tmp_path / "two"), seed=5)).cues
    assert c.tempo.bpm == a.tempo.bpm and c.key.notes == a.key.notes
    assert abs(((c.tempo.downbeat_s + 4.0 - a.tempo.downbeat_s) / bar_s + 0.5) % 1.0 - 0.5) * bar_s < 1e-4
    assert continuation_from_dict(json.loads(json.dumps(dataclasses.asdict(again.continue_from)))) == again.continue_from
    # the recorded key is what it keeps, not a reading of the notes: told another, it plays in that one
    shifted = CueKey((a.key.tonic + 2) % 12, a.key.mode, tuple(sorted((n + 2) % 12 for n in a.key.notes)))
    told = dataclasses.replace(again, continue_from=dataclasses.replace(again.continue_from, key=shifted))
    (d,) = score(ScoreRequest(scenes=(told,), cue_dir=str(tmp_path / "three"), seed=5)).cues
    assert d.key.notes == shifted.notes


def test_a_recorded_grid_reads_back_to_the_same_beats():
    grid = TempoGrid(97.3, -41.7, 3, 4)  # a swung 4/4 whose bar 0 starts before the cue
    back = from_cue_tempo(to_cue_tempo(grid))
    assert 0.0 <= to_cue_tempo(grid).downbeat_s < 60.0 / 97.3 * 4
    assert np.array_equal(back.frames(0, 2000, "step"), grid.frames(0, 2000, "step"))
    assert np.array_equal(back.frames(0, 2000, "bar"), grid.frames(0, 2000, "bar"))
