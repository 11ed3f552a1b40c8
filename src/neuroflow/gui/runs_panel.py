"""The Runs panel: the open workflow's run history, to compare runs and go back to a good one.

Every training the editor executes is recorded in the workflow's history (see
:mod:`neuroflow.gui.history_place` for where). The panel lists those runs in a sortable table
(:mod:`neuroflow.gui.runs_model`), lets the user star, label and delete them, shows how the
selected runs' settings and data differ, hands the selected runs' curves to the training
monitor (:attr:`RunsPanel.overlay`, set by the main window), applies a run's settings to the
workflow as one undoable step, and writes the runs and their curves to CSV files.

Reading is cheap but not free, and a training writes an epoch every few seconds: during a run
the panel re-reads at most every :data:`LIVE_REFRESH_MS`; curves of ended runs never change,
so they are read once and kept. The panel never creates a history file by looking at it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.events import EpochEnded, TrainingEnded, TrainingStarted
from neuroflow.history import HistoryError, Run, open_store
from neuroflow.history.compare import key_title, restoration, settings_diff
from neuroflow.history.export import write_curves_csv, write_runs_csv

from . import history_place, theme
from .document import Document
from .runs_model import RUN_ID_ROLE, RunsSortProxy, RunsTableModel

#: During a training the table is re-read at most this often (milliseconds).
LIVE_REFRESH_MS = 1500

EMPTY_TEXT = (
    "<p style='font-size:11pt; font-weight:600;'>No runs yet</p>"
    "<p>Execute a workflow with a Network Learner (F5): every training is recorded here "
    "with its settings, learning curves and scores.</p>"
    "<p>Select two runs to compare their curves and settings; restore the settings of a "
    "good one with one click.</p>"
)

#: What the panel hands the training monitor: [(run name, metric -> [(epoch, value)])];
#: the monitor answers with each run's colour. An empty list takes the comparison away.
Overlay = Callable[[list[tuple[str, Mapping[str, Sequence[tuple[int, float]]]]]], list[str]]


def run_name(run: Run) -> str:
    """How the panel and the monitor's legend name a run: its number, and its label if any."""
    return f"#{run.id} {run.label}" if run.label else f"#{run.id}"


