"""A wire that was just replaced, drawn for a moment where it was and faded out.

One connection per input: dropping a wire on an input that is already connected replaces the
old wire. The status bar says so, and the old wire flashes (red, dashed, fading) so the user
sees which connection went away. The flash is a plain scene item, not part of the workflow; it
removes itself when it has faded.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QVariantAnimation
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from . import theme

#: How long the replaced wire stays visible while fading (ms).
FLASH_MS = 1400


class FlashedWire(QGraphicsPathItem):
    """The replaced wire's curve; fades out and leaves the scene on its own."""

    def __init__(self, start: QPointF, end: QPointF, owner: QObject | None = None) -> None:
        """``owner`` (the scene) ends the fading when it goes, with the item: a window closed
        while a wire fades must not leave an animation painting a deleted item."""
        super().__init__(_curve(start, end))
        pen = QPen(QColor(theme.ERROR), 3.0)
        pen.setDashPattern([4.0, 3.0])
        self.setPen(pen)
        self.setZValue(-1)  # under the nodes, like the wires
        self.setAcceptedMouseButtons(self.acceptedMouseButtons().NoButton)
        self._fade = QVariantAnimation(owner)
        self._fade.setStartValue(1.0)
        self._fade.setKeyValueAt(0.5, 0.9)
        self._fade.setEndValue(0.0)
        self._fade.setDuration(FLASH_MS)
        self._fade.valueChanged.connect(lambda value: self.setOpacity(float(value)))
        self._fade.finished.connect(self._remove)

    def start(self) -> None:
        self._fade.start()

    def _remove(self) -> None:
        scene = self.scene()
        if scene is not None:
            scene.removeItem(self)


def _curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve from an output port to an input port, as the canvas draws wires."""
    path = QPainterPath(start)
    reach = max(abs(end.x() - start.x()) / 2, 40.0)
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


def flash_wire(scene: QGraphicsScene, start: QPointF, end: QPointF) -> FlashedWire:
    """Show a replaced wire from ``start`` to ``end`` (scene coordinates) and fade it out."""
    item = FlashedWire(start, end, scene)
    scene.addItem(item)
    item.start()
    return item
