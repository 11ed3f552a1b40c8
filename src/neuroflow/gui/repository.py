"""The node repository: every installed node type by category, searchable, draggable.

The search matches every word typed against a node's name, description, keywords and category,
so "fully connected" finds Dense and "pool" finds both poolings. Drag a node onto the canvas, or
double-click it (or press Enter) to place it in the middle of the view. The box under the list
describes the highlighted node, so a student can read what a node does before using it.
The Blocks group also lists the block library (:mod:`neuroflow.core.block_library`): the
built-in blocks and the user's saved ones, placed the same ways.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.block import BlockNode
from neuroflow.core.block_library import LibraryBlock, library
from neuroflow.core.node import Node
from neuroflow.core.registry import Registry

from . import theme
from .mime import encode_library_block, encode_node_type

log = logging.getLogger(__name__)

TYPE_ROLE = Qt.ItemDataRole.UserRole
#: Lines of description shown under the list (a longer one scrolls).
INFO_LINES = 9
#: The library key of a block-library row (those rows have no node type).
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 1


def matches(node_type: type[Node], query: str) -> bool:
    """True when every word of ``query`` occurs in the node's name, description or keywords."""
    words = query.lower().split()
    if not words:
        return True
    haystack = " ".join(
        [node_type.name, node_type.description, node_type.category, node_type.type_id, *node_type.keywords]
    ).lower()
    return all(word in haystack for word in words)


def rank(node_type: type[Node], query: str) -> int:
    """How well ``query`` names the node (lower is better): name first, then keywords."""
    text = query.lower().strip()
    name = node_type.name.lower()
    if name == text:
        return 0
    if name.startswith(text):
        return 1
    if text in name:
        return 2
    if any(text in keyword.lower() for keyword in node_type.keywords):
        return 3
    return 4


