"""The properties panel: the selected node's name, description, state and settings form.

Edits go to the :class:`~neuroflow.gui.document.Document` (so they are undoable and reset the
node and its downstream). The panel follows the document: after an undo or redo it shows the
restored values; while the workflow executes the form is read-only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from neuroflow.core.block import BlockNode
from neuroflow.core.errors import SettingError
from neuroflow.core.events import NodeState, NodeStateChanged
from neuroflow.core.node import MissingNode
from neuroflow.core.workflow import WorkflowNode

from . import theme
from .blocks import describe_inside
from .document import Document
from .settings_form import SettingsForm


class PropertiesPanel(QScrollArea):
    """Shows one node; shows a hint when nothing or several nodes are selected.

    The content is always exactly as wide as the panel: it scrolls up and down, never sideways
    (tabbing to a field used to scroll the labels out of view). Labels wrap and long choices get
    a row of their own (see :mod:`~neuroflow.gui.settings_form`) so everything fits.
    """

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self._committing = False
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        self.viewport().installEventFilter(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)

        self.placeholder = QLabel("Select a node on the canvas to see and change its settings.", body)
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setMinimumHeight(120)
        layout.addWidget(self.placeholder)

        self.details = QWidget(body)
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(8)
        self.name_edit = QLineEdit(self.details)
        self.name_edit.setObjectName("nodeName")
        self.name_edit.setToolTip("The node's name on the canvas (Enter to apply)")
        font = self.name_edit.font()
        font.setPointSize(theme.BASE_POINT_SIZE + 3)
        font.setBold(True)
        self.name_edit.setFont(font)
        self.name_edit.editingFinished.connect(self._rename)
        self.kind = QLabel(self.details)
        self.kind.setObjectName("subheading")
        self.description = QLabel(self.details)
        self.description.setWordWrap(True)
        self.description.setObjectName("muted")
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = QLabel(self.details)
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_title = QLabel("Settings", self.details)
        self.settings_title.setObjectName("subheading")
        self.form = SettingsForm(self.details)
        self.form.edited.connect(self._edited)
        self.locked_note = QLabel("Settings are read-only while the workflow executes.", self.details)
        self.locked_note.setObjectName("muted")
        self.locked_note.setWordWrap(True)
        self.locked_note.hide()
        for widget in (self.name_edit, self.kind, self.description, self.state, self.settings_title,
                       self.form, self.locked_note):
            details.addWidget(widget)
        layout.addWidget(self.details)
        layout.addStretch(1)
        self.details.hide()

        document.changed.connect(self._document_changed)
        document.workflow_replaced.connect(self._replaced)
        document.locked_changed.connect(self._locked)
        document.core_event.connect(self._event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.viewport() and event.type() == QEvent.Type.Resize:
            body = self.widget()
            if body is not None and body.minimumWidth() != self.viewport().width():
                body.setFixedWidth(self.viewport().width())
        return super().eventFilter(watched, event)

    # -- what is shown ------------------------------------------------------------------------
    def show_selection(self, node_ids: list[str]) -> None:
        if len(node_ids) == 1:
            self.show_node(node_ids[0])
        else:
            self.show_node(None, count=len(node_ids))

    def show_node(self, node_id: str | None, count: int = 0) -> None:
        item = self.document.workflow.nodes.get(node_id) if node_id else None
        if item is None:
            self.node_id = None
            self.details.hide()
            self.placeholder.setText(
                f"{count} nodes selected. Select a single node to change its settings."
                if count > 1 else "Select a node on the canvas to see and change its settings."
            )
            self.placeholder.show()
            return
        rebuild = node_id != self.node_id
        self.node_id = node_id
        self.placeholder.hide()
        self.details.show()
        node = item.node
        if rebuild:
            self.form.base_folder = self.document.workflow.folder
            self.form.build(node.settings_spec, node.settings)
        self.settings_title.setVisible(bool(node.settings_spec))
        self._show_header(item)
        self._locked(self.document.locked)

    def _show_header(self, item: WorkflowNode) -> None:
        node = item.node
        if not self.name_edit.hasFocus():
            self.name_edit.setText(item.label)
        if isinstance(node, MissingNode):
            self.kind.setText(f"Missing node · {node.missing_type} · {item.id}")
            self.description.setText(
                "This node's type is not installed, so it cannot run. Its settings are kept and "
                "saved unchanged; install the plugin that provides it and reopen the file."
            )
        else:
            self.kind.setText(f"{node.name} · {node.category} · {item.id}")
            about = f"{node.description}\n\n{describe_inside(node)}" if isinstance(node, BlockNode) else node.description
            self.description.setText(about)
        self._show_state(item)

    def _show_state(self, item: WorkflowNode) -> None:
        text = theme.STATE_TEXT[item.state]
        if item.state is NodeState.FAILED:
            self.state.setObjectName("failure")
            self.state.setText(f"Failed: {item.message}")
        elif item.state is NodeState.NOT_CONFIGURED:
            self.state.setObjectName("problem")
            self.state.setText(item.message or text)
        else:
            self.state.setObjectName("muted")
            if item.state is NodeState.EXECUTED and item.seconds:
                text += f" in {item.seconds:.1f} s · double-click the node to see its results"
            self.state.setText(text)
        self.state.style().unpolish(self.state)
        self.state.style().polish(self.state)

    # -- following the document -----------------------------------------------------------------
    def _document_changed(self) -> None:
        item = self.document.workflow.nodes.get(self.node_id) if self.node_id else None
        if item is None:
            if self.node_id is not None:
                self.show_node(None)
            return
        self.form.refresh(item.node.settings, skip_focused=self._committing)
        self._show_header(item)

    def _event(self, event: Any) -> None:
        if isinstance(event, NodeStateChanged) and event.node_id == self.node_id:
            item = self.document.workflow.nodes.get(event.node_id)
            if item is not None:
                self._show_state(item)

    def _replaced(self) -> None:
        self.show_node(None)

    def _locked(self, locked: bool) -> None:
        self.form.setEnabled(not locked)
        self.name_edit.setReadOnly(locked)
        self.locked_note.setVisible(locked and self.node_id is not None)

    # -- edits ----------------------------------------------------------------------------------
    def _edited(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        self._committing = True
        try:
            self.document.set_setting(self.node_id, name, value)
        except SettingError as exc:
            self.form.show_error(name, exc.bare_message)
        finally:
            self._committing = False

    def _rename(self) -> None:
        if self.node_id is None or self.document.locked:
            return
        item = self.document.workflow.nodes.get(self.node_id)
        if item is not None and self.name_edit.text().strip() != item.label:
            if not self.document.set_label(self.node_id, self.name_edit.text()):
                self.name_edit.setText(item.label)
