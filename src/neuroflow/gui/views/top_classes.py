"""The model's five most probable classes as lying bars, the winner on top and highlighted."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from ..chart_style import TICK_POINT_SIZE, style_axes
from .palette import BAR_COLOR, CHART_BACKGROUND, CHART_FOREGROUND, CORRECT_COLOR, TEXT_COLOR

TOP = 5


def top_classes(probabilities: np.ndarray, count: int = TOP) -> np.ndarray:
    """Indices of the ``count`` most probable classes, most probable first."""
    values = np.asarray(probabilities, np.float64)
    return np.argsort(-values, kind="stable")[: min(count, values.size)]


class TopClassesChart(pg.PlotWidget):
    """``show(probabilities, class_names)`` redraws the bars; ``bar_values()`` reads them back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        item = self.getPlotItem()
        item.setTitle("Top 5 classes", color=TEXT_COLOR, size="11pt", bold=True)
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(x=True, y=False, alpha=0.18)
        style_axes(item)
        item.getAxis("bottom").setTicks([[(v, f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]])
        item.setXRange(0, 1.18, padding=0)
        item.setYRange(-0.6, TOP - 0.4, padding=0)
        self._font = QFont()
        self._font.setPointSize(TICK_POINT_SIZE)
        self._items: list[pg.GraphicsObject] = []
        self._values = np.zeros(0)
        self._names: list[str] = []
        self.setMinimumSize(260, 200)

    def show_probabilities(self, probabilities: np.ndarray, class_names: list[str]) -> None:
        item = self.getPlotItem()
        for old in self._items:
            item.removeItem(old)
        self._items = []
        order = top_classes(probabilities)
        values = np.asarray(probabilities, np.float64)[order]
        names = [class_names[i] if i < len(class_names) else str(i) for i in order]
        positions = TOP - 1 - np.arange(order.size)  # the most probable at the top
        brushes = [pg.mkBrush(CORRECT_COLOR if k == 0 else BAR_COLOR) for k in range(order.size)]
        bars = pg.BarGraphItem(x0=0, y=positions, width=values, height=0.66, brushes=brushes, pen=pg.mkPen(None))
        item.addItem(bars)
        self._items.append(bars)
        for value, y in zip(values, positions, strict=True):
            label = pg.TextItem(f"{value:.1%}", color=CHART_FOREGROUND, anchor=(-0.08, 0.5))
            label.setFont(self._font)
            label.setPos(float(value), float(y))
            item.addItem(label)
            self._items.append(label)
        item.getAxis("left").setTicks([[(int(y), name) for y, name in zip(positions, names, strict=True)]])
        self._values, self._names = values, names

    def bar_values(self) -> np.ndarray:
        """The bars' lengths, top bar first."""
        return self._values.copy()

    def bar_names(self) -> list[str]:
        return list(self._names)
