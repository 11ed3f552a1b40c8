"""The training monitor's charts: curve buffers, readouts, the metric chart and its panel.

Kept apart from :mod:`.monitor`, which wires them to training events: everything here draws
numbers it is given (a live run's, or recorded runs' laid over each other) and knows nothing
about where they come from. The monitor's module docstring says why redraws are kept cheap.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .chart_style import (
    BATCH_COLOR,
    CHART_BACKGROUND,
    CHART_GRID_ALPHA,
    MUTED_TEXT_COLOR,
    PANEL_BORDER,
    TEXT_COLOR,
    TRAIN_COLOR,
    VALIDATION_COLOR,
    style_axes,
)

#: Chart headers from the widest to the narrowest: (train caption, validation caption, value pt,
#: title pt, spacing px). The first that fits the panel is used.
HEADER_VARIANTS = (
    ("train", "validation", 12, 11, 14),
    ("train", "val.", 12, 11, 14),
    ("", "", 12, 11, 14),
    ("", "", 10, 11, 10),
    ("", "", 9, 10, 6),
)
LEGEND_MIN_SIZE = (420, 240)  # chart size (px) from which the in-plot legend is shown
#: The per-batch line never draws more points than this (a chart is ~300-900 px wide).
MAX_BATCH_POINTS = 600
Y_PADDING = 0.03  # share of the y range left free above and below, so end markers are not cut
#: "Round" upper limits for the loss axis, times a power of ten: the axis grows in few clean steps.
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def _font(point_size: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    font.setBold(bold)
    return font


def _text_width(text: str, point_size: int, bold: bool = False) -> int:
    return QFontMetrics(_font(point_size, bold)).horizontalAdvance(text)


def metric_text(value: float | None, is_accuracy: bool) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.2f} %" if is_accuracy else f"{value:.4f}"


def decimate(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_BATCH_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` + 1 points of a line, keeping its look.

    Each bucket of consecutive points is replaced by its lowest and highest point, in their
    order, and the newest point is always kept (the live end of the curve matches the readout).
    Bucket sizes are powers of two, so buckets stay put while the line grows and the drawn
    curve does not shimmer from one redraw to the next.
    """
    n = int(x.size)
    if n <= max_points:
        return x, y
    bucket = 1 << math.ceil(math.log2(2 * n / max_points))
    full = n // bucket
    ys = y[: full * bucket].reshape(full, bucket)
    finite = np.isfinite(ys)
    low = np.argmin(np.where(finite, ys, np.inf), axis=1)
    high = np.argmax(np.where(finite, ys, -np.inf), axis=1)
    starts = np.arange(full) * bucket
    picks = np.sort(np.stack([starts + low, starts + high], axis=1), axis=1).ravel()
    if full * bucket < n:  # the partial bucket at the end
        tail = y[full * bucket :]
        finite_tail = np.isfinite(tail)
        ends = [int(np.argmin(np.where(finite_tail, tail, np.inf))),
                int(np.argmax(np.where(finite_tail, tail, -np.inf)))]
        picks = np.concatenate([picks, full * bucket + np.sort(ends)])
    picks = np.unique(np.append(picks, n - 1))  # sorted, no repeats, newest point included
    return x[picks], y[picks]


