"""The VidMusician panel: the cut as a timeline (ui.cut_view), per-cue settings, score /
regenerate / cancel, preview, export; a compact list of the cues under the timeline.

Widgets only bind to `vm_editor.panel_model.PanelModel`; the panel can be embedded in any
PySide6 host (Hiero / Nuke Studio) as a QWidget, or run as a window by `vm-editor panel`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer, QUrl
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.api import Engine
from ui.cue_controls import CueControls
from ui.cut_view import CutView
from ui.tasks import run_in_background
from ui.widgets import Strip
from vm_editor.errors import EditorInputError
from vm_editor.panel_model import PanelJob, PanelModel, PanelOptions, RateNeeded, take_label

COLUMNS = ["Picture", "Cue", "In", "Out", "Duration", "Markers", "Rhythm", "Music", "State"]
POLL_MS = 200
ENGINE_POLL_MS = 3000  # how often the engine label asks the engine what it has warm
HIDDEN_COLUMNS = (0, 6, 7)  # picture, rhythm and music are drawn by the cut view above the list


class ScorePanel(QWidget):
    def __init__(self, model: PanelModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.settings = QSettings("VidMusician", "Panel")
        self.setWindowTitle("VidMusician")
        self._build()
        self._bind_keys()
        model.subscribe(self._on_model_changed)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.engine_timer = QTimer(self)  # the engine's state (warm presets, device) stays live
        self.engine_timer.setInterval(ENGINE_POLL_MS)
        self.engine_timer.timeout.connect(self.refresh_engine)
        self._engine_asking = False
        self.player = None
        self._refresh_all()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open timeline…")
        self.score_button = QPushButton("Score all")
        self.regen_button = QPushButton("Regenerate selected")
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export…")
        self.play_button = QPushButton("Play cue")
        self.merge_button = QPushButton("Merge")
        self.split_button = QPushButton("Split…")
        self.relink_button = QPushButton("Relink…")
        self.conform_button = QPushButton("Conform…")
        self.conform_button.setToolTip(
            "score a recut from its earlier scored cut (as `vm-editor conform OLD NEW`): unchanged "
            "cues kept, trimmed ones re-fit"
        )
        self.relink_button.setToolTip("find offline media in a folder you choose (and its subfolders)")
        self.engine_label = QLabel("engine: not connected")
        for button, slot in (
            (self.open_button, self._open_dialog),
            (self.score_button, self.score_all),
            (self.regen_button, self.regenerate_selected),
            (self.cancel_button, self.cancel),
            (self.export_button, self._export_dialog),
            (self.play_button, self.toggle_play),
            (self.merge_button, self.merge_selected),
            (self.split_button, self._split_dialog),
            (self.relink_button, self._relink_dialog),
            (self.conform_button, self._conform_dialog),
        ):
            button.clicked.connect(slot)
        bar = QHBoxLayout()
        buttons = (
            self.open_button,
            self.score_button,
            self.regen_button,
            self.cancel_button,
            self.merge_button,
            self.split_button,
            self.relink_button,
            self.conform_button,
            self.export_button,
            self.play_button,
        )
        for w in buttons:
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.engine_label)
        for button, keys in (
            (self.open_button, "Ctrl+O"),
            (self.score_button, "S or Ctrl+Return"),
            (self.regen_button, "R or Ctrl+R"),
            (self.cancel_button, "Esc"),
            (self.merge_button, "M or Ctrl+M"),
            (self.split_button, "K or Ctrl+K"),
            (self.export_button, "Ctrl+E"),
            (self.play_button, "Space: play / stop"),
        ):
            button.setToolTip(keys)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#7a1f1f;color:white;padding:6px;border-radius:3px")
        self.banner.hide()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(40)
        self.table.verticalHeader().setDefaultSectionSize(48)
        for column, width in enumerate((84, 110, 88, 88, 70, 62, 130, 170)):
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._on_selection)
        for column in HIDDEN_COLUMNS:
            self.table.setColumnHidden(column, True)
        self.table.verticalHeader().setDefaultSectionSize(24)  # a compact list: no pictures in it
        self.cut_view = CutView(self.model)
        actions = {
            "score": self.score_all,
            "regenerate": self.regenerate_selected,
            "cancel": self.cancel,
            "play": self.toggle_play,
            "merge": self.merge_selected,
            "split": self._split_dialog,
        }
        self.cut_view.requested.connect(lambda name: actions[name]())
        timeline = QSplitter(Qt.Orientation.Vertical)
        timeline.addWidget(self.cut_view)
        timeline.addWidget(self.table)
        timeline.setStretchFactor(0, 3)
        timeline.setStretchFactor(1, 1)

        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("style prompt, e.g. warm piano, slow")
        self.controls = CueControls()  # the cue's mood and energy, over the prompt's words
        self.controls.changed.connect(self._store_settings)
        self.preset = QComboBox()
        self.preset.addItems(["tiny", "musicgen-small", "musicgen-medium", "musicgen-melody"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 2)
        self.dice = QPushButton("Roll")
        self.dice.setToolTip("new random seed (Ctrl+D)")
        self.dice.clicked.connect(self.roll_seed)
        self.guidance = QDoubleSpinBox()  # --guidance; its lowest value means "the preset's"
        self.guidance.setRange(0.0, 20.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setSpecialValueText("preset default")
        self.guidance.setToolTip("how strongly pictures and prompt steer the music (--guidance)")
        self.lock = QCheckBox("locked (kept by Score all)")
        self.takes = QComboBox()
        self.takes.currentIndexChanged.connect(self._on_take)
        self.hits = QCheckBox("accents at cuts and markers")
        self.hits.setToolTip("off: no forced accents, the model alone follows the pictures (--no-hits)")
        self.hits.setChecked(self.model.options.hits)
        self.hits.toggled.connect(lambda on: self.model.set_options(hits=on))
        self.stems = QCheckBox("stems (drums, bass, harmony, melody)")
        self.stems.setToolTip("also one WAV per stream beside each cue (--stems)")
        self.stems.setChecked(self.model.options.stems)
        self.stems.toggled.connect(lambda on: self.model.set_options(stems=on))
        self.allow_offline = QCheckBox("score offline clips without pictures")
        self.allow_offline.setToolTip(
            "clips whose media is offline get music from no pictures (--allow-offline)"
        )
        self.allow_offline.setChecked(self.model.options.allow_offline)
        self.allow_offline.toggled.connect(lambda on: self.model.set_options(allow_offline=on))
        for editor in (self.prompt,):
            editor.editingFinished.connect(self._store_settings)
        for spin in (self.seed, self.guidance):
            spin.valueChanged.connect(self._store_settings)
        self.preset.currentIndexChanged.connect(self._store_settings)
        self.lock.toggled.connect(self._store_settings)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        form = QFormLayout()
        form.addRow("Prompt", self.prompt)
        form.addRow("Mood, energy", self.controls)
        form.addRow("Preset", self.preset)
        form.addRow("Seed", seed_row)
        form.addRow("Guidance", self.guidance)
        form.addRow("", self.lock)
        form.addRow("Take", self.takes)
        self.detail = QWidget()
        self.detail.setLayout(form)
        self.detail.setEnabled(False)
        score_form = QFormLayout()
        score_form.addRow("Score", self.hits)
        score_form.addRow("", self.stems)
        score_form.addRow("", self.allow_offline)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.detail)
        side_layout.addLayout(score_form)
        side_layout.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(timeline)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Open a timeline to begin (Ctrl+O).")

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.resize(1280, 560)

    def _bind_keys(self) -> None:
        for keys, slot in (
            ("Ctrl+O", self._open_dialog),
            ("Ctrl+Return", self.score_all),
            ("Ctrl+R", self.regenerate_selected),
            ("Escape", self.cancel),
            ("Ctrl+E", self._export_dialog),
            ("Ctrl+D", self.roll_seed),
            ("Space", self.toggle_play),
            ("Ctrl+M", self.merge_selected),
            ("Ctrl+K", self._split_dialog),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

    # -- actions -------------------------------------------------------------------------------
    def _guard(self, action, *args, **kwargs):
        try:
            result = action(*args, **kwargs)
            self.model.set_error(None)
            return result
        except EditorInputError as exc:
            self.model.set_error(str(exc))
            return None

    def open_timeline(
        self, path: Path, *, ask: bool = True, rate: float | None = None, background: bool | None = None
    ) -> None:
        """Open as `vm-editor score` reads it; a format without a rate (EDL) asks for one. An auto
        plan asks the engine, so it is read off the GUI thread (`background`, by default then)."""
        self.settings.setValue("last_folder", str(Path(path).parent))
        read = functools.partial(self.model.read, Path(path), rate=rate)
        self._opening = token = getattr(self, "_opening", 0) + 1  # the last open asked wins
        if background is None:
            background = self.model.plans_with_engine()
        if not background:
            try:
                result, error = read(), None
            except EditorInputError as exc:  # shown as a background one is
                result, error = None, exc
            self._opened(token, path, ask, result, error)
            return
        self.status.setText(f"Opening {Path(path).name}: planning cues…")
        run_in_background(self, read, functools.partial(self._opened, token, path, ask))

    def _opened(self, token: int, path: Path, ask: bool, opened, error: Exception | None) -> None:
        if token != self._opening:
            return  # a later open was asked for meanwhile
        if isinstance(error, RateNeeded):  # asked first: nothing is reported while the dialog asks
            self.status.setText(f"Opening {Path(path).name}: which frame rate?")
            rate = self.ask_rate(error) if ask else None
            if rate is not None:
                self.open_timeline(path, ask=False, rate=rate)
                return
            self.status.setText(f"Could not open {Path(path).name}.")
            self.model.set_error(f"{error} (--rate)")
            return
        if error is not None:  # the "planning cues…" line goes: what is open stays open
            self.status.setText(f"Could not open {Path(path).name}.")
        if isinstance(error, EditorInputError):
            self.model.set_error(str(error))
            return
        if error is not None:
            self.model.set_error(f"cannot open {Path(path).name}: {error}")
            return
        self.model.show(opened)
        if self.model.engine_status:
            self.load_previews()
        after, self._after_open = getattr(self, "_after_open", None), None
        if after is not None:
            after()

    def conform_timelines(
        self, old: Path, new: Path, *, force: bool = False, background: bool = True
    ) -> None:
        """Conform… : NEW scored from OLD's cues through the session's conform (the engine scores
        what changed, off the GUI thread), then opened; the status line gives its report."""
        self.settings.setValue("last_folder", str(Path(new).parent))
        conform = functools.partial(self.model.read_conform, Path(old), Path(new), force=force)
        self._opening = token = getattr(self, "_opening", 0) + 1
        if not background:
            try:
                result, error = conform(), None
            except EditorInputError as exc:
                result, error = None, exc
            self._opened(token, new, False, result, error)
            return
        self.status.setText(f"Conforming {Path(new).name} to {Path(old).name}…")
        run_in_background(self, conform, functools.partial(self._opened, token, new, False))

    def relink_to(self, folder: Path) -> None:
        """Look for the open timeline's offline media in `folder` (as `--relink FOLDER`) and read
        the timeline again; the status line says how many clips were found."""
        if self.model.timeline_path is None:
            self.model.set_error("open a timeline first, then relink its offline media")
            return
        before = len(self.model.offline_clips())
        if self._guard(self.model.add_relink_folder, Path(folder)) is None and self.model.error:
            return
        self._after_open = lambda: self.status.setText(self.model.relink_report(before))
        self.open_timeline(self.model.timeline_path, ask=False, rate=self.model.opened_rate)

    def ask_rate(self, need: RateNeeded) -> float | None:
        """The frame rate of a file that does not record it, from the rates its timecodes allow."""
        items = [f"{r:g}" for r in need.choices]
        chosen, ok = QInputDialog.getItem(
            self,
            "Frame rate",
            f"{need.path.name} does not record its frame rate.\nThe rate it was cut at (fps):",
            items,
            items.index(f"{need.likely:g}") if f"{need.likely:g}" in items else 0,
            True,
        )
        try:
            return float(chosen) if ok else None
        except ValueError:
            self.model.set_error(f"{chosen!r}: give a frame rate in frames per second, e.g. 25")
            return None

    def load_previews(self) -> None:
        """Stills and rhythm curves come from the engine, one background call per scene."""
        for position, call in self.model.preview_calls():

            def done(result, error, position=position):
                if error is None:
                    self.model.apply_preview(position, result)

            run_in_background(self, call, done)
        self.cut_view.load_previews()

    def connect_engine(self) -> None:
        """Reach (or start) the engine off the GUI thread: starting it can take seconds. Then the
        label keeps asking (every ENGINE_POLL_MS) so it shows the presets as they warm up."""
        if not self.model.engine_status:
            self.engine_label.setText("engine: starting…")
        self.refresh_engine(report_errors=True)
        self.engine_timer.start()

    def refresh_engine(self, report_errors: bool = False) -> None:
        """Ask the engine what it runs on and what it has warm (one question at a time)."""
        if self._engine_asking or self.model.engine is None:
            return
        self._engine_asking = True

        def done(result, error):
            self._engine_asking = False
            if error is not None:
                self.engine_label.setText("engine: unavailable")
                if report_errors or self.model.engine_status is not None:
                    self.model.set_error(f"engine unavailable: {error}")
                self.model.engine_status = None
                return
            first = not self.model.engine_status
            self.model.engine_status = result
            self.engine_label.setText(engine_label(result))
            if first:
                self.load_previews()

        run_in_background(self, self.model.engine.info, done)

    def score_all(self) -> None:
        self._start(self._guard(self.model.score_all))

    def regenerate_selected(self) -> None:
        if not self.model.selection:
            self.model.set_error("select the cues to regenerate first")
            return
        self._start(self._guard(self.model.regenerate_selected))

    def _start(self, job: PanelJob | None) -> None:
        """The engine works on a pool thread; the timer applies what it reports (model.poll)."""
        if job is not None:
            run_in_background(self, functools.partial(self.model.run, job), lambda *_: None)
            self.timer.start()

    def cancel(self) -> None:
        self._guard(self.model.cancel_all)

    def merge_selected(self) -> None:
        self._guard(self.model.merge, sorted(self.model.selection))

    def split(self, position: int, at_s: float) -> None:
        self._guard(self.model.split, position, at_s)

    def _split_dialog(self) -> None:
        position = self._current_row()
        if position is None:
            self.model.set_error("select the cue to split first")
            return
        length = self.model.rows[position].scene.record_range.duration.to_seconds()
        at, ok = QInputDialog.getDouble(
            self, "Split cue", "Seconds into the cue:", length / 2, 0.0, length, 2
        )
        if ok:
            self.split(position, at)

    def roll_seed(self) -> None:
        position = self._current_row()
        if position is not None:
            self.seed.setValue(self.model.roll_seed(position))

    def export(self, path: Path) -> Path | None:
        return self._guard(self.model.export, Path(path), force=True)

    def play_selected(self) -> None:
        """Picture and music of the selected scene together, from the scene's first frame to its last.

        The picture plays muted in a preview window at the clip's source position; the cue plays
        from its start; both start in the same event-loop turn and a timer stops both at the
        scene's end (QtMultimedia).
        """
        position = self._current_row()
        if position is None:
            return
        row = self.model.rows[position]
        media = self.model.preview_media(position)
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget
        except ImportError as exc:  # QtMultimedia needs the system's libpulse
            self.model.set_audio_problem(
                f"sound: preview unavailable ({exc}); install libpulse0 and restart the panel"
            )
            return
        self.model.set_audio_problem(audio_device_problem())
        if self.player is None:
            self.video = QVideoWidget(self)  # a child window: it closes with the panel
            self.video.setWindowFlag(Qt.WindowType.Window)
            self.video.setWindowTitle("VidMusician preview")
            self.video.resize(480, 270)
            self.player = QMediaPlayer(self)
            self.player.setVideoOutput(self.video)
            self.music = QMediaPlayer(self)
            self.music.setAudioOutput(QAudioOutput(self))
            self.music.errorOccurred.connect(self._music_error)
            self.stop_timer = QTimer(self)
            self.stop_timer.setSingleShot(True)
            self.stop_timer.timeout.connect(self.stop_playback)
            self.music.positionChanged.connect(functools.partial(self._follow, "music"))
            self.player.positionChanged.connect(functools.partial(self._follow, "picture"))
        self.stop_playback()
        if media is not None:
            self.player.setSource(QUrl.fromLocalFile(media[0]))
            self.player.setPosition(int(media[1] * 1000))
            self.video.show()
        music = self.model.playable_music(position)  # None for a damaged WAV: the row says why
        if music is not None:
            self.music.setSource(QUrl.fromLocalFile(music))
        if media is not None:
            self.player.play()
        if music is not None:
            self.music.play()
        self.stop_timer.start(int(row.scene.record_range.duration.to_seconds() * 1000))

    def _music_error(self, _error, text: str) -> None:
        """What QtMultimedia says when the cue cannot play (it also prints it on the terminal)."""
        if text:
            self.model.set_audio_problem(f"sound: the cue cannot play: {text}")

    def toggle_play(self) -> None:
        """Space / Play: play the selected cue, or stop what plays; the playhead starts at the cue."""
        if getattr(self, "stop_timer", None) is not None and self.stop_timer.isActive():
            self.stop_playback()
            return
        self.play_selected()
        position = self._current_row()
        if (
            position is not None
            and getattr(self, "stop_timer", None) is not None
            and self.stop_timer.isActive()
        ):
            row = self.model.rows[position]
            self._playing = (row.scene.record_range.start_time.to_seconds(), row.cue is not None)
            self.cut_view.set_playhead(self._playing[0])

    def _follow(self, player: str, ms: int) -> None:
        """The cut view's playhead follows the music's position; without music, the picture's
        clock (the time played since the cue's start)."""
        playing = getattr(self, "_playing", None)
        if playing is None or not self.stop_timer.isActive():
            return
        start_s, music = playing
        if player == "music" and music:
            self.cut_view.set_playhead(start_s + ms / 1000)
        elif player == "picture" and not music:
            played_ms = self.stop_timer.interval() - self.stop_timer.remainingTime()
            self.cut_view.set_playhead(start_s + played_ms / 1000)

    def stop_playback(self) -> None:
        """Stop and release both players (their decoder threads must end before the widget) and
        hide the preview window: no black window stays behind."""
        for player in (self.player, getattr(self, "music", None)):
            if player is not None:
                player.stop()
                player.setSource(QUrl())
        if getattr(self, "stop_timer", None) is not None:
            self.stop_timer.stop()
        if getattr(self, "video", None) is not None:
            self.video.hide()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.timer.stop()
        self.engine_timer.stop()
        self.stop_playback()
        if getattr(self, "video", None) is not None:
            self.video.close()
        super().closeEvent(event)

    # -- dialogs -------------------------------------------------------------------------------
    def _open_dialog(self) -> None:
        folder = str(self.settings.value("last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open timeline", folder)
        if path:
            self.open_timeline(Path(path))

    def _relink_dialog(self) -> None:
        if self.model.timeline_path is None:
            self.model.set_error("open a timeline first, then relink its offline media")
            return
        start = str(self.settings.value("relink_folder", str(self.model.timeline_path.parent)))
        folder = QFileDialog.getExistingDirectory(self, "Relink: the folder that holds the media", start)
        if folder:
            self.settings.setValue("relink_folder", folder)
            self.relink_to(Path(folder))

    def _conform_dialog(self) -> None:
        folder = str(self.settings.value("last_folder", str(Path.home())))
        old, _ = QFileDialog.getOpenFileName(self, "Conform: the earlier scored cut (OLD)", folder)
        if not old:
            return
        new, _ = QFileDialog.getOpenFileName(self, "Conform: the recut (NEW)", str(Path(old).parent))
        if not new:
            return
        out = self.model.conform_output(Path(new))
        force = out.exists()
        if force and QMessageBox.question(self, "Conform", f"{out.name} exists. Replace it?") != (
            QMessageBox.StandardButton.Yes
        ):
            return
        self.conform_timelines(Path(old), Path(new), force=force)

    def _export_dialog(self) -> None:
        if self.model.timeline_path is None:
            return
        default = self.model.default_export_path()  # where `vm-editor score` would write
        path, _ = QFileDialog.getSaveFileName(self, "Export scored timeline", str(default))
        if path and self.export(Path(path)):
            self.status.setText(f"Exported {path}")

    # -- model -> widgets ----------------------------------------------------------------------
    def _poll(self) -> None:
        try:
            self.model.poll()  # not _guard: a failure it reports must stay on the banner
        except EditorInputError as exc:
            self.model.set_error(str(exc))
        if not self.model.jobs:
            self.timer.stop()
            self.refresh_engine()  # device / warm state after the work

    def _on_model_changed(self, what: str) -> None:
        if what == "scenes":
            self._refresh_all()
        elif what.startswith("cue:"):
            self._refresh_row(int(what.split(":")[1]))
            self._refresh_detail()
        elif what in ("progress", "jobs"):
            for position in range(len(self.model.rows)):
                self._refresh_state(position)
            self.progress.setValue(int(self.model.overall_progress() * 1000))
            self.status.setText(self.model.status_text())
        elif what == "error":
            self.banner.setText(self.model.banner_text())
            self.banner.setVisible(bool(self.model.banner_text()))
        elif what.startswith("state:"):
            self._refresh_state(int(what.split(":")[1]))
        elif what.startswith("row:"):
            self._refresh_detail()
        elif what == "selection":
            self._show_selection()

    def _refresh_all(self) -> None:
        rows = self.model.rows
        self.table.setRowCount(len(rows))
        for position in range(len(rows)):
            self._refresh_row(position)
        # one number per cue: the row says "2" for --cue 2 and cue002 in the WAV's name
        self.table.setVerticalHeaderLabels([self.model.row_label(p)["number"] for p in range(len(rows))])
        if self.model.timeline_path is not None:
            self.status.setText(self.model.summary())
        self.progress.setValue(int(self.model.overall_progress() * 1000))
        self._refresh_detail()

    def _refresh_row(self, position: int) -> None:
        label = self.model.row_label(position)
        name = label["name"] + ("  (offline media)" if label["offline"] else "")
        texts = (name, label["in"], label["out"], f"{label['duration_s']:.2f} s", str(label["markers"]))
        for column, text in enumerate(texts, start=1):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(position, column, item)
        row = self.model.rows[position]
        picture = self.table.cellWidget(position, 0) or QLabel()
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if row.thumbnail:
            pixmap = QPixmap()
            pixmap.loadFromData(row.thumbnail, "PNG")
            picture.setPixmap(pixmap.scaledToHeight(44, Qt.TransformationMode.SmoothTransformation))
        else:
            picture.setText("…" if self.model.preview_media(position) is not None else "no media")
        self.table.setCellWidget(position, 0, picture)
        rhythm = self.table.cellWidget(position, 6) or Strip("#6cc4ff", mirrored=False, hint="rhythm: engine")
        music = self.table.cellWidget(position, 7) or Strip("#ffb347", mirrored=True, hint="no music yet")
        self.table.setCellWidget(position, 6, rhythm)
        self.table.setCellWidget(position, 7, music)
        rhythm.set_values(row.rhythm or [])
        music.set_values(self.model.music_peaks(position))
        self._refresh_state(position)

    def _refresh_state(self, position: int) -> None:
        row = self.model.rows[position]
        text = f"running {row.progress:.0%}" if row.state == "running" else row.state
        if row.takes:
            text += f" · take {row.current_take + 1}/{len(row.takes)}"
        if row.music_problem:
            text += " · music unreadable"
        item = QTableWidgetItem(text)
        item.setToolTip(row.music_problem or "")
        self.table.setItem(position, 8, item)

    def _current_row(self) -> int | None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return rows[0] if rows else None

    def _show_selection(self) -> None:
        """The list follows a selection made in the cut view."""
        if {i.row() for i in self.table.selectedIndexes()} != self.model.selection:
            flags = self.table.selectionModel().SelectionFlag
            self.table.blockSignals(True)
            self.table.clearSelection()
            for position in sorted(self.model.selection):
                self.table.selectionModel().select(
                    self.table.model().index(position, 1), flags.Select | flags.Rows
                )
            self.table.blockSignals(False)
        self._refresh_detail()

    def _on_selection(self) -> None:
        self.model.select({i.row() for i in self.table.selectedIndexes()})
        self._refresh_detail()

    def _refresh_detail(self) -> None:
        position = self._current_row()
        self.detail.setEnabled(position is not None)
        if position is None or position >= len(self.model.rows):
            self._detail_row = None
            return
        self._detail_row = position  # the row the inspector shows: its edits go to it
        row = self.model.rows[position]
        self._loading = True
        self.prompt.setText(row.settings.prompt)
        self.controls.load(row.settings)
        self.preset.setCurrentText(row.settings.preset)
        self.seed.setValue(row.settings.seed)
        self.guidance.setValue(row.settings.guidance or 0.0)
        self.lock.setChecked(row.settings.locked)
        self.takes.clear()
        self.takes.addItems([take_label(i + 1, t) for i, t in enumerate(row.takes)])
        if row.takes:
            self.takes.setCurrentIndex(row.current_take)
        self._loading = False

    def _store_settings(self) -> None:
        # the row the inspector shows, not the selection: a prompt field's editingFinished can
        # fire after the selection moved to another row, which would get this row's values
        position = getattr(self, "_detail_row", None)
        if position is None or position >= len(self.model.rows) or getattr(self, "_loading", False):
            return
        settings = self.model.rows[position].settings
        settings.prompt = self.prompt.text()
        self.controls.store(settings)
        settings.preset = self.preset.currentText()
        settings.seed = self.seed.value()
        settings.guidance = self.guidance.value() or None  # 0: the preset's own
        settings.locked = self.lock.isChecked()

    def _on_take(self, index: int) -> None:
        position = self._current_row()
        if position is not None and index >= 0 and not getattr(self, "_loading", False):
            self._guard(self.model.use_take, position, index)


def engine_label(info) -> str:
    """ "engine: cpu, warm: tiny" / "engine: cuda, cold (the first score loads the model)"."""
    warm = ", ".join(info.warm_presets)
    return f"engine: {info.device}, " + (
        f"warm: {warm}" if warm else "cold (the first score loads the model)"
    )


def audio_device_problem() -> str | None:
    """None when Qt sees an audio output; else what to do (shown in the window, not only on
    the terminal where QtMultimedia prints its own warning)."""
    from PySide6.QtMultimedia import QMediaDevices

    if QMediaDevices.audioOutputs():
        return None
    return (
        "sound: no audio device: the cue plays silently. Connect or enable an audio output "
        "(or start PulseAudio / PipeWire) and play it again"
    )


def run_panel(
    timeline: Path | None = None,
    screenshot: Path | None = None,
    engine: Engine | None = None,
    options: PanelOptions | None = None,
) -> int:
    """`vm-editor panel`: a window, or with `screenshot` one offscreen render saved as PNG.
    The engine runs in this process unless another `Engine` (the service client) is given."""
    from PySide6.QtWidgets import QApplication

    from engine.in_process import InProcessEngine

    app = QApplication.instance() or QApplication([])
    panel = ScorePanel(PanelModel(engine or InProcessEngine(), options))
    if timeline is not None:
        panel.open_timeline(timeline, ask=screenshot is None, background=screenshot is None)
    if screenshot is not None:
        panel.show()
        app.processEvents()
        panel.grab().save(str(screenshot))
        return 0
    panel.connect_engine()
    panel.show()
    QThreadPool.globalInstance()
    return app.exec()
