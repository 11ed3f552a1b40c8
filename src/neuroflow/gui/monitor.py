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
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
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

from .chart_style import (
    BATCH_COLOR,
    CHART_BACKGROUND,
    MUTED_TEXT_COLOR,
    PANEL_BACKGROUND,
    PANEL_BORDER,
    RUN_COLORS,
    STOP_COLOR,
    TEXT_COLOR,
)
from .monitor_charts import (
    ChartPanel,
    ElidedLabel,
    MetricChart,
    Readout,
    Series,
    decimate,
    metric_text,
)

REDRAW_INTERVAL_MS = 100  # ~10 Hz: fast enough to feel live, cheap at any batch rate

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
        self._batch_series = {"accuracy": Series(), "loss": Series()}
        self._epoch_series = {name: Series(64) for name in ("accuracy", "loss", "val_accuracy", "val_loss")}
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
        self.elapsed = Readout("elapsed")
        self.remaining = Readout("left")
        # Shown only when the learner's schedule changes the rate (it then logs "learning_rate").
        self.rate = Readout("learning rate")
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

        self.accuracy_chart = MetricChart(legend_corner="bottom", kind="accuracy")
        self.loss_chart = MetricChart(legend_corner="top", kind="loss")
        self.log_scale = QCheckBox("log")
        self.log_scale.setToolTip("Logarithmic loss axis: shows how a small loss keeps falling")
        self.log_scale.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.log_scale.toggled.connect(self.set_loss_log_scale)
        self.accuracy_panel = ChartPanel("Accuracy", self.accuracy_chart)
        self.loss_panel = ChartPanel("Loss", self.loss_chart, extra=self.log_scale)
        #: Every number shown, by name: accuracy, loss, val_accuracy, val_loss, elapsed, remaining,
        #: learning_rate.
        self.readouts: dict[str, Readout] = {
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
            self.readouts[key].set(metric_text(self._current.get(key), key.endswith("accuracy")))
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