def log_ticks(low: float, high: float) -> list[list[tuple[float, str]]]:
    """Ticks of a logarithmic axis spanning 10^low .. 10^high: 1, 2 and 5 times each power of
    ten, labelled; the grid lines between them (3, 4, 6...) unlabelled. pyqtgraph's own log
    ticks label every one of them when the axis spans less than three decades, a blur of text."""
    major: list[tuple[float, str]] = []
    minor: list[tuple[float, str]] = []
    for power in range(math.floor(low), math.ceil(high) + 1):
        for factor in range(1, 10):
            at = math.log10(factor) + power
            if low - 1e-9 <= at <= high + 1e-9:
                (major if factor in (1, 2, 5) else minor).append((at, f"{factor * 10.0 ** power:g}"))
    return [major, [(at, "") for at, _ in minor]]


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times 10^k) >= ``value`` > 0."""
    scale = 10.0 ** math.floor(math.log10(value))
    return next(step * scale for step in NICE_STEPS if step * scale >= value * (1 - 1e-9))


class Series:
    """An append-only (x, y) series in a doubling numpy buffer: O(1) appends, views for plotting.

    It also keeps its lowest and highest finite y, from which the chart sets its y range.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty((2, capacity), dtype=np.float64)
        self.size = 0
        self.low = math.inf
        self.high = -math.inf

    def append(self, x: float, y: float) -> None:
        if self.size == self._data.shape[1]:
            grown = np.empty((2, self.size * 2), dtype=np.float64)
            grown[:, : self.size] = self._data
            self._data = grown
        self._data[0, self.size] = x
        self._data[1, self.size] = y
        self.size += 1
        if math.isfinite(y):
            self.low = min(self.low, y)
            self.high = max(self.high, y)

    @property
    def x(self) -> np.ndarray:
        return self._data[0, : self.size]

    @property
    def y(self) -> np.ndarray:
        return self._data[1, : self.size]

    def clear(self) -> None:
        self.size = 0
        self.low = math.inf
        self.high = -math.inf


class Readout(QWidget):
    """A coloured mark, a small caption and a bold value, e.g. "● train 98.81 %".

    Next to a chart the marks match the curves, so the readouts double as its legend.
    """

    def __init__(
        self, caption: str, color: str = TEXT_COLOR, mark: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.mark = QLabel(mark)
        self.mark.setStyleSheet(f"color: {color}; font-size: 10pt;")
        self.mark.setVisible(bool(mark))
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.value = QLabel("—")
        self._color = color
        self._value_size = 0
        self.set_value_size(12)
        layout.addWidget(self.mark)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set(self, text: str) -> None:
        if self.value.text() != text:
            self.value.setText(text)

    def set_value_size(self, point_size: int) -> None:
        """The value's font size: smaller in narrow docks."""
        if point_size != self._value_size:
            self._value_size = point_size
            self.value.setStyleSheet(f"color: {self._color}; font-size: {point_size}pt; font-weight: 700;")


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" instead of widening a narrow dock."""

    def __init__(
        self, parent: QWidget | None = None, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft
    ) -> None:
        super().__init__(parent)
        self._align = align
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(self._align | Qt.AlignmentFlag.AlignVCenter), text)


