"""The messages panel: what is wrong, where, and a click away from the node it concerns.

Two kinds of rows. *Problems* are recomputed from the workflow after every change: failed
nodes (errors), nodes that cannot be configured (warnings; the "waiting for …" echoes of an
upstream problem are left out so the root cause stands out) and missing node types. The *log*
keeps recent events: refused edits (such as an incompatible connection), node warnings, plugin
problems and the outcome of each run. Clicking a row selects its node on the canvas.

A refused edit names its nodes the way the core names them, ``'Label' (id)``; when it comes
without a node (a refused connection), the row takes the node the text names - the target of
a connection (after ``->``) first. Messages wrap onto as many lines as they need, and the
tooltip holds the whole text.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.events import NodeState, NodeStateChanged, NodeWarning
from neuroflow.core.node import MissingNode

from . import theme
from .document import Document

LEVELS = ("error", "warning", "info")
_COLORS = {"error": theme.ERROR, "warning": "#f59e0b", "info": theme.ACCENT}
_GLYPHS = {"error": "!", "warning": "!", "info": "i"}
MAX_LOG = 200
MESSAGE_COLUMN = 2
#: A message wraps onto at most this many lines; the rest is elided (the tooltip has it all).
MAX_LINES = 6
NODE_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Message:
    level: str
    text: str
    node_id: str = ""
    stamp: float = 0.0


#: A node as the core's messages name it: ``'Label' (id)``.
_NODE_TITLE = re.compile(r"'[^\n]*?' \(([^()\s]+)\)")


def node_named_in(text: str, nodes: Mapping[str, Any]) -> str:
    """The id of the node a message is about: the connection's target, else the first named."""
    _, arrow, target = text.partition(" -> ")
    for part in ((target, text) if arrow else (text,)):
        for match in _NODE_TITLE.finditer(part):
            if match.group(1) in nodes:
                return match.group(1)
    return ""


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their message wrapped in the message column's width (Qt's tree sizes a
    row by its text on one line)."""

    def __init__(self, table: QTreeWidget) -> None:
        super().__init__(table)
        self.table = table

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        if index.column() != MESSAGE_COLUMN:
            return hint
        width = max(40, self.table.columnWidth(MESSAGE_COLUMN) - 24)  # less the cell's margins
        metrics = option.fontMetrics
        text = str(index.data() or "")
        height = metrics.boundingRect(0, 0, width, 100_000, Qt.TextFlag.TextWordWrap, text).height()
        lines = min(MAX_LINES, max(1, math.ceil(height / metrics.lineSpacing() - 0.25)))
        # Laid out lines are a little taller than the line spacing: count a pixel more per line.
        return QSize(hint.width(), hint.height() + (lines - 1) * (metrics.height() + 1))


@cache
def level_icon(level: str) -> QIcon:
    size = 32
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(_COLORS[level]))
    painter.drawEllipse(2, 2, size - 4, size - 4)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(20)
    painter.setFont(font)
    painter.setPen(QColor(theme.WHITE))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, _GLYPHS[level])
    painter.end()
    return QIcon(pixmap)


class MessagesPanel(QWidget):
    """A table of problems and recent events; ``node_clicked`` carries a row's node id."""

    node_clicked = Signal(str)
    #: Number of errors and warnings currently listed, for the dock title.
    counts_changed = Signal(int, int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.log: list[Message] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(3)
        self.table.setHeaderLabels(["", "Node", "Message"])
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(False)
        self.table.setWordWrap(True)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 30)
        self.table.setColumnWidth(1, 130)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setItemDelegate(_WrappingDelegate(self.table))
        # Row heights follow the message column's width (wrapped text), which the view does not
        # recompute by itself when the column is resized.
        header.sectionResized.connect(lambda *_args: self.table.doItemsLayout())
        self.table.itemClicked.connect(self._clicked)
        self.table.itemActivated.connect(self._clicked)
        layout.addWidget(self.table)
        document.changed.connect(self.refresh)
        document.workflow_replaced.connect(self._replaced)
        document.refused.connect(self._refused)
        document.core_event.connect(self._event)
        for problem in document.registry.problems:
            self.log.append(Message("warning", problem, "", time.time()))
        self.refresh()

    # -- content ------------------------------------------------------------------------------
    def add(self, level: str, text: str, node_id: str = "") -> None:
        """Log one message (newest first) and show it."""
        self.log.insert(0, Message(level, text, node_id, time.time()))
        del self.log[MAX_LOG:]
        self.refresh()

    def problems(self) -> list[Message]:
        found = []
        for node_id, item in self.document.workflow.nodes.items():
            if isinstance(item.node, MissingNode):
                found.append(Message("error", f"node type '{item.node.missing_type}' is not installed", node_id))
            elif item.state is NodeState.FAILED:
                found.append(Message("error", item.message or "failed", node_id))
            elif item.state is NodeState.NOT_CONFIGURED and not item.message.startswith("waiting for "):
                found.append(Message("warning", item.message or "not configured", node_id))
        return found

    def messages(self) -> list[Message]:
        """Everything listed, problems first."""
        return self.problems() + self.log

    def refresh(self) -> None:
        self.table.clear()
        nodes = self.document.workflow.nodes
        errors = warnings = 0
        for message in self.messages():
            item = nodes.get(message.node_id)
            where = item.label if item is not None else ("" if not message.node_id else message.node_id)
            row = QTreeWidgetItem(self.table, ["", where, message.text])
            row.setIcon(0, level_icon(message.level))
            row.setData(0, NODE_ROLE, message.node_id if item is not None else "")
            row.setToolTip(2, message.text)
            if item is not None:
                row.setToolTip(1, f"{item.label} ({item.id}) — click to select it")
            errors += message.level == "error"
            warnings += message.level == "warning"
        self.counts_changed.emit(errors, warnings)

    def _refused(self, text: str, node_id: str) -> None:
        self.add("warning", text, node_id or node_named_in(text, self.document.workflow.nodes))

    def _replaced(self) -> None:
        self.log = [m for m in self.log if not m.node_id]
        self.refresh()

    def _event(self, event: Any) -> None:
        if isinstance(event, NodeWarning):
            self.add("warning", event.message, event.node_id)
        elif isinstance(event, NodeStateChanged):
            self.refresh()

    def _clicked(self, row: QTreeWidgetItem, _column: int = 0) -> None:
        node_id = row.data(0, NODE_ROLE)
        if node_id:
            self.node_clicked.emit(node_id)
