"""The cut view: the open timeline drawn as a timeline, not a table.

From top to bottom, time-proportional on one horizontal axis: a ruler, the shots (a still per
shot, cut lines at edit points, markers), the rhythm curve the engine reads from the pictures,
and the cues as blocks spanning their shots, with their music's waveform inside once they have
one. A playhead follows playback (`set_playhead`, the panel's player calls it); the selected
cue is highlighted. The data comes from `vm_editor.cut_strip.CutStrip` and the panel's model;
dragging a cue edge snaps to the nearest edit point and moves it through `PanelModel.move_edge`.
Actions that belong to the panel (score, play, ...) are asked for with the `requested` signal.
"""

from __future__ import annotations

import opentimelineio as otio
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from ui.tasks import run_in_background
from vm_editor.cut_strip import CutStrip
from vm_editor.errors import EditorInputError
from vm_editor.panel_model import PanelModel, timecode
from vm_editor.waveform import CueAudioError, peak_envelope

MARGIN = 10
RULER_H, GAP, PAD = 20, 4, 6
# (least, most) height of the bands that grow with the view, and their share of what is spare
BANDS = {"shots": (62, 110, 0.45), "rhythm": (30, 60, 0.2), "cues": (62, 140, 0.35)}
GRAB_PX = 6  # how close to a cue edge a press grabs it
WAVE_BINS = 1500
ZOOM_STEP, ZOOM_MAX = 1.25, 64.0

# (keys, what they do): the view's tooltip, and the panel's buttons say the same
KEYS = (
    ("Left / Right", "select the previous / next cue (Shift: extend, for Merge)"),
    ("[ / ]  or  Alt+Left / Alt+Right", "move the selected cue edge to the previous / next cut"),
    ("E", "select the other edge of the cue (start / end)"),
    ("drag a cue edge", "move it; it snaps to the nearest cut"),
    ("Space", "play / stop the selected cue"),
    ("S  or  Ctrl+Return", "score all"),
    ("R  or  Ctrl+R", "regenerate the selected cues"),
    ("M  or  Ctrl+M", "merge the selected cues (one cue: with the next)"),
    ("K  or  Ctrl+K", "split the selected cue"),
    ("Esc", "cancel scoring"),
    ("Ctrl+wheel, + / -, 0", "zoom in / out, fit the width"),
)
KEYS_HELP = "\n".join(f"{keys}: {what}" for keys, what in KEYS)

STATE_FILL = {
    "idle": "#34405a",
    "queued": "#4b4a36",
    "running": "#4b4a36",
    "done": "#3d3526",
    "failed": "#7a1f1f",
    "cancelled": "#3a3a3a",
}
WAVE = QColor("#ffb347")
RHYTHM = QColor("#6cc4ff")
SELECTED = QColor("#ffd75e")
MARKER = QColor("#7ee081")
PLAYHEAD = QColor("#ff4d4d")
TITLE = QColor("#c89bff")  # a title or generator on screen
DISSOLVE = QColor("#ffffff")
SPEED = QColor("#ffb347")


