"""The cut view: the timeline drawn to scale, cue edges dragged onto cuts, keys, waveforms.

Real media (PyAV), real OTIO timelines, the real widget in a shown window; the engine is a
stand-in that answers previews at once (a still of one colour, a rhythm ramp) so the view can be
checked pixel by pixel without loading models.
"""

from __future__ import annotations

import base64

import numpy as np
import opentimelineio as otio
import pytest
import soundfile
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, Qt
from PySide6.QtGui import QColor, QImage

from engine.api import CueResult, Preview, ProgressEvent
from tests.conftest import write_shots_video
from tests.timeline_builders import clip, timeline_of, video_track
from ui.cut_view import PLAYHEAD, WAVE, CutView
from ui.panel import ScorePanel
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions

RATE = 25
STILL = QColor(20, 200, 90)


def _png(colour: QColor) -> str:
    image = QImage(96, 64, QImage.Format.Format_RGB32)
    image.fill(colour)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return base64.b64encode(bytes(data)).decode()


class PreviewOnlyEngine:
    """Answers `preview` like an engine (a still and a rhythm curve); never scores."""

    def __init__(self):
        self.asked: list[tuple[str, float, float]] = []

    def preview(self, path: str, start_s: float, end_s: float) -> Preview:
        self.asked.append((path, start_s, end_s))
        return Preview(tuple(np.linspace(0.1, 1.0, 40).tolist()), (), _png(STILL))


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """8 s: four shots of 50 frames, so clips can take pieces that are not continuous."""
    return write_shots_video(tmp_path_factory.mktemp("media") / "four.mp4", [50, 50, 50, 50])


@pytest.fixture
def timeline_path(tmp_path, long_video):
    """Clips of 1 s, 2 s, 1 s and 1 s from separate places of the file: cuts at 25, 75, 100."""
    tl = timeline_of(
        video_track(
            clip("a", long_video, 0, 25, RATE, 200),
            clip("b", long_video, 50, 50, RATE, 200),
            clip("c", long_video, 110, 25, RATE, 200),
            clip("d", long_video, 150, 25, RATE, 200),
        ),
        rate=RATE,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


@pytest.fixture
def view(qtbot, timeline_path):
    model = PanelModel(PreviewOnlyEngine(), PanelOptions(cues="per-clip"))
    model.open(timeline_path)
    widget = CutView(model)
    qtbot.addWidget(widget)
    widget.resize(1010, widget.sizeHint().height())
    with qtbot.waitExposed(widget):
        widget.show()
    widget.setFocus()
    return widget


def spans(view: CutView) -> list[tuple[int, int]]:
    return view.strip.cue_spans()


def colour_count(image: QImage, rect, colour: QColor, tolerance: int = 40) -> int:
    """Pixels of `rect` within `tolerance` (per channel) of `colour`."""
    count = 0
    for x in range(max(int(rect.left()) + 1, 0), min(int(rect.right()), image.width())):
        for y in range(max(int(rect.top()) + 1, 0), min(int(rect.bottom()), image.height())):
            c = image.pixelColor(x, y)
            if all(abs(a - b) <= tolerance for a, b in zip(c.getRgb()[:3], colour.getRgb()[:3], strict=True)):
                count += 1
    return count


def test_shots_and_cues_are_drawn_to_scale(view):
    assert [(s.start, s.end, s.name) for s in view.strip.shots()] == [
        (0, 25, "a"),
        (25, 75, "b"),
        (75, 100, "c"),
        (100, 125, "d"),
    ]
    assert view.strip.edit_points() == [25, 75, 100]
    one_s, two_s = view.shot_rect(0).width(), view.shot_rect(1).width()
    assert two_s == pytest.approx(2 * one_s, abs=0.01)
    assert one_s == pytest.approx((1010 - 20) * 25 / 125, abs=0.01)  # the whole cut fits the width
    for position in range(4):  # each per-clip cue spans exactly its shot
        assert view.cue_rect(position).left() == pytest.approx(view.shot_rect(position).left())
        assert view.cue_rect(position).width() == pytest.approx(view.shot_rect(position).width())
    view.set_zoom(2.0, around_x=0)
    assert view.shot_rect(1).width() == pytest.approx(2 * 2 * one_s, abs=0.01)


def test_stills_and_rhythm_come_from_the_engine_per_shot(qtbot, view):
    engine = view.model.engine
    view.load_previews()
    qtbot.waitUntil(lambda: all(s.thumbnail and s.rhythm for s in view.strip.shots()), timeout=10_000)
    assert sorted(round(a[1] * RATE) for a in engine.asked) == [0, 50, 110, 150]  # each shot's own pictures
    image = view.grab().toImage()
    for index in range(4):
        rect = view.shot_rect(index)
        assert colour_count(image, rect, STILL, 10) > 0.5 * rect.width() * rect.height() * 0.6, index
    rhythm = view.band("rhythm")
    assert colour_count(image, rhythm, QColor("#6cc4ff"), 60) > 100


def test_dragging_a_cue_edge_snaps_onto_the_nearest_cut(qtbot, view):
    model = view.model
    model.merge([2, 3])
    model.merge([0, 1])
    assert spans(view) == [(0, 75), (75, 125)]
    y = int(view.cue_rect(0).center().y())
    start = QPoint(round(view.x_of(75)), y)
    near_first_cut = QPoint(round(view.x_of(29)), y)  # 4 frames past the cut at 25
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, pos=QPoint(round(view.x_of(50)), y))
    qtbot.mouseMove(view, pos=near_first_cut)
    assert view._drag_to == 25  # the ghost line already sits on the cut
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=near_first_cut)
    assert spans(view) == [(0, 25), (25, 125)]
    assert [r.scene.record_range.start_time.value for r in model.rows] == [0, 25]
    second = model.rows[1].scene.program
    assert [s.name for s in second.pictures()] == ["b", "c", "d"]  # the cue follows its new pictures
    assert float(second.segments[0].source_in) == pytest.approx(2.0)  # b's first frame is media frame 50
    assert [e.at.value for e in second.edit_points] == [75, 100]
    assert not model.error

    # from inside the second cue's far side: its start edge, dragged right, lands on the cut at 100
    here = QPoint(round(view.x_of(25)), y)
    there = QPoint(round(view.x_of(96)), y)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=here)
    qtbot.mouseMove(view, pos=there)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=there)
    assert spans(view) == [(0, 100), (100, 125)]


