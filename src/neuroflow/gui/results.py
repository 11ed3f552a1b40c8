"""The results panel: result views of executed nodes, one tab each, inside the main window.

Views come from :func:`neuroflow.gui.views.open_result_view` (imported when first needed, so the
editor starts without them). Opening a node's view again replaces its tab with fresh data. A tab
whose node was reset says so in its title ("outdated"); a tab whose node was deleted closes.
Tabs of nodes that execute again are refreshed when the run ends.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from neuroflow.core.events import NodeState

from .document import Document

log = logging.getLogger(__name__)
OUTDATED = " (outdated)"


class _KeepOpen(QObject):
    """Result views are dialogs; embedded in a tab, Esc must not hide them (it cancels runs)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return event.key() == Qt.Key.Key_Escape
        return False


class ResultsPanel(QWidget):
    """Tabs of result views; ``status`` reports why a view could not be opened."""

    status = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.tabs = QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.placeholder = QLabel(
            "Double-click an executed node (green light) to see its results here:\n"
            "images of a reader, the confusion matrix of a Scorer, predictions, training curves.",
            self,
        )
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.tabs)
        self.tabs.hide()
        self._node_of: dict[int, str] = {}  # id(tab page) -> node id
        self._views: dict[int, QWidget] = {}  # id(tab page) -> the view inside it
        self._keep_open = _KeepOpen(self)
        document.changed.connect(self._mark_outdated)
        document.workflow_replaced.connect(self.close_all)

    # -- tabs ---------------------------------------------------------------------------------
    def node_ids(self) -> list[str]:
        return [self._node_of.get(id(self.tabs.widget(i)), "") for i in range(self.tabs.count())]

    def current_view(self) -> QWidget | None:
        page = self.tabs.currentWidget()
        return self._views.get(id(page)) if page is not None else None

    def view_for(self, node_id: str) -> QWidget | None:
        index = self._index_of(node_id)
        return self._views.get(id(self.tabs.widget(index))) if index >= 0 else None

    def _index_of(self, node_id: str) -> int:
        for index in range(self.tabs.count()):
            if self._node_of.get(id(self.tabs.widget(index))) == node_id:
                return index
        return -1

    def open_for(self, node_id: str) -> QWidget | None:
        """Show the result view of an executed node (replacing an older tab for it)."""
        item = self.document.workflow.nodes.get(node_id)
        if item is None:
            return None
        if item.state is not NodeState.EXECUTED or item.outputs is None:
            self.status.emit(f"Execute '{item.label}' first to see its results")
            return None
        try:
            from .views import open_result_view
        except ImportError as exc:
            log.warning("result views are not available: %s", exc)
            self.status.emit("Result views are not available in this installation")
            return None
        try:
            view = open_result_view(item, self, self.document.workflow)
        except Exception as exc:  # a broken view must not take the editor down
            log.exception("result view of %s failed", node_id)
            self.status.emit(f"Cannot show the results of '{item.label}': {type(exc).__name__}: {exc}")
            return None
        if view is None:
            self.status.emit(f"'{item.label}' has no result view")
            return None
        view.setWindowFlags(Qt.WindowType.Widget)
        set_embedded = getattr(view, "set_embedded", None)
        if callable(set_embedded):  # the tab names the node; fit the dock rather than a window
            set_embedded(True)
        view.installEventFilter(self._keep_open)
        page = QScrollArea(self.tabs)
        page.setWidgetResizable(True)
        page.setFrameShape(QFrame.Shape.NoFrame)
        page.setWidget(view)
        old = self._index_of(node_id)
        title = item.label
        if old >= 0:
            self._drop(old)
            index = self.tabs.insertTab(old, page, title)
        else:
            index = self.tabs.addTab(page, title)
        self._node_of[id(page)] = node_id
        self._views[id(page)] = view
        self.tabs.setTabToolTip(index, f"{item.label} ({item.id})")
        self.tabs.setCurrentIndex(index)
        self._show_tabs()
        return view

    def _drop(self, index: int) -> None:
        widget = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if widget is not None:
            self._node_of.pop(id(widget), None)
            self._views.pop(id(widget), None)
            widget.deleteLater()

    def close_tab(self, index: int) -> None:
        self._drop(index)
        self._show_tabs()

    def close_all(self) -> None:
        while self.tabs.count():
            self._drop(0)
        self._show_tabs()

    def _show_tabs(self) -> None:
        has_tabs = self.tabs.count() > 0
        self.tabs.setVisible(has_tabs)
        self.placeholder.setVisible(not has_tabs)

    # -- following the workflow ---------------------------------------------------------------
    def _mark_outdated(self, *_args: Any) -> None:
        nodes = self.document.workflow.nodes
        for index in reversed(range(self.tabs.count())):
            node_id = self._node_of.get(id(self.tabs.widget(index)), "")
            item = nodes.get(node_id)
            if item is None:
                self._drop(index)
                continue
            fresh = item.state is NodeState.EXECUTED
            self.tabs.setTabText(index, item.label + ("" if fresh else OUTDATED))
        self._show_tabs()

    def refresh_executed(self, executed: list[str]) -> None:
        """After a run: reopen the tabs of nodes that executed again."""
        for node_id in self.node_ids():
            if node_id in executed:
                self.open_for(node_id)
        self._mark_outdated()