class RunsPanel(QWidget):
    """The Runs dock's widget (see the module docstring)."""

    def __init__(self, document: Document, settings: QSettings, parent: QWidget | None = None, *,
                 warn: Callable[[str], None] | None = None, status: Callable[[str], None] | None = None) -> None:
        """``warn`` takes lines for the messages panel, ``status`` short news for the status bar."""
        super().__init__(parent)
        self.document = document
        self.settings = settings
        self.warn = warn or (lambda text: None)
        self.status = status or (lambda text: None)
        #: Shows curves in the training monitor; set by the main window (None: no monitor).
        self.overlay: Overlay | None = None
        #: Questions, replaceable in tests: ``confirm(title, text) -> bool`` and
        #: ``ask_save_path(caption, suggested name) -> path or ""``, ``ask_folder() -> path or ""``.
        self.confirm: Callable[[str, str], bool] = self._confirm
        self.ask_save_path: Callable[[str, str], str] = self._ask_save_path
        self.ask_folder: Callable[[], str] = self._ask_folder
        self._full: dict[int, Run] = {}  # runs with curves; ended runs never change
        self._shown_ids: list[int] = []
        self._overlaid: tuple[int, ...] = ()
        self._store_file: Path | None = None
        self._fitted_columns: list[str] = []
        self._build()
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self.refresh)
        document.path_changed.connect(self.refresh)
        document.workflow_replaced.connect(self.refresh)
        document.locked_changed.connect(lambda _locked: self._update_actions())
        document.core_event.connect(self._on_event)
        self.refresh()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(6)

        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.star_action = self._action("Star", "Star or unstar the selected runs (S)", self.toggle_star, "S")
        self.label_action = self._action("Label…", "Label the selected run (F2)", self.edit_label, "F2")
        self.delete_action = self._action("Delete", "Forget the selected runs (Del)", self.delete_selected,
                                          "Del")
        self.restore_action = self._action(
            "Restore settings", "Give the workflow the settings the selected run was trained with "
            "(one step: Undo takes it back)", self.restore_selected)
        self.export_runs_action = self._action("Runs table as CSV…", "The selected runs, or every run listed",
                                               self.export_runs)
        self.export_curves_action = self._action("Learning curves as CSV…",
                                                 "Per-epoch curves of the selected runs, or of every run listed",
                                                 self.export_curves)
        self.open_folder_action = self._action("Show history folder", "Open the folder of the history file",
                                               self.open_folder)
        self.choose_folder_action = self._action("Keep runs in another folder…",
                                                 "Choose where the editor keeps run histories", self.choose_folder)
        self.default_folder_action = self._action("Keep runs in the default place",
                                                  "Beside the workflow, or in $NEUROFLOW_RUNS_DIR when it is set",
                                                  self.default_folder)
        for action in (self.star_action, self.label_action, self.restore_action, self.delete_action):
            bar.addWidget(self._button(action))
        export = QToolButton(self)
        export.setText("Export")
        export.setToolTip("Write runs or their learning curves to CSV files")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        menu.addActions([self.export_runs_action, self.export_curves_action])
        export.setMenu(menu)
        bar.addWidget(export)
        folder = QToolButton(self)
        folder.setText("History folder")
        folder.setToolTip("Where this workflow's runs are kept")
        folder.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(folder)
        menu.addActions([self.open_folder_action, self.choose_folder_action, self.default_folder_action])
        folder.setMenu(menu)
        bar.addWidget(folder)
        bar.addStretch(1)
        self.count_label = QLabel("")
        self.count_label.setStyleSheet(f"color: {theme.MUTED};")
        bar.addWidget(self.count_label)
        root.addLayout(bar)

        self.model = RunsTableModel(self)
        # Queued: the store write re-reads the table, which must not happen inside the editor's commit.
        self.model.label_edited.connect(self.set_label, Qt.ConnectionType.QueuedConnection)
        self.proxy = RunsSortProxy(self)
        self.proxy.setSourceModel(self.model)
        table = self.table = QTableView(self)
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(self.model.column_of("started"), Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                              | QAbstractItemView.EditTrigger.EditKeyPressed)
        table.setAlternatingRowColors(True)
        # A soft highlight: the coloured marks of compared runs stay visible in selected rows.
        table.setStyleSheet(f"QTableView::item:selected {{ background: {theme.ACCENT_SOFT}; color: {theme.TEXT}; }}")
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        table.horizontalHeader().setHighlightSections(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        table.horizontalHeader().setResizeContentsPrecision(40)  # fit to the newest runs, not to all
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        table.clicked.connect(self._clicked)
        table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        for action in (self.star_action, self.label_action, self.delete_action):
            table.addAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {theme.MUTED}; padding: 16px;")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(table)

        compare = self.compare = QWidget(self)
        compare_layout = QVBoxLayout(compare)
        compare_layout.setContentsMargins(0, 0, 0, 0)
        compare_layout.setSpacing(2)
        self.diff_summary = QLabel("")
        self.diff_summary.setWordWrap(True)
        self.diff_table = QTableWidget(0, 0, compare)
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.verticalHeader().setVisible(False)
        self.diff_table.verticalHeader().setDefaultSectionSize(22)
        self.diff_table.horizontalHeader().setStretchLastSection(True)
        self.diff_table.setAlternatingRowColors(True)
        # Room for two settings and the data row without scrolling, however the splitter is set.
        self.diff_table.setMinimumHeight(4 * 22 + 30)
        compare_layout.addWidget(self.diff_summary)
        compare_layout.addWidget(self.diff_table, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(compare)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        root.addWidget(self.splitter, 1)

        self.place_label = QLabel("")
        self.place_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 8pt;")
        self.place_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.place_label)

    def _action(self, text: str, tip: str, handler: Callable[[], Any], shortcut: str = "") -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        if shortcut:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: handler())
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        return button

    # -- reading the history --------------------------------------------------------------------
    @property
    def store_file(self) -> Path:
        """The history file of the document as it is now."""
        return history_place.store_path(self.settings, self.document.path)

    def refresh(self) -> None:
        """Read the history again, keeping the selection (and the monitor's comparison)."""
        self._live_timer.stop()
        path = self.store_file
        if path != self._store_file:
            self._full.clear()
            self._store_file = path
        self.place_label.setText(f"History: {shown_place(path, self.document.path)}")
        self.place_label.setToolTip(str(path))
        runs: list[Run] = []
        problem = ""
        if path.is_file():  # looking must not create a history
            try:
                with open_store(path) as store:
                    runs = store.list_runs()
                    for run in runs:
                        known = self._full.get(run.id)
                        if known is None or known.ended is None or known.label != run.label \
                                or known.starred != run.starred:
                            self._full[run.id] = store.get_run(run.id)
            except HistoryError as exc:
                problem = str(exc)
        live = {run.id for run in runs}
        for run_id in [r for r in self._full if r not in live]:
            del self._full[run_id]
        selected = self.selected_ids()
        epochs = {run.id: max((e for curve in (self._full[run.id].curves or {}).values() for e, _ in curve),
                              default=0) for run in runs}
        blocker = self.table.selectionModel().blockSignals(True)
        try:
            self.model.set_runs(runs, epochs)
            self.select_ids([i for i in selected if i in live], notify=False)
        finally:
            self.table.selectionModel().blockSignals(blocker)
        self._shown_ids = [run.id for run in runs]
        self.empty.setText(f"<p>The run history cannot be read:</p><p>{problem}</p>" if problem else EMPTY_TEXT)
        self.stack.setCurrentIndex(1 if runs else 0)
        count = len(runs)
        self.count_label.setText(f"{count} run{'s' if count != 1 else ''}" if count else "")
        columns = [self.model.headerData(c, Qt.Orientation.Horizontal) for c in range(self.model.columnCount())]
        if runs and columns != self._fitted_columns:  # fitting costs more than reading: only for new columns
            self._fitted_columns = columns
            self._fit_columns()
        self._selection_changed(force=any(self._full[i].ended is None for i in self.selected_ids()))

    def _fit_columns(self) -> None:
        """Columns as wide as their header and first rows (at most 220 px); the user's widths
        stay until the columns change."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            if header.sectionSize(column) > 220:
                header.resizeSection(column, 220)

    def _on_event(self, event: object) -> None:
        """A training goes on: show its run as it grows, re-reading at most every so often."""
        if isinstance(event, TrainingStarted | EpochEnded | TrainingEnded) and not self._live_timer.isActive():
            self._live_timer.start()

    def runs_recorded(self, store_file: str, _run_ids: list) -> None:
        """The execution process recorded runs (``Runner.runs_recorded``): show them now."""
        if Path(store_file) == self.store_file:
            self.refresh()

    # -- selection ------------------------------------------------------------------------------
    def shown_ids(self) -> list[int]:
        """The ids of the runs the table lists, newest first."""
        return list(self._shown_ids)

    def selected_ids(self) -> list[int]:
        """The selected runs' ids, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [int(self.proxy.index(row, 0).data(RUN_ID_ROLE)) for row in rows]

    def selected_runs(self) -> list[Run]:
        """The selected runs with their curves, in the table's order."""
        return [self._full[i] for i in self.selected_ids() if i in self._full]

    def select_ids(self, run_ids: Sequence[int], *, notify: bool = True) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for run_id in run_ids:
            row = self.model.row_of(run_id)
            if row is not None:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(index, flags)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        if notify:
            self._selection_changed()

    def _selection_changed(self, force: bool = False) -> None:
        runs = self.selected_runs()
        self._update_actions()
        self._show_diff(runs)
        ids = tuple(run.id for run in runs)
        if ids == self._overlaid and not force:
            return
        self._overlaid = ids
        if self.overlay is None:
            return
        colors = self.overlay([(run_name(run), run.curves or {}) for run in runs])
        self.model.set_colors(dict(zip(ids, colors, strict=False)))

    def forget_colors(self) -> None:
        """The monitor went back to a live training: the runs are no longer drawn in colour."""
        self._overlaid = ()
        self.model.set_colors({})

    def _update_actions(self) -> None:
        count = len(self.selected_ids())
        for action in (self.star_action, self.delete_action):
            action.setEnabled(count > 0)
        self.label_action.setEnabled(count == 1)
        locked = self.document.locked
        self.restore_action.setEnabled(count == 1 and not locked)
        self.restore_action.setToolTip(
            "Not while the workflow executes" if locked and count == 1 else
            "Give the workflow the settings the selected run was trained with (one step: Undo takes it back)")
        self.default_folder_action.setEnabled(bool(history_place.chosen_folder(self.settings)))

    def _show_diff(self, runs: list[Run]) -> None:
        table = self.diff_table
        table.clear()
        self.compare.setVisible(bool(self._shown_ids))  # nothing to compare in an empty history
        table.setVisible(len(runs) >= 2)
        self.diff_summary.setStyleSheet(f"color: {theme.TEXT if len(runs) >= 2 else theme.MUTED};"
                                        f" font-weight: {600 if len(runs) >= 2 else 400};")
        if len(runs) < 2:
            table.setRowCount(0)
            table.setColumnCount(0)
            self.diff_summary.setText("Select two or more runs to compare their settings and curves."
                                      if self._shown_ids else "")
            return
        differences = settings_diff(runs)
        prints = [run.data_fingerprint for run in runs]
        same_data = len(set(prints)) == 1
        table.setColumnCount(1 + len(runs))
        table.setHorizontalHeaderLabels(["Setting", *(run_name(run) for run in runs)])
        rows = [(self._key_title(runs, d.key), [str(v) for v in d.values], d.key) for d in differences]
        rows.append(("Data", [p or "–" for p in prints], "data fingerprint"))
        table.setRowCount(len(rows))
        for row, (title, values, key) in enumerate(rows):
            head = QTableWidgetItem(title)
            head.setToolTip(key)
            table.setItem(row, 0, head)
            for column, value in enumerate(values, start=1):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        for column in range(table.columnCount()):
            table.setColumnWidth(column, min(table.columnWidth(column), 260))
        count = len(differences)
        settings_text = (f"{count} setting{'s' if count != 1 else ''} differ{'s' if count == 1 else ''}"
                         if count else "Same settings")
        self.diff_summary.setText(f"{settings_text} · {'same data' if same_data else 'the data differs'}")

    @staticmethod
    def _key_title(runs: list[Run], key: str) -> str:
        node_id = key.rpartition(".")[0]
        run = next((r for r in runs if node_id in r.settings), runs[0])
        return key_title(run, key)

    # -- editing runs ---------------------------------------------------------------------------
    def _write(self, doing: Callable[[Any], Any]) -> bool:
        """Apply ``doing(store)`` to the history and show the result; a failure is a warning."""
        try:
            with open_store(self.store_file) as store:
                doing(store)
        except HistoryError as exc:
            self.warn(str(exc))
            return False
        self.refresh()
        return True

    def toggle_star(self) -> None:
        """Star the selected runs, or unstar them when all are starred already."""
        runs = self.selected_runs()
        if not runs:
            return
        starred = not all(run.starred for run in runs)
        self._write(lambda store: [store.set_starred(run.id, starred) for run in runs])

    def set_label(self, run_id: int, label: str) -> None:
        self._write(lambda store: store.set_label(run_id, label))

    def edit_label(self) -> None:
        """Start editing the label cell of the selected run."""
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        row = self.model.row_of(ids[0])
        if row is not None:
            index = self.proxy.mapFromSource(self.model.index(row, self.model.column_of("label")))
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def delete_selected(self) -> None:
        """Forget the selected runs, after asking; a run still training is kept (its process
        would fail to record its next epoch)."""
        runs = [run for run in self.selected_runs() if run.state != "running"]
        if len(runs) < len(self.selected_ids()):
            self.status("A run that is still training cannot be deleted")
        if not runs:
            return
        what = f"run {runs[0].id}" if len(runs) == 1 else f"these {len(runs)} runs"
        if not self.confirm("Delete runs",
                            f"Forget {what} and {'its' if len(runs) == 1 else 'their'} curves? "
                            "Saved model files stay where they are."):
            return
        if self._write(lambda store: [store.delete_run(run.id) for run in runs]):
            self.status(f"Deleted {what}")

    def _clicked(self, index: QModelIndex) -> None:
        """A click on the star cell stars or unstars that run."""
        source = self.proxy.mapToSource(index)
        if source.column() == self.model.column_of("star"):
            run = self.model.run_at(source.row())
            self._write(lambda store: store.set_starred(run.id, not run.starred))

    def _context_menu(self, position: Any) -> None:
        menu = QMenu(self)
        menu.addActions([self.star_action, self.label_action, self.restore_action])
        menu.addSeparator()
        menu.addActions([self.export_runs_action, self.export_curves_action, self.open_folder_action])
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.exec(self.table.viewport().mapToGlobal(position))

    # -- restoring settings ---------------------------------------------------------------------
    def restore_selected(self) -> bool:
        """Apply the selected run's settings to the workflow as ONE undo step; what cannot be
        restored goes to the messages panel. False when nothing changed."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return False
        run = runs[0]
        if self.document.locked:
            self.status("The workflow is executing: restore the run's settings after it")
            return False
        plan = restoration(self.document.workflow, run)
        for line in plan.skipped:
            self.warn(f"Restore settings from run {run.id}: {line}")
        if not plan.changes:
            self.status(f"The workflow already has the settings of run {run.id}")
            return False
        if not self.document.set_settings(list(plan.changes), f"Restore settings from run {run.id}"):
            return False
        count = len(plan.changes)
        self.status(f"Restored {count} setting{'s' if count != 1 else ''} from run {run.id} "
                    "(Undo takes them back)")
        return True

    # -- files and folders ----------------------------------------------------------------------
    def _exported(self) -> list[Run]:
        return self.selected_runs() or [self._full[i] for i in self._shown_ids if i in self._full]

    def export_runs(self) -> str:
        return self._export("Export runs", "runs.csv", lambda runs, path: write_runs_csv(path, runs))

    def export_curves(self) -> str:
        return self._export("Export learning curves", "curves.csv",
                            lambda runs, path: write_curves_csv(path, runs))

    def _export(self, caption: str, suffix: str, write: Callable[[list[Run], str], int]) -> str:
        runs = self._exported()
        if not runs:
            self.status("No runs to export")
            return ""
        stem = self.document.path.stem if self.document.path else "untitled"
        path = self.ask_save_path(caption, f"{stem}-{suffix}")
        if not path:
            return ""
        try:
            write(runs, path)
        except (OSError, NeuroFlowError, ValueError) as exc:
            self.warn(f"{caption}: {exc}")
            return ""
        self.status(f"Wrote {len(runs)} run{'s' if len(runs) != 1 else ''} to {Path(path).name}")
        return path

    def open_folder(self) -> None:
        folder = self.store_file.parent
        if not folder.is_dir():
            self.status(f"{folder} does not exist yet: the first recorded run creates it")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def choose_folder(self) -> None:
        folder = self.ask_folder()
        if folder:
            history_place.choose_folder(self.settings, folder)
            self.status(f"Runs are kept in {folder} from now on")
            self.refresh()

    def default_folder(self) -> None:
        history_place.choose_folder(self.settings, "")
        self.status(f"Runs are kept in the default place from now on ({self.store_file.parent})")
        self.refresh()

    # -- default questions ----------------------------------------------------------------------
    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_save_path(self, caption: str, name: str) -> str:
        start = self.document.path.parent if self.document.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, caption, str(start / name), "CSV files (*.csv)")
        return path

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Keep run histories in", str(self.store_file.parent))


def shown_place(store: Path, workflow: Path | None) -> str:
    """The history file as the panel names it: its name alone when it sits beside the workflow
    (the usual case, and the full path is in the tooltip), else its path with ``~`` for home."""
    if workflow is not None and store.parent == workflow.parent:
        return f"{store.name} (beside the workflow)"
    home = Path.home()
    try:
        return f"~/{store.relative_to(home).as_posix()}"
    except ValueError:
        return str(store)