def test_a_boundary_does_not_move_where_no_cut_is_reachable(qtbot, view):
    """Per-clip cues: the only cut the boundary at 25 can reach is its own (75 would empty cue 1)."""
    y = int(view.cue_rect(0).center().y())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(25)), y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(70)), y))
    assert spans(view) == [(0, 25), (25, 75), (75, 100), (100, 125)]


def test_keys_select_cues_and_move_the_selected_edge(qtbot, view):
    model = view.model
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert model.selection == {0}
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert model.selection == {2}
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert model.selection == {1}
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert model.selection == {1, 2}
    with qtbot.waitSignal(view.requested) as asked:
        qtbot.keyClick(view, Qt.Key.Key_M)
    assert asked.args == ["merge"]
    model.merge(sorted(model.selection))  # what the panel does with it
    assert spans(view) == [(0, 25), (25, 100), (100, 125)]

    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert model.selection == {0} and view.edge == (0, "end")
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)  # the end of cue 0 to the next cut
    assert spans(view) == [(0, 75), (75, 100), (100, 125)]
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert spans(view) == [(0, 25), (25, 100), (100, 125)]
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # cue 1's end: 100 is its
    assert spans(view) == [(0, 25), (25, 100), (100, 125)]  # neighbour's last cut: nothing moves
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert spans(view) == [(0, 25), (25, 75), (75, 125)]
    qtbot.keyClick(view, Qt.Key.Key_E)  # the other edge of cue 1: its start
    assert view.edge == (1, "start")
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # 25 -> 0 would empty cue 0
    assert spans(view) == [(0, 25), (25, 75), (75, 125)]
    for key, action in (
        (Qt.Key.Key_S, "score"),
        (Qt.Key.Key_R, "regenerate"),
        (Qt.Key.Key_Space, "play"),
        (Qt.Key.Key_Escape, "cancel"),
        (Qt.Key.Key_K, "split"),
    ):
        with qtbot.waitSignal(view.requested) as asked:
            qtbot.keyClick(view, key)
        assert asked.args == [action]
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom > 1
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.zoom == 1


