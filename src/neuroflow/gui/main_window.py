"""The main window: canvas in the centre, docks around it, menus, toolbar and status bar.

Layout (dock sizes chosen for a 1600x1000 window on a projector)::

    +-------+---------------------------+------------+
    | Nodes |          canvas           | Properties |
    |       +-------------+--------------------------+
    |       | Training    | Results | Runs           |
    |       | | Messages  |   (tabs)                 |
    +-------+-------------+--------------------------+

The Runs panel shares the Results tab group, so that runs compared in it and their curves in
the training monitor are side by side.

The window assembles the panels, menus, toolbar and actions and wires them together. The two
user-level flows live in their own controllers: files (new, open, save, recent files, drops,
"save changes?") in :class:`~neuroflow.gui.file_flow.FileFlow`, runs (execute, cancel, reset,
the execution process and what runs say) in :class:`~neuroflow.gui.run_flow.RunFlow`. Editing
gestures that need the window (clipboard, arrange, blocks, result views) and closing (which
ends a run and the execution process) stay here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QRectF, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QCursor, QGuiApplication, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.events import NodeState, NodeStateChanged, TrainingStarted
from neuroflow.core.executor import RunResult
from neuroflow.core.layout import arrange_workflow
from neuroflow.core.registry import Registry

from . import blocks, icons
from .actions import create_actions
from .canvas import Canvas
from .document import LOCKED_MESSAGE, Document
from .export_script import ScriptExport
from .file_flow import FileFlow
from .history_place import chosen_folder, store_path
from .messages import MessagesPanel
from .model_import import ModelImport
from .placement import DEFAULT_NODE_SIZE, copied_positions, free_place, group_rect
from .properties import PropertiesPanel
from .repository import NodeRepository
from .results import ResultsPanel
from .run_flow import RunFlow
from .runs_panel import RunsPanel

log = logging.getLogger(__name__)

__all__ = ["SETTINGS_ENV", "MainWindow", "default_settings"]
#: 2: a wider Properties panel and taller bottom docks (saved layouts of version 1 are dropped).
#: 3: the Runs panel, tabbed with Results.
LAYOUT_VERSION = 3
#: Height of the bottom docks (training monitor, results, messages), in a 1000-pixel window.
RESULTS_HEIGHT = 400
CLIPBOARD_MIME = "application/x-neuroflow-workflow"


#: A settings file to use instead of the user's (benchmarks, screenshots, demos).
SETTINGS_ENV = "NEUROFLOW_SETTINGS"


def default_settings() -> QSettings:
    """The user's editor settings (window layout, recent files), or ``$NEUROFLOW_SETTINGS``."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("NeuroFlow", "NeuroFlow")