def _dot(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _NodeTree(QTreeWidget):
    """A tree whose node rows drag out as node-type payloads for the canvas."""

    def mimeData(self, items: Iterable[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 (Qt API)
        for item in items:
            key = item.data(0, BLOCK_ROLE)
            if key:
                return encode_library_block(key)
            type_id = item.data(0, TYPE_ROLE)
            if type_id:
                return encode_node_type(type_id)
        return QMimeData()

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt API)
        from .mime import NODE_TYPE_MIME

        return [NODE_TYPE_MIME]


class NodeRepository(QWidget):
    """Search field, category tree and a description of the highlighted node type."""

    #: The user asked to add a node of this type id (double-click or Enter).
    activated = Signal(str)
    #: The user asked to add a block of the block library (its key).
    block_activated = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.library: dict[str, LibraryBlock] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Matches names, descriptions and keywords, e.g. 'pool' or 'fully connected'")
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree = _NodeTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._activated)
        self.tree.currentItemChanged.connect(self._describe)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setObjectName("muted")
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setText("Drag a node onto the canvas, or double-click it.")
        # A fixed height, scrolling when a description is longer: a label that grew with its text
        # shrank the list above it each time another node was highlighted.
        self.info_area = QScrollArea(self)
        self.info_area.setWidget(self.info)
        self.info_area.setWidgetResizable(True)
        self.info_area.setFrameShape(QFrame.Shape.NoFrame)
        self.info_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.info_area.setFixedHeight(self.info.fontMetrics().lineSpacing() * INFO_LINES + 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.info_area)
        self._populate()

    def _populate(self) -> None:
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        categories = self.registry.categories()
        # the block library comes last: it builds on the layers listed above it
        blocks_last = sorted(categories.items(), key=lambda pair: pair[0] == BlockNode.category)
        for category, node_types in blocks_last:
            group = QTreeWidgetItem(self.tree, [category])
            group.setFont(0, bold)
            group.setIcon(0, _dot(theme.category_color(category)))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for node_type in node_types:
                child = QTreeWidgetItem(group, [node_type.name])
                child.setData(0, TYPE_ROLE, node_type.type_id)
                child.setToolTip(0, f"<qt><b>{node_type.name}</b><br/>{node_type.description}</qt>")
                child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                               | Qt.ItemFlag.ItemIsDragEnabled)
            group.setExpanded(True)
        self.refresh_library()

    def refresh_library(self) -> None:
        """(Re)list the block library under Blocks: built-ins, then the user's saved blocks."""
        group = next((g for g in self._groups() if g.text(0) == BlockNode.category), None)
        if group is None:
            group = QTreeWidgetItem(self.tree, [BlockNode.category])
            bold = QFont(self.tree.font())
            bold.setBold(True)
            group.setFont(0, bold)
            group.setIcon(0, _dot(theme.category_color(BlockNode.category)))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setExpanded(True)
        for index in reversed(range(group.childCount())):
            child = group.child(index)
            if child is not None and child.data(0, BLOCK_ROLE):
                group.removeChild(child)
        entries, problems = library(self.registry)
        for problem in problems:
            log.warning(problem)
        self.library = {entry.key: entry for entry in entries}
        for entry in entries:
            child = QTreeWidgetItem(group, [entry.name])
            child.setData(0, BLOCK_ROLE, entry.key)
            child.setToolTip(0, f"<qt><b>{entry.name}</b><br/>{entry.description}</qt>")
            child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.filter(self.search.text())

    # -- search -------------------------------------------------------------------------------
    def _groups(self) -> list[QTreeWidgetItem]:
        groups = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [group for group in groups if group is not None]

    def filter(self, query: str) -> None:
        for group in self._groups():
            shown = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                if child is None:
                    continue
                entry = self.library.get(child.data(0, BLOCK_ROLE) or "")
                if entry is not None:
                    text = f"{entry.name} {entry.description} block".lower()
                    visible = all(word in text for word in query.lower().split())
                else:
                    node_type = self.registry.get(child.data(0, TYPE_ROLE))
                    visible = node_type is not None and matches(node_type, query)
                child.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)
            if query:
                group.setExpanded(True)

    def visible_types(self) -> list[str]:
        found = []
        for group in self._groups():
            if group.isHidden():
                continue
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                if child is not None and not child.isHidden() and child.data(0, TYPE_ROLE):
                    found.append(child.data(0, TYPE_ROLE))
        return found

    # -- activation ---------------------------------------------------------------------------
    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        key = item.data(0, BLOCK_ROLE)
        if key:
            self.block_activated.emit(key)
            return
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.activated.emit(type_id)

    def best_match(self) -> str | None:
        """The visible node type whose name fits the search best (what Enter adds)."""
        query = self.search.text()
        found = [t for t in (self.registry.get(i) for i in self.visible_types()) if t is not None]
        if not found:
            return None
        return min(found, key=lambda t: (rank(t, query), t.name)).type_id

    def _activate_first(self) -> None:
        best = self.best_match()
        if best:
            self.activated.emit(best)

    def _describe(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        entry = self.library.get(item.data(0, BLOCK_ROLE) or "") if item is not None else None
        if entry is not None:
            self.info.setText(f"<b>{entry.name}</b> (block)<br/>{entry.description}"
                              f"<br/><span style='color:{theme.SUBTLE}'>Double-click a block on the canvas "
                              "to edit its layers.</span>")
            return
        node_type = self.registry.get(item.data(0, TYPE_ROLE)) if item is not None else None
        if node_type is None:
            return
        ports_in = ", ".join(f"{p.title} ({p.type.label})" for p in node_type.inputs) or "none"
        ports_out = ", ".join(f"{p.title} ({p.type.label})" for p in node_type.outputs) or "none"
        self.info.setText(
            f"<b>{node_type.name}</b><br/>{node_type.description}"
            f"<br/><span style='color:{theme.SUBTLE}'>in: {ports_in} · out: {ports_out}</span>"
        )
