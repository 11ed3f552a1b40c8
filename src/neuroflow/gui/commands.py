"""Undoable edits of the core workflow, one QUndoCommand per user action.

Every command changes the :class:`~neuroflow.core.workflow.Workflow` through its public methods
(so the graph invariants and the downstream reset hold) and restores the exact previous state on
undo - same node ids, same instances (hence the same settings), same order of nodes and
connections - so that save -> undo -> save gives the same file. ``apply`` runs once when the
user acts and may refuse by raising a :class:`~neuroflow.core.errors.NeuroFlowError` *before*
anything is pushed; it leaves the workflow unchanged when it raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QUndoCommand

from neuroflow.core.errors import ConnectionRefused
from neuroflow.core.node import MissingNode, Node
from neuroflow.core.workflow import Connection, Workflow


class EditCommand(QUndoCommand):
    """Base: ``apply``/``revert`` edit the workflow, then ``notify`` tells the document."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None], text: str) -> None:
        super().__init__(text)
        self.workflow = workflow
        self.notify = notify
        self._applied_already = False

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def apply_first(self) -> None:
        """Apply now (may raise); the first ``redo`` from ``QUndoStack.push`` then only notifies."""
        self.apply()
        self._applied_already = True

    def redo(self) -> None:
        if self._applied_already:
            self._applied_already = False
        else:
            self.apply()
        self.notify()

    def undo(self) -> None:
        self.revert()
        self.notify()


# -- helpers that restore exact positions in the workflow's containers ----------------------------
def insert_connection(workflow: Workflow, index: int, connection: Connection) -> None:
    """Put back a previously valid connection at its old place in the list."""
    workflow.connections.insert(min(index, len(workflow.connections)), connection)
    workflow.reset(connection.target)


def restore_node_order(workflow: Workflow, order: list[str]) -> None:
    """Reorder ``workflow.nodes`` so ids listed in ``order`` come in that order."""
    known = [nid for nid in order if nid in workflow.nodes]
    rest = [nid for nid in workflow.nodes if nid not in set(known)]
    workflow.nodes = {nid: workflow.nodes[nid] for nid in known + rest}


def connect_any(workflow: Workflow, connection: Connection) -> None:
    """Connect, keeping the wiring of a missing node (whose ports are unknown) as loading does."""
    c = connection
    try:
        workflow.connect(c.source, c.source_port, c.target, c.target_port)
    except ConnectionRefused:
        ends = (workflow.nodes.get(c.source), workflow.nodes.get(c.target))
        if any(item is not None and isinstance(item.node, MissingNode) for item in ends):
            workflow.connections.append(c)
            return
        raise


@dataclass
class NodeRecord:
    """Everything needed to put a node back exactly as it was."""

    id: str
    node: Node
    label: str
    position: tuple[float, float]


# -- the commands ---------------------------------------------------------------------------------
class AddNodes(EditCommand):
    """Add nodes (one from the repository, or several pasted) and the wires among them."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None], records: list[NodeRecord],
                 connections: list[Connection], text: str) -> None:
        super().__init__(workflow, notify, text)
        self.records = records
        self.connections = connections

    def apply(self) -> None:
        workflow = self.workflow
        added: list[str] = []
        try:
            with workflow.bulk_edit():
                for record in self.records:
                    workflow.add_node(record.node, label=record.label, node_id=record.id,
                                      position=record.position)
                    added.append(record.id)
                for connection in self.connections:
                    connect_any(workflow, connection)
        except Exception:
            with workflow.bulk_edit():
                for node_id in reversed(added):
                    workflow.remove_node(node_id)
            raise

    def revert(self) -> None:
        with self.workflow.bulk_edit():
            for record in reversed(self.records):
                self.workflow.remove_node(record.id)


class RemoveNodes(EditCommand):
    """Delete nodes with their wires; undo restores ids, settings, order and wiring."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None], node_ids: list[str], text: str) -> None:
        super().__init__(workflow, notify, text)
        wanted = set(node_ids)
        self.order = list(workflow.nodes)
        self.records = [
            NodeRecord(nid, item.node, item.label, item.position)
            for nid, item in workflow.nodes.items()
            if nid in wanted
        ]
        self.wires = [(i, c) for i, c in enumerate(workflow.connections) if {c.source, c.target} & wanted]

    def apply(self) -> None:
        with self.workflow.bulk_edit():
            for record in self.records:
                self.workflow.remove_node(record.id)

    def revert(self) -> None:
        workflow = self.workflow
        with workflow.bulk_edit():
            for record in self.records:
                workflow.add_node(record.node, label=record.label, node_id=record.id, position=record.position)
            restore_node_order(workflow, self.order)
            for index, connection in self.wires:
                insert_connection(workflow, index, connection)


