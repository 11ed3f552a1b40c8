"""A pad to draw a digit on: a black canvas, a soft white brush, like MNIST's ink."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

#: The canvas's own resolution; the widget shows it scaled to its size.
CANVAS = 280
#: Brush width on the canvas: about a pen stroke of an MNIST digit once downscaled.
BRUSH = 22


class DrawPad(QWidget):
    """Emits ``drawn`` while the user draws (every stroke segment) and after ``clear``."""

    drawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = QImage(CANVAS, CANVAS, QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self._last: QPointF | None = None
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(QSize(CANVAS, CANVAS))
        self.setToolTip("Draw a digit with the mouse: white on black, as in MNIST")

    def clear(self) -> None:
        self.canvas.fill(0)
        self.update()
        self.drawn.emit()

    def is_blank(self) -> bool:
        bits = self.canvas.constBits()
        return not any(bytes(bits))

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw a line through ``points`` (canvas coordinates, 0..280): what a mouse drag does."""
        previous = QPointF(*points[0])
        self._segment(previous, previous)
        for x, y in points[1:]:
            point = QPointF(x, y)
            self._segment(previous, point)
            previous = point
        self.drawn.emit()

    def _segment(self, start: QPointF, end: QPointF) -> None:
        painter = QPainter(self.canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(255, 255, 255), BRUSH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        painter.drawLine(start, end)
        painter.end()
        self.update()

    def _to_canvas(self, event: QMouseEvent) -> QPointF:
        pos = event.position()
        return QPointF(pos.x() * CANVAS / max(1, self.width()), pos.y() * CANVAS / max(1, self.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self._to_canvas(event)
            self._segment(self._last, self._last)
            self.drawn.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._last is not None:
            point = self._to_canvas(event)
            self._segment(self._last, point)
            self._last = point
            self.drawn.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._last = None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.rect(), self.canvas)
        painter.setPen(QPen(QColor("#475569"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if self.is_blank():
            painter.setPen(QColor("#94a3b8"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