class CutView(QWidget):
    """The strip of shots and cues over record time; `requested` carries "score", "regenerate",
    "cancel", "play", "merge" or "split" for the panel to do."""

    requested = Signal(str)

    def __init__(self, model: PanelModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.strip = CutStrip(model)
        self.zoom = 1.0  # 1: the whole program fits the width
        self.scroll = 0.0  # pixels scrolled to the right when zoomed in
        self.playhead_s: float | None = None
        self.edge: tuple[int, str] | None = None  # the selected cue edge: (cue, "start" | "end")
        self._drag: tuple[int, str] | None = None
        self._drag_to: int | None = None  # the snapped frame the dragged edge would land on
        self._anchor: int | None = None  # where a Shift-extended selection started
        self._cursor: int | None = None  # the cue Left / Right move from (the far end when extending)
        self._waves: dict[str, list[float]] = {}
        self._stills: dict[tuple[int, int, int], QPixmap] = {}  # (generation, shot, height) -> still
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        least = RULER_H + 3 * GAP + PAD + sum(lo for lo, _, _ in BANDS.values())
        self.setMinimumHeight(least)
        self.setMaximumHeight(RULER_H + 3 * GAP + PAD + sum(hi for _, hi, _ in BANDS.values()))
        self.setToolTip(KEYS_HELP)
        model.subscribe(self._on_model)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(960, self.maximumHeight())

    # -- geometry (public: the tests measure it) -----------------------------------------------
    def band(self, name: str) -> QRectF:
        """The full-width rectangle of "ruler", "shots", "rhythm" or "cues" (taller views give
        the shots, the rhythm and the cues more room, up to a limit each)."""
        if name == "ruler":
            return QRectF(0, 0, self.width(), RULER_H)
        spare = self.height() - self.minimumHeight()
        top = RULER_H + GAP
        for band, (least, most, share) in BANDS.items():
            height = min(least + max(spare, 0) * share, most)
            if band == name:
                return QRectF(0, top, self.width(), round(height))
            top += round(height) + GAP
        raise KeyError(name)

    def px_per_frame(self) -> float:
        return max(self.width() - 2 * MARGIN, 1) * self.zoom / self.strip.total_frames

    def x_of(self, frame: float) -> float:
        return MARGIN + frame * self.px_per_frame() - self.scroll

    def frame_at(self, x: float) -> float:
        return (x - MARGIN + self.scroll) / self.px_per_frame()

    def _span_rect(self, lo: float, hi: float, band: str) -> QRectF:
        b = self.band(band)
        return QRectF(self.x_of(lo), b.top(), self.x_of(hi) - self.x_of(lo), b.height())

    def shot_rect(self, index: int) -> QRectF:
        shot = self.strip.shots()[index]
        return self._span_rect(shot.start, shot.end, "shots")

    def cue_rect(self, position: int) -> QRectF:
        lo, hi = self.strip.cue_spans()[position]
        return self._span_rect(lo, hi, "cues")

    # -- zoom and scroll -----------------------------------------------------------------------
    def set_zoom(self, zoom: float, around_x: float | None = None) -> None:
        around_x = self.width() / 2 if around_x is None else around_x
        frame = self.frame_at(around_x)
        self.zoom = min(max(zoom, 1.0), ZOOM_MAX)
        self.scroll = 0.0
        self.scroll = self._clamp_scroll(self.x_of(frame) - around_x)
        self.update()

    def _clamp_scroll(self, scroll: float) -> float:
        extra = max(self.width() - 2 * MARGIN, 1) * (self.zoom - 1)
        return min(max(scroll, 0.0), extra)

    def _show_frame(self, frame: float) -> None:
        """Scroll so that `frame` is on screen (zoomed in only)."""
        x = self.x_of(frame)
        if x < MARGIN:
            self.scroll = self._clamp_scroll(self.scroll + x - MARGIN - 40)
        elif x > self.width() - MARGIN:
            self.scroll = self._clamp_scroll(self.scroll + x - self.width() + MARGIN + 40)

    def _show_span(self, lo: float, hi: float) -> None:
        """Scroll so that frames [lo, hi) are on screen, or their start when they do not fit."""
        left, right = self.x_of(lo), self.x_of(hi)
        if left < MARGIN or right - left > self.width() - 2 * MARGIN:
            shift = left - MARGIN
        elif right > self.width() - MARGIN:
            shift = right - (self.width() - MARGIN)
        else:
            return
        self.scroll = self._clamp_scroll(self.scroll + shift)

    # -- from the model and the player ---------------------------------------------------------
    def _on_model(self, what: str) -> None:
        if what in ("scenes", "selection"):
            n = len(self.model.rows)
            selection = self.model.selection
            if self.edge is not None and (self.edge[0] >= n or self.edge[0] not in selection):
                self.edge = self._default_edge(min(selection)) if selection else None
            if self._cursor not in selection:  # chosen elsewhere (the list): start from there
                self._anchor = self._cursor = min(selection) if selection else None
            if what == "scenes" and self.model.generation != getattr(self, "_generation", None):
                self._generation = self.model.generation
                self.zoom, self.scroll, self.playhead_s, self.edge = 1.0, 0.0, None, None
                self.setFocus(Qt.FocusReason.OtherFocusReason)  # a timeline just opened: keys drive it
        self.update()

    def load_previews(self) -> None:
        """A still and the rhythm of every shot from the engine, one background call per shot."""
        for index, call in self.strip.preview_calls():

            def done(result, error, index=index):
                if error is None and self.strip.apply_preview(index, result):
                    self.update()

            run_in_background(self, call, done)

    def set_playhead(self, seconds: float | None) -> None:
        """Record time of the playhead in seconds from the first frame (None hides it)."""
        self.playhead_s = seconds
        if seconds is not None:
            self._show_frame(seconds * self.strip.rate)
        self.update()

    def waveform(self, position: int) -> list[float]:
        """Peaks of the cue's current take over its length (its handle left out); [] without music."""
        row = self.model.rows[position]
        cue = row.cue
        if cue is None:
            return []
        if cue.wav_path not in self._waves:
            try:
                peaks = peak_envelope(cue.wav_path, WAVE_BINS).tolist()
            except CueAudioError as exc:  # gone, emptied, damaged: the cue is drawn without music
                self.model.note_music_problem(position, str(exc))
                peaks = []
            whole = cue.duration_s + cue.handle_s
            keep = round(len(peaks) * cue.duration_s / whole) if whole > 0 else len(peaks)
            self._waves[cue.wav_path] = peaks[:keep]
        return self._waves[cue.wav_path]

    # -- selection and edges -------------------------------------------------------------------
    def _default_edge(self, position: int) -> tuple[int, str]:
        last = position == len(self.model.rows) - 1
        return (position, "start") if last and position > 0 else (position, "end")

    def select_cue(self, position: int, extend: bool = False) -> None:
        if not 0 <= position < len(self.model.rows):
            return
        if extend and self._anchor is not None:
            lo, hi = sorted((self._anchor, position))
            chosen = set(range(lo, hi + 1))
        else:
            self._anchor, chosen = position, {position}
        self._cursor = position
        self.edge = self._default_edge(position)
        self.model.select(chosen)
        self._show_span(*self.strip.cue_spans()[position])
        self.update()

    def _step_selection(self, step: int, extend: bool) -> None:
        n = len(self.model.rows)
        if not n:
            return
        if self._cursor is None:
            self.select_cue(0 if step > 0 else n - 1)
            return
        self.select_cue(min(max(self._cursor + step, 0), n - 1), extend)

    def move_selected_edge(self, direction: int) -> None:
        """The selected edge to the previous (-1) or next (+1) cut it may reach."""
        if self.edge is None:
            return
        position, edge = self.edge
        to = self.strip.neighbour_cut(position, edge, direction)
        if to is not None:
            self._move_edge(position, edge, to)

    def _move_edge(self, position: int, edge: str, to: int) -> None:
        try:
            self.model.move_edge(position, edge, to)
            self.model.set_error(None)
        except EditorInputError as exc:
            self.model.set_error(str(exc))
            return
        self.edge = (position, edge)
        self.model.select({position})
        self._show_frame(to)

    def _edge_near(self, x: float) -> tuple[int, str] | None:
        best = None
        for position, (lo, hi) in enumerate(self.strip.cue_spans()):
            for edge, frame in (("start", lo), ("end", hi)):
                d = abs(self.x_of(frame) - x)
                preferred = position in self.model.selection
                if d <= GRAB_PX and (best is None or (d, not preferred) < best[0]):
                    best = ((d, not preferred), (position, edge))
        return best[1] if best else None

    # -- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton or not self.model.rows:
            return
        x = event.position().x()
        grabbed = self._edge_near(x) if event.position().y() >= self.band("shots").top() else None
        if grabbed is not None:
            self._drag, self._drag_to = grabbed, None
            self.edge = grabbed
            if grabbed[0] not in self.model.selection:
                self.model.select({grabbed[0]})
            self.update()
            return
        position = self.strip.cue_at(self.frame_at(x))
        if position is None:
            return
        modifiers = event.modifiers()
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            chosen = set(self.model.selection) ^ {position}
            self.model.select(chosen)
            self.edge = self._default_edge(position) if position in chosen else self.edge
            self.update()
        else:
            self.select_cue(position, extend=bool(modifiers & Qt.KeyboardModifier.ShiftModifier))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        x = event.position().x()
        if self._drag is not None:
            self._drag_to = self.strip.snap(*self._drag, self.frame_at(x))
            self.update()
            return
        near = self._edge_near(x) is not None and event.position().y() >= self.band("shots").top()
        self.setCursor(Qt.CursorShape.SizeHorCursor if near else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._drag is None:
            return
        (position, edge), to = self._drag, self.strip.snap(*self._drag, self.frame_at(event.position().x()))
        self._drag, self._drag_to = None, None
        if to is not None and to != self.strip.edge_frame(position, edge):
            self._move_edge(position, edge, to)
        self.update()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt naming
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom * (ZOOM_STEP if delta > 0 else 1 / ZOOM_STEP), event.position().x())
        elif self.zoom > 1.0:
            self.scroll = self._clamp_scroll(self.scroll - delta)
            self.update()
        event.accept()

    # -- keys ----------------------------------------------------------------------------------
    def event(self, event) -> bool:
        """Esc during a drag drops the drag here, before the panel's Esc (cancel scoring) sees it."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self._drag is not None
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        key, mods = event.key(), event.modifiers()
        if key == Qt.Key.Key_Escape and self._drag is not None:
            self._drag, self._drag_to = None, None
            self.update()
            event.accept()
            return
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        plain = not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        actions = {
            Qt.Key.Key_Space: "play",
            Qt.Key.Key_S: "score",
            Qt.Key.Key_R: "regenerate",
            Qt.Key.Key_Escape: "cancel",
            Qt.Key.Key_K: "split",
        }
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            if alt:
                self.move_selected_edge(step)
            else:
                self._step_selection(step, shift)
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            self.move_selected_edge(-1 if key == Qt.Key.Key_BracketLeft else 1)
        elif key == Qt.Key.Key_Home and self.model.rows:
            self.select_cue(0, shift)
        elif key == Qt.Key.Key_End and self.model.rows:
            self.select_cue(len(self.model.rows) - 1, shift)
        elif key == Qt.Key.Key_E and plain and self.edge is not None:
            position, edge = self.edge
            self.edge = (position, "start" if edge == "end" else "end")
            self.update()
        elif key == Qt.Key.Key_M and plain:
            sel = sorted(self.model.selection)
            if len(sel) == 1 and sel[0] + 1 < len(self.model.rows):
                self.model.select({sel[0], sel[0] + 1})
            self.requested.emit("merge")
        elif key in actions and plain:
            self.requested.emit(actions[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.zoom * ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self.zoom / ZOOM_STEP)
        elif key == Qt.Key.Key_0 and plain:
            self.set_zoom(1.0)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- painting ------------------------------------------------------------------------------
    def _still(self, index: int, png: bytes, height: int) -> QPixmap | None:
        key = (self.model.generation, index, height)
        if key not in self._stills and png:
            if len(self._stills) > 2000:  # resized often: keep the cache small
                self._stills.clear()
            pixmap = QPixmap()
            if pixmap.loadFromData(png, "PNG"):
                self._stills[key] = pixmap.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
        return self._stills.get(key)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt naming
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(self.rect(), QColor("#1b1c21"))
        if self.model.program is None:
            p.setPen(QColor("#8a8d96"))
            p.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Open a timeline (Ctrl+O) to see its cut here."
            )
            return
        small = QFont(self.font())
        small.setPointSizeF(max(self.font().pointSizeF() - 1.5, 6.5))
        p.setFont(small)
        self._paint_ruler(p)
        self._paint_shots(p)
        self._paint_marks(p)
        self._paint_rhythm(p)
        self._paint_cues(p)
        self._paint_overlays(p)
        if self.zoom > 1.0:  # where the view is in the whole cut
            track = QRectF(MARGIN, self.height() - PAD + 1, self.width() - 2 * MARGIN, PAD - 2)
            p.fillRect(track, QColor("#2b2d35"))
            whole = track.width() * self.zoom
            thumb = QRectF(
                track.left() + track.width() * self.scroll / whole,
                track.top(),
                track.width() / self.zoom,
                track.height(),
            )
            p.fillRect(thumb, QColor("#8a90a0"))
        if self.hasFocus():
            p.setPen(QPen(QColor("#4a6fa5"), 1))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))

    def _paint_ruler(self, p: QPainter) -> None:
        rate, band = self.strip.rate, self.band("ruler")
        p.fillRect(band, QColor("#24262d"))
        seconds_per_px = 1 / (self.px_per_frame() * rate)
        step = next(
            (
                s
                for s in (0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
                if s / seconds_per_px >= 90
            ),
            1200,
        )
        total_s = self.strip.total_frames / rate
        p.setPen(QColor("#9aa0ab"))
        k = int(max(self.frame_at(0) / rate, 0) // step)
        while k * step <= total_s:
            x = self.x_of(k * step * rate)
            if x > self.width():
                break
            p.drawLine(QPointF(x, band.bottom() - 6), QPointF(x, band.bottom()))
            label = timecode(otio.opentime.RationalTime(round(k * step * rate), rate), rate)
            p.drawText(QPointF(x + 3, band.bottom() - 6), label)
            k += 1

    def _paint_shots(self, p: QPainter) -> None:
        band = self.band("shots")
        p.fillRect(band, QColor("#111216"))
        for index, shot in enumerate(self.strip.shots()):
            rect = self.shot_rect(index)
            if rect.right() < 0 or rect.left() > self.width():
                continue
            p.save()
            p.setClipRect(rect)
            if shot.kind == "black":
                p.fillRect(rect, QColor("#050505"))
            else:
                p.fillRect(rect, QColor("#2b2d35"))
                still = self._still(index, shot.thumbnail, int(rect.height()))
                if still is not None:
                    x = rect.left()
                    while x < rect.right():
                        p.drawPixmap(QPointF(x, rect.top()), still)
                        x += still.width() + 1
                if shot.offline or shot.kind == "missing":
                    p.fillRect(rect, QColor(160, 30, 30, 120))
            name = "offline: " + shot.name if shot.offline else shot.name
            if rect.width() > 36:
                text_rect = QRectF(rect.left() + 3, rect.bottom() - 15, rect.width() - 6, 14)
                p.fillRect(
                    QRectF(
                        text_rect.left() - 2,
                        text_rect.top(),
                        min(p.fontMetrics().horizontalAdvance(name) + 4, text_rect.width() + 4),
                        14,
                    ),
                    QColor(0, 0, 0, 150),
                )
                p.setPen(QColor("#e6e6e6") if shot.kind != "black" else QColor("#777"))
                p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
            p.restore()

    def mark_rect(self, kind: str, index: int) -> QRectF:
        """Where a title ("titles"), dissolve ("dissolves") or speed change ("speed_changes") is
        drawn: titles along the top of the shots, speed badges along their foot, dissolves across."""
        mark = getattr(self.strip, kind)()[index]
        rect = self._span_rect(mark.start, mark.end, "shots")
        if kind == "titles":
            return QRectF(rect.left(), rect.top(), rect.width(), 15)
        if kind == "speed_changes":
            return QRectF(rect.left(), rect.bottom() - 32, rect.width(), 15)
        return rect

    def _paint_marks(self, p: QPainter) -> None:
        """Titles, dissolves and speed changes over the shots, as an editor's timeline shows them."""
        p.save()
        p.setClipRect(self.band("shots"))
        for index in range(len(self.strip.dissolves())):
            rect = self.mark_rect("dissolves", index)
            p.fillRect(rect, QColor(255, 255, 255, 40))
            p.setPen(QPen(DISSOLVE, 1))
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.drawLine(rect.topLeft(), rect.bottomRight())
            p.drawLine(rect.bottomLeft(), rect.topRight())
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for kind, colour, prefix in (("titles", TITLE, "T "), ("speed_changes", SPEED, "")):
            for index, mark in enumerate(getattr(self.strip, kind)()):
                rect = self.mark_rect(kind, index)
                p.fillRect(rect, colour)
                if rect.width() > 14:
                    p.setPen(QColor("#111216"))
                    p.drawText(
                        rect.adjusted(3, 0, -2, 0),
                        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                        prefix + mark.label,
                    )
        p.restore()

    def _paint_rhythm(self, p: QPainter) -> None:
        band = self.band("rhythm")
        p.fillRect(band, QColor("#15161a"))
        shots = self.strip.shots()
        top = max((max(s.rhythm) for s in shots if s.rhythm), default=0.0) or 1.0
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for shot in shots:
            if not shot.rhythm:
                continue
            n = len(shot.rhythm)
            x0, x1 = self.x_of(shot.start), self.x_of(shot.end)
            points = [QPointF(x0, band.bottom())]
            points += [
                QPointF(
                    x0 + (x1 - x0) * (i + 0.5) / n, band.bottom() - (band.height() - 4) * min(v / top, 1.0)
                )
                for i, v in enumerate(shot.rhythm)
            ]
            points.append(QPointF(x1, band.bottom()))
            p.setPen(QPen(RHYTHM, 1))
            fill = QColor(RHYTHM)
            fill.setAlpha(70)
            p.setBrush(fill)
            p.drawPolygon(QPolygonF(points))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        label = QRectF(band.left() + 2, band.top() + 2, p.fontMetrics().horizontalAdvance("rhythm") + 6, 14)
        p.fillRect(label, QColor(21, 22, 26, 200))
        p.setPen(QColor("#8a90a0"))
        p.drawText(label, Qt.AlignmentFlag.AlignCenter, "rhythm")

    def _paint_cues(self, p: QPainter) -> None:
        band = self.band("cues")
        p.fillRect(band, QColor("#15161a"))
        for position, row in enumerate(self.model.rows):
            rect = self.cue_rect(position).adjusted(1, 3, -1, -3)
            if rect.right() < 0 or rect.left() > self.width():
                continue
            selected = position in self.model.selection
            fill = QColor(STATE_FILL.get(row.state, "#34405a"))
            if selected:
                fill = fill.lighter(135)
            p.fillRect(rect, fill)
            if row.state == "running" and row.progress > 0:
                done = QRectF(rect.left(), rect.bottom() - 4, rect.width() * row.progress, 4)
                p.fillRect(done, SELECTED)
            peaks = self.waveform(position)
            if peaks:
                wave = rect.adjusted(0, 16, 0, -2)
                mid, half = wave.center().y(), wave.height() / 2
                p.setPen(QPen(WAVE, 1))
                n, left, width = len(peaks), int(wave.left()), max(int(wave.width()), 1)
                for dx in range(width):
                    v = peaks[min(n - 1, dx * n // width)]
                    p.drawLine(QPointF(left + dx, mid - v * half), QPointF(left + dx, mid + v * half))
            p.setPen(QPen(SELECTED if selected else QColor("#6b7388"), 2 if selected else 1))
            p.drawRect(rect)
            label = f"{row.scene.index}  {row.scene.name}"
            state = f"{row.progress:.0%}" if row.state == "running" else row.state
            if row.takes:
                state += f" · take {row.current_take + 1}/{len(row.takes)}"
            p.setPen(QColor("#f0f0f0"))
            text = QRectF(rect.left() + 4, rect.top() + 1, rect.width() - 8, 14)
            p.drawText(
                text,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                p.fontMetrics().elidedText(
                    f"{label} · {state}", Qt.TextElideMode.ElideRight, int(text.width())
                ),
            )
        if self.edge is not None and self.edge[0] < len(self.model.rows):
            x = self.x_of(self.strip.edge_frame(*self.edge))
            p.fillRect(QRectF(x - 2, band.top(), 4, band.height()), SELECTED)

    def _paint_overlays(self, p: QPainter) -> None:
        shots, top, bottom = self.band("shots"), self.band("shots").top(), self.band("cues").bottom()
        p.setPen(QPen(QColor(255, 255, 255, 230), 1))
        for frame in self.strip.edit_points():
            x = round(self.x_of(frame))
            p.drawLine(QPointF(x, shots.top()), QPointF(x, shots.bottom()))
        p.setPen(QPen(QColor(255, 255, 255, 60), 1, Qt.PenStyle.DotLine))
        for frame in self.strip.edit_points():
            x = round(self.x_of(frame))
            p.drawLine(QPointF(x, shots.bottom()), QPointF(x, bottom))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for frame, name in self.strip.markers():
            x = self.x_of(frame)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(MARKER)
            p.drawPolygon(QPolygonF([QPointF(x - 5, top), QPointF(x + 5, top), QPointF(x, top + 8)]))
            p.setPen(QPen(MARKER, 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, top + 8), QPointF(x, bottom))
            if name:
                label = QRectF(x + 6, top + 1, p.fontMetrics().horizontalAdvance(name) + 6, 14)
                p.fillRect(label, QColor(0, 0, 0, 160))
                p.setPen(MARKER)
                p.drawText(label, Qt.AlignmentFlag.AlignCenter, name)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self._drag is not None and self._drag_to is not None:
            x = self.x_of(self._drag_to)
            p.setPen(QPen(SELECTED, 2, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, top), QPointF(x, bottom))
        if self.playhead_s is not None:
            x = self.x_of(self.playhead_s * self.strip.rate)
            p.setPen(QPen(PLAYHEAD, 2))
            p.drawLine(QPointF(x, 0), QPointF(x, bottom))
            p.setBrush(PLAYHEAD)
            p.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 9)]))
            p.setBrush(Qt.BrushStyle.NoBrush)
