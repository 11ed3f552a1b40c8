"""One look for every pyqtgraph chart in the editor (monitor, result views, sweeps): the colours
under the names the charts use, and the axes' pens, font and numbers.

Kept apart from :mod:`.theme` so that the editor's start-up, which needs the theme, does not
import pyqtgraph: only a module that draws a chart imports this one.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

from . import theme

CHART_BACKGROUND = theme.WHITE
CHART_FOREGROUND = "#334155"  # axis text: one step darker than the theme's muted grey
CHART_GRID_ALPHA = 0.18
PANEL_BORDER = theme.BORDER_LIGHT
MUTED_TEXT_COLOR = theme.MUTED
PANEL_BACKGROUND = theme.PANEL
TEXT_COLOR = theme.TEXT
TRAIN_COLOR = theme.ACCENT  # training, per epoch
BATCH_COLOR = "#93c5fd"  # training, per batch (running epoch average): a light tint of the accent
VALIDATION_COLOR = "#ea580c"
ACCENT_COLOR = theme.ACCENT
STOP_COLOR = theme.ERROR
#: Colours of compared runs (see :meth:`TrainingMonitor.show_runs`): distinct on white and for
#: the common colour-vision deficiencies (Okabe-Ito order, the yellow left out as too pale).
RUN_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#000000", "#7f7f7f")

#: Point size of tick labels.
TICK_POINT_SIZE = 9


def style_axes(item: pg.PlotItem, sides: tuple[str, ...] = ("left", "bottom")) -> list[pg.AxisItem]:
    """Give ``item``'s axes on ``sides`` the editor's pens, tick font and plain numbers (no SI
    prefixes: "0.001", not "1 m"); returns them for what a chart adds of its own."""
    font = QFont()
    font.setPointSize(TICK_POINT_SIZE)
    for side in sides:
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(PANEL_BORDER))
        axis.setTextPen(pg.mkPen(CHART_FOREGROUND))
        axis.setStyle(tickFont=font)
        axis.enableAutoSIPrefix(False)
    return [item.getAxis(side) for side in sides]
