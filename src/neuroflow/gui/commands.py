"""Undoable edits of the core workflow, one QUndoCommand per user action.

Every command changes the :class:`~neuroflow.core.workflow.Workflow` through its public methods
only (so the graph invariants, the downstream reset and the change events hold; nothing here
touches the workflow's containers) and restores the exact previous state on undo - same node
ids, same instances (hence the same settings), same order of nodes and connections, put back at
their old places with ``index`` - so that save -> undo -> save gives the same file. ``apply`` runs once when the
user acts and may refuse by raising a :class:`~neuroflow.core.errors.NeuroFlowError` *before*
anything is pushed; it leaves the workflow unchanged when it raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QUndoCommand

from neuroflow.core.node import Node
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
                for c in self.connections:
                    workflow.connect_any(c.source, c.source_port, c.target, c.target_port)
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
        #: (place in the node order, node) and (place in the connection order, wire), ascending,
        #: so that putting them back one by one at those places gives the old order exactly.
        self.placed = [
            (index, NodeRecord(nid, item.node, item.label, item.position))
            for index, (nid, item) in enumerate(workflow.nodes.items())
            if nid in wanted
        ]
        self.records = [record for _, record in self.placed]
        self.wires = [(i, c) for i, c in enumerate(workflow.connections) if {c.source, c.target} & wanted]

    def apply(self) -> None:
        with self.workflow.bulk_edit():
            for record in self.records:
                self.workflow.remove_node(record.id)

    def revert(self) -> None:
        workflow = self.workflow
        with workflow.bulk_edit():
            for index, record in self.placed:
                workflow.add_node(record.node, label=record.label, node_id=record.id,
                                  position=record.position, index=index)
            _put_back(workflow, self.wires)


def _put_back(workflow: Workflow, wires: list[tuple[int, Connection]]) -> None:
    """Reconnect previously valid wires at their old places (a missing node's included)."""
    for index, c in sorted(wires, key=lambda wire: wire[0]):
        workflow.connect_any(c.source, c.source_port, c.target, c.target_port, index=index)


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
                _put_back(workflow, self.removed_at)
                raise

    def revert(self) -> None:
        workflow = self.workflow
        with workflow.bulk_edit():
            for connection in reversed(self.add):
                workflow.disconnect(connection)
            _put_back(workflow, self.removed_at)


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


class SetSettings(EditCommand):
    """Change several settings, of one node or many, as one step (a sweep's point, or a run's
    settings restored). Undo gives every setting its old value back, in reverse order.

    Values are validated by :meth:`Document.set_settings` before the command is made; should the
    core still refuse one, the settings already changed are set back before the error goes on.
    """

    def __init__(self, workflow: Workflow, notify: Callable[[], None],
                 changes: list[tuple[str, str, Any]], text: str) -> None:
        super().__init__(workflow, notify, text)
        self.changes = [
            (node_id, name, workflow.nodes[node_id].node.settings[name], value)
            for node_id, name, value in changes
        ]

    def apply(self) -> None:
        done: list[tuple[str, str, Any, Any]] = []
        with self.workflow.bulk_edit():
            try:
                for change in self.changes:
                    node_id, name, _old, new = change
                    self.workflow.set_setting(node_id, name, new)
                    done.append(change)
            except Exception:
                for node_id, name, old, _new in reversed(done):
                    self.workflow.set_setting(node_id, name, old)
                raise

    def revert(self) -> None:
        with self.workflow.bulk_edit():
            for node_id, name, old, _new in reversed(self.changes):
                self.workflow.set_setting(node_id, name, old)


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
            self.workflow.move_node(node_id, new)

    def revert(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.workflow.move_node(node_id, old)


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
