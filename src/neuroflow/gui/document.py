"""The open document: one core workflow, its file, its undo history and its event stream.

Everything that edits the workflow goes through a :class:`Document` method, which wraps the
edit in an undoable command (:mod:`neuroflow.gui.commands`) or refuses it with a one-line reason
(``refused`` signal). Views never edit the workflow themselves; they listen to ``changed``
(once after every edit, undo and redo), ``edited`` (each item an edit changed, as it changes:
the workflow's :class:`~neuroflow.core.events.WorkflowEdit` events, for views that update one
item at a time), ``workflow_replaced`` (new/open) and ``core_event`` (the core's execution
events, delivered on the GUI thread whatever thread executed the node).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QUndoStack

from neuroflow.core import fileformat
from neuroflow.core.errors import NeuroFlowError, SettingError
from neuroflow.core.events import WorkflowEdit
from neuroflow.core.registry import Registry, default_registry
from neuroflow.core.workflow import Connection, Workflow

from .commands import (
    AddNodes,
    EditCommand,
    MoveNodes,
    NodeRecord,
    RemoveNodes,
    ReplaceNodes,
    Rewire,
    SetLabel,
    SetSetting,
    SetSettings,
)

LOCKED_MESSAGE = "The workflow is executing: cancel it (Esc) before editing"


class EventPump(QObject):
    """Carries core events from any thread to the GUI thread, in order and in batches.

    Events posted on the GUI thread (by an edit) are delivered at once. Events posted by the
    execution thread are queued; one queued wake-up drains everything posted so far, so a
    training run that sends hundreds of batch events a second costs the GUI a few wake-ups.
    """

    delivered = Signal(object)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: deque[object] = deque()
        self._scheduled = False
        self._draining = False
        self._wake.connect(self.drain, Qt.ConnectionType.QueuedConnection)

    def post(self, event: object) -> None:
        on_gui_thread = QThread.currentThread() == self.thread()
        with self._lock:
            self._queue.append(event)
            wake = not self._scheduled and (not on_gui_thread or self._draining)
            if wake:
                self._scheduled = True
        if on_gui_thread and not self._draining:
            self.drain()
        elif wake:
            self._wake.emit()

    def drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            with self._lock:
                batch = list(self._queue)
                self._queue.clear()
                self._scheduled = False
            for event in batch:
                self.delivered.emit(event)
        finally:
            self._draining = False


class Document(QObject):
    """A workflow being edited: the single source of truth for every view of the editor."""

    changed = Signal()
    workflow_replaced = Signal()
    #: Every core event (:mod:`neuroflow.core.events`) but edits, delivered on the GUI thread.
    core_event = Signal(object)
    #: Every edit event (:class:`~neuroflow.core.events.WorkflowEdit`), at once: an edit of a
    #: large network sends hundreds, so they skip the queue and the views that do not want them.
    edited = Signal(object)
    #: An edit was refused: (one-line reason, node id or "").
    refused = Signal(str, str)
    locked_changed = Signal(bool)
    path_changed = Signal()

    def __init__(self, registry: Registry | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry or default_registry()
        self.undo_stack = QUndoStack(self)
        self.path: Path | None = None
        self._locked = False
        self._pump = EventPump(self)
        self._pump.delivered.connect(self._deliver)
        self._gui_thread = threading.get_ident()  # a document lives on the thread that made it
        self.workflow = Workflow(self.registry)
        self.workflow.subscribe(self._listen)

    # -- state ---------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True while the workflow executes: edits are refused until it finishes."""
        return self._locked

    def set_locked(self, locked: bool) -> None:
        if locked != self._locked:
            self._locked = locked
            self.locked_changed.emit(locked)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        return self.path.name if self.path else "Untitled"

    def _listen(self, event: object) -> None:
        """The workflow's listener: edits made on the GUI thread go straight to ``edited``."""
        if isinstance(event, WorkflowEdit) and threading.get_ident() == self._gui_thread:
            self.edited.emit(event)
        else:
            self._pump.post(event)

    def _deliver(self, event: object) -> None:
        (self.edited if isinstance(event, WorkflowEdit) else self.core_event).emit(event)

    def _notify(self) -> None:
        self.changed.emit()

    def _refuse(self, message: str, node_id: str = "") -> None:
        self.refused.emit(message, node_id)

    def _push(self, command: EditCommand) -> bool:
        """Apply ``command`` (refusing it with its reason if the core says no) and record it."""
        if self._locked:
            self._refuse(LOCKED_MESSAGE)
            return False
        try:
            command.apply_first()
        except NeuroFlowError as exc:
            self._refuse(str(exc))
            return False
        self.undo_stack.push(command)
        return True

    # -- files ---------------------------------------------------------------------------------
    def _replace(self, workflow: Workflow, path: Path | None) -> None:
        self.workflow.unsubscribe(self._listen)
        self.workflow = workflow
        workflow.subscribe(self._listen)
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.workflow_replaced.emit()
        self.path_changed.emit()

    def new(self) -> None:
        self._replace(Workflow(self.registry), None)

    def replace_workflow(self, workflow: Workflow) -> None:
        """Edit ``workflow`` (e.g. a copy of a block's inside), with a fresh history and no file."""
        self._replace(workflow, None)

    def open(self, path: str | Path) -> None:
        """Load a ``.workflow`` file; unknown node types come in as visible missing nodes."""
        workflow = fileformat.load(path, self.registry, strict=False)
        self._replace(workflow, Path(path))

    def save(self, path: str | Path | None = None) -> None:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise NeuroFlowError("choose a file name first (File > Save As)")
        fileformat.save(self.workflow, target)
        self.path = target
        self.undo_stack.setClean()
        self.path_changed.emit()

    # -- undo ----------------------------------------------------------------------------------
    def undo(self) -> None:
        if self._locked:
            self._refuse(LOCKED_MESSAGE)
        elif self.undo_stack.canUndo():
            self.undo_stack.undo()

    def redo(self) -> None:
        if self._locked:
            self._refuse(LOCKED_MESSAGE)
        elif self.undo_stack.canRedo():
            self.undo_stack.redo()

    # -- edits ---------------------------------------------------------------------------------
    def unique_label(self, wanted: str, taken: Iterable[str] = ()) -> str:
        used = {item.label for item in self.workflow.nodes.values()} | set(taken)
        if wanted not in used:
            return wanted
        number = 2
        while f"{wanted} {number}" in used:
            number += 1
        return f"{wanted} {number}"

    def _fresh_ids(self, count: int) -> list[str]:
        first = int(self.workflow.new_id()[1:])
        return [f"n{first + i}" for i in range(count)]

    def add_node(self, type_id: str, position: tuple[float, float] = (0.0, 0.0),
                 settings: Mapping[str, Any] | None = None, label: str | None = None) -> str | None:
        """Add a node of ``type_id``; returns its id, or ``None`` if refused."""
        node_type = self.registry.get(type_id)
        if node_type is None:
            self._refuse(f"unknown node type '{type_id}'")
            return None
        try:
            node = node_type(settings)
        except SettingError as exc:
            self._refuse(str(exc))
            return None
        node_id = self._fresh_ids(1)[0]
        record = NodeRecord(node_id, node, self.unique_label(label or node_type.name),
                            (round(float(position[0]), 1), round(float(position[1]), 1)))
        command = AddNodes(self.workflow, self._notify, [record], [], f"Add {record.label}")
        return node_id if self._push(command) else None

    def fresh_ids(self, count: int) -> list[str]:
        """``count`` node ids the workflow does not use."""
        return self._fresh_ids(count)

    def replace_nodes(self, remove: Iterable[str], records: list[NodeRecord], connections: list[Connection],
                      text: str) -> bool:
        """Remove nodes and add others with their wires as one undoable step (blocks use it)."""
        return self._push(ReplaceNodes(self.workflow, self._notify, list(remove), records, connections, text))

    def remove_nodes(self, node_ids: Iterable[str]) -> bool:
        ids = [nid for nid in node_ids if nid in self.workflow.nodes]
        if not ids:
            return False
        names = self.workflow.nodes[ids[0]].label if len(ids) == 1 else f"{len(ids)} nodes"
        return self._push(RemoveNodes(self.workflow, self._notify, ids, f"Delete {names}"))

    def rewire(self, remove: list[Connection], add: list[Connection]) -> bool:
        """Remove and add wires as one step; refused (with the core's reason) as a whole."""
        remove = [c for c in remove if c in self.workflow.connections]
        if not remove and not add:
            return True
        if add:
            target = self.workflow.nodes.get(add[0].target)
            text = f"Connect to {target.label}" if target else "Connect"
        else:
            text = "Disconnect" if len(remove) == 1 else f"Disconnect {len(remove)} wires"
        return self._push(Rewire(self.workflow, self._notify, remove, add, text))

    def connect_ports(self, source: str, source_port: str, target: str, target_port: str) -> bool:
        """Wire an output to an input, replacing what fed that input before."""
        replaced = self.workflow.incoming(target).get(target_port)
        return self.rewire([replaced] if replaced else [],
                           [Connection(source, source_port, target, target_port)])

    def disconnect_wires(self, connections: Iterable[Connection]) -> bool:
        return self.rewire(list(connections), [])

    def set_setting(self, node_id: str, name: str, value: Any) -> bool:
        """Change a setting. Raises :class:`SettingError` for an invalid value (the form shows it)."""
        item = self.workflow.nodes[node_id]
        declared = item.node.setting(name)
        value = declared.validate(value)
        if item.node.settings.get(name) == value:
            return True
        text = f"Set {item.label}: {declared.label}"
        return self._push(SetSetting(self.workflow, self._notify, node_id, name, value, text))

    def set_settings(self, changes: Iterable[tuple[str, str, Any]], text: str) -> bool:
        """Change several settings as ONE undoable step named ``text`` (a sweep's point, a run's
        settings restored). Every value is validated first: if any node is missing or any value
        is invalid, nothing changes and the edit is refused with that reason. Values already set
        are left out; ``True`` when nothing is left to change."""
        valid: list[tuple[str, str, Any]] = []
        for node_id, name, value in changes:
            item = self.workflow.nodes.get(node_id)
            if item is None:
                self._refuse(f"{text}: there is no node '{node_id}'")
                return False
            try:
                checked = item.node.setting(name).validate(value)
            except NeuroFlowError as exc:
                self._refuse(f"{text}: {item.label}: {exc}", node_id)
                return False
            if item.node.settings.get(name) != checked:
                valid.append((node_id, name, checked))
        if not valid:
            return True
        return self._push(SetSettings(self.workflow, self._notify, valid, text))

    def set_label(self, node_id: str, label: str) -> bool:
        label = label.strip()
        item = self.workflow.nodes.get(node_id)
        if item is None:
            return False
        if not label:
            self._refuse(f"{item.title}: a node name cannot be empty", node_id)
            return False
        if label == item.label:
            return True
        return self._push(SetLabel(self.workflow, self._notify, node_id, label))

    def move_nodes(self, positions: Mapping[str, tuple[float, float]],
                   previous: Mapping[str, tuple[float, float]] | None = None, *, verb: str = "Move") -> bool:
        """Record new positions as one undoable step (layout only, allowed even while executing);
        ``verb`` names the step in the undo history ("Arrange 12 nodes")."""
        moves = {}
        for node_id, new in positions.items():
            item = self.workflow.nodes.get(node_id)
            if item is None:
                continue
            old = tuple(previous[node_id]) if previous and node_id in previous else item.position
            new = (round(float(new[0]), 1), round(float(new[1]), 1))
            if tuple(old) != new:
                moves[node_id] = ((float(old[0]), float(old[1])), new)
        if not moves:
            return False
        command = MoveNodes(self.workflow, self._notify, moves, verb)
        command.apply_first()
        self.undo_stack.push(command)
        return True

    def reset(self, node_ids: Iterable[str] | None = None) -> None:
        """Drop results (of the given nodes and their downstream, or all); not an undoable edit."""
        if self._locked:
            self._refuse(LOCKED_MESSAGE)
            return
        ids = list(node_ids) if node_ids is not None else list(self.workflow.nodes)
        for node_id in ids:
            if node_id in self.workflow.nodes:
                self.workflow.reset(node_id)
        self.workflow.configure()
        self.changed.emit()

    # -- clipboard -----------------------------------------------------------------------------
    def copy(self, node_ids: Iterable[str]) -> str:
        """The selected nodes and the wires among them, as ``.workflow`` JSON text."""
        wanted = set(node_ids)
        data = fileformat.to_dict(self.workflow)
        data["nodes"] = [n for n in data["nodes"] if n["id"] in wanted]
        data["connections"] = [
            c for c in data["connections"]
            if c["from"].rpartition(".")[0] in wanted and c["to"].rpartition(".")[0] in wanted
        ]
        data["layout"] = {k: v for k, v in data["layout"].items() if k in wanted}
        return json.dumps(data, indent=2, sort_keys=True)

    def paste(self, text: str, offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Add the nodes in ``text`` (from :meth:`copy`) with fresh ids; returns the new ids."""
        try:
            source = fileformat.loads(text, self.registry, strict=False)  # the limits of a file apply
        except NeuroFlowError as exc:
            self._refuse(f"cannot paste: {exc}")
            return []
        if not source.nodes:
            return []
        new_ids = dict(zip(source.nodes, self._fresh_ids(len(source.nodes)), strict=True))
        records: list[NodeRecord] = []
        labels: list[str] = []
        for old_id, item in source.nodes.items():
            label = self.unique_label(item.label, labels)
            labels.append(label)
            position = (round(item.position[0] + offset[0], 1), round(item.position[1] + offset[1], 1))
            records.append(NodeRecord(new_ids[old_id], item.node, label, position))
        connections = [
            Connection(new_ids[c.source], c.source_port, new_ids[c.target], c.target_port)
            for c in source.connections
        ]
        count = len(records)
        command = AddNodes(self.workflow, self._notify, records, connections,
                           f"Paste {count} node{'s' if count != 1 else ''}")
        return list(new_ids.values()) if self._push(command) else []
