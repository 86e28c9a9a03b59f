"""A cue's explicit mood and energy (issue 26): checked at the api in one line naming the allowed
values, carried by the service and in-process to the generator, put over the prompt's words
(`PromptIntent.with_controls`), kept in the cue's metadata for a later regenerate or conform."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from fastapi.testclient import TestClient

from engine.api import (
    CUE_ENERGIES,
    CUE_MOODS,
    CueResult,
    SceneRequest,
    check_scene,
    scene_from_dict,
)
from engine.errors import GeneratorInputError
from engine.generator import backbone as bb
from engine.generator.prompt_intent import ENERGIES, MOODS, Vocabulary
from engine.pipeline import cue_filename
from engine.symbolic import tokens as tk
from engine.symbolic.score import STREAMS, STYLES
from tests.test_service_api import AUTH, job_body, make_app
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor import input_guard, scoring
from vm_editor.errors import EditorInputError
from vm_editor.score_track import cue_from_metadata
from vm_editor.timeline_io import read_timeline
from vm_editor.writeback import METADATA_KEY, cue_metadata

STYLE_ROW = STREAMS.index("style")


@pytest.fixture(scope="module")
def shipped() -> Vocabulary:
    return Vocabulary.read(bb.models_root() / "tiny")


def test_the_api_offers_the_moods_and_energies_the_generator_and_the_shipped_model_know(shipped):
    assert CUE_MOODS == tuple(MOODS) == tuple(shipped.moods)
    assert CUE_ENERGIES == ENERGIES


# -- the controls over the prompt's words -------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "mood", "energy", "expected"),
    [
        # a chosen mood brings its style, mode and energy where no word names them
        ("", "tension", None, ("cinematic_strings", "tension", "minor", "medium")),
        # it replaces the prompt's own mood (and that mood's lean, mode and energy)
        ("sad", "action", None, ("action_percussion", "action", "minor", "high")),
        ("romantic", "wonder", None, ("ambient", "wonder", "lydian", "low")),
        # words that name a style, a mode or an energy keep their say
        ("jazz", "tension", None, ("jazz_trio", "tension", "minor", "medium")),
        ("sad, major", "tension", None, ("cinematic_strings", "tension", "major", "medium")),
        ("calm", "action", None, ("action_percussion", "action", "minor", "low")),
        # a chosen energy beats the words and the mood
        ("calm", "action", "high", ("action_percussion", "action", "minor", "high")),
        ("aggressive chase", None, "low", ("action_percussion", "action", "minor", "low")),
        ("", None, "high", (None, None, None, "high")),
        # no controls: the prompt decides, as before
        ("sad strings", None, None, ("cinematic_strings", "sadness", "minor", "low")),
    ],
)
def test_explicit_controls_beat_the_prompts_words(shipped, prompt, mood, energy, expected):
    intent = shipped.parse(prompt).with_controls(mood=mood, energy=energy, moods=shipped.moods)
    assert (intent.style, intent.mood, intent.mode, intent.energy) == expected


def test_a_chosen_mood_reaches_the_text_encoder_as_its_words_do(shipped):
    known = frozenset(json.loads((bb.models_root() / "tiny" / "prompt_words.json").read_text()))

    def text(prompt: str, **controls) -> str | None:
        return shipped.encoder_text(prompt, shipped.parse(prompt, known).with_controls(**controls), known)

    assert text("", mood="tension") == text("tense")
    # the shipped encoder learned "action" among the mood words: a chosen mood's words and mode join
    # the caption of the style the prompt names, as typed ones do
    chosen = text("jazz", mood="action")
    assert chosen == text("jazz action") and chosen != text("jazz")
    assert {"action", "minor"} <= set(chosen.split(", ")) and chosen.startswith("jazz trio")


@pytest.mark.parametrize(("mood", "energy", "bad"), [("happy", None, "mood"), (None, "max", "energy")])
def test_an_unknown_control_is_an_input_error_naming_the_known_values(mood, energy, bad):
    with pytest.raises(GeneratorInputError) as caught:
        Vocabulary().parse("").with_controls(mood=mood, energy=energy)
    allowed = CUE_MOODS if bad == "mood" else CUE_ENERGIES
    assert all(v in str(caught.value) for v in allowed)


# -- the api: checked once, carried in JSON ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "allowed"), [("mood", "happy", CUE_MOODS), ("energy", "11", CUE_ENERGIES)]
)
def test_a_bad_control_is_one_line_naming_the_cue_and_the_allowed_values(field, value, allowed):
    scene = SceneRequest(index=3, name="chase", duration_s=2.0, **{field: value})
    with pytest.raises(ValueError) as caught:
        check_scene(scene)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cue 3 ('chase'): ")
    assert repr(value) in message and all(v in message for v in allowed)


def test_controls_travel_as_json_name_their_own_cue_file_and_stay_in_the_metadata():
    scene = SceneRequest(index=0, name="a", duration_s=2.0, mood="romance", energy="high")
    assert scene_from_dict(json.loads(json.dumps(dataclasses.asdict(scene)))) == scene
    plain = dataclasses.replace(scene, mood=None, energy=None)
    names = {
        cue_filename("s", s, 1, "tiny", None)
        for s in (scene, plain, dataclasses.replace(scene, energy="low"))
    }
    assert len(names) == 3
    assert cue_filename("s", plain, 1, "tiny", None) == cue_filename(
        "s", SceneRequest(0, "a", 2.0), 1, "tiny", None
    )
    cue = CueResult(
        0, "a", "/x.wav", 2.0, 96000, 48000, "tiny", 1, None, 1, "h", "v", True, mood="romance", energy="high"
    )
    meta = {**cue.metadata(), "record_start_frame": 0, "record_end_frame": 48, "rate": 24.0}
    assert meta["mood"] == "romance" and meta["energy"] == "high"
    back = cue_from_metadata(meta)
    assert (back.mood, back.energy) == ("romance", "high")
    assert (
        "mood" not in dataclasses.replace(cue, mood=None, energy=None).metadata()
    )  # older records as they were


def test_every_cue_of_a_score_gets_the_controls_and_auto_means_none(tmp_path, shots_video):
    with pytest.raises(EditorInputError, match="--mood 'happy': choose one of tension, action"):
        scoring.check_controls("happy", None)
    with pytest.raises(EditorInputError, match="--energy 'loud': choose one of low, medium, high"):
        scoring.check_controls(None, "loud")
    path = tmp_path / "cut.otio"
    tl = timeline_of(
        video_track(clip("a", shots_video, 0, 30, 25, 75), clip("b", shots_video, 30, 25, 25, 75))
    )
    otio.adapters.write_to_file(tl, str(path))
    plan = scoring.plan_cues(read_timeline(path), mode="per-clip", timeline_path=path)
    request = scoring.build_request(plan, cue_dir=str(tmp_path), mood="comedy", energy="auto")
    assert [(s.mood, s.energy) for s in request.scenes] == [("comedy", None), ("comedy", None)]


# -- the service carries them --------------------------------------------------------------------


def test_the_service_refuses_a_bad_control_and_carries_good_ones_into_jobs_and_new_takes(tmp_path):
    (tmp_path / "cues").mkdir()
    app, store = make_app(tmp_path)
    scene = {"index": 0, "name": "a", "duration_s": 1.5}
    with TestClient(app) as client:
        bad = client.post("/jobs", headers=AUTH, json=job_body(scenes=[{**scene, "mood": "happy"}]))
        assert bad.status_code == 400
        detail = bad.json()["detail"]
        assert detail.startswith("cue 0 ('a'): mood 'happy'") and all(m in detail for m in CUE_MOODS)
        job = client.post(
            "/jobs", headers=AUTH, json=job_body(scenes=[{**scene, "mood": "wonder", "energy": "low"}])
        )
        assert job.status_code == 202, job.text
        (carried,) = scoring_scenes(store, job.json()["id"])
        assert (carried.mood, carried.energy) == ("wonder", "low")

        job_id = job.json()["id"]
        kept = client.post(f"/jobs/{job_id}/regenerate", headers=AUTH, json={"cue_index": 0})
        (again,) = scoring_scenes(store, kept.json()["id"])
        assert (again.mood, again.energy, again.take) == ("wonder", "low", 2)
        changed = client.post(
            f"/jobs/{job_id}/regenerate", headers=AUTH, json={"cue_index": 0, "energy": "high"}
        )
        (other,) = scoring_scenes(store, changed.json()["id"])
        assert (other.mood, other.energy) == ("wonder", "high")
        refused = client.post(
            f"/jobs/{job_id}/regenerate", headers=AUTH, json={"cue_index": 0, "energy": "max"}
        )
        assert refused.status_code == 400 and "low, medium, high" in refused.json()["detail"]


def scoring_scenes(store, job_id: str) -> tuple[SceneRequest, ...]:
    from engine.api import score_request_from_dict

    return score_request_from_dict(store.get(job_id).request).scenes


# -- the CLI, in-process, on real footage --------------------------------------------------------


def vm_editor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_the_cli_refuses_a_bad_control_in_one_line_and_its_help_lists_the_values(tmp_path):
    bad = vm_editor("score", str(tmp_path / "cut.otio"), "--mood", "happy")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: --mood 'happy': choose one of tension, action, sadness, uplift, comedy, romance, wonder, "
        "or auto (the prompt's words decide)"
    )
    for command in ("score", "regenerate"):
        shown = " ".join(vm_editor(command, "--help").stdout.split())
        assert all(m in shown for m in CUE_MOODS) and "low, medium, high" in shown, command


def _onsets(tokens: np.ndarray) -> int:
    return int((tokens[:STYLE_ROW] >= tk.ONSET_BASE).sum())


@pytest.mark.slow
def test_score_and_regenerate_obey_mood_and_energy_and_keep_them(tmp_path, shots_video, one_torch_thread):
    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 75, 25, 75))), str(source))
    cues = {}
    for energy in ("low", "high"):  # the prompt's words say sad and calm; the controls win
        out = tmp_path / f"cut.{energy}.otio"
        done = vm_editor(
            "score", str(source), "-o", str(out), "--in-process", "--cues", "one", "--seed", "3",
            "--prompt", "sad, calm", "--mood", "uplift", "--energy", energy,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        cues[energy] = cue_metadata(read_timeline(out), out)[0]
    tokens = {e: np.load(m["tokens_path"]) for e, m in cues.items()}
    for energy, meta in cues.items():
        assert (meta["mood"], meta["energy"]) == ("uplift", energy)
        assert set(tokens[energy][STYLE_ROW].tolist()) == {STYLES.index("indie_rock")}  # uplift's style
    low, high = _onsets(tokens["low"]), _onsets(tokens["high"])
    assert high >= 1.5 * low, (low, high)

    scored = tmp_path / "cut.low.otio"
    again = vm_editor(
        "regenerate",
        str(scored),
        "-o",
        str(scored),
        "--cue",
        "0",
        "--in-process",
        "--force",
        "--mood",
        "sadness",
    )
    assert again.returncode == 0, again.stderr
    meta = cue_metadata(read_timeline(scored), scored)[0]
    assert (meta["take"], meta["mood"], meta["energy"]) == (2, "sadness", "low")  # energy kept
    assert set(np.load(meta["tokens_path"])[STYLE_ROW].tolist()) == {STYLES.index("piano_ballad")}
    timeline = read_timeline(scored)
    cleared = scoring.regenerate_request(
        timeline,
        cue_metadata(timeline, scored),
        0,
        cue_dir=str(tmp_path),
        timeline_path=scored,
        energy="auto",
    )
    (scene,) = cleared.request.scenes
    assert (scene.mood, scene.energy) == ("sadness", None)

    rescored = tmp_path / "cut.again.otio"
    conformed = vm_editor("score", str(scored), "-o", str(rescored), "--in-process", "--cues", "one")
    assert conformed.returncode == 0, conformed.stderr
    assert "nothing to score" in conformed.stderr  # its pictures did not change: the cue is kept
    kept = cue_metadata(read_timeline(rescored), rescored)[0]
    assert (kept["take"], kept["mood"], kept["energy"]) == (2, "sadness", "low")

    # a record edited by hand to a mood the engine does not know: one line, before any work
    edited = read_timeline(rescored)
    for clip_ in edited.find_clips():
        if "mood" in clip_.metadata.get(METADATA_KEY, {}):
            clip_.metadata[METADATA_KEY]["mood"] = "happy"
    with pytest.raises(
        EditorInputError, match=r"cue 0's vidmusician metadata: mood 'happy' is not one of tension"
    ):
        input_guard.checked_cue_metadata(edited, rescored)


@pytest.mark.slow
def test_the_service_engine_scores_with_the_controls_and_the_cli_keeps_them(tmp_path, shots_video):
    from tests.service_process import kill_engine_in

    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 40, 25, 75))), str(source))
    state = tmp_path / "state"
    env = dict(
        os.environ,
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        VIDMUSICIAN_STATE_DIR=str(state),
        VIDMUSICIAN_CUE_ROOT=str(tmp_path / "engine-root"),
    )
    command = [
        sys.executable,
        "-m",
        "vm_editor.cli",
        "score",
        str(source),
        "--mood",
        "sadness",
        "--energy",
        "high",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    finally:
        kill_engine_in(state)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "cut.scored.otio"
    meta = cue_metadata(read_timeline(out), out)[0]
    assert (meta["mood"], meta["energy"]) == ("sadness", "high")
    assert set(np.load(meta["tokens_path"])[STYLE_ROW].tolist()) == {STYLES.index("piano_ballad")}
