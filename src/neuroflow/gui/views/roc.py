"""One-vs-rest ROC curves of a Scorer's classes, with their AUCs and the macro AUC.

Each class gets a curve in its own colour and a legend entry "class (AUC 0.987)"; the chance
diagonal is dashed. Ten colours tell ten classes apart; up to :data:`MAX_STYLED` classes reuse
them dashed; with more, the :data:`HIGHLIGHTED` classes of lowest AUC (the ones worth a look)
keep colours and the rest draw as thin grey lines under one legend entry, so the chart stays
readable for a hundred classes. Clicking a legend entry hides or shows its curves.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from neuroflow.core.data import Scores

from .palette import (
    CHART_BACKGROUND,
    CHART_FOREGROUND,
    MUTED_TEXT_COLOR,
    PANEL_BORDER,
    TEXT_COLOR,
    muted_style,
)

#: Ten colours that stay apart on white (Tailwind 600/700 shades, ordered so that neighbours in
#: class order contrast).
CLASS_COLORS = (
    "#2563eb",  # blue
    "#ea580c",  # orange
    "#16a34a",  # green
    "#dc2626",  # red
    "#9333ea",  # purple
    "#0891b2",  # cyan
    "#db2777",  # pink
    "#65a30d",  # lime
    "#a16207",  # ochre
    "#475569",  # slate
)
#: Up to this many classes every curve has its own style (colour, then dashed for the second ten).
MAX_STYLED = 2 * len(CLASS_COLORS)
#: With more classes, this many of the lowest AUC keep colours; the others are grey.
HIGHLIGHTED = len(CLASS_COLORS)
OTHER_COLOR = "#cbd5e1"
DIAGONAL_COLOR = "#94a3b8"
LEGEND_NAME_CHARS = 18  # longer class names are shortened in the legend
LEGEND_OFFSET = (-8, -8)  # from the plot's bottom-right corner (px)


class LineSample(pg.ItemSample):
    """A legend entry's line, shorter than pyqtgraph's 20 x 20 sample so ten entries stay compact.
    Clicking it hides or shows the class's curve (the line fades while hidden)."""

    WIDTH, HEIGHT = 22, 12

    def __init__(self, item: pg.PlotDataItem) -> None:
        super().__init__(item)
        self.setFixedWidth(self.WIDTH)
        self.setFixedHeight(self.HEIGHT)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.WIDTH, self.HEIGHT)

    def paint(self, painter: QPainter, *args: object) -> None:
        pen = pg.mkPen(self.item.opts["pen"])
        pen.setWidthF(max(2.0, pen.widthF()))
        if not self.item.isVisible():
            color = QColor(pen.color())
            color.setAlphaF(0.25)
            pen.setColor(color)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.drawLine(1, self.HEIGHT // 2, self.WIDTH - 1, self.HEIGHT // 2)


def legend_name(name: str) -> str:
    return name if len(name) <= LEGEND_NAME_CHARS else name[: LEGEND_NAME_CHARS - 1] + "…"


class RocChart(pg.PlotWidget):
    """The curves, the dashed chance diagonal and a legend with each class's AUC.

    The legend sits in the bottom-right corner, under the diagonal where no useful curve runs;
    on every resize it takes the column count (1 to 3) that keeps it furthest below the
    diagonal, and hides when no count keeps it there (the per-class table lists the AUCs too).
    """

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        self.scores = scores
        item = self.getPlotItem()
        macro = scores.macro_auc
        self.short_title = "ROC curves" if macro is None else f"Macro AUC {macro:.3f}"
        self.full_title = "One-vs-rest ROC curves" + ("" if macro is None else f" · macro AUC {macro:.3f}")
        self._title_font = QFont()
        self._title_font.setPointSize(10)
        self._title_font.setBold(True)
        self.title = ""
        self._set_title(self.full_title)
        item.setMenuEnabled(False)
        item.layout.setContentsMargins(2, 2, 14, 2)  # room for the "1" under the right edge
        item.showGrid(x=True, y=True, alpha=0.18)
        font = QFont()
        font.setPointSize(9)
        for side, label in (("bottom", "false positive rate"), ("left", "true positive rate")):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(PANEL_BORDER))
            axis.setTextPen(pg.mkPen(CHART_FOREGROUND))
            axis.setStyle(tickFont=font)
            axis.setTicks([[(v, f"{v:g}") for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]])
            item.setLabel(side, label, color=MUTED_TEXT_COLOR)
        # Good classifiers crowd the top-left corner: the wheel zooms in (within the unit
        # square) and the "A" button goes back to the whole square.
        item.setLimits(xMin=-0.02, xMax=1.02, yMin=-0.02, yMax=1.02)
        item.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.02)

        self.diagonal = item.plot(
            [0.0, 1.0], [0.0, 1.0], pen=pg.mkPen(DIAGONAL_COLOR, width=1.2, style=Qt.PenStyle.DashLine)
        )
        self.legend = item.addLegend(
            offset=LEGEND_OFFSET, labelTextColor=TEXT_COLOR, labelTextSize="8pt", verSpacing=-8, horSpacing=10,
            sampleType=LineSample,
        )
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 225))
        self.legend.setPen(pg.mkPen(PANEL_BORDER))

        #: Class index -> its curve; classes without a ROC curve have none.
        self.curves: dict[int, pg.PlotDataItem] = {}
        #: The legend's entries in order: (sample item, label).
        self.entries: list[tuple[pg.PlotDataItem, str]] = []
        defined = [i for i, curve in enumerate(scores.roc) if curve is not None]
        auc = scores.auc
        if len(defined) > MAX_STYLED:  # colour the lowest AUCs, the classes worth a look
            highlighted = sorted(defined, key=lambda i: (auc[i] or 0.0, i))[:HIGHLIGHTED]
        else:
            highlighted = defined
        others = [i for i in defined if i not in set(highlighted)]
        for i in others:  # drawn first, under the highlighted ones, and out of the legend
            self.curves[i] = self._plot(i, pg.mkPen(OTHER_COLOR, width=1))
        self.others_sample: pg.PlotDataItem | None = None
        if others:
            lowest = min(auc[i] or 0.0 for i in others)
            self.others_sample = pg.PlotDataItem(pen=pg.mkPen(OTHER_COLOR, width=2))
            self.entries.append((self.others_sample, f"{len(others)} other classes (AUC ≥ {lowest:.3f})"))
            self.legend.sigSampleClicked.connect(
                lambda item: self._show_others(item.isVisible()) if item is self.others_sample else None
            )
        self.others = others
        for rank, i in enumerate(highlighted):
            color = CLASS_COLORS[rank % len(CLASS_COLORS)]
            style = Qt.PenStyle.SolidLine if rank < len(CLASS_COLORS) else Qt.PenStyle.DashLine
            self.curves[i] = self._plot(i, pg.mkPen(color, width=2, style=style))
            self.entries.append((self.curves[i], f"{legend_name(scores.class_names[i])} (AUC {auc[i]:.3f})"))
        #: Legend size (px) for each column count, measured once.
        self.legend_sizes: dict[int, tuple[float, float]] = {}
        for columns in range(1, min(3, len(self.entries)) + 1):
            self._fill_legend(columns)
            size = self.legend.layout.preferredSize()
            self.legend_sizes[columns] = (size.width(), size.height())
        self.legend_columns = 0
        item.getViewBox().sigResized.connect(self._fit)
        self.setMinimumSize(220, 110)  # fits the Results dock; the legend hides when small

    def _show_others(self, shown: bool) -> None:
        """Clicking the grey "other classes" legend entry hides or shows all their curves."""
        for i in self.others:
            self.curves[i].setVisible(shown)

    def _set_title(self, text: str) -> None:
        if text != self.title:
            self.title = text
            self.getPlotItem().setTitle(text, color=TEXT_COLOR, size="10pt", bold=True)

    def _plot(self, index: int, pen: object) -> pg.PlotDataItem:
        curve = self.scores.roc[index]
        assert curve is not None
        return self.getPlotItem().plot(curve.fpr, curve.tpr, pen=pen, antialias=True)

    def _fill_legend(self, columns: int) -> None:
        # Rebuilt rather than re-flowed: pyqtgraph sizes a legend from the rows as they are added.
        self.legend.clear()
        self.legend.setColumnCount(columns)
        for sample, label in self.entries:
            self.legend.addItem(sample, label)
        # pyqtgraph sums the rows' current heights, which are too tall before the first layout
        # pass: size the box from the layout's own preferred size, then anchor it again.
        size = self.legend.layout.preferredSize()
        self.legend.setGeometry(0, 0, size.width(), size.height())
        self.legend.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=LEGEND_OFFSET)
        self.legend_columns = columns

    def covered_curves(self, columns: int, width: float, height: float) -> int:
        """How many shown curves the legend of ``columns`` columns would cover in the
        bottom-right corner of a ``width`` x ``height`` (px) plot of the unit square.

        A ROC curve only rises, so it enters that corner box exactly when it is below the
        box's top edge at the box's left edge."""
        w, h = self.legend_sizes[columns]
        left = 1.0 - (w - LEGEND_OFFSET[0] + 4) / max(1.0, width)
        top = (h - LEGEND_OFFSET[1] + 4) / max(1.0, height)
        covered = 0
        for index, item in self.curves.items():
            curve = self.scores.roc[index]
            if item.isVisible() and curve is not None and np.interp(left, curve.fpr, curve.tpr) < top:
                covered += 1
        return covered

    def best_legend_columns(self, width: float, height: float) -> int:
        """The column count (1 to 3) whose legend covers the fewest curves and, among those,
        the least of the plot; 0 when the plot is too small for any legend."""
        candidates = [
            (self.covered_curves(columns, width, height), max(w / max(1.0, width), h / max(1.0, height)), columns)
            for columns, (w, h) in self.legend_sizes.items()
            if w <= 0.9 * width and h <= 0.8 * height
        ]
        return min(candidates)[2] if candidates else 0

    def _fit(self) -> None:
        """Title and legend for the current size: the long title when it fits, else the short."""
        box = self.getPlotItem().getViewBox()
        # The title is centred over the plot area (the view box), not over the axes.
        fits = QFontMetrics(self._title_font).horizontalAdvance(self.full_title) <= box.width() + 20
        self._set_title(self.full_title if fits else self.short_title)
        columns = self.best_legend_columns(box.width(), box.height())
        if columns and columns != self.legend_columns:
            self._fill_legend(columns)
        self.legend.setVisible(bool(columns))

    def legend_labels(self) -> list[str]:
        return [label.text for _, label in self.legend.items]

    def sizeHint(self) -> QSize:
        return QSize(460, 420)


class RocPanel(QWidget):
    """The ROC chart over a line saying which classes have no curve and why (or why there is no
    chart at all: Scores made without class probabilities)."""

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        self.chart: RocChart | None = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(muted_style(9))
        if scores.has_roc and scores.auc_classes:
            self.chart = RocChart(scores, self)
            layout.addWidget(self.chart, 1)
        missing = [scores.roc_note(i) for i in range(len(scores.class_names)) if scores.auc[i] is None]
        if not scores.has_roc:
            self.note.setText("No ROC curves: the Scorer was given no class probabilities.")
        elif missing:
            shown = "; ".join(missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
            text = shown[0].upper() + shown[1:] + "."
            macro = scores.macro_auc_note()
            self.note.setText(text + (f" Macro AUC: {macro}." if macro and scores.auc_classes else ""))
        self.note.setVisible(bool(self.note.text()))
        layout.addWidget(self.note, 0 if self.chart is not None else 1, Qt.AlignmentFlag.AlignTop)

    @property
    def curve_count(self) -> int:
        return 0 if self.chart is None else len(self.chart.curves)


__all__ = ["CLASS_COLORS", "RocChart", "RocPanel"]
