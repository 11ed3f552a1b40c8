"""The Runs panel's table: one row per recorded run, one column per setting that differs.

The model holds :class:`~neuroflow.history.Run` records read by the panel; it never opens the
store itself. Every cell also answers :data:`SORT_ROLE` with a plain number or string, and
:class:`RunsSortProxy` sorts by that role with empty cells last, so accuracies sort as numbers
(0.9 before 0.85) and durations by seconds, not by their text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap

from neuroflow.history import Run
from neuroflow.history.compare import ABSENT, headline_scores, key_title, settings_diff

from . import theme

#: The role every cell answers with the value to sort by (a number where the cell shows one).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
#: The role of the run id, on every cell of a row.
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 2

#: The fixed columns before the differing settings: (key, header). The scores come before the
#: settings, so that a narrow dock still shows them without scrolling.
LEADING = (("star", "★"), ("id", "Run"), ("started", "Started"), ("label", "Label"), ("state", "State"),
           ("val_accuracy", "Best val.\naccuracy"), ("test_accuracy", "Test\naccuracy"), ("epochs", "Epochs"),
           ("duration", "Duration"))


def duration_text(seconds: float | None) -> str:
    """``75`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"`` (the training monitor's clock format)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    whole = max(0, int(round(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def state_text(run: Run) -> str:
    """What became of a run: its stop reason once ended, else running / interrupted / unfinished."""
    state = run.state
    if state == "finished":
        return run.stop_reason or "finished"
    return state


def _percent(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value * 100:.2f} %"


def _setting_text(value: Any) -> str:
    if value is ABSENT:
        return "–"
    if isinstance(value, tuple):
        return "×".join(str(v) for v in value) if all(isinstance(v, int) for v in value) else str(list(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def color_dot(color: str, size: int = 12) -> QIcon:
    """A filled circle: marks a run's row with the colour of its curves in the training
    monitor (an icon keeps its colour in a selected row, where text takes the highlight's)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(QColor(color))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def _sortable(value: Any) -> Any:
    if value is ABSENT or value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return str(value)


class RunsTableModel(QAbstractTableModel):
    """Runs newest first (the store's order) with the columns described in the module docstring."""

    #: A label was edited in place: (run id, new label). The panel writes it to the store.
    label_edited = Signal(int, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._runs: list[Run] = []
        self._epochs: dict[int, int] = {}
        self._keys: list[str] = []
        self._titles: list[str] = []
        self._values: list[dict[str, Any]] = []
        self._colors: dict[int, str] = {}
        self._columns: list[tuple[str, str]] = list(LEADING)

    # -- contents -------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[Run], epochs: Mapping[int, int]) -> None:
        """Show ``runs`` (newest first); ``epochs`` maps a run id to the epochs it recorded."""
        self.beginResetModel()
        self._runs = list(runs)
        self._epochs = dict(epochs)
        differences = settings_diff(self._runs)
        self._keys = [d.key for d in differences]
        self._values = [{} for _ in self._runs]
        for difference in differences:
            for row, value in enumerate(difference.values):
                self._values[row][difference.key] = value
        self._titles = [self._title(key) for key in self._keys]
        self._columns = [*LEADING, *(("setting:" + k, t) for k, t in zip(self._keys, self._titles, strict=True))]
        self.endResetModel()

    def _title(self, key: str) -> str:
        """The key under the node title of the newest run that has the node."""
        node_id = key.rpartition(".")[0]
        for run in self._runs:
            if node_id in run.settings:
                return key_title(run, key)
        return key

    def runs(self) -> list[Run]:
        return list(self._runs)

    def run_at(self, row: int) -> Run:
        return self._runs[row]

    def row_of(self, run_id: int) -> int | None:
        return next((row for row, run in enumerate(self._runs) if run.id == run_id), None)

    def differing_keys(self) -> list[str]:
        return list(self._keys)

    def column_of(self, key: str) -> int:
        """The column showing ``key``: a fixed column's name or a ``node.setting`` key."""
        for column, (name, _) in enumerate(self._columns):
            if name in (key, "setting:" + key):
                return column
        raise KeyError(key)

    def set_colors(self, colors: Mapping[int, str]) -> None:
        """Mark runs (by id) with the colour of their curves in the training monitor."""
        self._colors = dict(colors)
        if self._runs:
            column = self.column_of("id")
            self.dataChanged.emit(self.index(0, column), self.index(len(self._runs) - 1, column))

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        name, title = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            if name.startswith("setting:"):  # "Network Learner" over "learning_rate": narrow columns
                node, _, setting = title.rpartition(".")
                return f"{node}\n{setting}" if node else setting
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            if name.startswith("setting:"):
                return f"{title}: differs between the runs listed ({name[8:]})"
            return {"star": "Starred runs", "val_accuracy": "Best validation accuracy of any epoch",
                    "test_accuracy": "Accuracy the Scorer measured on the test images"}.get(name, title)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and self._columns[index.column()][0] == "label":
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if self._columns[index.column()][0] != "label":
            return False
        run = self._runs[index.row()]
        label = str(value).strip()
        if label != run.label:
            self.label_edited.emit(run.id, label)
        return True

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self._runs[index.row()]
        name = self._columns[index.column()][0]
        if role == RUN_ID_ROLE:
            return run.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(run, index.row(), name, role == Qt.ItemDataRole.EditRole)
        if role == SORT_ROLE:
            return self._sort_value(run, index.row(), name)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if name in ("star",):
                return int(Qt.AlignmentFlag.AlignCenter)
            if name in ("id", "val_accuracy", "test_accuracy", "epochs", "duration"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if name == "star" and run.starred:
                return QBrush(QColor("#d97706"))
            if name == "state" and run.state in ("running",):
                return QBrush(QColor(theme.ACCENT))
            if name == "state" and run.state in ("interrupted", "unfinished"):
                return QBrush(QColor(theme.MUTED))
            return None
        if role == Qt.ItemDataRole.DecorationRole and name == "id" and run.id in self._colors:
            return color_dot(self._colors[run.id])
        if role == Qt.ItemDataRole.FontRole and name == "id" and run.id in self._colors:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if name == "started":
                return datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M:%S")
            if name == "state" and run.data_fingerprint:
                return f"Data: {run.data_fingerprint}"
            if name == "label":
                return "Double-click to label this run"
        return None

    def _text(self, run: Run, row: int, name: str, editing: bool) -> str:
        if name == "star":
            return "★" if run.starred else "☆"
        if name == "id":
            return str(run.id)
        if name == "started":
            return self._started_text(run.started)
        if name == "label":
            return run.label
        if name == "state":
            return state_text(run)
        if name.startswith("setting:"):
            return _setting_text(self._values[row].get(name[8:], ABSENT))
        scores = headline_scores(run)
        if name == "val_accuracy":
            return _percent(scores["best_val_accuracy"])
        if name == "test_accuracy":
            return _percent(scores["test_accuracy"])
        if name == "epochs":
            epochs = self._epochs.get(run.id)
            return "" if epochs is None else str(epochs)
        if name == "duration":
            return duration_text(self._seconds(run))
        return ""

    def _sort_value(self, run: Run, row: int, name: str) -> Any:
        if name == "star":
            return int(run.starred)
        if name in ("id",):
            return run.id
        if name == "started":
            return run.started
        if name == "label":
            return run.label.lower() or None
        if name == "state":
            return state_text(run)
        if name.startswith("setting:"):
            return _sortable(self._values[row].get(name[8:], ABSENT))
        scores = headline_scores(run)
        if name == "val_accuracy":
            return scores["best_val_accuracy"]
        if name == "test_accuracy":
            return scores["test_accuracy"]
        if name == "epochs":
            return self._epochs.get(run.id)
        if name == "duration":
            return self._seconds(run)
        return None

    @staticmethod
    def _seconds(run: Run) -> float | None:
        if run.duration is not None:
            return run.duration
        return time.time() - run.started if run.state == "running" else None

    @staticmethod
    def _started_text(started: float) -> str:
        """Local time: the hour only for today's runs, the date as well for older ones."""
        moment = datetime.fromtimestamp(started)
        if moment.date() == datetime.now().date():
            return moment.strftime("%H:%M")
        return moment.strftime("%Y-%m-%d %H:%M")


class RunsSortProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE`: numbers as numbers, text case-blind, empty cells last."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if a is None or b is None:
            # Empty last in either order: Qt reverses the answer for a descending sort.
            return (b is None and a is not None) == ascending
        if isinstance(a, int | float) and isinstance(b, int | float):
            return a < b
        return str(a) < str(b) if type(a) is not type(b) else a < b
