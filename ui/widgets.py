"""Small painted widgets: a waveform strip and a rhythm sparkline (data in, pixels out)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget


class Strip(QWidget):
    """A horizontal strip that draws a sequence of values in [0, 1]; empty shows a hint."""

    def __init__(self, colour: str, mirrored: bool, hint: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.values: list[float] = []
        self.colour = QColor(colour)
        self.mirrored = mirrored
        self.hint = hint
        self.setMinimumHeight(28)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(160, 32)

    def set_values(self, values: Sequence[float]) -> None:
        self.values = [float(v) for v in values]
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1e1f24"))
        w, h = self.width(), self.height()
        if not self.values:
            painter.setPen(QColor("#777"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.hint)
            return
        n = len(self.values)
        painter.setPen(QPen(self.colour, 1))
        if self.mirrored:
            mid = h / 2
            for x in range(w):
                v = self.values[min(n - 1, x * n // max(w, 1))]
                painter.drawLine(QPointF(x, mid - v * mid), QPointF(x, mid + v * mid))
        else:
            top = max(self.values) or 1.0
            points = [
                QPointF(i * (w - 1) / max(n - 1, 1), h - 2 - (h - 4) * v / top)
                for i, v in enumerate(self.values)
            ]
            painter.drawPolyline(QPolygonF(points))
