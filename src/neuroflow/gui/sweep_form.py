"""The Sweep dialog's form: which settings to vary (one row each) and how to run the study.

A parameter row is a setting picked from a list (the learner's and its upstream nodes' numeric
and choice settings), a kind (log range, range or values) and the bounds or the values, filled
in around the current value. Every field is checked as it is typed with the setting's own
parser (:func:`~neuroflow.gui.sweep_params.check`): a bad one turns red and a one-line reason
shows under its row, and :attr:`ParamsEditor.changed` lets the dialog keep Start disabled until
every row and option is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import sweep_params as sp

#: The settings "Add parameter" offers first, in this order (then the rest of the list).
PREFERRED = ("learning_rate", "batch_size", "units", "rate", "optimizer", "filters", "epochs")


def mark(widget: QWidget, invalid: bool) -> None:
    """Red frame on an invalid field (the theme's ``[invalid="true"]`` rule)."""
    if widget.property("invalid") != invalid:
        widget.setProperty("invalid", invalid)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class ParamRow:
    """The widgets of one parameter row, in a grid row of the editor (plus an error line)."""

    def __init__(self, editor: ParamsEditor, candidate: sp.Candidate) -> None:
        self.editor = editor
        parent = editor
        self.setting = QComboBox(parent)
        self.setting.setObjectName("sweepSetting")
        last_node = None
        for index, c in enumerate(editor.choices):
            if last_node is not None and c.node_id != last_node:
                self.setting.insertSeparator(self.setting.count())
            last_node = c.node_id
            self.setting.addItem(c.title, index)
            self.setting.setItemData(self.setting.count() - 1, c.setting.help or c.setting.label,
                                     Qt.ItemDataRole.ToolTipRole)
        self.setting.setMinimumContentsLength(22)
        self.setting.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind = QComboBox(parent)
        self.low = QLineEdit(parent)
        self.high = QLineEdit(parent)
        self.to = QLabel("to", parent)
        self.to.setObjectName("muted")
        self.values = QLineEdit(parent)
        self.values.setPlaceholderText("comma-separated, e.g. 64,128,256")
        for edit in (self.low, self.high):
            edit.setMaximumWidth(110)
        self.remove = QToolButton(parent)
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this parameter")
        self.error = QLabel("", parent)
        self.error.setObjectName("fieldError")
        self.error.setVisible(False)
        self.candidate = candidate
        self._filling = False
        self.select(candidate)
        self.setting.currentIndexChanged.connect(self._setting_changed)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for edit in (self.low, self.high, self.values):
            edit.textChanged.connect(editor.recheck)
        self.remove.clicked.connect(lambda: editor.remove_row(self))

    def widgets(self) -> list[QWidget]:
        return [self.setting, self.kind, self.low, self.to, self.high, self.values, self.remove, self.error]

    def select(self, candidate: sp.Candidate, kind: str | None = None) -> None:
        """Show ``candidate`` pre-filled around its current value (in ``kind`` if given)."""
        self._filling = True
        try:
            self.candidate = candidate
            index = self.editor.choices.index(candidate)
            self.setting.setCurrentIndex(self.setting.findData(index))
            self.setting.setToolTip(candidate.setting.help or candidate.setting.label)
            row = sp.prefill(candidate, self.editor.current(candidate), kind)
            self.kind.clear()
            for key in candidate.kinds:
                self.kind.addItem(sp.KIND_LABELS[key], key)
            self.kind.setCurrentIndex(self.kind.findData(row.kind))
            self.low.setText(row.low)
            self.high.setText(row.high)
            self.values.setText(row.values)
            self._show_kind()
        finally:
            self._filling = False
        self.editor.recheck()

    def _setting_changed(self) -> None:
        if not self._filling:
            self.select(self.editor.choices[self.setting.currentData()])

    def _kind_changed(self) -> None:
        if not self._filling:
            self.select(self.candidate, self.kind.currentData())

    def _show_kind(self) -> None:
        values = self.kind.currentData() == sp.VALUES
        for widget in (self.low, self.to, self.high):
            widget.setVisible(not values)
        self.values.setVisible(values)

    def row(self) -> sp.Row:
        return sp.Row(self.candidate, self.kind.currentData(), self.low.text(), self.high.text(),
                      self.values.text())

    def show_check(self, checked: sp.Checked) -> None:
        for name, edit in (("low", self.low), ("high", self.high), ("values", self.values)):
            mark(edit, checked.field == name)
        self.error.setText(checked.error)
        self.error.setVisible(bool(checked.error))

    def set_enabled(self, enabled: bool) -> None:
        for widget in self.widgets():
            widget.setEnabled(enabled)


class ParamsEditor(QWidget):
    """The parameter rows (see the module docstring)."""

    changed = Signal()

    def __init__(self, choices: list[sp.Candidate], current: Callable[[sp.Candidate], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = choices
        self.current = current
        self.param_rows: list[ParamRow] = []
        self.checks: list[sp.Checked] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(3)
        for column, text in enumerate(("Setting", "Kind", "From (or values)", "", "To")):
            label = QLabel(text, self)
            label.setObjectName("subheading")
            self.grid.addWidget(label, 0, column)
        self.grid.setColumnStretch(0, 3)
        self.grid.setColumnStretch(5, 2)
        outer.addLayout(self.grid)
        bar = QHBoxLayout()
        self.add_button = QPushButton("+ Add parameter", self)
        self.add_button.setToolTip("Sweep one more setting of the learner or of a node before it")
        self.add_button.clicked.connect(lambda: self.add_row())
        bar.addWidget(self.add_button)
        self.empty = QLabel("Add a setting to sweep.", self)
        self.empty.setObjectName("fieldError")
        bar.addWidget(self.empty)
        bar.addStretch(1)
        outer.addLayout(bar)
        outer.addStretch(1)

    def _next_candidate(self) -> sp.Candidate | None:
        used = {row.candidate.name for row in self.param_rows}
        free = [c for c in self.choices if c.name not in used]
        for wanted in PREFERRED:
            for c in free:  # the first in the workflow: a hidden Dense layer, not the output
                if c.setting.name == wanted:
                    return c
        return free[-1] if free else None

    def add_row(self, candidate: sp.Candidate | None = None) -> ParamRow | None:
        candidate = candidate or self._next_candidate()
        if candidate is None:
            return None
        row = ParamRow(self, candidate)
        self.param_rows.append(row)
        self._lay_out()
        self.recheck()
        return row

    def remove_row(self, row: ParamRow) -> None:
        self.param_rows.remove(row)
        for widget in row.widgets():
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self._lay_out()
        self.recheck()

    def _lay_out(self) -> None:
        for index, row in enumerate(self.param_rows):
            line = 1 + 2 * index
            for column, widget in enumerate(row.widgets()[:5]):
                self.grid.addWidget(widget, line, column)
            self.grid.addWidget(row.values, line, 2, 1, 4)  # where the bounds are for a range
            self.grid.addWidget(row.remove, line, 6)
            self.grid.addWidget(row.error, line + 1, 0, 1, 7)
        self.add_button.setEnabled(len(self.param_rows) < len(self.choices))

    def recheck(self) -> None:
        self.checks = sp.check_all([row.row() for row in self.param_rows])
        for row, checked in zip(self.param_rows, self.checks, strict=True):
            row.show_check(checked)
        self.empty.setVisible(not self.param_rows)
        self.changed.emit()

    def valid(self) -> bool:
        return bool(self.param_rows) and all(c.spec for c in self.checks)

    def specs(self) -> list[str]:
        return [c.spec for c in self.checks if c.spec]

    def set_enabled(self, enabled: bool) -> None:
        for row in self.param_rows:
            row.set_enabled(enabled)
        self.add_button.setEnabled(enabled and len(self.param_rows) < len(self.choices))


class StudyOptions(QWidget):
    """Trials, sampler, pruning, metric, storage and study name."""

    changed = Signal()

    def __init__(self, metrics: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The run-history folder the sweep records into ("" = the default place), from set_defaults.
        self.runs_dir = ""
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.trials = QSpinBox(self)
        self.trials.setRange(1, 100_000)
        self.trials.setValue(sp.DEFAULT_TRIALS)
        self.trials.setMaximumWidth(130)
        self.trials.setToolTip("How many trials this sweep runs (a study loaded again keeps its earlier trials)")
        self.sampler = QComboBox(self)
        for name, label in (("tpe", "TPE (learns from earlier trials)"), ("random", "random"),
                            ("grid", "grid (every combination of values)")):
            self.sampler.addItem(label, name)
        self.prune = QCheckBox("Prune weak trials after each epoch", self)
        self.metric_box = QComboBox(self)
        for index, name in enumerate(metrics):
            self.metric_box.addItem(f"{name} (default)" if index == 0 else name, name)
        self.direction = QLabel(self)
        self.direction.setObjectName("muted")
        metric_row = QHBoxLayout()
        metric_row.addWidget(self.metric_box, 1)
        metric_row.addWidget(self.direction)
        self.storage = QLineEdit(self)
        self.storage.setToolTip("Where the study is kept: an Optuna RDB URL. Several machines given the "
                                "same URL and study name add trials to one study.")
        self.study = QLineEdit(self)
        self.storage_error = QLabel(self)
        self.storage_error.setObjectName("fieldError")
        self.study_error = QLabel(self)
        self.study_error.setObjectName("fieldError")
        form.addRow("Trials", self.trials)
        form.addRow("Sampler", self.sampler)
        form.addRow("", self.prune)
        form.addRow("Optimise", metric_row)
        form.addRow("Storage", self.storage)
        form.addRow("", self.storage_error)
        form.addRow("Study", self.study)
        form.addRow("", self.study_error)
        self.metric_box.currentIndexChanged.connect(self._metric_changed)
        for edit in (self.storage, self.study):
            edit.textChanged.connect(self.recheck)
        self._metric_changed()

    def _metric_changed(self) -> None:
        self.direction.setText("lower is better" if sp.direction(self.metric_box.currentData() or "") == "minimize"
                               else "higher is better")
        self.changed.emit()

    def set_defaults(self, workflow_path: Path | None, runs_dir: str = "") -> None:
        """Show the default storage and study of the saved file (kept when the user typed one)."""
        self.runs_dir = runs_dir
        for edit, value in ((self.storage, sp.default_storage(workflow_path, runs_dir)),
                            (self.study, sp.default_study(workflow_path))):
            if not edit.isModified():
                edit.setText(value)

    def recheck(self) -> None:
        for edit, label, problem in ((self.storage, self.storage_error, sp.check_storage(self.storage.text())),
                                     (self.study, self.study_error, sp.check_study(self.study.text()))):
            mark(edit, bool(problem))
            label.setText(problem)
            label.setVisible(bool(problem))
        self.changed.emit()

    def valid(self) -> bool:
        return not sp.check_storage(self.storage.text()) and not sp.check_study(self.study.text())

    def form(self, workflow_path: Path, specs: list[str]) -> sp.SweepForm:
        return sp.SweepForm(workflow_path, tuple(specs), self.trials.value(), self.sampler.currentData(),
                            self.prune.isChecked(), self.metric_box.currentData(), self.storage.text(),
                            self.study.text(), self.runs_dir)

    def set_enabled(self, enabled: bool) -> None:
        for widget in (self.trials, self.sampler, self.prune, self.metric_box, self.storage, self.study):
            widget.setEnabled(enabled)