def test_waveform_appears_in_the_cue_once_it_has_music(qtbot, view, tmp_path):
    model = view.model
    rect = view.cue_rect(1)
    assert view.waveform(1) == []
    assert colour_count(view.grab().toImage(), rect, WAVE, 30) == 0
    wav = tmp_path / "cue.wav"
    t = np.arange(3 * 48000) / 48000  # 2 s of cue and its 1 s handle
    soundfile.write(wav, 0.8 * np.sin(2 * np.pi * 220 * t) * (t < 2.0), 48000)
    cue = CueResult(1, "b", str(wav), 2.0, 96000, 48000, "tiny", 1, None, 1, "h", "0", False, handle_s=1.0)
    job = model.submit([1])
    job.inbox.put(ProgressEvent(1, 1, 1, "b", "done", 1.0, 0.1, cue))
    model.poll()
    peaks = view.waveform(1)
    assert len(peaks) == 1000 and min(peaks) > 0.5  # the handle (silent) is left out
    assert colour_count(view.grab().toImage(), rect, WAVE, 30) > 0.3 * rect.width() * rect.height() * 0.5
    assert colour_count(view.grab().toImage(), view.cue_rect(0), WAVE, 30) == 0


def test_playhead_follows_the_player(view):
    x = round(view.x_of(1.5 * RATE))
    view.set_playhead(1.5)
    image = view.grab().toImage()
    column = [image.pixelColor(x, y) for y in range(20, image.height() - 4)]
    red = [c for c in column if abs(c.red() - PLAYHEAD.red()) < 30 and c.green() < 110 and c.blue() < 110]
    assert len(red) > 0.8 * len(column)
    view.set_playhead(None)
    image = view.grab().toImage()
    assert image.pixelColor(x, 100).red() < 200


def test_panel_shows_the_cut_and_its_keys_drive_the_panel(qtbot, timeline_path, tmp_path):
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    with qtbot.waitExposed(panel):
        panel.show()
    panel.activateWindow()
    panel.open_timeline(timeline_path)
    view = panel.cut_view
    assert panel.focusWidget() is view and view.isVisible() and view.width() > panel.table.width() * 0.5
    assert all(panel.table.isColumnHidden(c) for c in (0, 6, 7)) and not panel.table.isColumnHidden(1)
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert "select the cues" in panel.banner.text()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert {i.row() for i in panel.table.selectedIndexes()} == {1}  # the list follows
    assert panel.detail.isEnabled()
    panel.table.selectRow(3)
    assert panel.model.selection == {3}  # and the view follows the list
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_M)
    assert panel.table.rowCount() == 3 and panel.table.item(2, 1).text() == "c … d"
    assert "S or Ctrl+Return" in panel.score_button.toolTip()
    assert "drag a cue edge" in view.toolTip()


def test_esc_drops_a_drag_and_zoom_keeps_time_proportional(qtbot, view):
    y = int(view.cue_rect(0).center().y())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(25)), y))
    qtbot.mouseMove(view, pos=QPoint(round(view.x_of(74)), y))
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(74)), y))
    assert spans(view) == [(0, 25), (25, 75), (75, 100), (100, 125)]
    width = view.shot_rect(0).width()
    x = view.x_of(100)
    view.set_zoom(4.0, around_x=x)
    assert view.shot_rect(0).width() == pytest.approx(4 * width, abs=0.01)
    assert view.x_of(100) == pytest.approx(x, abs=0.01)  # the frame under the cursor stays put
    assert view.cue_rect(0).right() < 0  # zoomed in at the end: the first cue is off screen
    qtbot.keyClick(view, Qt.Key.Key_Home)  # the first cue scrolls into view
    assert view.cue_rect(0).left() >= 0 and view.cue_rect(0).right() <= view.width()


