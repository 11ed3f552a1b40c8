"""Toolbar and menu icons, drawn with QPainter so nothing is downloaded or shipped as images.

Each icon is a few strokes on a 24-unit grid in one consistent line style; execution icons carry
the colour of their meaning (green run, red cancel). Icons are rendered at several pixel sizes
so they stay sharp on a projector and on high-DPI screens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from . import theme

INK = QColor("#334155")
GREEN = QColor(theme.SUCCESS)
RED = QColor(theme.ERROR)
BLUE = QColor(theme.ACCENT)

Painter = Callable[[QPainter], None]


def _pen(color: QColor = INK, width: float = 1.8) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _page(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(6, 3)
    path.lineTo(14, 3)
    path.lineTo(19, 8)
    path.lineTo(19, 21)
    path.lineTo(6, 21)
    path.closeSubpath()
    p.setPen(_pen())
    p.setBrush(QColor(theme.WHITE))
    p.drawPath(path)
    p.drawPolyline(QPolygonF([QPointF(14, 3), QPointF(14, 8), QPointF(19, 8)]))


def _new(p: QPainter) -> None:
    _page(p)
    p.setPen(_pen(BLUE, 2.0))
    p.drawLine(QPointF(12.5, 11), QPointF(12.5, 18))
    p.drawLine(QPointF(9, 14.5), QPointF(16, 14.5))


def _open(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(3, 6)
    path.lineTo(9, 6)
    path.lineTo(11, 8)
    path.lineTo(20, 8)
    path.lineTo(20, 19)
    path.lineTo(3, 19)
    path.closeSubpath()
    p.setPen(_pen())
    p.setBrush(QColor("#fde68a"))
    p.drawPath(path)
    front = QPolygonF([QPointF(3, 19), QPointF(6, 11), QPointF(22, 11), QPointF(20, 19)])
    p.setBrush(QColor("#fcd34d"))
    p.drawPolygon(front)


def _save(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(4, 4)
    path.lineTo(17, 4)
    path.lineTo(20, 7)
    path.lineTo(20, 20)
    path.lineTo(4, 20)
    path.closeSubpath()
    p.setPen(_pen())
    p.setBrush(QColor(theme.ACCENT_SOFT))
    p.drawPath(path)
    p.setBrush(QColor(theme.WHITE))
    p.drawRect(QRectF(8, 4, 8, 5))
    p.drawRect(QRectF(7, 13, 10, 7))


def _arrow(p: QPainter, mirror: bool) -> None:
    p.save()
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    p.setPen(_pen(INK, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(6, 10)
    path.lineTo(14, 10)
    path.cubicTo(22, 10, 22, 20, 14, 20)
    path.lineTo(9, 20)
    p.drawPath(path)
    p.drawPolyline(QPolygonF([QPointF(10, 6), QPointF(6, 10), QPointF(10, 14)]))
    p.restore()


def _undo(p: QPainter) -> None:
    _arrow(p, mirror=False)


def _redo(p: QPainter) -> None:
    _arrow(p, mirror=True)


def _cut(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(4, 14, 6, 6))
    p.drawEllipse(QRectF(14, 14, 6, 6))
    p.drawLine(QPointF(9, 15), QPointF(17, 3))
    p.drawLine(QPointF(15, 15), QPointF(7, 3))


def _copy(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor(theme.WHITE))
    p.drawRoundedRect(QRectF(4, 4, 11, 13), 2, 2)
    p.drawRoundedRect(QRectF(9, 8, 11, 13), 2, 2)


def _paste(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor("#fde68a"))
    p.drawRoundedRect(QRectF(5, 5, 14, 16), 2, 2)
    p.setBrush(QColor(theme.WHITE))
    p.drawRoundedRect(QRectF(9, 3, 6, 4), 1, 1)
    p.drawRect(QRectF(9, 10, 8, 9))


def _delete(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor(theme.WHITE))
    p.drawLine(QPointF(4, 7), QPointF(20, 7))
    p.drawLine(QPointF(10, 4), QPointF(14, 4))
    path = QPainterPath()
    path.moveTo(6, 7)
    path.lineTo(7.5, 21)
    path.lineTo(16.5, 21)
    path.lineTo(18, 7)
    p.drawPath(path)
    p.drawLine(QPointF(10.5, 11), QPointF(10.5, 17))
    p.drawLine(QPointF(13.5, 11), QPointF(13.5, 17))


def _select_all(p: QPainter) -> None:
    pen = _pen(INK, 1.6)
    pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(3, 3, 18, 18))
    p.setPen(_pen())
    p.setBrush(QColor(theme.ACCENT_SOFT))
    p.drawRoundedRect(QRectF(7, 8, 10, 8), 2, 2)


def _play(p: QPainter, color: QColor, x0: float = 6) -> None:
    p.setPen(_pen(color.darker(120), 1.6))
    p.setBrush(color)
    p.drawPolygon(QPolygonF([QPointF(x0, 4), QPointF(x0 + 14, 12), QPointF(x0, 20)]))


def _execute(p: QPainter) -> None:
    _play(p, GREEN)


def _execute_selected(p: QPainter) -> None:
    pen = _pen(INK, 1.4)
    pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(2, 2, 20, 20), 3, 3)
    p.save()
    p.translate(12, 12)
    p.scale(0.7, 0.7)
    p.translate(-12, -12)
    _play(p, GREEN, 6.5)
    p.restore()


def _cancel(p: QPainter) -> None:
    p.setPen(_pen(RED.darker(120), 1.6))
    p.setBrush(RED)
    p.drawRoundedRect(QRectF(5, 5, 14, 14), 2.5, 2.5)


def _reset(p: QPainter) -> None:
    p.setPen(_pen(INK, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(5, 5, 14, 14), 100 * 16, 290 * 16)
    p.setBrush(QBrush(INK))
    p.drawPolygon(QPolygonF([QPointF(9.5, 2.5), QPointF(14.5, 5.5), QPointF(9.5, 8.5)]))


def _fit(p: QPainter) -> None:
    p.setPen(_pen(INK, 2.0))
    for x, y, dx, dy in ((4, 4, 1, 1), (20, 4, -1, 1), (4, 20, 1, -1), (20, 20, -1, -1)):
        p.drawPolyline(QPolygonF([QPointF(x, y + 5 * dy), QPointF(x, y), QPointF(x + 5 * dx, y)]))
    p.setBrush(QColor(theme.ACCENT_SOFT))
    p.setPen(_pen(BLUE, 1.6))
    p.drawRoundedRect(QRectF(8.5, 9, 7, 6), 1.5, 1.5)


def _arrange(p: QPainter) -> None:
    """Three boxes in two tidy columns, wired left to right."""
    p.setPen(_pen(INK, 1.4))
    for y in (6.5, 17.5):
        p.drawLine(QPointF(9, y), QPointF(15, 12))
    p.setPen(_pen(INK, 1.6))
    p.setBrush(QColor(theme.ACCENT_SOFT))
    for x, y in ((2.5, 3.5), (2.5, 14.5), (15, 9)):
        p.drawRoundedRect(QRectF(x, y, 6.5, 6), 1.5, 1.5)


def _app(p: QPainter) -> None:
    """Three nodes wired into one: the NeuroFlow mark."""
    p.setPen(_pen(QColor("#475569"), 1.8))
    for y in (6, 18):
        p.drawLine(QPointF(6, y), QPointF(18, 12))
    p.setPen(Qt.PenStyle.NoPen)
    for (x, y), color in (((6, 6), "#0284c7"), ((6, 18), "#d97706"), ((18, 12), "#7c3aed")):
        p.setBrush(QColor(color))
        p.drawEllipse(QPointF(x, y), 4.2, 4.2)


_PAINTERS: dict[str, Painter] = {
    "new": _new,
    "open": _open,
    "save": _save,
    "undo": _undo,
    "redo": _redo,
    "cut": _cut,
    "copy": _copy,
    "paste": _paste,
    "delete": _delete,
    "select_all": _select_all,
    "execute": _execute,
    "execute_selected": _execute_selected,
    "cancel": _cancel,
    "reset": _reset,
    "fit": _fit,
    "arrange": _arrange,
    "app": _app,
}

NAMES = tuple(_PAINTERS)


def _render(painter_func: Painter, size: int, disabled: bool) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 24.0, size / 24.0)
    if disabled:
        p.setOpacity(0.35)
    painter_func(p)
    p.end()
    return pixmap


@cache
def icon(name: str) -> QIcon:
    """The icon called ``name`` (one of :data:`NAMES`)."""
    painter_func = _PAINTERS[name]
    result = QIcon()
    for size in (16, 24, 32, 48, 64):
        result.addPixmap(_render(painter_func, size, False), QIcon.Mode.Normal)
        result.addPixmap(_render(painter_func, size, True), QIcon.Mode.Disabled)
    return result
