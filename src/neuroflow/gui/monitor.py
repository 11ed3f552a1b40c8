"""Live training monitor: accuracy and loss curves, progress, timing and a Stop button.

The executor sends :mod:`neuroflow.core.events` from the training thread; the editor re-posts
them to the GUI thread and calls :meth:`TrainingMonitor.handle_event`. Keras can finish hundreds
of batches a second, so ``handle_event`` only appends numbers to growing numpy buffers and marks
the widget dirty; a 10 Hz timer pushes the accumulated points to the charts with one
``setData`` per changed curve. The same widget, filled with :meth:`TrainingMonitor.load_history`,
shows a finished model's curves in the Network Learner's result view.

Every repaint runs pyqtgraph's Python painters on the GUI thread, where they compete with the
training thread for the GIL: a repaint that costs 5 ms idle stalled the editor for 40 ms and
more while training. So a redraw is kept cheap: the per-batch line is decimated to at most
:data:`MAX_BATCH_POINTS` points (its min/max envelope kept); the charts never auto-range (the x
axis spans the planned epochs, the y axis only grows, in round steps, when a value falls
outside it), so one redraw is one paint; and the axes repaint from cached pixmaps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.events import (
    BatchEnded,
    EpochEnded,
    NodeState,
    NodeStateChanged,
    RunFinished,
    TrainingEnded,
    TrainingStarted,
)

from . import theme
from .chart_style import (  # noqa: F401 - also the names the result views import from here
    CHART_BACKGROUND,
    CHART_FOREGROUND,
    CHART_GRID_ALPHA,
    MUTED_TEXT_COLOR,
    PANEL_BORDER,
    style_axes,
)

# -- palette: the editor theme's colours under the names the charts use -------------------------
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
REDRAW_INTERVAL_MS = 100  # ~10 Hz: fast enough to feel live, cheap at any batch rate
#: The per-batch line never draws more points than this (a chart is ~300-900 px wide).
MAX_BATCH_POINTS = 600
Y_PADDING = 0.03  # share of the y range left free above and below, so end markers are not cut
#: "Round" upper limits for the loss axis, times a power of ten: the axis grows in few clean steps.
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)

#: Keras names an accuracy metric differently depending on how it was compiled.
ACCURACY_KEYS = (
    "accuracy",
    "acc",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "binary_accuracy",
)


def accuracy_key(metrics: Mapping[str, Any], prefix: str = "") -> str | None:
    """The accuracy metric's key in ``metrics`` (with ``prefix``, e.g. ``"val_"``), if any."""
    for name in ACCURACY_KEYS:
        if prefix + name in metrics:
            return prefix + name
    for key in metrics:  # e.g. "top_k_categorical_accuracy"
        rest = key[len(prefix) :] if key.startswith(prefix) else None
        if rest is not None and not rest.startswith("val_") and rest.endswith("accuracy"):
            return key
    return None


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``: compact, unambiguous clock time."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _font(point_size: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    font.setBold(bold)
    return font


def _text_width(text: str, point_size: int, bold: bool = False) -> int:
    return QFontMetrics(_font(point_size, bold)).horizontalAdvance(text)


def _metric_text(value: float | None, is_accuracy: bool) -> str:
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


class _Series:
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


class _Readout(QWidget):
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


class _MetricChart(pg.PlotWidget):
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


