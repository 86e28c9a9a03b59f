"""The panel's issue-27 controls: relinking offline media from a chosen folder, an EDL's rate asked
before anything is reported, titles / dissolves / speed changes drawn on the cut strip, the engine
label kept live, and sound problems said in the window.

Real timelines and media (PyAV-made), the real widgets in a shown window (offscreen); an engine
stand-in only where the test needs an engine whose state changes on cue (the label test)."""

from __future__ import annotations

import shutil
import time

import opentimelineio as otio
import pytest
from PySide6.QtGui import QColor

from engine.api import EngineInfo
from tests.program_timelines import build_cut, make_media
from tests.test_cut_view import PreviewOnlyEngine, colour_count
from tests.timeline_builders import clip, timeline_of, video_track
from ui.cut_view import SPEED, TITLE, CutView
from ui.panel import ScorePanel, audio_device_problem
from vm_editor.cut_strip import CutStrip, Mark
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions

RATE = 25


def _panel(qtbot, tmp_path, engine=None, **options) -> ScorePanel:
    engine = engine or ServiceEngine(tmp_path / "no-engine", start=False)  # never asked here
    panel = ScorePanel(PanelModel(engine, PanelOptions(cues="per-clip", **options)))
    qtbot.addWidget(panel)
    panel.show()
    return panel


