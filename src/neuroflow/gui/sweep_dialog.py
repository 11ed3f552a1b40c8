"""The Sweep dialog: pick settings of a Network Learner's workflow to vary, run ``neuroflow sweep``
on the saved file in a process of its own, watch the trials arrive, and apply the best one.

The dialog is the editor's face of the sweep command (see the sweep contract): it builds the
command line from its form (:mod:`~neuroflow.gui.sweep_form`), starts it through
:class:`~neuroflow.gui.sweep_process.SweepProcess` and redraws a table of trials and two charts
(:mod:`~neuroflow.gui.sweep_plots`) from the events. The editor stays free to edit meanwhile:
the sweep reads the file as it was saved when Start was pressed. "Apply best settings" puts the
best trial's parameters on the workflow as one undoable step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.errors import NeuroFlowError

from . import sweep_params as sp
from . import theme
from .document import Document
from .sweep_form import ParamsEditor, StudyOptions
from .sweep_plots import SweepCharts, short
from .sweep_process import DONE, STOPPED, SweepProcess
from .sweep_state import COMPLETE, FAILED, PRUNED, RUNNING, SweepState, Trial

STATE_COLORS = {RUNNING: "#2563eb", COMPLETE: theme.SUCCESS, PRUNED: theme.WARNING, FAILED: theme.ERROR}
STATE_BACKGROUNDS = {RUNNING: theme.ACCENT_SOFT, COMPLETE: "#dcfce7", PRUNED: theme.WARNING_SOFT,
                     FAILED: theme.ERROR_SOFT}
BEST_BACKGROUND = "#ffedd5"
ENDED = "ended"  # a trial still running when the process ended


class SweepDialog(QDialog):
    """A parameter sweep of one Network Learner (see the module docstring).

    ``command`` replaces ``python -m neuroflow`` (tests start a fake sweep script); ``save`` saves
    the document, asking for a name if it has none (the window's File > Save), and returns
    whether it did.
    """

    def __init__(self, document: Document, learner_id: str, parent: QWidget | None = None, *,
                 command: Sequence[str] | None = None, save: Callable[[], bool] | None = None,
                 runs_dir: Callable[[], str] | None = None) -> None:
        super().__init__(parent)
        #: The editor's chosen run-history folder, asked anew at each start ("" = the default place).
        self.runs_dir = runs_dir or (lambda: "")
        self.document = document
        self.learner_id = learner_id
        self.save = save or self._save_document
        self.process = SweepProcess(command, self)
        self.state = SweepState()
        self._workflow = document.workflow
        self._rows: dict[int, int] = {}
        self._columns: list[str] = []
        self._labels: dict[str, str] = {}
        self._marked: int | None = None  # the trial whose row shows the best mark
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(30)
        self._redraw_timer.timeout.connect(self._redraw)
        self.applied: int | None = None
        label = document.workflow.nodes[learner_id].label
        self.setWindowTitle(f"Parameter sweep — {label}")
        self.setObjectName("sweepDialog")
        self.resize(1320, 860)
        self._build(label)
        self.process.received.connect(self._on_event)
        self.process.ended.connect(self._on_ended)
        document.path_changed.connect(self._file_changed)
        document.undo_stack.cleanChanged.connect(self._file_changed)
        document.workflow_replaced.connect(self._workflow_replaced)
        self._file_changed()
        self._update_buttons()

    # -- construction -----------------------------------------------------------------------------
    def _build(self, label: str) -> None:
        workflow = self.document.workflow
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        heading = QLabel(f"Parameter sweep of {label}", self)
        heading.setObjectName("heading")
        layout.addWidget(heading)
        intro = QLabel("Each trial trains the saved workflow with one combination of the settings below "
                       "(Optuna chooses them) and is kept in the run history. The sweep runs in a process "
                       "of its own; you can go on editing meanwhile.", self)
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.unsaved = QLabel(self)
        self.unsaved.setObjectName("problem")
        self.unsaved.setWordWrap(True)
        layout.addWidget(self.unsaved)

        top = QHBoxLayout()
        top.setSpacing(12)
        params_box = QGroupBox("Settings to vary", self)
        params_layout = QVBoxLayout(params_box)
        self.params = ParamsEditor(sp.candidates(workflow, self.learner_id), self._current, params_box)
        params_layout.addWidget(self.params)
        top.addWidget(params_box, 3)
        study_box = QGroupBox("Study", self)
        study_layout = QVBoxLayout(study_box)
        self.options = StudyOptions(sp.metrics(workflow, self.learner_id), study_box)
        study_layout.addWidget(self.options)
        study_layout.addStretch(1)
        top.addWidget(study_box, 2)
        layout.addLayout(top)

        bar = QHBoxLayout()
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("primary")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop", self)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(28)
        self.apply_button = QPushButton("Apply best settings", self)
        self.apply_button.setToolTip("Set the best trial's parameters on the workflow (one undoable step)")
        close = QPushButton("Close", self)
        bar.addWidget(self.start_button)
        bar.addWidget(self.stop_button)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.apply_button)
        bar.addWidget(close)
        layout.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.table = QTableWidget(0, 0, split)
        self.table.setObjectName("sweepTrials")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(False)
        self.charts = SweepCharts(split)
        split.addWidget(self.table)
        split.addWidget(self.charts)
        split.setSizes([760, 540])
        layout.addWidget(split, 1)
        self.start_button.setStyleSheet(
            f"QPushButton {{ background: {theme.ACCENT}; color: white; border-color: {theme.ACCENT};"
            f" font-weight: 600; padding: 5px 18px; }} QPushButton:disabled {{ background: {theme.BORDER};"
            f" border-color: {theme.BORDER}; color: white; }}")
        self.charts.setStyleSheet(
            f"QPushButton:checked {{ background: {theme.ACCENT_SOFT}; border-color: {theme.ACCENT};"
            f" color: {theme.TEXT}; }}")

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_best)
        close.clicked.connect(self.close)
        self.params.changed.connect(self._update_buttons)
        self.options.changed.connect(self._update_buttons)
        self.params.add_row()  # the learning rate, pre-filled

    def _current(self, candidate: sp.Candidate) -> Any:
        item = self._workflow.nodes.get(candidate.node_id)
        if item is None:
            return candidate.setting.default
        return item.node.settings.get(candidate.setting.name, candidate.setting.default)

    # -- state of the buttons ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process.running

    def _stale(self) -> bool:
        return self.document.workflow is not self._workflow

    def _update_buttons(self) -> None:
        running = self.running
        ready = self.params.valid() and self.options.valid() and not self._stale()
        self.start_button.setEnabled(ready and not running)
        why = ("" if ready else "Every parameter row and the storage and study need a valid value"
               if not self._stale() else "The workflow was replaced: close this dialog")
        self.start_button.setToolTip(why or "Save if needed, then run the sweep")
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(self.state.best is not None and not self._stale())
        self.params.set_enabled(not running)
        self.options.set_enabled(not running)

    def _file_changed(self, *_args: Any) -> None:
        path = self.document.path
        if path is None:
            text = "The workflow has not been saved: the sweep runs a saved file, so Start asks for a name first."
        elif self.document.modified:
            text = (f"The workflow has unsaved changes: the sweep runs {path.name} as saved, so Start "
                    "offers to save it first.")
        else:
            text = ""
        self.unsaved.setText(text)
        self.unsaved.setVisible(bool(text))
        if path is not None:
            self.options.set_defaults(path, self.runs_dir())
            self.options.recheck()

    def _workflow_replaced(self) -> None:
        self._say("The workflow was replaced: this sweep's settings no longer apply to it.", "problem")
        self._update_buttons()

    def _say(self, text: str, kind: str = "") -> None:
        """The one status line: plain, ``failure`` (red) or ``problem`` (amber)."""
        self.status.setText(text)
        self.status.setObjectName(kind)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    # -- the run ----------------------------------------------------------------------------------
    def ask_save(self) -> bool:
        """Ask whether to save before starting; tests replace it."""
        name = self.document.path.name if self.document.path else "the workflow"
        answer = QMessageBox.question(
            self, "Save before the sweep",
            f"The sweep runs the saved file. Save {name} now and start?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        return answer == QMessageBox.StandardButton.Save

    def _save_document(self) -> bool:
        if self.document.path is None:
            return False
        try:
            self.document.save()
        except (NeuroFlowError, OSError) as exc:
            self._say(f"Cannot save: {exc}", "failure")
            return False
        return True

    def arguments(self) -> list[str]:
        """The sweep command's arguments for the form as it stands (the file must be saved)."""
        assert self.document.path is not None
        return sp.arguments(self.options.form(self.document.path, self.params.specs()))

    def start(self) -> bool:
        if self.running or not (self.params.valid() and self.options.valid()) or self._stale():
            return False
        if self.document.path is None or self.document.modified:
            if not self.ask_save() or not self.save() or self.document.path is None or self.document.modified:
                self._say("Not started: the workflow is not saved.", "problem")
                return False
        self.state = SweepState()
        self.applied = None
        self._rows.clear()
        self._marked = None
        self.table.clear()
        self.table.setRowCount(0)
        self._redraw()
        path = self.document.path
        self.process.start(self.arguments(), cwd=path.parent)
        self._say(f"Starting the sweep of {path.name}…")
        self._update_buttons()
        return True

    def stop(self) -> None:
        if self.running:
            self._say("Stopping…")
            self.process.stop()

    def _on_event(self, event: dict) -> None:
        number = self.state.apply(event)
        kind = event.get("event")
        if kind == "study":
            self._set_columns()
            self._redraw_soon()
            existing = event.get("existing")
            more = f" ({existing} trials in the study already)" if isinstance(existing, int) and existing else ""
            self._say(f"Study '{event.get('study', '')}': {self.state.direction} {self.state.metric} over "
                      f"{event.get('trials', '?')} trials, {event.get('sampler', '')} sampler{more}")
        elif kind == "error":
            self._say(str(event.get("message", "")), "failure")
        elif kind in ("best", "done"):
            self._mark_best()
        if number is not None:
            self._show_trial(self.state.trials[number])
            if kind == "trial":
                if self.state.trials[number].finished:
                    self._redraw_soon()
                    self._say(self._progress())
                else:
                    self._say(f"Trial #{number} running… {self._progress()}")
        if kind in ("best", "done"):
            self._redraw_soon()
        self._update_buttons()

    def _redraw_soon(self) -> None:
        """Redraw the charts once the events that have arrived are taken in (a finished trial
        and its best event come together: one redraw, not two)."""
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        self._redraw_timer.stop()
        self.charts.redraw(self.state, self._labels)

    def _progress(self) -> str:
        counts = self.state.counts()
        total = self.state.study.get("trials")
        finished = counts[COMPLETE] + counts[PRUNED] + counts[FAILED]
        text = f"{finished} of {total} trials finished" if isinstance(total, int) else f"{finished} finished"
        parts = [f"{counts[s]} {s}" for s in (PRUNED, FAILED) if counts[s]]
        best = self._best_text()
        return text + (f" ({', '.join(parts)})" if parts else "") + (f"; best {best}" if best else "")

    def _best_text(self) -> str:
        if self.state.best is None or self.state.best_value is None:
            return ""
        return f"#{self.state.best}: {self.state.metric} {short(self.state.best_value)}"

    def _on_ended(self, outcome: str, message: str) -> None:
        for trial in self.state.trials.values():
            if trial.state == RUNNING:
                trial.state = ENDED
                self._show_trial(trial)
        if outcome == DONE:
            counts = self.state.counts()
            best = self._best_text()
            self._say(f"Done: {counts[COMPLETE]} complete, {counts[PRUNED]} pruned, {counts[FAILED]} failed"
                      + (f". Best trial {best}" if best else ". No trial finished with a value"))
        elif outcome == STOPPED:
            self._say(message, "problem")
        else:
            self._say(message, "failure")
        self._redraw()
        self._update_buttons()

    # -- the table --------------------------------------------------------------------------------
    def _set_columns(self) -> None:
        names = [p["name"] for p in self.state.params]
        labels = self._labels = sp.param_labels(self._workflow, names, short_for=self.learner_id)
        self._columns = names
        headers = ["#", "state", *[labels[n] for n in names], self.state.metric, "epochs", "seconds"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(60)  # fitting columns must not cost more with every trial
        header.setStretchLastSection(False)
        for index, name in enumerate(names, start=2):
            header_item = self.table.horizontalHeaderItem(index)
            if header_item is not None:
                header_item.setToolTip(name)

    def _show_trial(self, trial: Trial) -> None:
        for name in trial.params:
            if name not in self._columns:  # a parameter the study event did not list
                self._columns.append(name)
                column = 2 + len(self._columns) - 1
                self.table.insertColumn(column)
                self.table.setHorizontalHeaderItem(column, QTableWidgetItem(name))
        row = self._rows.get(trial.number)
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self._rows[trial.number] = row
        best = trial.number == self.state.best
        value = trial.value if trial.value is not None else trial.last
        cells = [("★ " if best else "") + str(trial.number), trial.state,
                 *[short(trial.params[n]) if n in trial.params else "" for n in self._columns],
                 short(value) if value is not None else "",
                 str(trial.epochs) if trial.epochs else "",
                 f"{trial.seconds:.1f}" if trial.seconds is not None else ""]
        items: list[QTableWidgetItem] = []
        for column, text in enumerate(cells):
            item = self.table.item(row, column)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(row, column, item)
            items.append(item)
            item.setText(text)
            if column != 1:
                item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
            font = QFont(self.table.font())
            font.setBold(best)
            font.setItalic(column == len(cells) - 3 and trial.value is None)  # not final yet
            item.setFont(font)
            item.setBackground(QBrush(QColor(BEST_BACKGROUND)) if best else QBrush())
        state_item = items[1]
        state_item.setForeground(QBrush(QColor(STATE_COLORS.get(trial.state, theme.MUTED))))
        state_item.setBackground(QBrush(QColor(STATE_BACKGROUNDS.get(trial.state, theme.PANEL))))
        if trial.message:
            state_item.setToolTip(trial.message)

    def _mark_best(self) -> None:
        """Move the mark to the best trial: only the old and the new best row change."""
        for number in {n for n in (self._marked, self.state.best) if n is not None}:
            trial = self.state.trials.get(number)
            if trial is not None:
                self._show_trial(trial)
        self._marked = self.state.best

    def best_row(self) -> int | None:
        """The table row of the best trial (tests)."""
        return self._rows.get(self.state.best) if self.state.best is not None else None

    # -- applying ---------------------------------------------------------------------------------
    def apply_best(self) -> bool:
        """Set the best trial's parameters on the workflow as one undo step."""
        if self.state.best is None or self._stale():
            return False
        number = self.state.best
        try:
            changes = sp.trial_changes(self.document.workflow, self.state.best_params)
        except NeuroFlowError as exc:
            self._say(f"Cannot apply trial #{number}: {exc}", "failure")
            return False
        if not self.document.set_settings(changes, f"Apply sweep trial #{number}"):
            self._say(f"Trial #{number} was not applied (see the status bar)", "failure")
            return False
        self.applied = number
        shown = ", ".join(f"{n} = {short(v)}" for n, v in self.state.best_params.items())
        self._say(f"Applied trial #{number}: {shown}. Undo (Ctrl+Z) puts the old values back.")
        return True

    # -- closing ----------------------------------------------------------------------------------
    def confirm_stop(self) -> bool:
        """Ask whether closing may stop the running sweep; tests replace it."""
        answer = QMessageBox.question(self, "Stop the sweep?",
                                      "The sweep is still running. Stop it and close?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self, msecs: int = 10_000) -> None:
        """Stop a running sweep and wait for its process to end (the editor is closing)."""
        if self.running:
            self.process.stop()
            self.process.wait(msecs)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if self.running:
            if not self.confirm_stop():
                event.ignore()
                return
            self.process.stop()
        super().closeEvent(event)
