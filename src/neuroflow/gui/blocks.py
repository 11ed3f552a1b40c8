"""Blocks in the editor: collapse, expand, add from the library, save to it, edit inside.

Every change is one undoable step of the document (:meth:`Document.replace_nodes`): collapsing
removes the selected layers and adds the block wired in their place, expanding does the reverse
with the layers placed where they sit inside the block, relative to it. Opening a block shows
its inside in a dialog with its own canvas, properties and undo history, on a copy: OK puts the
edited inside back as one step ("Edit block ..."), Cancel leaves the block as it was.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.block import (
    BlockInput,
    BlockNode,
    BlockOutput,
    block_registry,
    clone_graph,
)
from neuroflow.core.block_edits import plan_collapse, plan_expand
from neuroflow.core.block_library import make_block, save_user_block
from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.fileformat import graph_to_dict
from neuroflow.core.workflow import Workflow

from . import theme
from .commands import NodeRecord
from .document import Document


def _refuse(document: Document, message: str, node_id: str = "") -> None:
    document.refused.emit(message, node_id)


def collapse_to_block(document: Document, node_ids: list[str], label: str = "Block") -> str | None:
    """Replace the selected layer nodes by a block; its id, or ``None`` if refused."""
    block_id = document.fresh_ids(1)[0]
    try:
        plan = plan_collapse(document.workflow, node_ids, block_id)
    except NeuroFlowError as exc:
        _refuse(document, f"cannot collapse: {exc}")
        return None
    count = len(plan.removed)
    record = NodeRecord(block_id, plan.block, document.unique_label(label), plan.position)
    text = f"Collapse {count} node{'s' if count != 1 else ''} to a block"
    return block_id if document.replace_nodes(plan.removed, [record], plan.connections, text) else None


def expand_block(document: Document, block_id: str) -> list[str]:
    """Put a block's layers back in its place; their ids (empty if refused)."""
    item = document.workflow.nodes.get(block_id)
    if item is None or not isinstance(item.node, BlockNode):
        _refuse(document, "select one block to expand")
        return []
    try:
        plan = plan_expand(document.workflow, block_id, document.fresh_ids(2 * len(item.node.graph.nodes) + 1))
    except NeuroFlowError as exc:
        _refuse(document, f"cannot expand: {exc}")
        return []
    records = [NodeRecord(n.id, n.node, n.label, n.position) for n in plan.nodes]
    if not document.replace_nodes([block_id], records, plan.connections, f"Expand block {item.label}"):
        return []
    return [record.id for record in records]


def add_library_block(document: Document, key: str, position: tuple[float, float]) -> str | None:
    """Add a block from the library at ``position``; its id, or ``None`` if refused."""
    try:
        name, block = make_block(key, document.registry)
    except NeuroFlowError as exc:
        _refuse(document, f"cannot add the block: {exc}")
        return None
    block_id = document.fresh_ids(1)[0]
    record = NodeRecord(block_id, block, document.unique_label(name),
                        (round(float(position[0]), 1), round(float(position[1]), 1)))
    return block_id if document.replace_nodes([], [record], [], f"Add {record.label}") else None


def save_to_library(document: Document, block_id: str, folder: Path | None = None) -> Path | None:
    """Save a block as a user library block named after its label; the file, or ``None``."""
    item = document.workflow.nodes.get(block_id)
    if item is None or not isinstance(item.node, BlockNode):
        _refuse(document, "select one block to save to the library")
        return None
    try:
        return save_user_block(item.node, item.label, folder)
    except NeuroFlowError as exc:
        _refuse(document, str(exc), block_id)
        return None


def set_block_inside(document: Document, block_id: str, graph: Workflow) -> bool:
    """Give a block a new inside as one undoable step; wires to ports that remain stay."""
    item = document.workflow.nodes[block_id]
    old = item.node
    assert isinstance(old, BlockNode)
    if graph_to_dict(graph) == graph_to_dict(old.graph):
        return True
    block = BlockNode(graph=graph)
    ports = {port.name for port in block.inputs}
    wires = [c for c in document.workflow.connections if block_id in (c.source, c.target)
             and (c.source == block_id or c.target_port in ports)]
    record = NodeRecord(block_id, block, item.label, item.position)
    return document.replace_nodes([block_id], [record], wires, f"Edit block {item.label}")


