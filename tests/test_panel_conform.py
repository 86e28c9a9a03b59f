"""The panel shows the conform report (issue 27): a reopened score says how its cues still fit the
cut, and Conform… (OLD scored cut + NEW recut) goes through the session's conform, as
`vm-editor conform OLD NEW` does, and shows "K kept, R re-fit, G regenerated, N new, M removed".

Offscreen Qt; the cues are stand-in WAVs (`cues_for`), so nothing here asks an engine to score."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import opentimelineio as otio

from tests.timeline_builders import clip, timeline_of, video_track
from tests.timeline_helpers import cues_for
from ui.panel import ScorePanel
from vm_editor import scoring
from vm_editor.panel_model import PanelModel, PanelOptions
from vm_editor.scenes import to_engine_scene
from vm_editor.writeback import add_score_track

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


class NoScoring:
    """An engine that must not be asked: every cue of these conforms is kept."""

    def __getattr__(self, name):
        raise AssertionError(f"the engine was asked ({name}) though every cue is kept")


def _scored_cut(tmp_path: Path, media: Path) -> tuple[Path, otio.schema.Timeline]:
    """Four shots, one cue each, scored with stand-in WAVs as `vm-editor score` would record them."""
    tl = timeline_of(
        video_track(
            *(
                clip(f"s{i}", media, s, n, 25, 75)
                for i, (s, n) in enumerate(((0, 28), (30, 24), (50, 24), (55, 20)))
            )
        )
    )
    path = tmp_path / "cut.scored.otio"
    plan = scoring.plan_cues(tl, mode="per-clip", timeline_path=path)
    cues = [  # as the engine records them: the pictures each cue was scored over, their hash
        dataclasses.replace(
            c, source_hash=to_engine_scene(s).source_hash(), program=to_engine_scene(s).program
        )
        for c, s in zip(cues_for(plan, tmp_path), plan.scenes, strict=True)
    ]
    scored = add_score_track(tl, plan.scenes, cues)
    otio.adapters.write_to_file(scored, str(path))
    return path, scored


def test_a_reopened_score_shows_how_its_cues_fit_the_cut(qtbot, tmp_path, shots_video):
    path, scored = _scored_cut(tmp_path, shots_video)
    panel = ScorePanel(PanelModel(None, PanelOptions(cues="per-clip")))
    qtbot.addWidget(panel)
    panel.open_timeline(path, background=False)
    assert "conform: 4 kept, 0 re-fit, 0 regenerated, 0 new, 0 removed" in panel.status.text()
    assert not panel.banner.isVisible()

    # the editor trimmed shot 1 in the scored file itself (a host re-exports it with the music)
    shot = scored.tracks[0][1]
    shot.source_range = TR(shot.source_range.start_time, RT(18, 25))
    trimmed = tmp_path / "trimmed.scored.otio"
    otio.adapters.write_to_file(scored, str(trimmed))
    panel.open_timeline(trimmed, background=False)
    assert "conform: 3 kept, 0 re-fit, 1 regenerated, 0 new, 0 removed" in panel.status.text()
    assert "Conform…" in panel.banner.text()  # what to do about the changed cue


def test_the_conform_action_scores_the_recut_through_the_session(qtbot, tmp_path, shots_video):
    old, scored = _scored_cut(tmp_path, shots_video)
    recut = scored.tracks[0]
    del recut[3]  # the last shot is cut out of the recut: its cue goes, the others stay
    new = tmp_path / "recut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(*[c.clone() for c in recut])), str(new))

    panel = ScorePanel(PanelModel(NoScoring(), PanelOptions(cues="per-clip")))
    qtbot.addWidget(panel)
    panel.conform_timelines(old, new, background=False)
    assert "conform: 3 kept, 0 re-fit, 0 regenerated, 0 new, 1 removed" in panel.status.text()
    assert panel.model.timeline_path == tmp_path / "recut.scored.otio"  # where the CLI writes it
    assert [r.cue.wav_path for r in panel.model.rows] == [
        str(tmp_path / f"cue_{i:03d}.wav") for i in range(3)
    ]
    assert not panel.banner.isVisible()
    assert old.is_file() and new.is_file()  # neither input is modified

    # a second Conform… to the same output is refused without replacing it
    panel.conform_timelines(old, new, background=False)
    assert "already exists" in panel.banner.text() or "--force" in panel.banner.text()
    panel.conform_timelines(old, new, force=True, background=False)
    assert "3 kept" in panel.status.text()
