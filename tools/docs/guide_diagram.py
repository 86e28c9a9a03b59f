"""A round trip drawn as boxes and arrows (QPainter): editor → file → score → files → editor.

The boxes name the editor's own menu steps (from `tools.docs.guide_flows`) and the files one real run
wrote (their real names, the WAVs' real count and length); nothing of an editor's UI is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF, QTextOption

EDITOR, FILE, OURS = "#34405a", "#3d3526", "#2f4f3a"  # the cut view's idle and done cue fills
WIDTH, HEIGHT, MARGIN, GAP = 1280, 220, 10, 34
TITLE_H, CAPTION_H = 26, 30
# words stay whole; a file name longer than its box breaks where it must
WRAP = QTextOption(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
WRAP.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
NO_BREAK_HYPHEN = "\u2011"


@dataclass(frozen=True)
class Box:
    title: str
    body: str
    fill: str
    weight: float = 1.0  # its share of the width


def _arrow(painter: QPainter, x0: float, x1: float, y: float) -> None:
    painter.setPen(QPen(QColor("#ffb347"), 2.5))
    painter.drawLine(QPointF(x0, y), QPointF(x1 - 9, y))
    painter.setBrush(QColor("#ffb347"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawPolygon(QPolygonF([QPointF(x1, y), QPointF(x1 - 11, y - 6), QPointF(x1 - 11, y + 6)]))


def draw(boxes: list[Box], caption: str, path: Path) -> Path:
    """One row of boxes joined by arrows, a caption under them, saved as PNG at `path`."""
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_RGB32)
    image.fill(QColor("#1e1f22"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    title_font, body_font = QFont("DejaVu Sans", 11, QFont.Weight.Bold), QFont("DejaVu Sans", 10)
    unit = (WIDTH - 2 * MARGIN - GAP * (len(boxes) - 1)) / sum(b.weight for b in boxes)
    top, bottom = MARGIN, HEIGHT - CAPTION_H - MARGIN
    x = MARGIN - GAP
    for i, box in enumerate(boxes):
        x, width = x + GAP, unit * box.weight
        rect = QRectF(x, top, width, bottom - top)
        painter.setPen(QPen(QColor("#8a8f98"), 1))
        painter.setBrush(QColor(box.fill))
        painter.drawRoundedRect(rect, 7, 7)
        painter.setPen(QColor("#ffd75e"))
        painter.setFont(title_font)
        painter.drawText(rect.adjusted(9, 6, -9, 0), Qt.AlignmentFlag.AlignLeft, box.title)
        painter.setPen(QColor("white"))
        painter.setFont(body_font)
        body = box.body.replace("-", NO_BREAK_HYPHEN)  # never "--in-" on one line, "process" on the next
        painter.drawText(rect.adjusted(9, 6 + TITLE_H, -9, -6), body, WRAP)
        if i:
            _arrow(painter, x - GAP + 4, x - 3, (top + bottom) / 2)
        x += width
    painter.setPen(QColor("#c8ccd2"))
    painter.setFont(body_font)
    painter.drawText(
        QRectF(MARGIN, HEIGHT - CAPTION_H, WIDTH - 2 * MARGIN, CAPTION_H),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
        caption,
    )
    painter.end()
    if not image.save(str(path)):
        raise OSError(f"cannot write {path}")
    return path
