"""The Sweep dialog's two charts (pyqtgraph, styled like the training monitor's).

* **Values**: one point per finished trial - the study's metric against the trial number;
  complete trials as blue circles, pruned ones as amber triangles at the last value they
  reported, failed ones as red crosses along the bottom (they have no value) - with the best
  value so far as a step line and the best trial ringed.
* **Parallel coordinates**: one vertical axis per parameter and one for the metric; each
  finished trial is a polyline across them, darker the better its value. Each axis spans its
  parameter's declared range (on a log scale for a log range; evenly spaced for choices), so
  lines show where in the range the good trials sit.

A study has tens to hundreds of trials: both charts are redrawn whole from the
:class:`~neuroflow.gui.sweep_state.SweepState` after each finished trial.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from . import theme
from .chart_style import CHART_BACKGROUND, CHART_FOREGROUND, CHART_GRID_ALPHA, MUTED_TEXT_COLOR, style_axes
from .sweep_state import COMPLETE, FAILED, PRUNED, SweepState, Trial

COMPLETE_COLOR = theme.ACCENT
PRUNED_COLOR = theme.WARNING
FAILED_COLOR = theme.ERROR
BEST_COLOR = "#ea580c"  # the monitor's validation orange: the one mark that stands out
BEST_LINE_COLOR = theme.SUCCESS
#: Parallel lines from the worst value (light) to the best (dark): one hue, readable on white.
LINE_COLORS = ("#bfdbfe", "#60a5fa", "#1d4ed8", "#172554")
UNVALUED_COLOR = "#cbd5e1"


def _key(color: str, mark: str, text: str) -> str:
    return f'<span style="color:{color}; font-size:12pt">{mark}</span>&nbsp;{text}'


#: The charts' keys, in the caption above them (a legend inside would hide points).
VALUES_KEY = "&nbsp;&nbsp;".join((_key(COMPLETE_COLOR, "●", "complete"), _key(PRUNED_COLOR, "▼", "pruned"),
                                  _key(FAILED_COLOR, "✕", "failed"), _key(BEST_LINE_COLOR, "━", "best so far"),
                                  _key(BEST_COLOR, "○", "best")))
PARALLEL_KEY = "&nbsp;&nbsp;".join((_key(LINE_COLORS[1], "━", "worse"), _key(LINE_COLORS[3], "━", "better"),
                                    _key(BEST_COLOR, "━", "best"), _key(UNVALUED_COLOR, "╌", "no value")))


def _style(plot: pg.PlotWidget, *, axes: bool = True) -> pg.PlotItem:
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    item.setMouseEnabled(x=False, y=False)
    for axis in style_axes(item):
        if not axes:
            item.hideAxis(axis.orientation)
    if axes:
        item.showGrid(x=True, y=True, alpha=CHART_GRID_ALPHA)
    return item


def short(value: Any) -> str:
    """A number for an axis or a tooltip: 4 significant digits (1e-04, 0.0123, 256)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


