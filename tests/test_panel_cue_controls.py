"""The panel's per-cue mood and energy choosers (ui.cue_controls), offscreen, with the real engine
in-process: each cue shows its own choice, and a regenerate sends it and the new take keeps it."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from engine.api import CUE_ENERGIES, CUE_MOODS
from engine.in_process import InProcessEngine
from tests.timeline_builders import clip, timeline_of, video_track
from ui.panel import ScorePanel
from vm_editor.panel_model import PanelModel, PanelOptions

pytestmark = pytest.mark.slow


@pytest.fixture
def two_cues(tmp_path, shots_video):
    path = tmp_path / "cut.otio"
    tl = timeline_of(
        video_track(clip("wide", shots_video, 0, 30, 25, 75), clip("close", shots_video, 32, 25, 25, 75))
    )
    otio.adapters.write_to_file(tl, str(path))
    return path


def _select(panel: ScorePanel, row: int) -> None:
    """Select one row as a click does. Not `selectRow`: in extended selection it reads the
    application's keyboard modifiers, which an earlier test's key events can leave set."""
    flags = panel.table.selectionModel().SelectionFlag
    index = panel.table.model().index(row, 1)
    panel.table.selectionModel().select(index, flags.ClearAndSelect | flags.Rows)


def test_each_cue_keeps_its_own_mood_and_energy_and_regenerate_sends_them(qtbot, two_cues):
    model = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip", energy="low"))
    panel = ScorePanel(model)
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(two_cues)
    qtbot.waitUntil(lambda: len(model.rows) == 2, timeout=60_000)
    choices = panel.controls
    assert [choices.mood.itemText(i) for i in range(choices.mood.count())] == ["auto", *CUE_MOODS]
    assert [choices.energy.itemText(i) for i in range(choices.energy.count())] == ["auto", *CUE_ENERGIES]

    _select(panel, 1)
    assert (choices.mood.currentText(), choices.energy.currentText()) == ("auto", "low")  # --energy low
    choices.mood.setCurrentText("action")
    choices.energy.setCurrentText("high")
    assert (model.rows[1].settings.mood, model.rows[1].settings.energy) == ("action", "high")
    _select(panel, 0)
    assert (choices.mood.currentText(), choices.energy.currentText()) == ("auto", "low")
    assert (model.rows[0].settings.mood, model.rows[0].settings.energy) == (None, "low")
    _select(panel, 1)
    assert (choices.mood.currentText(), choices.energy.currentText()) == ("action", "high")

    panel.regenerate_selected()  # the Regenerate button's and Ctrl+R's slot
    (job,) = model.jobs.values()
    (sent,) = job.request.scenes
    assert (sent.index, sent.mood, sent.energy) == (1, "action", "high")
    qtbot.waitUntil(lambda: not model.jobs, timeout=300_000)
    assert not panel.banner.isVisible(), panel.banner.text()
    cue = model.rows[1].cue
    assert cue is not None and (cue.mood, cue.energy) == ("action", "high")
    assert cue.metadata()["mood"] == "action"