def single_block(document: Document, node_ids: list[str]) -> str | None:
    """The block among ``node_ids`` when exactly one node is selected and it is a block."""
    if len(node_ids) != 1:
        return None
    item = document.workflow.nodes.get(node_ids[0])
    return node_ids[0] if item is not None and isinstance(item.node, BlockNode) else None


# -- the inside of a block ------------------------------------------------------------------------
class BlockEditor(QDialog):
    """A block's inside on its own canvas, with a properties panel, edited on a copy."""

    def __init__(self, document: Document, block_id: str, parent: QWidget | None = None) -> None:
        from .canvas import Canvas
        from .properties import PropertiesPanel

        super().__init__(parent)
        self.document = document
        self.block_id = block_id
        item = document.workflow.nodes[block_id]
        block = item.node
        assert isinstance(block, BlockNode)
        self.setWindowTitle(f"Block '{item.label}' — NeuroFlow")
        self.inner = Document(block_registry(document.registry), self)
        graph = clone_graph(block.graph)
        self._feed(graph)
        self.inner.replace_workflow(graph)
        self.canvas = Canvas(self.inner, self)
        self.properties = PropertiesPanel(self.inner, self)
        self.canvas.selection_changed.connect(self.properties.show_selection)
        self.status = QLabel("", self)
        self.status.setStyleSheet(f"color: {theme.ERROR};")
        self.inner.refused.connect(self._refused)

        intro = QLabel(
            f"Inside <b>{item.label}</b>: edit its layers and their settings as on the main canvas. "
            "The network enters through the block's inputs and leaves through its output. "
            "<b>OK</b> applies the changes as one step you can undo.", self)
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.canvas.widget)
        splitter.addWidget(self.properties)
        splitter.setStretchFactor(0, 3)
        splitter.setSizes([820, 320])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        for sequence, slot in ((QKeySequence.StandardKey.Undo, self.inner.undo),
                               (QKeySequence.StandardKey.Redo, self.inner.redo),
                               (QKeySequence.StandardKey.Delete, self._delete)):
            QShortcut(QKeySequence(sequence), self, slot)
        self.resize(1200, 720)
        self.canvas.fit()

    #: The block editor opens at a zoom its text can be read at; a long inside scrolls.
    READABLE_SCALE = 0.75

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        QTimer.singleShot(0, lambda: self.canvas.fit(self.READABLE_SCALE))

    def _feed(self, graph: Workflow) -> None:
        """Give the inside the networks reaching the block, so its shapes show while editing."""
        outer = self.document.workflow
        for port, connection in outer.incoming(self.block_id).items():
            marker = graph.nodes.get(port)
            if marker is not None and isinstance(marker.node, BlockInput):
                marker.node.feed = outer.nodes[connection.source].specs.get(connection.source_port)
        graph.configure()

    def _refused(self, text: str, _node_id: str) -> None:
        self.status.setText(text)

    def _delete(self) -> None:
        """Delete the selected nodes, but never the block's output."""
        ids = [nid for nid in self.canvas.selected_ids()
               if not isinstance(self.inner.workflow.nodes[nid].node, BlockOutput)]
        if ids:
            self.inner.remove_nodes(ids)

    def accept(self) -> None:
        graph = self.inner.workflow
        markers = [item for item in graph.nodes.values() if isinstance(item.node, BlockOutput)]
        if len(markers) != 1:
            self.status.setText(f"a block has exactly one {BlockOutput.name}; this one has {len(markers)}")
            return
        if set_block_inside(self.document, self.block_id, graph):
            super().accept()


def describe_inside(block: BlockNode) -> str:
    """One paragraph for the properties panel: which layers the block holds, in order."""
    names = [item.label for item in block.layers()]
    if not names:
        return "It holds no layers: its input goes straight to its output."
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return f"Layers inside ({len(names)}): {shown}. Double-click the block or use Edit > Open Block to edit them."