class ValuesChart(pg.PlotWidget):
    """Metric value per trial (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        item = _style(self)
        item.setLabel("bottom", "trial", color=MUTED_TEXT_COLOR)
        item.disableAutoRange()  # see _set_ranges
        def tip(x: float, y: float, data: Any) -> str:
            return str(data)

        self.best_line = item.plot(pen=pg.mkPen(BEST_LINE_COLOR, width=2))
        self.points: dict[str, pg.ScatterPlotItem] = {}
        for state, symbol, color in ((COMPLETE, "o", COMPLETE_COLOR), (PRUNED, "t", PRUNED_COLOR),
                                     (FAILED, "x", FAILED_COLOR)):
            scatter = pg.ScatterPlotItem(symbol=symbol, size=10, brush=pg.mkBrush(color),
                                         pen=pg.mkPen(CHART_BACKGROUND if symbol != "x" else color, width=1),
                                         hoverable=True, tip=tip)
            item.addItem(scatter)
            self.points[state] = scatter
        self.best_mark = pg.ScatterPlotItem(symbol="o", size=18, brush=pg.mkBrush(None),
                                            pen=pg.mkPen(BEST_COLOR, width=2.5))
        item.addItem(self.best_mark)
        self.setMinimumSize(260, 180)

    def redraw(self, state: SweepState) -> None:
        self.getPlotItem().setLabel("left", state.metric, color=MUTED_TEXT_COLOR)
        finished = sorted(state.finished(), key=lambda t: t.number)
        values = [t.shown_value for t in finished if t.shown_value is not None]
        floor = min(values) if values else 0.0
        for kind, scatter in self.points.items():
            trials = [t for t in finished if t.state == kind]
            ys = [t.shown_value if t.shown_value is not None else floor for t in trials]
            scatter.setData(x=[t.number for t in trials], y=ys, data=[_tip(t, state) for t in trials])
        best_x: list[float] = []
        best_y: list[float] = []
        best: float | None = None
        for trial in finished:
            if trial.state == COMPLETE and trial.value is not None and (
                    best is None or state.better(trial.value, best)):
                if best_x:  # a step: along at the old best, then up (or down) to the new one
                    best_x.append(trial.number)
                    best_y.append(best_y[-1])
                best = trial.value
            if best is not None:
                best_x.append(trial.number)
                best_y.append(best)
        self.best_line.setData(best_x, best_y)
        marked = state.trials.get(state.best) if state.best is not None else None
        if marked is not None and marked.value is not None:
            self.best_mark.setData(x=[marked.number], y=[marked.value])
        else:
            self.best_mark.setData(x=[], y=[])
        self._set_ranges(state, [t.number for t in finished], values)

    def _set_ranges(self, state: SweepState, numbers: list[int], values: list[float]) -> None:
        """x: every trial this sweep plans (so points fill in left to right, on whole numbers);
        y: the values seen, with a margin (0 to 1 before the first)."""
        existing = state.study.get("existing")
        planned = state.study.get("trials")
        first = existing if isinstance(existing, int) and not isinstance(existing, bool) else 0
        last = first + planned - 1 if isinstance(planned, int) and not isinstance(planned, bool) else first
        numbers = numbers + [n for n in state.trials]
        if numbers:
            first, last = min(first, *numbers), max(last, *numbers)
        item = self.getPlotItem()
        item.setXRange(first - 0.5, max(last, first + 1) + 0.5, padding=0)
        if values:
            low, high = min(values), max(values)
            margin = (high - low) * 0.1 if high > low else max(abs(high) * 0.05, 0.01)
            item.setYRange(low - margin, high + margin, padding=0)
        else:
            item.setYRange(0.0, 1.0, padding=0.05)

    def point_count(self, kind: str | None = None) -> int:
        kinds = [kind] if kind else list(self.points)
        return sum(len(self.points[k].data) for k in kinds)


def _tip(trial: Trial, state: SweepState) -> str:
    value = short(trial.shown_value) if trial.shown_value is not None else "no value"
    lines = [f"trial #{trial.number} · {trial.state} · {state.metric} {value}"]
    lines += [f"{name} = {short(v)}" for name, v in trial.params.items()]
    if trial.message:
        lines.append(trial.message)
    return "\n".join(lines)


class ParallelChart(pg.PlotWidget):
    """Parallel coordinates of the parameters and the metric (see the module docstring).

    A study may reach hundreds of trials, each redrawn after every trial: one graphics item per
    line made a redraw cost a second at 100 trials. So lines of one look (a colour step of
    :data:`COLOR_STEPS`, solid or dashed) share one curve, their points separated by NaN, and
    the axes and their labels are rebuilt only when a range or a title changes.
    """

    COLOR_STEPS = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        self.item = _style(self, axes=False)
        self._curves: dict[tuple[str, bool], pg.PlotCurveItem] = {}
        self._decor: list[Any] = []
        self._axes_key: Any = None
        self.colormap = pg.ColorMap([0.0, 0.35, 0.75, 1.0], list(LINE_COLORS))
        self.setMinimumSize(260, 180)

    def _curve(self, look: str, dashed: bool) -> pg.PlotCurveItem:
        """The curve that draws every line of one look, made on first use."""
        key = (look, dashed)
        curve = self._curves.get(key)
        if curve is None:
            if look == "best":
                pen = pg.mkPen(BEST_COLOR, width=3.2)
            elif look == "none":
                pen = pg.mkPen(UNVALUED_COLOR, width=1.2)
            else:
                pen = pg.mkPen(self.colormap.map(int(look) / (self.COLOR_STEPS - 1), mode="qcolor"), width=1.8)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            curve = pg.PlotCurveItem(pen=pen, connect="finite")
            curve.setZValue(5 if look == "best" else 1 + int(look) / self.COLOR_STEPS if look != "none" else 0)
            self.item.addItem(curve)
            self._curves[key] = curve
        return curve

    def redraw(self, state: SweepState, labels: dict[str, str] | None = None) -> None:
        """Draw ``state``'s finished trials; ``labels`` titles the parameter axes."""
        labels = labels or {}
        params = {p["name"]: p for p in state.params}
        names = state.param_names
        columns = len(names) + 1
        finished = sorted(state.finished(), key=lambda t: t.number)
        # Choices of each choice axis, found once (placing each point then costs no search).
        seen = {n: _choices(params.get(n), [t.params.get(n) for t in finished])
                for n in names if not _numeric(params.get(n))}
        values = [t.shown_value for t in finished if t.shown_value is not None]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        axes_key = (tuple(labels.get(n, n) for n in names), repr(state.params), state.metric, low, high,
                    repr(seen))
        if axes_key != self._axes_key:
            self._axes_key = axes_key
            self._draw_axes(state, names, labels, params, seen, low, high)
        best = state.trials.get(state.best) if state.best is not None else None
        points: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}
        xs = [float(x) for x in range(columns)] + [math.nan]
        for trial in finished:
            ys = [position(params.get(n), trial.params.get(n), seen.get(n, [])) for n in names]
            value = trial.shown_value
            ys.append(_scale(value, low, high) if value is not None else math.nan)
            ys.append(math.nan)  # ends the line
            if trial is best and value is not None:
                look = "best"
            elif value is None:
                look = "none"
            else:
                goodness = _scale(value, low, high) if high > low else 1.0
                if state.direction == "minimize":
                    goodness = 1.0 - goodness
                look = str(round(goodness * (self.COLOR_STEPS - 1)))
            key = (look, trial.state == PRUNED or value is None)
            line_x, line_y = points.setdefault(key, ([], []))
            line_x.extend(xs)
            line_y.extend(ys)
        for key in points:
            self._curve(*key)
        for key, curve in self._curves.items():
            line_x, line_y = points.get(key, ([], []))
            curve.setData(np.array(line_x, dtype=float), np.array(line_y, dtype=float))
        self.item.setXRange(-0.45, columns - 1 + 0.45, padding=0)
        self.item.setYRange(-0.06, 1.12, padding=0)

    def _draw_axes(self, state: SweepState, names: list[str], labels: dict[str, str],
                   params: dict[str, dict[str, Any]], seen: dict[str, list[Any]], low: float, high: float) -> None:
        for thing in self._decor:
            self.item.removeItem(thing)
        self._decor = []
        for index, name in enumerate(names):
            self._axis(index, labels.get(name, name), params.get(name), seen.get(name, []))
        self._value_axis(len(names), state.metric, low, high)

    def _text(self, text: str, x: float, y: float, anchor: tuple[float, float], *, bold: bool = False,
              color: str = CHART_FOREGROUND) -> None:
        label = pg.TextItem(text, color=color, anchor=anchor, fill=pg.mkBrush(255, 255, 255, 200))
        font = QFont()
        font.setPointSize(9)
        font.setBold(bold)
        label.setFont(font)
        label.setPos(x, y)
        label.setZValue(10)  # over the trial lines, which cross at the axes
        self.item.addItem(label)
        self._decor.append(label)

    def _axis(self, x: int, name: str, param: dict[str, Any] | None, seen: list[Any]) -> None:
        axis = pg.PlotDataItem([x, x], [0.0, 1.0], pen=pg.mkPen(theme.SUBTLE, width=1.5))
        self.item.addItem(axis)
        self._decor.append(axis)
        self._text(name, x, 1.03, (0.5, 1.0), bold=True, color=theme.TEXT)
        for value in ticks(param, seen):
            y = position(param, value, seen)
            if not math.isnan(y):
                self._text(short(value), x, y, (1.08, 0.5))

    def _value_axis(self, x: int, metric: str, low: float, high: float) -> None:
        axis = pg.PlotDataItem([x, x], [0.0, 1.0], pen=pg.mkPen(theme.TEXT, width=2))
        self.item.addItem(axis)
        self._decor.append(axis)
        self._text(metric, x, 1.03, (0.5, 1.0), bold=True, color=theme.TEXT)
        for value in (low, high) if high > low else (low,):
            self._text(short(value), x, _scale(value, low, high), (-0.08, 0.5))

    def line_count(self) -> int:
        """Polylines drawn: each ends with one NaN in its curve's x data."""
        total = 0
        for curve in self._curves.values():
            x = curve.getData()[0]
            total += int(np.isnan(x).sum()) if x is not None else 0
        return total


