"""The real panel, offscreen, with the real engine (tiny preset) in-process, as it runs by default."""

from __future__ import annotations

import re

import opentimelineio as otio
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from engine.in_process import InProcessEngine
from tests.timeline_builders import clip, gap, timeline_of, video_track
from ui.panel import ScorePanel
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions
from vm_editor.writeback import score_track

pytestmark = pytest.mark.slow


@pytest.fixture
def timeline_path(tmp_path, shots_video):
    rate = 25
    tl = timeline_of(
        video_track(
            clip("wide", shots_video, 0, 30, rate, 75),
            clip("close", shots_video, 32, 25, rate, 75),  # not contiguous with wide: its own shot
            gap(5, rate),
            clip("insert", shots_video, 55, 20, rate, 75),
        ),
        rate=rate,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def test_open_score_regenerate_export(qtbot, timeline_path, tmp_path):
    model = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip"))
    panel = ScorePanel(model)
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(timeline_path)
    assert panel.table.rowCount() == 3
    assert panel.table.item(0, 1).text() == "wide" and panel.table.item(1, 2).text() == "00:00:01:05"

    panel.connect_engine()
    qtbot.waitUntil(
        lambda: "cpu" in panel.engine_label.text() or "cuda" in panel.engine_label.text(), timeout=60_000
    )
    qtbot.waitUntil(lambda: all(r.thumbnail and r.rhythm for r in model.rows), timeout=120_000)

    ticks = []
    heartbeat = QTimer(panel)
    heartbeat.timeout.connect(lambda: ticks.append(1))
    heartbeat.start(50)
    qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # score all
    assert model.jobs, "Ctrl+Return did not start scoring"
    qtbot.waitUntil(lambda: not model.jobs, timeout=300_000)
    heartbeat.stop()
    assert len(ticks) >= 3, "the GUI thread stopped processing events while the job ran"
    assert not panel.banner.isVisible(), panel.banner.text()
    assert panel.progress.value() == 1000
    assert all(r.state == "done" and len(r.takes) == 1 for r in model.rows)
    # the label is live: the engine now has the tiny preset loaded (it said "cold" before)
    qtbot.waitUntil(lambda: panel.engine_label.text().endswith("warm: tiny"), timeout=15_000)
    assert all(panel.table.cellWidget(p, 7).values for p in range(3)), "waveforms missing"
    assert all(panel.cut_view.waveform(p) for p in range(3)), "the cut view draws no waveform"
    assert all(s.thumbnail and s.rhythm for s in panel.cut_view.strip.shots() if s.media)

    before = [r.cue.wav_path for r in model.rows]
    panel.table.selectRow(1)
    qtbot.keyClick(panel, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # regenerate selected
    qtbot.waitUntil(lambda: not model.jobs, timeout=300_000)
    after = [r.cue.wav_path for r in model.rows]
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] != before[1] and len(model.rows[1].takes) == 2
    assert panel.takes.count() == 2
    # each take names its seed, tempo and key (recorded by the engine, through the service)
    assert re.fullmatch(r"take 2 · seed \d+ · \d+ bpm \d/4 · [A-G][b#]? [a-z]+", panel.takes.itemText(1)), panel.takes.itemText(1)

    out = tmp_path / "cut.scored.otio"
    assert panel.export(out) == out
    scored = otio.adapters.read_from_file(str(out))
    music = score_track(scored)
    clips = list(music.find_clips(shallow_search=True))
    assert len(clips) == 3
    assert clips[1].media_reference.target_url.endswith(after[1].split("/")[-1])
    ranges = [music.range_of_child(c) for c in clips]
    assert [(r.start_time.value, r.duration.value) for r in ranges] == [(0, 30), (30, 25), (60, 20)]
    takes = score_track(scored, takes=True)  # as `vm-editor regenerate` leaves it
    assert takes is not None, "the export dropped the takes track"
    (older,) = takes.find_clips(shallow_search=True)
    assert not older.enabled and older.media_reference.target_url.endswith(before[1].split("/")[-1])
    assert takes.range_of_child(older).start_time.value == 30


def test_escape_cancels_scoring(qtbot, timeline_path):
    model = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip"))
    panel = ScorePanel(model)
    qtbot.addWidget(panel)
    with qtbot.waitExposed(panel):
        panel.show()
    panel.activateWindow()
    panel.open_timeline(timeline_path)
    panel.score_all()
    assert model.jobs
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert all(job.cancel.is_set() for job in model.jobs.values()), "Esc did not cancel"
    qtbot.waitUntil(lambda: not model.jobs, timeout=120_000)
    states = [r.state for r in model.rows]
    assert "cancelled" in states and set(states) <= {"cancelled", "done"}, states
    assert not list(model.cue_folder().glob(".*partial*"))
    assert panel.banner.isHidden(), panel.banner.text()
    assert "cancelled" in panel.status.text().lower() and "Ready" not in panel.status.text()
    assert panel.progress.value() < 1000, "a cancelled score does not read 100 %"


def test_error_banner_says_what_to_do(qtbot, tmp_path):
    panel = ScorePanel(PanelModel(ServiceEngine(tmp_path / "none", start=False)))
    qtbot.addWidget(panel)
    panel.open_timeline(tmp_path / "missing.otio")  # an auto plan: read off the GUI thread
    qtbot.waitUntil(lambda: not panel.banner.isHidden(), timeout=30_000)
    assert "not found" in panel.banner.text()
    panel.regenerate_selected()
    assert "select the cues" in panel.banner.text()


@pytest.mark.timeout(120)
def test_merge_and_split_from_the_panel(qtbot, timeline_path, tmp_path):
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    with qtbot.waitExposed(panel):
        panel.show()
    panel.activateWindow()
    panel.open_timeline(timeline_path)
    panel.table.selectRow(0)
    panel.table.selectionModel().select(
        panel.table.model().index(1, 0),
        panel.table.selectionModel().SelectionFlag.Select | panel.table.selectionModel().SelectionFlag.Rows,
    )
    assert panel.model.selection == {0, 1}
    qtbot.keyClick(panel, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert panel.banner.isHidden(), panel.banner.text()
    assert panel.table.rowCount() == 2 and panel.table.item(0, 1).text() == "wide … close"
    panel.split(0, 1.0)
    assert panel.table.rowCount() == 3
    assert [panel.table.item(r, 2).text() for r in range(3)] == ["00:00:00:00", "00:00:01:00", "00:00:02:10"]


def test_play_loads_picture_and_music_of_the_scene(qtbot, timeline_path, tmp_path, shots_video):
    pytest.importorskip("PySide6.QtMultimedia", reason="QtMultimedia needs the system's libpulse0")
    import soundfile

    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    panel.open_timeline(timeline_path)
    wav = tmp_path / "cue.wav"
    soundfile.write(wav, [0.0] * 48000, 48000)
    row = panel.model.rows[1]
    from engine.api import CueResult

    row.takes.append(CueResult(1, "close", str(wav), 1.0, 48000, 48000, "tiny", 1, None, 1, "h", "0", False))
    panel.table.selectRow(1)
    panel.play_selected()
    assert panel.player.source().toLocalFile() == str(shots_video)
    assert panel.music.source().toLocalFile() == str(wav)
    assert panel.player.videoOutput() is panel.video
    assert panel.stop_timer.isActive() and panel.stop_timer.interval() == 1000  # the scene's 25 frames
    from ui.panel import audio_device_problem

    # nothing wrong, but a machine with no sound output says so in the window (issue 27)
    assert panel.banner.text() == (audio_device_problem() or "")
    assert panel.video.isVisible()
    panel.stop_playback()
    assert panel.player.source().isEmpty() and not panel.stop_timer.isActive()
    assert not panel.video.isVisible(), "a stopped preview leaves no black window behind"
    panel.play_selected()
    panel.close()
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()], "a window outlived the panel"