class Rewire(EditCommand):
    """Remove some wires and add others as one step (dragging a wire end to another port)."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None], remove: list[Connection],
                 add: list[Connection], text: str) -> None:
        super().__init__(workflow, notify, text)
        self.remove = [c for c in remove if c in workflow.connections]
        self.add = add
        self.removed_at: list[tuple[int, Connection]] = []

    def apply(self) -> None:
        workflow = self.workflow
        self.removed_at = sorted((workflow.connections.index(c), c) for c in self.remove)
        added: list[Connection] = []
        with workflow.bulk_edit():
            for connection in self.remove:
                workflow.disconnect(connection)
            try:
                for connection in self.add:
                    c = connection
                    workflow.connect(c.source, c.source_port, c.target, c.target_port)
                    added.append(connection)
            except Exception:
                for connection in reversed(added):
                    workflow.disconnect(connection)
                for index, connection in self.removed_at:
                    insert_connection(workflow, index, connection)
                raise

    def revert(self) -> None:
        workflow = self.workflow
        with workflow.bulk_edit():
            for connection in reversed(self.add):
                workflow.disconnect(connection)
            for index, connection in self.removed_at:
                insert_connection(workflow, index, connection)


class SetSetting(EditCommand):
    """Change one setting; quick successive changes of the same setting merge into one step.

    Spin boxes report every intermediate value while the user types or holds an arrow key;
    merging the changes made within :attr:`MERGE_SECONDS` keeps the history readable.
    """

    MERGE_ID = 4711
    MERGE_SECONDS = 2.0

    def __init__(self, workflow: Workflow, notify: Callable[[], None], node_id: str, name: str,
                 value: Any, text: str) -> None:
        super().__init__(workflow, notify, text)
        self.node_id = node_id
        self.name = name
        self.old = workflow.nodes[node_id].node.settings[name]
        self.new = value
        self.stamp = time.monotonic()

    def apply(self) -> None:
        self.workflow.set_setting(self.node_id, self.name, self.new)
        self.new = self.workflow.nodes[self.node_id].node.settings[self.name]

    def revert(self) -> None:
        self.workflow.set_setting(self.node_id, self.name, self.old)

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSetting) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        if other.stamp - self.stamp > self.MERGE_SECONDS:
            return False
        self.new = other.new
        self.stamp = other.stamp
        if self.new == self.old:
            self.setObsolete(True)
        return True


class SetLabel(EditCommand):
    def __init__(self, workflow: Workflow, notify: Callable[[], None], node_id: str, label: str) -> None:
        old = workflow.nodes[node_id].label
        super().__init__(workflow, notify, f"Rename '{old}' to '{label}'")
        self.node_id, self.old, self.new = node_id, old, label

    def apply(self) -> None:
        self.workflow.set_label(self.node_id, self.new)

    def revert(self) -> None:
        self.workflow.set_label(self.node_id, self.old)


class MoveNodes(EditCommand):
    """Positions only: moving never resets a node (layout is not semantics)."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None],
                 moves: dict[str, tuple[tuple[float, float], tuple[float, float]]], verb: str = "Move") -> None:
        count = len(moves)
        super().__init__(workflow, notify, f"{verb} {count} node{'s' if count != 1 else ''}")
        self.moves = moves

    def apply(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.workflow.nodes[node_id].position = new

    def revert(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.workflow.nodes[node_id].position = old


class ReplaceNodes(EditCommand):
    """Remove some nodes and add others with their wires as one step: collapsing layers into a
    block, expanding it, or giving a block a new inside. Undo restores the removed nodes (same
    instances, ids, order and wires) exactly as :class:`RemoveNodes` does."""

    def __init__(self, workflow: Workflow, notify: Callable[[], None], remove: list[str],
                 records: list[NodeRecord], connections: list[Connection], text: str) -> None:
        super().__init__(workflow, notify, text)
        self.removing = RemoveNodes(workflow, notify, remove, text)
        self.adding = AddNodes(workflow, notify, records, connections, text)

    def apply(self) -> None:
        self.removing.apply()
        try:
            self.adding.apply()
        except Exception:
            self.removing.revert()
            raise

    def revert(self) -> None:
        self.adding.revert()
        self.removing.revert()