def _scale(value: float, low: float, high: float) -> float:
    return (value - low) / (high - low) if high > low else 0.5


def _choices(param: dict[str, Any] | None, seen: list[Any]) -> list[Any]:
    if param is not None and isinstance(param.get("choices"), list):
        return list(param["choices"])
    found: list[Any] = []
    for value in seen:
        if value is not None and value not in found:
            found.append(value)
    return sorted(found, key=str) if any(isinstance(v, str) for v in found) else sorted(found)


def _numeric(param: dict[str, Any] | None) -> bool:
    return param is not None and param.get("kind") != "choice" and all(
        isinstance(param.get(k), (int, float)) for k in ("low", "high"))


def position(param: dict[str, Any] | None, value: Any, seen: list[Any]) -> float:
    """Where ``value`` sits on its axis, 0 (bottom) to 1 (top); NaN when it cannot be placed."""
    if value is None or isinstance(value, bool) and _numeric(param):
        return math.nan
    if _numeric(param):
        assert param is not None
        low, high = float(param["low"]), float(param["high"])
        if not isinstance(value, (int, float)):
            return math.nan
        if param.get("kind") == "log":
            if value <= 0 or low <= 0:
                return math.nan
            return _scale(math.log10(value), math.log10(low), math.log10(high))
        return _scale(float(value), low, high)
    choices = _choices(param, seen)
    if value not in choices:
        return math.nan
    return choices.index(value) / (len(choices) - 1) if len(choices) > 1 else 0.5


