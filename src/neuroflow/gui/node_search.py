"""Tab search on the canvas: type a few letters, press Enter, the node appears under the cursor.

A small popup (a line edit over a list) that ranks node types the way the repository does -
name matches first, then keywords, then descriptions - so "den" offers Dense and "pool" both
poolings. It is non-modal: it closes on Esc, on Enter after adding, or when clicking elsewhere.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from neuroflow.core.registry import Registry

from . import theme
from .repository import matches, rank

TYPE_ROLE = Qt.ItemDataRole.UserRole


class NodeSearchPopup(QFrame):
    """Emits ``chosen(type_id)`` when the user picks a node type."""

    chosen = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.registry = registry
        self.setObjectName("nodeSearch")
        self.setStyleSheet(
            f"#nodeSearch {{ background: {theme.WHITE}; border: 1px solid {theme.BORDER}; border-radius: 8px; }}"
            f"QListWidget {{ border: none; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add a node: type its name…")
        self.edit.textChanged.connect(self.refresh)
        self.edit.installEventFilter(self)
        self.list = QListWidget(self)
        self.list.itemActivated.connect(self._activated)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(300, 340)

    def open_at(self, global_pos: QPoint) -> None:
        self.edit.clear()
        self.refresh("")
        self.move(global_pos - QPoint(40, 16))
        self.show()
        self.edit.setFocus()

    def refresh(self, query: str) -> None:
        self.list.clear()
        found = [t for t in self.registry if matches(t, query)]
        found.sort(key=lambda t: (rank(t, query), t.category, t.name) if query.strip() else (t.category, t.name))
        for node_type in found:
            item = QListWidgetItem(f"{node_type.name}    ·  {node_type.category}")
            item.setData(TYPE_ROLE, node_type.type_id)
            item.setToolTip(node_type.description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        rows = min(max(self.list.count(), 1), 12)
        row_height = max(self.list.sizeHintForRow(0), 22) if self.list.count() else 22
        self.resize(self.width(), self.edit.sizeHint().height() + rows * row_height + 24)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Arrow keys move in the list while typing; Enter picks; Esc closes."""
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._activated(item)
                return True
            if key in (Qt.Key.Key_Escape, Qt.Key.Key_Tab):
                self.close()
                return True
        return super().eventFilter(watched, event)

    def _activated(self, item: QListWidgetItem) -> None:
        type_id = item.data(TYPE_ROLE)
        self.close()
        if type_id:
            self.chosen.emit(type_id)
