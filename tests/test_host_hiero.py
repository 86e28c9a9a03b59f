"""The Hiero panel against a recorded double of Hiero's API: registered with
windowManager().addWindow, the active sequence exported as OTIO through this install's Python,
cues placed on a new audio track (inclusive outs), a regenerated take replacing its item."""

from __future__ import annotations

import sys
from pathlib import Path

import opentimelineio as otio

from tests import hiero_double as h
from tests.timeline_helpers import cues_for, write_wav
from ui.hosts.commands import InstallCommands
from ui.hosts.hiero_panel import HieroScore, register
from vm_editor import scoring
from vm_editor.timeline_io import read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track, replace_cue


def _sequence(media: Path, fps=25.0, start=90000):
    video = h.VideoTrack("Video 1")
    for name, tin, tout, sin in (("a", 0, 27, 0), ("b", 28, 51, 30), ("c", 52, 71, 50)):
        video._items.append(
            h.TrackItem(name, h.Clip(h.MediaSource(str(media), 75)), tin, tout, sin, sin + tout - tin)
        )
    return h.Sequence("Reel 1", fps, start, h.Project("Show"), video)


def _session(tmp_path, media):
    h.CALLS.clear()
    commands = InstallCommands(sys.executable, log=lambda _: None)
    return HieroScore(_sequence(media), commands, core=h.core, root=tmp_path)


def test_sequence_exports_as_otio_through_this_install(tmp_path, shots_video):
    session = _session(tmp_path, shots_video)
    path = session.export()
    assert path == tmp_path / "Show" / "Reel 1.otio"
    tl = otio.adapters.read_from_file(str(path))
    assert tl.global_start_time.value == 90000
    clips = list(tl.tracks[0].find_clips())
    assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == [
        (0, 28),
        (30, 24),
        (50, 20),
    ]
    assert clips[0].media_reference.target_url == shots_video.resolve().as_uri()


def _scored_by_hand(session):
    exported = session.export()
    timeline = read_timeline(exported)
    scenes = scoring.plan_cues(timeline, mode="per-clip", timeline_path=exported)
    (session.folder / "cues").mkdir()
    cues = cues_for(scenes, session.folder / "cues", handle_s=1.0)
    scored = add_score_track(timeline, scenes.scenes, cues)
    write_timeline_atomic(scored, session.scored_path, force=True)
    return scored, cues


def test_cues_come_back_on_a_new_audio_track_and_takes_swap(tmp_path, shots_video):
    session = _session(tmp_path, shots_video)
    scored, cues = _scored_by_hand(session)
    h.CALLS.clear()

    assert session.run("update") == {"kept": 0, "removed": 0, "placed": 3}
    assert ("Sequence", "addTrack", ("VidMusician score",)) in h.CALLS
    added = [args for obj, m, args in h.CALLS if m == "addItem" and obj == "VidMusician score"]
    assert added == [
        ("a (music)", cues[0].wav_path, 0, 27, 0, 27),
        ("b (music)", cues[1].wav_path, 0, 23, 28, 51),
        ("c (music)", cues[2].wav_path, 0, 19, 52, 71),
    ]
    bins = [args for obj, m, args in h.CALLS if obj == "Bin" and m == "addItem"]
    assert bins[0][0] == "Clips" and bins[0][1].name() == "VidMusician"  # the bin, in the clips bin
    assert [(b[0], b[1].media.path) for b in bins[1:]] == [("VidMusician", c.wav_path) for c in cues]

    new_wav = session.folder / "cues" / "cue_002-take2.wav"
    n = write_wav(new_wav, 20 / 25 + 1.0) - 48_000
    take2 = cues[2].__class__(**{**cues[2].__dict__, "wav_path": str(new_wav), "take": 2, "num_samples": n})
    write_timeline_atomic(replace_cue(scored, take2), session.scored_path, force=True)
    old = session.score_track().items()[2]
    h.CALLS.clear()

    assert session.run("update") == {"kept": 2, "removed": 1, "placed": 1}
    assert [(m, args) for obj, m, args in h.CALLS if obj == "VidMusician score"] == [
        ("removeItem", (old,)),
        ("addItem", ("c (music)", str(new_wav), 0, 19, 52, 71)),
    ]
    assert ("Sequence", "addTrack", ("VidMusician score",)) not in h.CALLS  # the same track


def test_register_adds_a_dock_that_updates_the_sequence(tmp_path, shots_video, qtbot):
    session = _session(tmp_path, shots_video)
    _scored_by_hand(session)
    h.CALLS.clear()
    ui = h.make_ui(session.sequence)
    session.sequence._project = session.project = h.Project("Show", path="")

    import os

    os.environ["VIDMUSICIAN_PROJECTS"] = str(tmp_path)
    try:
        panel = register(sys.executable, hiero_ui=ui, core=h.core)
        qtbot.addWidget(panel)
        assert [args for obj, m, args in h.CALLS if m == "addWindow"] == [(panel,)]
        panel.buttons["update"].click()
        qtbot.waitUntil(
            lambda: "placed" in panel.status.text() or "error" in panel.status.text(), timeout=30000
        )
    finally:
        del os.environ["VIDMUSICIAN_PROJECTS"]
    assert "3 cue(s) placed" in panel.status.text(), panel.status.text()