def test_space_plays_and_stops_and_the_playhead_follows(qtbot, timeline_path, tmp_path):
    pytest.importorskip("PySide6.QtMultimedia", reason="QtMultimedia needs the system's libpulse0")
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(timeline_path)
    wav = tmp_path / "cue.wav"
    soundfile.write(wav, np.zeros(2 * 48000), 48000)
    cue = CueResult(1, "b", str(wav), 2.0, 96000, 48000, "tiny", 1, None, 1, "h", "0", False)
    job = panel.model.submit([1])
    job.inbox.put(ProgressEvent(1, 1, 1, "b", "done", 1.0, 0.1, cue))
    panel.model.poll()
    view = panel.cut_view
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    try:
        moved = panel.model.rows[1].cue.wav_path  # the panel keeps its cues beside the timeline
        assert panel.stop_timer.isActive() and panel.music.source().toLocalFile() == moved
        assert view.playhead_s == pytest.approx(1.0)  # cue b starts at 1 s
        panel._follow("music", 500)  # what the music player reports half a second in
        assert view.playhead_s == pytest.approx(1.5)
        panel._follow("picture", 5000)  # the picture does not lead while there is music
        assert view.playhead_s == pytest.approx(1.5)
        qtbot.keyClick(view, Qt.Key.Key_Space)
        assert not panel.stop_timer.isActive() and panel.music.source().isEmpty()
        qtbot.keyClick(view, Qt.Key.Key_Left)  # cue a has no music: the picture's clock leads
        qtbot.keyClick(view, Qt.Key.Key_Space)
        assert panel.stop_timer.isActive() and view.playhead_s == 0.0
        qtbot.wait(300)
        panel._follow("picture", 12345)  # a position in the media file, not record time
        assert 0.2 < view.playhead_s < 0.9
    finally:
        panel.stop_playback()


def test_cues_planned_over_the_program_drag_the_same_way(qtbot, view):
    """Cues from `scoring.plan_cues` (each carries its program slice, as `vm-editor score` plans
    them) show over the same shots, and their boundary moves onto a cut like any other."""
    from vm_editor import scoring
    from vm_editor.panel_model import CueSettings, SceneRow

    model = view.model
    planned = scoring.plan_cues(
        model.timeline, mode="per-clip", timeline_path=model.timeline_path, merge=[(0, 1)]
    )
    model.scene_list = planned
    model.rows = [SceneRow(s, CueSettings(seed=s.index)) for s in planned.scenes]
    model._changed("scenes")
    assert spans(view) == [(0, 75), (75, 100), (100, 125)]
    assert len(view.strip.shots()) == 4 and view.strip.edit_points() == [25, 75, 100]
    y = int(view.cue_rect(0).center().y())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(75)), y))
    qtbot.mouseMove(view, pos=QPoint(round(view.x_of(20)), y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(20)), y))
    assert spans(view) == [(0, 25), (25, 100), (100, 125)]
    assert [s.name for s in model.rows[1].scene.program.pictures()] == ["b", "c"]
    assert model.rows[2].scene.program == planned.scenes[2].program  # the third cue is untouched


@pytest.mark.slow
def test_a_cue_dragged_onto_a_cut_is_scored_over_its_new_span_by_the_real_engine(qtbot, timeline_path):
    """The whole path with the real in-process engine (tiny): open, drag the edge between two cues
    onto a cut with the mouse, score, and the first cue's music covers the span it now has."""
    from engine.in_process import InProcessEngine

    model = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip"))
    panel = ScorePanel(model)
    qtbot.addWidget(panel)
    panel.resize(1100, 600)
    with qtbot.waitExposed(panel):
        panel.show()
    panel.open_timeline(timeline_path)
    view = panel.cut_view
    model.merge([1, 2])  # cues: a [0, 25), b + c [25, 100), d [100, 125)
    assert spans(view) == [(0, 25), (25, 100), (100, 125)]
    y = int(view.cue_rect(0).center().y())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(25)), y))
    qtbot.mouseMove(view, pos=QPoint(round(view.x_of(50)), y))
    qtbot.mouseMove(view, pos=QPoint(round(view.x_of(72)), y))  # 3 frames short of the cut at 75
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_of(72)), y))
    assert spans(view) == [(0, 75), (75, 100), (100, 125)]
    assert [s.name for s in model.rows[0].scene.program.pictures()] == ["a", "b"]

    qtbot.keyClick(view, Qt.Key.Key_S)  # score all
    assert model.jobs, "S did not start scoring"
    qtbot.waitUntil(lambda: not model.jobs, timeout=300_000)
    assert not model.error, model.error
    assert [r.state for r in model.rows] == ["done"] * 3
    audio, sr = soundfile.read(model.rows[0].cue.wav_path, dtype="float32")
    assert sr == 48000
    # the cue's 3 s, plus at most the tail handle it renders for a crossfade into the next cue
    assert 3.0 <= len(audio) / sr <= 3.0 + 1.05 and np.abs(audio).max() > 1e-3