class MainWindow(QMainWindow):
    """The NeuroFlow editor window (see the module docstring)."""

    def __init__(self, registry: Registry | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None, *, defer_monitor: bool = False) -> None:
        """``defer_monitor`` builds the training monitor (and imports pyqtgraph) just after the
        window first shows, so that the canvas is usable sooner."""
        super().__init__(parent)
        self._defer_monitor = defer_monitor
        self.settings = settings or default_settings()
        self.document = Document(registry, self)
        self.canvas = Canvas(self.document, self)
        self.act = create_actions(self)
        self.setWindowIcon(icons.icon("app"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas.widget)
        self.setCentralWidget(central)

        self._build_docks()
        self.files = FileFlow(self, self.document, self.settings, self.messages, self.messages_dock)
        self.model_import = ModelImport(self.files)
        self.runs = RunFlow(self, self.document, self.messages, self.messages_dock, self.canvas.selected_ids,
                            history_store=lambda: store_path(self.settings, self.document.path))
        #: The execution process (tools and tests wait on it).
        self.runner = self.runs.runner
        #: Open Sweep dialogs by learner id (each owns its sweep process).
        self.sweep_dialogs: dict[str, Any] = {}
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._build_blocked_shortcuts()
        self._connect()
        self.canvas.set_context_actions([
            self.act["execute_selected"], self.act["open_view"], self.act["reset"], self.act["sweep"], None,
            self.act["cut"], self.act["copy"], self.act["paste"], self.act["delete"], None,
            self.act["collapse_block"], self.act["expand_block"], self.act["open_block"], None,
            self.act["select_all"], self.act["arrange"], self.act["fit"], None, self.act["undo"], self.act["redo"],
        ])
        self.resize(1600, 1000)
        self._restore_layout()
        self._update_title()
        self._update_actions()
        self._update_summary()

    # -- construction ---------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.repository = NodeRepository(self.document.registry, self)
        self.properties = PropertiesPanel(self.document, self)
        self.messages = MessagesPanel(self.document, self)
        self.results = ResultsPanel(self.document, self)
        self.runs_panel = RunsPanel(self.document, self.settings, self,
                                    warn=lambda text: self.messages.add("warning", text), status=self.show_status)
        self.runs_panel.overlay = self.show_runs
        self.monitor: QWidget = self._monitor_placeholder("Preparing the training monitor…")
        if not self._defer_monitor:
            self.monitor = self._create_monitor()
        left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        self.repository_dock = self._dock("Nodes", "nodesDock", self.repository, left)
        self.properties_dock = self._dock("Properties", "propertiesDock", self.properties, right)
        self.monitor_dock = self._dock("Training", "trainingDock", self.monitor, bottom)
        self.results_dock = self._dock("Results", "resultsDock", self.results, bottom)
        self.messages_dock = self._dock("Messages", "messagesDock", self.messages, bottom)
        self.runs_dock = self._dock("Runs", "runsDock", self.runs_panel, bottom)
        self.splitDockWidget(self.monitor_dock, self.results_dock, Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.monitor_dock, self.messages_dock)
        self.tabifyDockWidget(self.results_dock, self.runs_dock)
        self.monitor_dock.raise_()
        self.results_dock.raise_()
        # The Nodes list just fits its longest names ("BatchNormalization"); the Properties panel
        # fits the Network Learner's settings with its longest choices; the rest is the canvas's.
        self.resizeDocks([self.repository_dock, self.properties_dock], [210, 470], Qt.Orientation.Horizontal)
        # Tall enough for the Scorer's view with a row of a confusion cell's images.
        self.resizeDocks([self.monitor_dock], [RESULTS_HEIGHT], Qt.Orientation.Vertical)
        self.resizeDocks([self.monitor_dock, self.results_dock], [600, 750], Qt.Orientation.Horizontal)

    @staticmethod
    def _monitor_placeholder(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("placeholder")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    def ensure_monitor(self) -> QWidget:
        """Build the training monitor if it was deferred; returns it."""
        if isinstance(self.monitor, QLabel) and self._defer_monitor:
            self._defer_monitor = False
            self.monitor = self._create_monitor()
            self.monitor_dock.setWidget(self.monitor)
        return self.monitor

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._defer_monitor:
            QTimer.singleShot(150, self.ensure_monitor)  # after the first paint

    def _create_monitor(self) -> QWidget:
        try:
            from .monitor import TrainingMonitor
        except ImportError as exc:  # the monitor is optional for editing
            log.warning("training monitor unavailable: %s", exc)
            return self._monitor_placeholder("The training monitor is not available in this installation.")

        def describe(node_id: str) -> str:
            item = self.document.workflow.nodes.get(node_id)
            return item.label if item is not None else node_id

        monitor = TrainingMonitor(self, describe_node=describe)
        monitor.stop_requested.connect(lambda: self.runner.request_stop())  # the runner comes after the docks
        monitor.live_button.clicked.connect(lambda: self.runs_panel.forget_colors())
        return monitor

    def _build_menus(self) -> None:
        a = self.act
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([a["new"], a["open"]])
        file_menu.addMenu(self.files.recent_menu)
        file_menu.addAction(a["import_model"])
        file_menu.addSeparator()
        file_menu.addActions([a["save"], a["save_as"]])
        self.script_export = ScriptExport(self)  # File > Export > Python script...
        file_menu.addMenu(self.script_export.menu)
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([a["undo"], a["redo"]])
        edit_menu.addSeparator()
        edit_menu.addActions([a["cut"], a["copy"], a["paste"], a["delete"]])
        edit_menu.addSeparator()
        edit_menu.addAction(a["select_all"])
        edit_menu.addAction(a["arrange"])
        edit_menu.addSeparator()
        edit_menu.addActions([a["collapse_block"], a["expand_block"], a["open_block"], a["save_block"]])
        run_menu = bar.addMenu("&Run")
        run_menu.addActions([a["execute_all"], a["execute_selected"], a["cancel"]])
        run_menu.addSeparator()
        run_menu.addAction(a["sweep"])
        run_menu.addSeparator()
        run_menu.addActions([a["reset"], a["open_view"]])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(a["fit"])
        view_menu.addSeparator()
        for dock in (self.repository_dock, self.properties_dock, self.messages_dock, self.monitor_dock,
                     self.results_dock, self.runs_dock):
            view_menu.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["about"])

    def _build_toolbar(self) -> None:
        a = self.act
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(24, 24))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for group in (("new", "open", "save"), ("undo", "redo"), ("cut", "copy", "paste", "delete"),
                      ("execute_all", "execute_selected", "cancel", "reset"), ("arrange", "fit")):
            for name in group:
                bar.addAction(a[name])
            bar.addSeparator()
        for name in ("execute_all", "execute_selected", "cancel", "reset"):
            button = bar.widgetForAction(a[name])
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(True)
        self.summary_label = QLabel("")
        status.addPermanentWidget(self.runs.label)
        status.addPermanentWidget(self.summary_label)

    def _build_blocked_shortcuts(self) -> None:
        """Stand-ins for the edit shortcuts while the workflow executes.

        Edits are disabled then (greyed in the menus), and the shortcut of a disabled action does
        nothing at all: Del looked broken. These take the same keys only while executing and say
        why nothing happens, as the document does for edits made with the mouse."""
        self._blocked: list[tuple[str, QShortcut]] = []
        for name in ("cut", "delete", "paste", "undo", "redo", "reset", "new", "open"):
            for sequence in self.act[name].shortcuts():
                shortcut = QShortcut(sequence, self)
                shortcut.setEnabled(False)
                shortcut.activated.connect(lambda n=name: self._explain_blocked(n))
                self._blocked.append((name, shortcut))

    def _explain_blocked(self, name: str) -> None:
        text = ("The workflow is executing: cancel it (Esc) before opening another workflow"
                if name in ("new", "open") else LOCKED_MESSAGE)
        self.statusBar().showMessage(text, 10_000)

    def _connect(self) -> None:
        a, doc, files, runs = self.act, self.document, self.files, self.runs
        handlers = {
            "new": files.new_file, "open": files.open_dialog, "save": files.save, "save_as": files.save_as,
            "quit": self.close, "undo": doc.undo, "redo": doc.redo, "cut": self.cut, "copy": self.copy,
            "paste": self.paste, "delete": self.delete_selected, "select_all": self.canvas.select_all,
            "execute_all": runs.execute_all, "execute_selected": runs.execute_selected,
            "cancel": runs.cancel, "reset": runs.reset, "fit": self.canvas.fit, "arrange": self.arrange,
            "open_view": self.open_selected_view, "about": self.about,
            "collapse_block": self.collapse_selection, "expand_block": self.expand_selected_block,
            "open_block": self.open_selected_block, "save_block": self.save_selected_block,
            "sweep": self.open_sweep, "import_model": self.model_import.run,
        }
        for name, handler in handlers.items():
            a[name].triggered.connect(lambda _checked=False, h=handler: h())
        doc.undo_stack.cleanChanged.connect(self._update_title)
        doc.undo_stack.indexChanged.connect(self._update_actions)
        doc.path_changed.connect(self._update_title)
        doc.changed.connect(self._update_summary)
        doc.workflow_replaced.connect(self._update_summary)
        doc.locked_changed.connect(self._update_actions)
        doc.refused.connect(self._refused)
        doc.core_event.connect(self._on_event)
        self.canvas.selection_changed.connect(self._selection_changed)
        self.canvas.node_activated.connect(self._node_activated)
        self.canvas.library_block_dropped.connect(lambda key, x, y: self.add_library_block(key, (x, y)))
        self.repository.block_activated.connect(
            lambda key: self.add_library_block(key, self.canvas.free_position()))
        self.canvas.file_dropped.connect(files.open_file_checked)
        self.canvas.status_message.connect(lambda text: self.statusBar().showMessage(text, 8_000))
        self.repository.activated.connect(self.add_node_at_center)
        self.messages.node_clicked.connect(self.reveal_node)
        self.messages.counts_changed.connect(self._message_counts)
        self.results.status.connect(self.show_status)
        runs.finished.connect(self._run_finished)
        self.runner.runs_recorded.connect(self.runs_panel.runs_recorded)
        runs.worker_lost.connect(self._worker_lost)

    # -- window state -----------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8_000)

    def _refused(self, text: str, _node_id: str) -> None:
        self.statusBar().showMessage(text, 10_000)
        if not self.document.locked:
            self.messages_dock.raise_()

    def reveal_node(self, node_id: str) -> None:
        """Select a node and scroll the canvas to it (from the messages panel)."""
        self.canvas.select([node_id], center=True)

    def _update_title(self, *_args: Any) -> None:
        self.setWindowTitle(f"{self.document.title}[*] — NeuroFlow")
        self.setWindowModified(self.document.modified)

    def _update_actions(self, *_args: Any) -> None:
        a, doc = self.act, self.document
        locked = doc.locked
        selected = bool(self.canvas.selected_ids())
        a["undo"].setEnabled(doc.undo_stack.canUndo() and not locked)
        a["redo"].setEnabled(doc.undo_stack.canRedo() and not locked)
        undo_text, redo_text = doc.undo_stack.undoText(), doc.undo_stack.redoText()
        a["undo"].setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        a["redo"].setText(f"&Redo {redo_text}" if redo_text else "&Redo")
        for name in ("new", "open", "import_model"):
            a[name].setEnabled(not locked)
        self.files.recent_menu.setEnabled(not locked)
        for name in ("cut", "delete"):
            a[name].setEnabled(selected and not locked)
        a["copy"].setEnabled(selected)
        a["open_view"].setEnabled(selected)
        a["paste"].setEnabled(not locked)
        a["execute_all"].setEnabled(not locked)
        a["execute_selected"].setEnabled(selected and not locked)
        a["cancel"].setEnabled(locked)
        a["reset"].setEnabled(not locked)
        # What the key would do if the workflow were not executing: only then explain.
        possible = {"cut": selected, "delete": selected, "undo": doc.undo_stack.canUndo(),
                    "redo": doc.undo_stack.canRedo()}
        for name, shortcut in self._blocked:
            shortcut.setEnabled(locked and possible.get(name, True))
        block = blocks.single_block(doc, self.canvas.selected_ids())
        a["collapse_block"].setEnabled(selected and not locked)
        for name in ("expand_block", "open_block"):
            a[name].setEnabled(block is not None and not locked)
        a["save_block"].setEnabled(block is not None)

    def _update_summary(self) -> None:
        nodes = self.document.workflow.nodes.values()
        total = len(nodes)
        executed = sum(item.state is NodeState.EXECUTED for item in nodes)
        failed = sum(item.state is NodeState.FAILED for item in nodes)
        text = f"{total} node{'s' if total != 1 else ''} · {executed} executed"
        if failed:
            text += f" · {failed} failed"
        self.summary_label.setText(text)

    def _message_counts(self, errors: int, warnings: int) -> None:
        parts = []
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        self.messages_dock.setWindowTitle("Messages" + (f" — {', '.join(parts)}" if parts else ""))

    def _selection_changed(self, node_ids: list[str]) -> None:
        self.properties.show_selection(node_ids)
        self._update_actions()

    def _restore_layout(self) -> None:
        if self.settings.value("layout_version", 0, type=int) != LAYOUT_VERSION:
            return
        geometry = self.settings.value("geometry")
        state = self.settings.value("window_state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, LAYOUT_VERSION)

    def _save_layout(self) -> None:
        self.settings.setValue("layout_version", LAYOUT_VERSION)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(LAYOUT_VERSION))

    # -- the window's file and run commands (the app, tools and tests drive the editor by them) --
    def new_file(self) -> None:
        self.files.new_file()

    def open_file(self, path: str | Path) -> bool:
        """Open a workflow without asking (see :meth:`FileFlow.open_file`)."""
        return self.files.open_file(path)

    def open_file_checked(self, path: str) -> None:
        self.files.open_file_checked(path)

    def recent_files(self) -> list[str]:
        return self.files.recent_files()

    def execute_all(self) -> bool:
        return self.runs.execute_all()

    def cancel_run(self) -> None:
        self.runs.cancel()

    # -- editing ----------------------------------------------------------------------------------
    def add_node_at_center(self, type_id: str) -> str | None:
        node_id = self.document.add_node(type_id, self.canvas.free_position())
        if node_id:
            self.canvas.select([node_id])
        return node_id

    def delete_selected(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self.document.remove_nodes(ids)

    def copy(self) -> None:
        ids = self.canvas.selected_ids()
        if not ids:
            return
        text = self.document.copy(ids)
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.statusBar().showMessage(f"Copied {len(ids)} node{'s' if len(ids) != 1 else ''}", 4_000)

    def cut(self) -> None:
        ids = self.canvas.selected_ids()
        if ids and not self.document.locked:
            self.copy()
            self.document.remove_nodes(ids)

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return
        if mime.hasFormat(CLIPBOARD_MIME):
            text = bytes(mime.data(CLIPBOARD_MIME).data()).decode("utf-8")
        elif mime.hasText() and '"neuroflow.workflow"' in mime.text():
            text = mime.text()
        else:
            self.statusBar().showMessage("The clipboard holds no NeuroFlow nodes", 5_000)
            return
        ids = self.document.paste(text, self._paste_offset(text))
        if ids:
            self.canvas.select(ids)

    def arrange(self) -> bool:
        """Lay out the selected nodes (two or more) or the whole workflow, as one undoable step,
        then fit the view. Moving is layout only, so it is allowed while a run goes on."""
        selected = self.canvas.selected_ids()
        ids = selected if len(selected) >= 2 else list(self.document.workflow.nodes)
        if not ids:
            self.statusBar().showMessage("Nothing to arrange: the workflow is empty", 5_000)
            return False
        positions = arrange_workflow(self.document.workflow, ids, self.canvas.node_sizes(ids))
        moved = self.document.move_nodes(positions, verb="Arrange")
        self.canvas.fit()
        what = f"the {len(ids)} selected nodes" if len(selected) >= 2 else "the workflow"
        self.statusBar().showMessage(f"Arranged {what}" if moved else f"{what[0].upper()}{what[1:]} is arranged already",
                                     5_000)
        return moved

    def _paste_offset(self, text: str) -> tuple[float, float]:
        """How far the copied nodes move: to the pointer, else to a free place (see placement)."""
        positions = copied_positions(text)
        if not positions:
            return (40.0, 40.0)
        width, height = DEFAULT_NODE_SIZE
        boxes = []
        for node_id, (x, y) in positions.items():
            shown = self.canvas.node_view(node_id) if node_id in self.document.workflow.nodes else None
            size = shown.boundingRect().size() if shown is not None else None
            boxes.append(QRectF(x, y, size.width() if size else width, size.height() if size else height))
        group = group_rect(boxes)
        viewer = self.canvas.viewer
        pointer = viewer.viewport().mapFromGlobal(QCursor.pos())
        if viewer.isVisible() and viewer.viewport().rect().contains(pointer):
            target = viewer.mapToScene(pointer)
        else:
            taken = [self.canvas.node_view(n).sceneBoundingRect() for n in self.document.workflow.nodes]
            target = free_place(group, taken)
        return (target.x() - group.left(), target.y() - group.top())

    # -- blocks -----------------------------------------------------------------------------------
    def collapse_selection(self) -> str | None:
        block_id = blocks.collapse_to_block(self.document, self.canvas.selected_ids())
        if block_id:
            self.canvas.select([block_id])
        return block_id

    def expand_selected_block(self) -> list[str]:
        block_id = blocks.single_block(self.document, self.canvas.selected_ids())
        if block_id is None:
            self.statusBar().showMessage("Select one block to expand", 5_000)
            return []
        ids = blocks.expand_block(self.document, block_id)
        if ids:
            self.canvas.select(ids)
        return ids

    def open_selected_block(self) -> None:
        block_id = blocks.single_block(self.document, self.canvas.selected_ids())
        if block_id is not None:
            self.open_block(block_id)

    def open_block(self, block_id: str) -> blocks.BlockEditor | None:
        if self.document.locked:
            self.statusBar().showMessage(LOCKED_MESSAGE, 5_000)
            return None
        editor = blocks.BlockEditor(self.document, block_id, self)
        editor.setModal(True)
        editor.open()
        return editor

    def save_selected_block(self) -> None:
        block_id = blocks.single_block(self.document, self.canvas.selected_ids())
        if block_id is None:
            return
        path = blocks.save_to_library(self.document, block_id)
        if path is not None:
            self.repository.refresh_library()
            self.statusBar().showMessage(f"Saved to the block library as {path.name}", 6_000)

    def add_library_block(self, key: str, position: tuple[float, float]) -> str | None:
        block_id = blocks.add_library_block(self.document, key, position)
        if block_id:
            self.canvas.select([block_id])
        return block_id

    def _node_activated(self, node_id: str) -> None:
        """Double-click: a block opens to its inside, other nodes to their result view."""
        if blocks.single_block(self.document, [node_id]) is not None:
            self.open_block(node_id)
        else:
            self.open_view(node_id)

    # -- the end of a run ----------------------------------------------------------------------
    def _run_finished(self, result: object) -> None:
        if isinstance(result, RunResult):  # None after an internal error
            self.results.refresh_executed(result.executed)
        # No full canvas sync here: every state change of the run has already redrawn its node.
        self._update_summary()
        self._update_actions()

    def _worker_lost(self) -> None:
        self.canvas.sync()
        self._update_summary()

    def _on_event(self, event: object) -> None:
        """Training events feed the monitor (brought to the front when training starts)."""
        monitor = self.ensure_monitor()
        if hasattr(monitor, "handle_event"):
            monitor.handle_event(event)
        if isinstance(event, NodeStateChanged):
            self._update_summary()
        elif isinstance(event, TrainingStarted):
            self.runs_panel.forget_colors()  # the monitor shows the new training, not the compared runs
            self.monitor_dock.raise_()

    # -- runs ---------------------------------------------------------------------------------------
    def show_runs(self, runs: list[tuple[str, Any]]) -> list[str]:
        """Draw recorded runs' curves in the training monitor (raised); ``[]`` ends the comparison.
        Returns each run's colour (the Runs panel marks its rows with them)."""
        monitor = self.ensure_monitor()
        if not hasattr(monitor, "show_runs"):
            return []
        colors = monitor.show_runs(runs)
        if runs:
            self.monitor_dock.show()
            self.monitor_dock.raise_()
        return colors

    # -- results ----------------------------------------------------------------------------------
    def open_view(self, node_id: str) -> QWidget | None:
        view = self.results.open_for(node_id)
        if view is not None:
            self.results_dock.show()
            self.results_dock.raise_()
            if self.results_dock.height() < RESULTS_HEIGHT and not self.results_dock.isFloating():
                # A view needs room: give back the default height if the dock was made smaller.
                wanted = min(RESULTS_HEIGHT, self.height() // 2)
                self.resizeDocks([self.results_dock], [wanted], Qt.Orientation.Vertical)
                # The size given is the tab group's: its tab bar (Results | Runs) takes its share.
                short = wanted - self.results_dock.height()
                if 0 < short < wanted // 4:
                    self.resizeDocks([self.results_dock], [wanted + short], Qt.Orientation.Vertical)
        return view

    def open_selected_view(self) -> None:
        ids = self.canvas.selected_ids()
        if ids:
            self.open_view(ids[0])

    # -- parameter sweeps --------------------------------------------------------------------------
    def open_sweep(self, learner_id: str | None = None, **options: Any) -> QWidget | None:
        """The Sweep dialog of the selected Network Learner (or the workflow's only one); one per
        learner, raised again when it is open already. ``options`` go to the dialog (tests)."""
        from . import sweep_params
        from .sweep_dialog import SweepDialog  # pyqtgraph: only when a sweep is wanted

        learners = sweep_params.learners(self.document.workflow)
        if learner_id is None:
            selected = [nid for nid in self.canvas.selected_ids() if nid in learners]
            learner_id = selected[0] if len(selected) == 1 else learners[0] if len(learners) == 1 else None
        if learner_id is None:
            self.statusBar().showMessage(
                "Select the Network Learner to sweep" if learners else "A sweep needs a Network Learner", 6_000)
            return None
        dialog = self.sweep_dialogs.get(learner_id)
        if dialog is None or dialog.document.workflow is not self.document.workflow:
            if dialog is not None and not dialog.running:
                dialog.deleteLater()
            options.setdefault("save", self.files.save)
            options.setdefault("runs_dir", lambda: chosen_folder(self.settings))
            dialog = SweepDialog(self.document, learner_id, self, **options)
            # Every trial is a run in the history: the Runs panel shows each as it starts and ends.
            dialog.process.received.connect(
                lambda event: self.runs_panel.refresh() if event.get("event") == "trial" else None)
            self.sweep_dialogs[learner_id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def about(self) -> None:
        QMessageBox.about(
            self, "About NeuroFlow",
            "<h3>NeuroFlow</h3><p>A codeless deep-learning workbench: build, train and evaluate "
            "image classifiers by wiring nodes.</p><p>Drag nodes from the Nodes panel (or press Tab "
            "on the canvas), wire outputs to inputs of the same colour, then Execute (F5).</p>",
        )

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if not self.files.maybe_save():
            event.ignore()
            return
        self.runner.shutdown()  # a run in progress is abandoned; the execution process ends
        for dialog in self.findChildren(QWidget, "sweepDialog"):  # replaced dialogs' too
            shutdown = getattr(dialog, "shutdown", None)
            if shutdown is not None:
                shutdown()  # a sweep's process ends with the editor
        self._save_layout()
        super().closeEvent(event)
