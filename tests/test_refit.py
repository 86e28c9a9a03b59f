"""Re-fit: a trimmed cue's own notes re-timed onto the moved cuts and rendered again, in process
and through the service; what counts as a trim; where OLD's cues lie in NEW."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from engine.api import (
    CUE_SAMPLE_RATE,
    Continuation,
    CueProgram,
    CueResult,
    ProgramSegmentSpec,
    RefitRequest,
    check_refit,
    cue_from_dict,
)
from engine.finishing import num_samples_for
from engine.in_process import InProcessEngine
from engine.symbolic.retime import retime_tokens
from engine.symbolic.score import Chord, DrumHit, Note, SymbolicScore
from engine.symbolic.tokens import HOLD, ONSET_BASE, REST, decode, encode
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor import conform, trim_fit
from vm_editor.program import timeline_program

DRUMS, BASS, MELODY = 0, 1, 3


def _score(frames: int = 500) -> SymbolicScore:
    """Four bars at 120 bpm (25 frames a beat): a kick on every beat, a strong crash at frame 300."""
    drums = [DrumHit(f, ("kick",), 1) for f in range(0, frames, 25) if f != 300]
    drums.append(DrumHit(300, ("kick", "crash"), 2))
    bass = [Note(f, f + 20, 40 + (f // 100) % 5, 1) for f in range(0, frames, 50)]
    melody = [Note(f, f + 10, 72 + (f // 25) % 7, 1) for f in range(0, frames, 25)]
    chords = [Chord(f, f + 100, (f // 100) % 12, "maj", 1) for f in range(0, frames, 100)]
    return SymbolicScore(
        frames, ((0, "piano_ballad"),), tuple(drums), tuple(bass), tuple(chords), tuple(melody)
    )


def test_retime_moves_each_onset_through_the_anchors_and_fills_holds():
    tokens = encode(_score())
    # the cut at frame 300 moves 10 frames earlier (3.3 % faster before it), the rest follows
    anchors = [(0.0, 0.0), (300.0, 290.0), (450.0, 440.0)]
    out = retime_tokens(tokens, anchors, 490)
    assert out.shape == (5, 490)
    for k in (DRUMS, BASS, MELODY):
        before = np.nonzero(tokens[k] >= ONSET_BASE)[0]
        after = np.nonzero(out[k] >= ONSET_BASE)[0]
        expected = [round(f * 290 / 300) if f <= 300 else f - 10 for f in before]
        assert list(after) == [e for e in expected if e < 490]  # every note kept, where the map says
        assert list(out[k][after]) == list(tokens[k][before][: len(after)])  # same pitches and accents
    assert out[DRUMS][290] == tokens[DRUMS][300]  # the crash on the moved cut
    assert set(np.unique(out[DRUMS])) <= {REST, *np.unique(tokens[DRUMS])}  # drums: one-shots
    note = np.nonzero(out[BASS] >= ONSET_BASE)[0][1]
    assert out[BASS][note + 1] == HOLD  # holds fill after an onset
    back = decode(out)  # the re-timed tokens are valid notes
    assert len(back.bass) == len(_score().bass) and len(back.melody) == len(_score().melody)


def _program(*shots: tuple[str | None, float, float, float]) -> CueProgram:
    """Shots as (path, source start, record start, record end), speed 1."""
    segs = tuple(
        ProgramSegmentSpec(path, src, src + (end - start), start, end, 1.0 if path else 0.0)
        for path, src, start, end in shots
    )
    return CueProgram(segs[-1].record_end_s, segs)


def test_a_trim_gives_anchors_anything_else_does_not():
    old = _program(("/m/a.mp4", 10.0, 0.0, 6.0), ("/m/b.mp4", 2.0, 6.0, 8.0))
    tail = _program(("/m/a.mp4", 10.0, 0.0, 5.8), ("/m/b.mp4", 2.0, 5.8, 7.8))
    head = _program(("/m/a.mp4", 10.2, 0.0, 5.8), ("/m/b.mp4", 2.0, 5.8, 7.8))
    assert trim_fit.trim_anchors(old, tail) == ((0.0, 0.0), (6.0, 5.8), (8.0, 7.8))
    assert trim_fit.trim_anchors(old, head) == ((0.0, 0.0), (6.0, 5.8), (8.0, 7.8))
    assert trim_fit.fits(trim_fit.trim_anchors(old, tail))  # 3.3 %
    short = _program(("/m/a.mp4", 10.0, 0.0, 5.5), ("/m/b.mp4", 2.0, 5.5, 7.5))
    assert not trim_fit.fits(trim_fit.trim_anchors(old, short))  # 8.3 %: regenerated
    slipped = _program(("/m/a.mp4", 10.5, 0.0, 6.0), ("/m/b.mp4", 2.0, 6.0, 8.0))
    deleted = _program(("/m/a.mp4", 10.0, 0.0, 6.0))
    other = _program(("/m/c.mp4", 10.0, 0.0, 6.0), ("/m/b.mp4", 2.0, 6.0, 8.0))
    swapped = _program(("/m/b.mp4", 2.0, 0.0, 2.0), ("/m/a.mp4", 10.0, 2.0, 8.0))
    for changed in (slipped, deleted, other, swapped, old):
        assert trim_fit.trim_anchors(old, changed) is None


def _cue(tmp_path, tokens: np.ndarray, seconds: float, handle: float = 1.0) -> CueResult:
    path = tmp_path / "cut_cue002_take1_s7_abc.tokens.npy"
    np.save(path, tokens.astype(np.int16))
    return CueResult(
        index=2, name="X", wav_path=str(tmp_path / "cut_cue002_take1_s7_abc.wav"), duration_s=seconds,
        num_samples=num_samples_for(seconds), sample_rate=CUE_SAMPLE_RATE, preset="tiny", seed=7,
        prompt="warm", take=3, source_hash="old", engine_version="0", model_trained=True,
        handle_s=handle, tokens_path=str(path),
    )  # fmt: skip


def test_the_engine_renders_the_retimed_notes_as_a_finished_cue(tmp_path):
    # a 9 s cue (8 s + 1 s handle) whose cut at 6 s moves to 5.8 s: its crash lands there
    cue = _cue(tmp_path, encode(_score(450)), 8.0)
    before = tmp_path / "before.tokens.npy"
    np.save(before, encode(_score(400)).astype(np.int16))
    request = RefitRequest(
        cue=cue, index=2, name="X", duration_s=7.8, anchors=((0.0, 0.0), (6.0, 5.8)),
        cue_dir=str(tmp_path / "out"), score_name="recut", source_hash="new",
        continue_from=Continuation(8.0, tokens_path=str(before)),
    )  # fmt: skip
    fitted = InProcessEngine().refit(request)
    assert (fitted.take, fitted.seed, fitted.prompt, fitted.index) == (3, 7, "warm", 2)
    assert fitted.duration_s == 7.8 and fitted.source_hash == "new" and fitted.continued_from == str(before)
    audio, rate = soundfile.read(fitted.wav_path)
    assert rate == CUE_SAMPLE_RATE and audio.shape == (num_samples_for(8.8), 2)
    assert np.abs(audio).max() > 0.05  # music, not silence
    tokens = np.load(fitted.tokens_path)
    assert tokens.shape == (5, 440)
    assert tokens[DRUMS][290] == encode(_score(450))[DRUMS][300]  # the crash, now on the moved cut
    assert fitted.wav_path != cue.wav_path and "fit" in fitted.wav_path


def test_a_refit_beyond_four_percent_is_refused_naming_the_cue(tmp_path):
    cue = _cue(tmp_path, encode(_score(450)), 8.0)
    request = RefitRequest(cue, 2, "X", 7.5, ((0.0, 0.0), (6.0, 5.5)), str(tmp_path))
    with pytest.raises(ValueError, match=r"cue 2 \('X'\): a re-fit would change its tempo by 8.3%"):
        check_refit(request)


def test_the_service_refits_inside_its_cue_root(tmp_path):
    from engine.service.app import create_app
    from engine.service.store import JobStore
    from engine.service.worker import Worker

    cue = _cue(tmp_path, encode(_score(450)), 8.0)
    store = JobStore(tmp_path / "state" / "jobs.sqlite")
    app = create_app(store, Worker(store), token="t", cue_root=tmp_path / "cues")
    request = RefitRequest(cue, 2, "X", 7.8, ((0.0, 0.0), (6.0, 5.8)), "recut_cues", "recut")
    body = {**dataclasses.asdict(request), "anchors": [list(a) for a in request.anchors]}
    with TestClient(app) as client:
        response = client.post("/refit", json=body, headers={"Authorization": "Bearer t"})
        assert response.status_code == 200, response.text
        fitted = cue_from_dict(response.json())
        assert fitted.wav_path.startswith(str((tmp_path / "cues" / "recut_cues").resolve()))
        assert np.load(fitted.tokens_path).shape == (5, 440)
        outside = client.post(
            "/refit", json={**body, "cue_dir": "../elsewhere"}, headers={"Authorization": "Bearer t"}
        )
        assert outside.status_code == 400 and "cue root" in outside.json()["detail"]
        too_far = client.post(
            "/refit", json={**body, "duration_s": 7.0, "anchors": [[0, 0], [6, 5.0]]},
            headers={"Authorization": "Bearer t"},
        )  # fmt: skip
        assert too_far.status_code == 400 and "regenerate the cue" in too_far.json()["detail"]


def test_old_cues_are_found_again_in_the_recut_by_their_shots(tmp_path, shots_video):
    # OLD: cue 0 = shots a, b; cue 1 = shot c. NEW: b trimmed by 5 frames, d (new pictures) added
    old_tl = timeline_of(
        video_track(clip("a", shots_video, 0, 20, 25, 75), clip("b", shots_video, 30, 20, 25, 75),
                    clip("c", shots_video, 55, 15, 25, 75))
    )  # fmt: skip
    new_tl = timeline_of(
        video_track(clip("a", shots_video, 0, 20, 25, 75), clip("b", shots_video, 30, 15, 25, 75),
                    clip("c", shots_video, 55, 15, 25, 75), clip("d", shots_video, 22, 6, 25, 75))
    )  # fmt: skip
    old_program = timeline_program(old_tl, timeline_path=tmp_path / "old.otio")
    from vm_editor import cue_plan
    from vm_editor.scenes import to_engine_scene

    old_cues = cue_plan.cue_scenes(old_program, [(0, 40), (40, 55)]).scenes
    programs = [(s.index, to_engine_scene(s).program) for s in old_cues]
    new_program = timeline_program(new_tl, timeline_path=tmp_path / "new.otio")
    assert conform.follow_old_cues(new_program, programs) == [(0, 35), (35, 50), (50, 56)]


def test_conform_refuses_an_old_timeline_without_a_score_before_any_work(tmp_path, shots_video):
    import subprocess
    import sys

    import opentimelineio as otio

    plain = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 20, 25, 75))), str(plain))
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "conform", str(plain), str(plain), "--in-process"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {plain}: holds no VidMusician score; score it first (vm-editor score)"
    )


def test_a_refit_that_cannot_be_made_is_regenerated(tmp_path):
    cue = _cue(tmp_path, encode(_score(450)), 8.0)
    plan = conform.ConformPlan({}, {}, {}, (3,), (), (), {2: (cue, ((0.0, 0.0), (6.0, 5.8)))})
    after = plan.regenerating(2)
    assert after.refit == {} and after.regenerated == (2, 3)
    assert after.report({})[0] == "conform: 0 kept, 0 re-fit, 2 regenerated, 0 new, 0 removed"