@pytest.fixture
def moved_media(tmp_path, shots_video):
    """A cut whose media was moved: the timeline names /old/shots.mp4, the file is in media/deep."""
    folder = tmp_path / "media" / "deep"
    folder.mkdir(parents=True)
    shutil.copy(shots_video, folder / "shots.mp4")
    url = (tmp_path / "old" / "shots.mp4").as_uri()
    tl = timeline_of(
        video_track(
            clip("wide", url, 0, 30, RATE, 75),
            clip("close", url, 32, 23, RATE, 75),
            clip("insert", url, 55, 20, RATE, 75),
        ),
        rate=RATE,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path, tmp_path / "media"


def test_offline_media_is_relinked_from_a_chosen_folder(qtbot, tmp_path, moved_media):
    path, media = moved_media
    panel = _panel(qtbot, tmp_path)
    panel.open_timeline(path)
    # said on opening, with the panel's fix (not the CLI's flags)
    text = panel.banner.text()
    assert panel.banner.isVisible() and "3 clip(s) have offline media" in text
    assert "Click Relink…" in text and "--relink" not in text and "--allow-offline" not in text
    panel.score_all()  # refused, naming the same fix
    assert not panel.model.jobs and "Click Relink…" in panel.banner.text()
    assert panel.relink_button.isVisible() and panel.relink_button.text() == "Relink…"

    panel.relink_to(media)  # what the folder dialog hands over

    assert panel.model.offline_clips() == []
    assert panel.status.text() == "Relinked: 3 clip(s) found; every clip is online."
    assert not panel.banner.isVisible(), panel.banner.text()
    assert panel.model.options.relink == (str(media),)
    assert all(s.media and s.media[0].endswith("deep/shots.mp4") for s in panel.cut_view.strip.shots())
    assert not [s for s in panel.cut_view.strip.shots() if s.offline]


def test_relinking_to_a_folder_without_the_media_says_what_is_still_offline(qtbot, tmp_path, moved_media):
    path, _ = moved_media
    empty = tmp_path / "empty"
    empty.mkdir()
    panel = _panel(qtbot, tmp_path)
    panel.open_timeline(path)
    panel.relink_to(empty)
    assert panel.status.text() == "Relinked: 0 clip(s) found, 3 still offline (try another folder)."
    panel.relink_to(tmp_path / "nowhere")
    assert "not a folder; choose the folder that holds the media" in panel.banner.text()


def test_an_edl_rate_is_asked_before_anything_is_reported(qtbot, tmp_path):
    edl = tmp_path / "cut.edl"
    edl.write_text(
        "TITLE: cut\nFCM: NON-DROP FRAME\n\n"
        "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
        "* FROM CLIP NAME: shots.mp4\n"
        "002  AX       V     C        00:00:02:00 00:00:03:10 01:00:01:00 01:00:02:10\n"
        "* FROM CLIP NAME: shots.mp4\n"
    )
    panel = _panel(qtbot, tmp_path)
    seen = []

    def ask(need):
        seen.append((panel.status.text(), panel.banner.isVisible(), panel.banner.text()))
        return 25.0

    panel.ask_rate = ask
    panel.open_timeline(edl)
    ((status, banner_shown, banner),) = seen
    assert "Could not open" not in status and status == "Opening cut.edl: which frame rate?"
    assert not banner_shown, banner
    assert panel.table.rowCount() == 2 and "Could not open" not in panel.status.text()

    panel.ask_rate = lambda need: None  # the editor cancels: now it is reported
    panel.open_timeline(edl)
    assert panel.status.text() == "Could not open cut.edl."
    assert "does not record its frame rate" in panel.banner.text()


def test_titles_dissolves_and_speed_changes_are_on_the_strip(qtbot, tmp_path):
    path = tmp_path / "multi.otio"
    otio.adapters.write_to_file(build_cut(make_media(tmp_path / "media")), str(path))
    model = PanelModel(PreviewOnlyEngine(), PanelOptions(cues="per-clip"))
    model.open(path)
    strip = CutStrip(model)
    # program_timelines: a title on V2 over 10-40, A dissolves into B at 25 (+-4), B at 2x,
    # C reversed, D a freeze frame
    assert strip.titles() == [Mark(10, 40, "Title")]
    assert strip.dissolves() == [Mark(21, 29, "dissolve")]
    assert strip.speed_changes() == [
        Mark(25, 50, "200 %"),
        Mark(80, 105, "reverse 100 %"),
        Mark(105, 121, "freeze"),  # D: 15 frames of its 24 fps media, as the program places them
    ]

    view = CutView(model)
    qtbot.addWidget(view)
    view.resize(1010, view.sizeHint().height())
    with qtbot.waitExposed(view):
        view.show()
    image = view.grab().toImage()
    title = view.mark_rect("titles", 0)
    assert colour_count(image, title, TITLE) > 0.5 * title.width() * (title.height() - 2)
    speed = view.mark_rect("speed_changes", 0)
    assert colour_count(image, speed, SPEED) > 0.3 * speed.width() * (speed.height() - 2)
    dissolve = view.mark_rect("dissolves", 0)
    # the dissolve's cross: white lines from corner to corner
    white = colour_count(image, dissolve, QColor(255, 255, 255), tolerance=30)
    assert white >= 2 * min(dissolve.width(), dissolve.height()) - 8, white


class WarmingEngine(PreviewOnlyEngine):
    """An engine whose `info` says what it has warm, which changes as a real one's does after its
    first score (the in-process engine and the service both report it)."""

    def __init__(self):
        super().__init__()
        self.warm: tuple[str, ...] = ()

    def info(self) -> EngineInfo:
        return EngineInfo("test", 1, ("tiny",), "cpu", warm_presets=self.warm)


def test_the_engine_label_follows_the_engine(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("ui.panel.ENGINE_POLL_MS", 50)
    engine = WarmingEngine()
    panel = _panel(qtbot, tmp_path, engine=engine)
    panel.connect_engine()
    qtbot.waitUntil(lambda: panel.engine_label.text().startswith("engine: cpu, cold"), timeout=10_000)
    engine.warm = ("tiny",)  # nothing calls the panel: it asks again by itself
    qtbot.waitUntil(lambda: panel.engine_label.text() == "engine: cpu, warm: tiny", timeout=10_000)


def test_the_in_process_engine_says_which_presets_it_has_warm():
    from engine.in_process import InProcessEngine

    assert InProcessEngine().info().warm_presets == ()  # scoring adds its preset (test_panel.py)


def test_a_sound_problem_is_said_in_the_window(qtbot, tmp_path, shots_video):
    path = tmp_path / "cut.otio"
    tl = timeline_of(video_track(clip("wide", shots_video, 0, 30, RATE, 75)), rate=RATE)
    otio.adapters.write_to_file(tl, str(path))
    panel = _panel(qtbot, tmp_path)
    panel.open_timeline(path)
    panel.table.selectRow(0)
    panel.play_selected()
    expected = audio_device_problem()  # what Qt sees on this machine
    if expected is None:
        assert "sound:" not in panel.banner.text()
    else:
        assert panel.banner.isVisible() and expected in panel.banner.text()
        assert "no audio device" in expected
    panel.stop_playback()
    time.sleep(0.05)