def ticks(param: dict[str, Any] | None, seen: list[Any]) -> list[Any]:
    """Labelled values on an axis: the ends (and whole decades of a log axis, the middle of a
    linear one), or every choice."""
    if not _numeric(param):
        return _choices(param, seen)
    assert param is not None
    low, high = param["low"], param["high"]
    if param.get("kind") == "log" and low > 0:
        decades = [10.0 ** k for k in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)]
        inner = [d for d in decades if not math.isclose(d, low) and not math.isclose(d, high)]
        return [low, *inner, high]
    middle = (low + high) / 2
    if param.get("kind") == "int":
        middle = int(round(middle))
    return [low, middle, high] if middle not in (low, high) else [low, high]


class SweepCharts(QWidget):
    """The two charts behind a two-button switch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.values = ValuesChart(self)
        self.parallel = ParallelChart(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.values)
        self.stack.addWidget(self.parallel)
        self.buttons = QButtonGroup(self)
        for index, text in enumerate(("Values", "Parallel coordinates")):
            button = QPushButton(text, self)
            button.setCheckable(True)
            button.setChecked(index == 0)
            button.setObjectName(f"sweepChart{index}")
            self.buttons.addButton(button, index)
            bar.addWidget(button)
        self.buttons.idClicked.connect(self.show_chart)
        bar.addStretch(1)
        self.caption = QLabel("", self)
        self.caption.setObjectName("muted")
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        bar.addWidget(self.caption)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.show_chart(0)

    def show_chart(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        button = self.buttons.button(index)
        if button is not None and not button.isChecked():
            button.setChecked(True)
        self.caption.setText(VALUES_KEY if index == 0 else PARALLEL_KEY)

    def redraw(self, state: SweepState, labels: dict[str, str] | None = None) -> None:
        self.values.redraw(state)
        self.parallel.redraw(state, labels)