class _ChartPanel(QFrame):
    """A chart under a header with its name and the current training and validation values."""

    def __init__(self, title: str, chart: _MetricChart, parent: QWidget | None = None,
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
        self.train = _Readout("train", TRAIN_COLOR, "●")
        self.validation = _Readout("validation", VALIDATION_COLOR, "■")
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


class TrainingMonitor(QWidget):
    """Live curves and progress of one training run; see the module docstring for the design."""

    stop_requested = Signal()

    _started_at: float | None
    _first_batch_at: float | None
    _last_batch_at: float | None
    _validation_seconds: list[float]
    _validates: bool | None
    _elapsed_fixed: float | None
    _current: dict[str, float | None]
    _rate: float | None

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        describe_node: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._describe_node = describe_node or (lambda node_id: f"node {node_id}")
        self._batch_series = {"accuracy": _Series(), "loss": _Series()}
        self._epoch_series = {name: _Series(64) for name in ("accuracy", "loss", "val_accuracy", "val_loss")}
        self._history: dict[str, list[float]] = {}
        #: Points each curve last drew, by curve name: unchanged curves are not sent again.
        self._drawn: dict[str, int] = {
            name: 0 for key in ("accuracy", "loss") for name in (key, "val_" + key, "batch_" + key)
        }
        self._dirty = False
        self._training = False
        self._node_id: str | None = None
        self._overlay_status = ""
        self._live_controls = True
        self._reset_counters()
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self.reset()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setObjectName("trainingMonitor")
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 6, 8, 8)
        root.setSpacing(8)

        header = QHBoxLayout()
        self.status_label = ElidedLabel()
        self.status_label.setStyleSheet(f"color: {TEXT_COLOR}; font-size: 11pt; font-weight: 600;")
        header.addWidget(self.status_label, 1)
        self.stop_button = QPushButton("Stop training")
        self.stop_button.setToolTip("End training after the current batch and keep the model trained so far")
        self.stop_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.setStyleSheet(
            f"QPushButton {{ background: {STOP_COLOR}; color: white; font-weight: 600;"
            " border: none; border-radius: 5px; padding: 5px 14px; }"
            "QPushButton:hover { background: #b91c1c; }"
            f"QPushButton:disabled {{ background: {PANEL_BORDER}; color: {MUTED_TEXT_COLOR}; }}"
        )
        self.stop_button.clicked.connect(self._on_stop_clicked)
        #: While runs are compared: their colours, and the way back to the live charts.
        self.runs_key = QLabel()
        self.runs_key.setTextFormat(Qt.TextFormat.RichText)
        self.runs_key.setVisible(False)
        self.live_button = QPushButton("Back to training")
        self.live_button.setToolTip("Show the current or last training again instead of the compared runs")
        self.live_button.setVisible(False)
        self.live_button.clicked.connect(self.clear_runs)
        header.addWidget(self.runs_key)
        header.addWidget(self.live_button)
        header.addWidget(self.stop_button)
        root.addLayout(header)

        self.progress_panel = QWidget()
        progress = QHBoxLayout(self.progress_panel)
        progress.setContentsMargins(0, 0, 0, 0)
        progress.setSpacing(10)
        self.epoch_progress = self._progress_bar()
        self.batch_progress = self._progress_bar()
        self.elapsed = _Readout("elapsed")
        self.remaining = _Readout("left")
        # Shown only when the learner's schedule changes the rate (it then logs "learning_rate").
        self.rate = _Readout("learning rate")
        self.rate.setToolTip("The learning rate of the last finished epoch, set by the learner's schedule")
        self.rate.setVisible(False)
        for widget, stretch in (
            (self.epoch_progress, 1),
            (self.batch_progress, 1),
            (self.rate, 0),
            (self.elapsed, 0),
            (self.remaining, 0),
        ):
            progress.addWidget(widget, stretch)
        root.addWidget(self.progress_panel)

        self.accuracy_chart = _MetricChart(legend_corner="bottom", kind="accuracy")
        self.loss_chart = _MetricChart(legend_corner="top", kind="loss")
        self.log_scale = QCheckBox("log")
        self.log_scale.setToolTip("Logarithmic loss axis: shows how a small loss keeps falling")
        self.log_scale.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.log_scale.toggled.connect(self.set_loss_log_scale)
        self.accuracy_panel = _ChartPanel("Accuracy", self.accuracy_chart)
        self.loss_panel = _ChartPanel("Loss", self.loss_chart, extra=self.log_scale)
        #: Every number shown, by name: accuracy, loss, val_accuracy, val_loss, elapsed, remaining,
        #: learning_rate.
        self.readouts: dict[str, _Readout] = {
            "accuracy": self.accuracy_panel.train,
            "val_accuracy": self.accuracy_panel.validation,
            "loss": self.loss_panel.train,
            "val_loss": self.loss_panel.validation,
            "elapsed": self.elapsed,
            "remaining": self.remaining,
            "learning_rate": self.rate,
        }
        charts = QHBoxLayout()
        charts.setSpacing(8)
        charts.addWidget(self.accuracy_panel, 1)
        charts.addWidget(self.loss_panel, 1)
        root.addLayout(charts, 1)
        self.setStyleSheet(f"#trainingMonitor {{ background: {PANEL_BACKGROUND}; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

    @staticmethod
    def _progress_bar() -> QProgressBar:
        bar = QProgressBar()
        bar.setTextVisible(True)
        bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bar.setFixedHeight(22)
        bar.setStyleSheet(
            f"QProgressBar {{ background: {CHART_BACKGROUND}; border: 1px solid {PANEL_BORDER};"
            f" border-radius: 5px; color: {TEXT_COLOR}; font-weight: 600; }}"
            f"QProgressBar::chunk {{ background: {BATCH_COLOR}; border-radius: 4px; }}"
        )
        return bar

    # -- public API -----------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self._training

    @property
    def node_id(self) -> str | None:
        """The learner node whose training is shown, once one has started."""
        return self._node_id

    def reset(self) -> None:
        """Forget every curve, number and status: the empty monitor before a run."""
        self._remove_overlay()
        self._timer.stop()
        self._training = False
        self._node_id = None
        self._where = ""  # the devices and precision of the run, kept in the final status
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stop training")
        self._history = {}
        for series in (*self._batch_series.values(), *self._epoch_series.values()):
            series.clear()
        self._reset_counters()
        for chart in (self.accuracy_chart, self.loss_chart):
            for curve in (chart.batch, chart.train, chart.validation):
                curve.setData([], [])
            chart.set_epoch_range(1)
            chart.clear_y_range()
        self._drawn = dict.fromkeys(self._drawn, 0)
        self._status = "Waiting for a Network Learner to start training"
        self._dirty = True
        self.flush()

    def set_live_controls_visible(self, visible: bool) -> None:
        """Hide the Stop button, progress bars and time left where the monitor shows a finished run."""
        self._live_controls = visible
        self.stop_button.setVisible(visible)
        self.progress_panel.setVisible(visible and not self.showing_runs)

    def set_status_visible(self, visible: bool) -> None:
        """Hide the status line when a host view shows its own summary."""
        self.status_label.setVisible(visible)

    def handle_event(self, event: object) -> None:
        """Take one executor event (on the GUI thread); unrelated events are ignored."""
        handler = self._HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def flush(self) -> None:
        """Push accumulated points and numbers to the screen (the 10 Hz timer calls this)."""
        if self._training:
            self._update_times()
        if not self._dirty:
            return
        self._dirty = False
        for key, chart in (("accuracy", self.accuracy_chart), ("loss", self.loss_chart)):
            batch = self._batch_series[key]
            train, val = self._epoch_series[key], self._epoch_series["val_" + key]
            shown = (batch, train, val)
            if not chart.overlay:  # compared runs own the axes meanwhile
                chart.include_y(min(s.low for s in shown), max(s.high for s in shown))
            if self._drawn["batch_" + key] != batch.size:  # only changed curves: setData repaints
                self._drawn["batch_" + key] = batch.size
                chart.batch.setData(*decimate(batch.x, batch.y), connect="finite")
                chart.show_batch_legend(batch.size > 0)
            for name, series, curve in ((key, train, chart.train), ("val_" + key, val, chart.validation)):
                if self._drawn[name] != series.size:
                    self._drawn[name] = series.size
                    curve.setData(series.x, series.y)
        self._update_progress()
        self._update_readouts()
        self.status_label.setText(self._overlay_status or self._status)
        if not self._training:
            self._update_times()

    # -- compared runs --------------------------------------------------------------------------
    @property
    def showing_runs(self) -> bool:
        """Whether recorded runs are shown instead of the live training."""
        return bool(self.loss_chart.overlay or self.accuracy_chart.overlay)

    def show_runs(self, runs: Sequence[tuple[str, Mapping[str, Sequence[tuple[int, float]]]]]) -> list[str]:
        """Draw recorded runs' per-epoch curves, each in its own colour, in place of the live view.

        ``runs`` is ``[(name, curves)]`` with ``curves`` as :meth:`RunStore.get_run` gives them
        (metric -> [(epoch, value)]). Each chart gets, per run, the validation curve (solid, in
        the legend under the run's name) and the training curve (dashed). A training that goes
        on meanwhile keeps being recorded and comes back with :meth:`clear_runs` ("Back to
        training"); a new training clears the comparison itself. Returns the colour of each run.
        """
        self._remove_overlay()
        if not runs:
            self.clear_runs()
            return []
        colors = [RUN_COLORS[i % len(RUN_COLORS)] for i in range(len(runs))]
        epochs = 1
        for chart, key in ((self.accuracy_chart, "accuracy"), (self.loss_chart, "loss")):
            for curve in (chart.batch, chart.train, chart.validation):
                curve.setVisible(False)
            chart.legend.clear()
            chart.clear_y_range()
            low, high = math.inf, -math.inf
            for (name, curves), color in zip(runs, colors, strict=True):
                plotted = self._plotted_keys(curves)
                for target, dashed in (("val_" + key, False), (key, True)):
                    source = plotted.get(target)
                    points = [(e, v) for e, v in curves.get(source, ()) if math.isfinite(v)] if source else []
                    if not points:
                        continue
                    x = np.array([e for e, _ in points], dtype=np.float64)
                    y = np.array([v for _, v in points], dtype=np.float64)
                    pen = pg.mkPen(color, width=1.5 if dashed else 2.5,
                                   style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
                    item = chart.getPlotItem().plot(
                        x, y, pen=pen, symbol=None if dashed else "o", symbolSize=5,
                        symbolBrush=color, symbolPen=pg.mkPen(CHART_BACKGROUND, width=1))
                    item.run_name = name  # type: ignore[attr-defined]
                    item.metric = target  # type: ignore[attr-defined]
                    chart.overlay.append(item)
                    if not dashed or plotted.get("val_" + key) is None:
                        chart.legend.addItem(item, name)
                    low, high = min(low, float(y.min())), max(high, float(y.max()))
                    epochs = max(epochs, int(x.max()))
            chart.include_y(low, high)
        for chart in (self.accuracy_chart, self.loss_chart):
            chart.set_epoch_range(epochs)
        for panel in (self.accuracy_panel, self.loss_panel):
            panel.set_overlay(True)
        self.runs_key.setText("  ".join(
            f'<span style="color:{color}; font-weight:700;">●</span> {_escape(name)}'
            for (name, _), color in zip(runs, colors, strict=True)))
        self.runs_key.setVisible(True)
        self.live_button.setVisible(True)
        self.progress_panel.setVisible(False)
        count = len(runs)
        self._overlay_status = f"Comparing {count} runs" if count > 1 else f"Run {runs[0][0]}"
        self.stop_button.setVisible(self._training and self._live_controls)
        self._dirty = True
        self.flush()
        return colors

    def clear_runs(self) -> None:
        """Back to the live (or last) training after :meth:`show_runs`."""
        was = self.showing_runs or bool(self._overlay_status)
        self._remove_overlay()
        if not was:
            return
        for chart, key in ((self.accuracy_chart, "accuracy"), (self.loss_chart, "loss")):
            chart.clear_y_range()
            chart.set_epoch_range(max(1, self._epochs))
            shown = (self._batch_series[key], self._epoch_series[key], self._epoch_series["val_" + key])
            chart.include_y(min(s.low for s in shown), max(s.high for s in shown))
        self._dirty = True
        self.flush()

    def _remove_overlay(self) -> None:
        """Take compared runs off the charts and show the live curves and controls again."""
        for chart, key in ((self.accuracy_chart, "accuracy"), (self.loss_chart, "loss")):
            if not chart.overlay:
                continue
            for item in chart.overlay:
                chart.getPlotItem().removeItem(item)
            chart.overlay.clear()
            chart.legend.clear()
            for curve in (chart.train, chart.validation):
                curve.setVisible(True)
                chart.legend.addItem(curve, curve.name())
            chart.batch.setVisible(True)
            chart.show_batch_legend(self._batch_series[key].size > 0)
        for panel in (self.accuracy_panel, self.loss_panel):
            panel.set_overlay(False)
        self.runs_key.setVisible(False)
        self.live_button.setVisible(False)
        self.progress_panel.setVisible(self._live_controls)
        self.stop_button.setVisible(self._live_controls)
        self._overlay_status = ""

    def overlay_curves(self) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """What the charts draw for compared runs: (run name, metric) -> (epochs, values)."""
        found: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for chart in (self.accuracy_chart, self.loss_chart):
            for item in chart.overlay:
                x, y = item.getOriginalDataset()
                found[(item.run_name, item.metric)] = (np.asarray(x), np.asarray(y))
        return found

    def set_loss_log_scale(self, log: bool) -> None:
        """Logarithmic (True) or linear loss axis, for the live view and compared runs alike."""
        if self.log_scale.isChecked() != log:
            self.log_scale.setChecked(log)  # comes back here through toggled
            return
        self.loss_chart.set_log_y(log)

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What the charts currently draw, by curve name (e.g. ``"val_loss"``, ``"batch_accuracy"``)."""
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, chart in (("accuracy", self.accuracy_chart), ("loss", self.loss_chart)):
            for name, curve in (
                ("batch_" + key, chart.batch),
                (key, chart.train),
                ("val_" + key, chart.validation),
            ):
                x, y = curve.getOriginalDataset()
                empty = np.empty(0)
                found[name] = (
                    np.asarray(x if x is not None else empty),
                    np.asarray(y if y is not None else empty),
                )
        return found

    def history_snapshot(self) -> dict[str, list[float]]:
        """Per-epoch metrics seen so far, in the format of Keras's ``History.history``.

        ``TrainingMonitor.from_history(monitor.history_snapshot())`` redraws the epoch curves, so
        the result view can show the monitor "kept" after the run.
        """
        return {key: list(values) for key, values in self._history.items()}

    @classmethod
    def from_history(
        cls,
        history: Mapping[str, Sequence[float]],
        parent: QWidget | None = None,
        *,
        stop_reason: str = "",
        seconds: float | None = None,
    ) -> TrainingMonitor:
        """A monitor showing a finished run, e.g. ``TrainedModel.history``."""
        monitor = cls(parent)
        monitor.load_history(history, stop_reason=stop_reason, seconds=seconds)
        return monitor

    def load_history(
        self,
        history: Mapping[str, Sequence[float]],
        *,
        stop_reason: str = "",
        seconds: float | None = None,
    ) -> None:
        """Replace the display with a finished run's per-epoch curves (x = epoch 1..n)."""
        self.reset()
        epochs = max((len(values) for values in history.values()), default=0)
        for key, values in history.items():
            self._history[key] = [float(v) for v in values]
        for target, source in self._plotted_keys(history).items():
            for epoch, value in enumerate(history[source], start=1):
                self._epoch_series[target].append(epoch, float(value))
        self._epoch, self._epochs = epochs, epochs
        self._batch, self._batches = 0, 0
        for target, source in self._plotted_keys(history).items():
            self._current[target] = float(history[source][-1]) if history[source] else None
        rates = history.get("learning_rate")
        self._rate = float(rates[-1]) if rates else None
        if seconds is not None:
            self._elapsed_fixed = seconds
        for chart in (self.accuracy_chart, self.loss_chart):
            chart.set_epoch_range(epochs)
        reason = f" ({stop_reason})" if stop_reason else ""
        self._status = f"Finished after {epochs} epoch{'s' if epochs != 1 else ''}{reason}"
        self._dirty = True
        self.flush()

    # -- event handlers -------------------------------------------------------------------------
    def _on_training_started(self, event: TrainingStarted) -> None:
        self.reset()
        self._training = True
        self._node_id = event.node_id
        self._epochs = max(1, event.epochs)
        self._batches = max(1, event.batches_per_epoch)
        self._epoch, self._batch = 1, 0
        self._started_at = self._clock()
        where = self._where = device_text(event)
        self._status = f"Training {self._describe_node(event.node_id)} on {event.samples:,} images" + (
            f" · {where}" if where else "")
        self.status_label.setToolTip(where)
        for chart in (self.accuracy_chart, self.loss_chart):
            chart.set_epoch_range(self._epochs)
        self.stop_button.setEnabled(True)
        self.stop_button.setText("Stop training")
        self._dirty = True
        self._timer.start()
        self.flush()

    def _on_batch_ended(self, event: BatchEnded) -> None:
        if not self._training or event.node_id != self._node_id:
            return
        batches = max(1, event.batches)
        x = event.epoch - 1 + event.batch / batches
        metrics = event.metrics
        acc_key = accuracy_key(metrics)
        if acc_key is not None:
            self._batch_series["accuracy"].append(x, metrics[acc_key])
            self._current["accuracy"] = float(metrics[acc_key])
        if "loss" in metrics:
            self._batch_series["loss"].append(x, metrics["loss"])
            self._current["loss"] = float(metrics["loss"])
        self._epoch, self._batch, self._batches = event.epoch, event.batch, batches
        self._batches_done += 1
        self._last_batch_at = self._clock()
        if self._first_batch_at is None:
            self._first_batch_at = self._last_batch_at
            self._first_batch_done = self._batches_done
        self._dirty = True

    def _on_epoch_ended(self, event: EpochEnded) -> None:
        if not self._training or event.node_id != self._node_id:
            return
        metrics = event.metrics
        for key, value in metrics.items():
            self._history.setdefault(key, []).append(float(value))
        for target, source in self._plotted_keys(metrics).items():
            value = float(metrics[source])
            self._epoch_series[target].append(event.epoch, value)
            self._current[target] = value
        if "learning_rate" in metrics:
            self._rate = float(metrics["learning_rate"])
        # The time from the epoch's last batch to its end is its validation pass.
        self._validates = any(key.startswith("val_") for key in metrics)
        if self._validates and self._last_batch_at is not None:
            self._validation_seconds.append(max(0.0, self._clock() - self._last_batch_at))
        self._epoch, self._epochs = event.epoch, max(1, event.epochs)
        self._epochs_done = event.epoch
        self._batch = self._batches  # the epoch is complete even if the last batch event was skipped
        self._dirty = True

    def _on_training_ended(self, event: TrainingEnded) -> None:
        if event.node_id != self._node_id:
            return
        epochs = event.epochs_run
        # A stop or cancel during an epoch: the bars stay where it stopped, that epoch unrecorded.
        self._epochs_done = epochs
        self._partial = self._epoch > epochs and self._batch < self._batches
        self._finish(f"Training ended after {epochs} epoch{'s' if epochs != 1 else ''}: {event.reason}"
                     + (f" · {self._where}" if self._where else ""))

    def _on_node_state_changed(self, event: NodeStateChanged) -> None:
        if not self._training or event.node_id != self._node_id:
            return
        if event.state is NodeState.FAILED:
            self._finish(f"Training failed: {event.message}")
        elif event.state in (NodeState.CONFIGURED, NodeState.NOT_CONFIGURED):
            self._finish("Training cancelled" + (f": {event.message}" if event.message else ""))

    def _on_run_finished(self, event: RunFinished) -> None:
        if self._training:
            self._finish("Training cancelled" if event.cancelled else "Run finished")

    _HANDLERS: dict[type, Callable[[TrainingMonitor, Any], None]] = {
        TrainingStarted: _on_training_started,
        BatchEnded: _on_batch_ended,
        EpochEnded: _on_epoch_ended,
        TrainingEnded: _on_training_ended,
        NodeStateChanged: _on_node_state_changed,
        RunFinished: _on_run_finished,
    }

    def _on_stop_clicked(self) -> None:
        if not self._training:
            return
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stopping…")
        self._status = "Stopping after the current batch…"
        self._dirty = True
        self.stop_requested.emit()

    def _finish(self, status: str) -> None:
        if self._training and self._started_at is not None:
            self._elapsed_fixed = self._clock() - self._started_at
        self._training = False
        self._status = status
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stop training")
        self._timer.stop()
        self._dirty = True
        self.flush()

    # -- derived numbers ------------------------------------------------------------------------
    def _reset_counters(self) -> None:
        self._epoch = self._epochs = self._batch = self._batches = 0
        self._epochs_done = 0
        self._batches_done = 0
        self._started_at = None
        self._first_batch_at = None
        self._first_batch_done = 0
        self._last_batch_at = None
        #: Seconds of each validation pass so far, and whether epochs end with one (None: unknown).
        self._validation_seconds = []
        self._validates = None
        #: Training ended during an epoch, which is not recorded.
        self._partial = False
        self._elapsed_fixed = None
        self._current = dict.fromkeys(self._epoch_series)
        #: The learning rate of the last finished epoch, when the schedule reports one.
        self._rate = None
        self._status = ""

    @staticmethod
    def _plotted_keys(metrics: Mapping[str, Any]) -> dict[str, str]:
        """Map the plotted names (accuracy, loss, val_accuracy, val_loss) to keys in ``metrics``."""
        found = {
            "accuracy": accuracy_key(metrics),
            "loss": "loss" if "loss" in metrics else None,
            "val_accuracy": accuracy_key(metrics, "val_"),
            "val_loss": "val_loss" if "val_loss" in metrics else None,
        }
        return {target: source for target, source in found.items() if source is not None}

    def remaining_seconds(self) -> float | None:
        """Estimated time left: the batches left at the batch rate measured since the first batch,
        plus a validation pass per epoch left as long as the passes so far took.

        Validation time is kept out of the batch rate. Once an epoch's batches are done its
        validation pass is running: its estimate counts down, and is unknown (``None``) before
        any pass has been timed rather than a misleading 0:00.
        """
        if not self._training or self._first_batch_at is None:
            return None
        now = self._clock()
        done_since_first = self._batches_done - self._first_batch_done
        training_time = now - self._first_batch_at - sum(self._validation_seconds)
        if done_since_first <= 0 or training_time <= 0:
            return None
        total = self._epochs * self._batches
        done = (self._epoch - 1) * self._batches + self._batch
        left = max(0, total - done) / (done_since_first / training_time)
        validating = self._batch >= self._batches and self._epochs_done < self._epoch
        if self._validation_seconds:
            per_pass = sum(self._validation_seconds) / len(self._validation_seconds)
            left += max(0, self._epochs - self._epochs_done) * per_pass
            if validating and self._last_batch_at is not None:
                left -= min(per_pass, now - self._last_batch_at)
        elif validating and self._validates is not False:
            return None
        return max(0.0, left)

    def elapsed_seconds(self) -> float | None:
        if self._elapsed_fixed is not None:
            return self._elapsed_fixed
        if self._started_at is None:
            return None
        return self._clock() - self._started_at

    def _update_times(self) -> None:
        elapsed = self.elapsed_seconds()
        self.readouts["elapsed"].set("—" if elapsed is None else format_duration(elapsed))
        remaining = self.remaining_seconds()
        if self._training:
            self.readouts["remaining"].set("…" if remaining is None else format_duration(remaining))
        else:
            self.readouts["remaining"].set("—")

    def _update_progress(self) -> None:
        epochs, batches = self._epochs, self._batches
        self.epoch_progress.setRange(0, max(1, epochs))
        epoch_value = self._epochs_done if self._training or self._partial else self._epoch
        self.epoch_progress.setValue(min(epoch_value, max(1, epochs)))
        part = " (part)" if self._partial else ""
        self.epoch_progress.setFormat(f"Epoch {self._epoch} / {epochs}{part}" if epochs else "Epoch — / —")
        self.batch_progress.setRange(0, max(1, batches))
        self.batch_progress.setValue(min(self._batch, max(1, batches)))
        self.batch_progress.setFormat(f"Batch {self._batch} / {batches}" if batches else "Batch — / —")

    def _update_readouts(self) -> None:
        for key in ("accuracy", "loss", "val_accuracy", "val_loss"):
            self.readouts[key].set(_metric_text(self._current.get(key), key.endswith("accuracy")))
        self.rate.setVisible(self._rate is not None)
        self.rate.set("—" if self._rate is None else f"{self._rate:.3g}")


__all__ = [
    "ACCURACY_KEYS",
    "ElidedLabel",
    "TrainingMonitor",
    "accuracy_key",
    "format_duration",
]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def device_text(event: TrainingStarted) -> str:
    """Where training runs, as the monitor and the command line say it ("CPU, float32")."""
    devices = getattr(event, "devices", "") or ""
    precision = getattr(event, "precision", "float32") or "float32"
    if not devices:
        return ""
    return f"{devices}, {precision.replace('_', ' ')}"
