"""Hiero / Nuke Studio: a dockable VidMusician panel that scores the active sequence and brings
the score back as a new audio track.

`vm-editor install-host hiero` writes a StartupUI launcher that calls `register(python)` with
this install's absolute Python; the panel is added with `hiero.ui.windowManager().addWindow`.
The host's own Qt (PySide6 or PySide2) draws it; everything else runs as commands in this
install's Python (never `sys.executable`, which inside the host is the host program):
the sequence is exported as OTIO (`vm_editor.host_bridge sequence-otio`, Hiero having no OTIO
export of its own), scored with `vm-editor score`, and its cues come back as track items on the
audio track "VidMusician score", clips in a "VidMusician" bin; Update swaps regenerated takes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ui.hosts.commands import InstallCommands, LauncherError, project_folder, safe_name
from vm_editor.host_cues import BIN_NAME, SCORE_TRACK_NAME, HostCue, PlacedClip, plan_sync


def _media_path(track_item) -> str:
    source = track_item.source().mediaSource()
    if source.isOffline():
        return ""
    return source.fileinfos()[0].filename()


def sequence_description(sequence) -> dict:
    """The sequence as `host_bridge.timeline_from_sequence` reads it (frames, inclusive outs)."""
    tracks = []
    for kind, group in (("video", sequence.videoTracks()), ("audio", sequence.audioTracks())):
        for track in group:
            items = []
            for item in track.items():
                source = item.source().mediaSource()
                items.append(
                    {
                        "name": item.name(),
                        "path": _media_path(item),
                        "timeline_in": item.timelineIn(),
                        "timeline_out": item.timelineOut(),
                        "source_in": item.sourceIn(),
                        "source_out": item.sourceOut(),
                        "media_duration": source.duration(),
                        "speed": item.playbackSpeed(),
                        "enabled": item.isEnabled(),
                    }
                )
            tracks.append({"name": track.name(), "kind": kind, "enabled": track.isEnabled(), "items": items})
    return {
        "name": sequence.name(),
        "rate": sequence.framerate().toFloat(),
        "start_frame": sequence.timecodeStart(),
        "tracks": tracks,
    }


class HieroScore:
    """Score the sequence and keep its "VidMusician score" audio track in step with the scored file."""

    def __init__(self, sequence, commands: InstallCommands, *, core=None, root=None):
        if sequence is None:
            raise LauncherError("open a sequence in the timeline first")
        if core is None:
            import hiero.core as core  # provided by the host
        self.sequence, self.commands, self.core = sequence, commands, core
        project = sequence.project()
        saved = project.path() if hasattr(project, "path") else ""
        # next to a saved project file; else ~/VidMusician/<project>/ (never a temporary folder)
        self.folder = Path(saved).parent / "VidMusician" if saved else project_folder(project.name(), root)
        self.stem = safe_name(sequence.name())
        self.project = project

    @property
    def exported_path(self) -> Path:
        return self.folder / f"{self.stem}.otio"

    @property
    def scored_path(self) -> Path:
        return self.folder / f"{self.stem}.scored.otio"

    def export(self) -> Path:
        return self.commands.sequence_otio(sequence_description(self.sequence), self.exported_path)

    def rate(self) -> float:
        return self.sequence.framerate().toFloat()

    def score_track(self):
        for track in self.sequence.audioTracks():
            if track.name() == SCORE_TRACK_NAME:
                return track
        track = self.core.AudioTrack(SCORE_TRACK_NAME)
        self.sequence.addTrack(track)
        return track

    def score_bin(self):
        clips = self.project.clipsBin()
        for item in clips.items():
            if isinstance(item, self.core.Bin) and item.name() == BIN_NAME:
                return item
        folder = self.core.Bin(BIN_NAME)
        clips.addItem(folder)
        return folder

    def place(self, cues: list[HostCue]) -> dict:
        """New takes in, changed clips out, unchanged clips left alone (one undo step)."""
        track = self.score_track()
        placed = [PlacedClip(i.timelineIn(), i.timelineOut() + 1, _media_path(i), i) for i in track.items()]
        plan = plan_sync(cues, placed)
        self.project.beginUndo("VidMusician score")
        try:
            for clip in plan.remove:
                track.removeItem(clip.handle)
            folder = self.score_bin() if plan.place else None
            for cue in plan.place:
                clip = self.core.Clip(self.core.MediaSource(cue.wav_path))
                folder.addItem(self.core.BinItem(clip))
                item = track.createTrackItem(cue.name)
                item.setSource(clip)
                item.setSourceIn(0)
                item.setSourceOut(cue.duration - 1)  # Hiero's outs are inclusive
                item.setTimelineIn(cue.record_start)
                item.setTimelineOut(cue.record_end - 1)
                track.addItem(item)
        finally:
            self.project.endUndo()
        return {"kept": len(plan.keep), "removed": len(plan.remove), "placed": len(plan.place)}

    def run(self, action: str) -> dict | None:
        if action == "score":
            scored = self.commands.score(self.export(), self.scored_path)
            return self.place(self.commands.cues(scored, self.rate()))
        if action == "update":
            return self.place(self.commands.cues(self.scored_path, self.rate()))
        if action == "panel":
            self.commands.open_panel(self.scored_path)
            return None
        raise LauncherError(f"unknown action {action!r}")


def _qt():
    try:
        from PySide6 import QtCore, QtWidgets
    except ImportError:  # Nuke 13-15 ship PySide2
        from PySide2 import QtCore, QtWidgets
    return QtCore, QtWidgets


def build_panel(python: str, *, hiero_ui=None, core=None, score_args: tuple[str, ...] = ()):
    """The dock: Score / Update / Open panel, and a status line. Scoring and the cue list run on a
    worker thread (the host stays responsive); the track edits run back on the host's thread."""
    QtCore, QtWidgets = _qt()  # noqa: N806 - Qt module names

    class Relay(QtCore.QObject):
        done = QtCore.Signal(object)

    class Panel(QtWidgets.QWidget):
        def __init__(self):
            super().__init__()
            self.setObjectName("uk.vidmusician.panel")
            self.setWindowTitle("VidMusician")
            self.status = QtWidgets.QLabel(
                "Score the active sequence: its music comes back as an audio track."
            )
            self.status.setWordWrap(True)
            self.buttons = {}
            layout = QtWidgets.QVBoxLayout(self)
            for action, label in (
                ("score", "Score sequence"),
                ("update", "Update takes"),
                ("panel", "Open panel…"),
            ):
                button = QtWidgets.QPushButton(label)
                button.clicked.connect(lambda _=False, a=action: self.start(a))
                layout.addWidget(button)
                self.buttons[action] = button
            layout.addWidget(self.status)
            layout.addStretch(1)
            self.relay = Relay()
            self.relay.done.connect(self.finish)
            self.thread = None

        def say(self, text: str) -> None:
            self.status.setText(text)

        def start(self, action: str) -> None:
            try:
                ui = hiero_ui
                if ui is None:
                    import hiero.ui as ui
                commands = InstallCommands(python, score_args=score_args, log=lambda line: None)
                session = HieroScore(ui.activeSequence(), commands, core=core)
                description = sequence_description(session.sequence) if action == "score" else None
            except LauncherError as exc:
                return self.say(f"error: {exc}")
            self.say("exporting and scoring…" if action == "score" else "reading the scored timeline…")
            for b in self.buttons.values():
                b.setEnabled(False)

            def work():
                try:
                    if action == "panel":
                        session.commands.open_panel(session.scored_path)
                        return self.relay.done.emit((session, action, None, None))
                    if action == "score":
                        exported = session.commands.sequence_otio(description, session.exported_path)
                        session.commands.score(exported, session.scored_path)
                    cues = session.commands.cues(session.scored_path, session.rate())
                    self.relay.done.emit((session, action, cues, None))
                except LauncherError as exc:
                    self.relay.done.emit((session, action, None, exc))

            self.thread = threading.Thread(target=work, daemon=True)
            self.thread.start()

        def finish(self, result) -> None:
            session, action, cues, error = result
            for b in self.buttons.values():
                b.setEnabled(True)
            if error is not None:
                return self.say(f"error: {error}")
            if action == "panel":
                return self.say(f"opened the VidMusician panel on {session.scored_path.name}")
            summary = session.place(cues)
            self.say(
                f"'{SCORE_TRACK_NAME}': {summary['placed']} cue(s) placed, {summary['removed']} replaced, "
                f"{summary['kept']} unchanged ({session.scored_path})"
            )

    return Panel()


def register(python: str, *, hiero_ui=None, core=None):
    """Add the dock to the host's Window menu (called by the installed StartupUI launcher)."""
    if hiero_ui is None:
        import hiero.ui as hiero_ui
    if not python or not os.path.isfile(python):
        raise LauncherError(
            f"this install's Python {python!r} is missing; run `vm-editor install-host hiero` again"
        )
    panel = build_panel(python, hiero_ui=hiero_ui, core=core)
    hiero_ui.windowManager().addWindow(panel)
    return panel