class MetricChart(pg.PlotWidget):
    """One metric's chart: per-batch training line, per-epoch training and validation points.

    ``kind`` picks the y range policy: ``"accuracy"`` spans from the lowest value seen (rounded
    down to a tenth) up to 1; ``"loss"`` spans from 0 up to a round number above the highest.
    """

    def __init__(self, legend_corner: str, kind: str = "loss", parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        self.kind = kind
        self._y_range: tuple[float, float] | None = None
        #: Lowest and highest positive value seen, for the logarithmic axis.
        self._positive: tuple[float, float] | None = None
        self._log_range: tuple[float, float] | None = None
        self.log_y = False
        #: Curves of compared runs (see TrainingMonitor.show_runs); the live curves hide meanwhile.
        self.overlay: list[pg.PlotDataItem] = []
        item = self.getPlotItem()
        item.disableAutoRange()  # set_epoch_range and include_y set the ranges
        item.showGrid(x=True, y=True, alpha=CHART_GRID_ALPHA)
        item.setMenuEnabled(False)
        for axis in style_axes(item):
            # Tick labels (and the grid lines the axis draws) come from a cached pixmap until
            # the range changes: text is the costliest part of a repaint.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        item.setLabel("bottom", "epoch", color=MUTED_TEXT_COLOR)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        anchor = (1, 0) if legend_corner == "top" else (1, 1)
        offset = (-8, 8) if legend_corner == "top" else (-8, -30)
        self.legend = item.addLegend(
            offset=offset, labelTextColor=TEXT_COLOR, labelTextSize="8pt", verSpacing=-6
        )
        self.legend.anchor(itemPos=anchor, parentPos=anchor, offset=offset)
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.legend.setPen(pg.mkPen(PANEL_BORDER))
        self.batch = item.plot(name="train (per batch)", pen=pg.mkPen(BATCH_COLOR, width=1.2))
        self.train = item.plot(
            name="train",
            pen=pg.mkPen(TRAIN_COLOR, width=2.5),
            symbol="o",
            symbolSize=7,
            symbolBrush=TRAIN_COLOR,
            symbolPen=pg.mkPen(CHART_BACKGROUND, width=1),
        )
        self.validation = item.plot(
            name="validation",
            pen=pg.mkPen(VALIDATION_COLOR, width=2.5),
            symbol="s",
            symbolSize=7,
            symbolBrush=VALIDATION_COLOR,
            symbolPen=pg.mkPen(CHART_BACKGROUND, width=1),
        )
        self.setMinimumSize(200, 120)

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        legend = self.__dict__.get("legend")  # pyqtgraph resizes before __init__ has made it
        if legend is None:
            return
        # In a small dock the legend would hide the curves; the coloured readouts above say the same.
        legend.setVisible(self.width() >= LEGEND_MIN_SIZE[0] and self.height() >= LEGEND_MIN_SIZE[1])

    def show_batch_legend(self, shown: bool) -> None:
        """List the per-batch line in the legend only when it has points (not for loaded history)."""
        listed = any(sample.item is self.batch for sample, _ in self.legend.items)
        if shown and not listed:
            self.legend.clear()
            for curve in (self.batch, self.train, self.validation):
                self.legend.addItem(curve, curve.name())
        elif not shown and listed:
            self.legend.removeItem(self.batch)

    def set_epoch_range(self, epochs: int) -> None:
        """Show the whole planned run on the x axis so the curve grows left to right."""
        self.getPlotItem().setXRange(0, max(1, epochs), padding=0.02)

    def clear_y_range(self) -> None:
        """Forget the values seen: the empty chart spans 0 to 1 (0.01 to 1 when logarithmic)."""
        self._y_range = None
        self._positive = None
        self._log_range = None
        if self.log_y:
            self.getPlotItem().setYRange(-2.0, 0.0, padding=Y_PADDING)
        else:
            self.getPlotItem().setYRange(0.0, 1.0, padding=Y_PADDING)

    def set_log_y(self, log: bool) -> None:
        """A logarithmic y axis (decades), e.g. for a loss that falls by orders of magnitude."""
        if log == self.log_y:
            return
        self.log_y = log
        self.getPlotItem().setLogMode(x=False, y=log)
        if not log:
            self.getPlotItem().getAxis("left").setTicks(None)
        self._log_range = None
        self._apply_y_range()

    def _apply_y_range(self) -> None:
        item = self.getPlotItem()
        if self.log_y:
            if self._positive is None:
                item.setYRange(-2.0, 0.0, padding=Y_PADDING)
                return
            low, high = self._positive
            # Whole half-decades: the axis moves in few, clean steps.
            wanted = (math.floor(math.log10(low) * 2) / 2, math.ceil(math.log10(high) * 2) / 2)
            if wanted[1] <= wanted[0]:
                wanted = (wanted[0], wanted[0] + 0.5)
            if wanted != self._log_range:
                self._log_range = wanted
                item.setYRange(*wanted, padding=Y_PADDING)
                item.getAxis("left").setTicks(log_ticks(*wanted))
        elif self._y_range is None:
            item.setYRange(0.0, 1.0, padding=Y_PADDING)
        else:
            item.setYRange(*self._y_range, padding=Y_PADDING)

    def include_y(self, low: float, high: float) -> None:
        """Grow the y range, in round steps, until it shows ``low``..``high``; never shrink it.

        Called on every redraw; it touches the axes only when a value leaves the range.
        """
        if not (math.isfinite(low) and math.isfinite(high)):
            return
        if high > 0:
            positive_low = low if low > 0 else high
            seen = self._positive
            self._positive = (positive_low, high) if seen is None else (min(seen[0], positive_low), max(seen[1], high))
        if self.kind == "accuracy":  # from a tenth below the lowest value up to 1
            wanted = (math.floor(low * 10 + 1e-9) / 10, max(1.0, high))
        else:  # from 0 (or a round number below a negative loss) up to a round number
            wanted = (0.0 if low >= 0 else -nice_ceiling(-low), nice_ceiling(high) if high > 0 else 1.0)
        current = self._y_range
        if current is not None:
            wanted = (min(wanted[0], current[0]), max(wanted[1], current[1]))
        if wanted != current:
            self._y_range = wanted
            if not self.log_y:
                self.getPlotItem().setYRange(*wanted, padding=Y_PADDING)
        if self.log_y:
            self._apply_y_range()

    def y_range(self) -> tuple[float, float] | None:
        """The values the y axis was fitted to (before padding); ``None`` while empty."""
        return self._y_range


class ChartPanel(QFrame):
    """A chart under a header with its name and the current training and validation values."""

    def __init__(self, title: str, chart: MetricChart, parent: QWidget | None = None,
                 extra: QWidget | None = None) -> None:
        """``extra``: a small control shown right of the title (the loss chart's scale switch)."""
        super().__init__(parent)
        self.setObjectName("chartPanel")
        self.setStyleSheet(
            f"#chartPanel {{ background: {CHART_BACKGROUND}; border: 1px solid {PANEL_BORDER};"
            " border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 4)
        layout.setSpacing(0)
        header = self._header = QHBoxLayout()
        header.setSpacing(14)
        name = QLabel(title)
        header.addWidget(name)
        self._extra_width = 0
        if extra is not None:
            header.addWidget(extra)
            self._extra_width = extra.sizeHint().width() + 8
        header.addStretch(1)
        self.train = Readout("train", TRAIN_COLOR, "●")
        self.validation = Readout("validation", VALIDATION_COLOR, "■")
        for readout in (self.train, self.validation):
            header.addWidget(readout)
        #: While runs are compared: how to read the lines (replaces the live readouts).
        self.overlay_note = QLabel("—— validation   - - - training")
        self.overlay_note.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.overlay_note.setVisible(False)
        header.addWidget(self.overlay_note)
        self._name = name
        self._variant: tuple[str, str, int, int, int] | None = None
        layout.addLayout(header)
        self.chart = chart
        layout.addWidget(chart, 1)
        # Equal halves whatever the readouts say; narrow enough for a 550 px dock.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.setMinimumWidth(250)
        self._fit_header()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_header()

    @staticmethod
    def header_width(variant: tuple[str, str, int, int, int]) -> int:
        """Width (px) a header needs in ``variant`` (see :data:`HEADER_VARIANTS`).

        Fonts come from style sheets, which a widget applies only once polished, so this
        measures with the sizes the style sheets set: the first layout is already right.
        """
        train, validation, value_pt, title_pt, spacing = variant
        caption = QFontMetrics(_font(9))
        return (
            _text_width("Accuracy", title_pt, bold=True)  # the longer title: both panels alike
            + 2 * (_text_width("●", 10) + _text_width("100.00 %", value_pt, bold=True))
            + caption.horizontalAdvance(train)
            + caption.horizontalAdvance(validation)
            + 2 * spacing  # between title and readouts
            + 4 * (4 if train else 2)  # inside the readouts
            + 20  # panel margins and slack
        )

    def _fit_header(self) -> None:
        """The widest header that fits: words when wide, coloured marks and smaller text when narrow."""
        room = self.width() - self._extra_width
        variant = next((v for v in HEADER_VARIANTS if self.header_width(v) <= room), HEADER_VARIANTS[-1])
        if variant == self._variant:
            return
        self._variant = variant
        train, validation, value_pt, title_pt, spacing = variant
        self._name.setStyleSheet(f"color: {TEXT_COLOR}; font-size: {title_pt}pt; font-weight: 700;")
        self._header.setSpacing(spacing)
        for readout, caption in ((self.train, train), (self.validation, validation)):
            readout.caption.setText(caption)
            readout.caption.setVisible(bool(caption))
            readout.set_value_size(value_pt)

    def set_overlay(self, shown: bool) -> None:
        """Compared runs replace the live numbers with a note on how to read their lines."""
        for readout in (self.train, self.validation):
            readout.setVisible(not shown)
        self.overlay_note.setVisible(shown)

