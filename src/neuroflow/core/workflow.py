"""The workflow graph: nodes, typed connections, invariants, configure and reset.

The :class:`Workflow` is the single source of truth and the only thing that changes the graph.
The editor's canvas mirrors it and the executor runs it. Every edit goes through a method here
that keeps three invariants - ports connect only to ports of the same type, an input takes at
most one connection, and the graph has no cycle - resets the edited node and everything
downstream, as KNIME does, and tells its listeners what changed with one typed event per item
(:mod:`neuroflow.core.events`), so that a view updates one node or one wire, never all of them.
``nodes`` and ``connections`` are read-only views; indexes of each node's incoming and outgoing
connections make the graph queries cost the size of what they visit, not of the workflow.

An edit re-configures only what it can affect: the edited node and the nodes after it, in
topological order, stopping along a path as soon as a node's specs come out unchanged. A full
:meth:`Workflow.configure` remains for loading, for executing and for changes that touch every
node (the workflow's folder). Results that a settings edit resets are kept for its undo
(:mod:`neuroflow.core.stash`).
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

from .errors import ConfigureError, ConnectionRefused, NeuroFlowError, SettingError
from .events import (
    ConnectionAdded,
    ConnectionRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeState,
    NodeStateChanged,
    SettingChanged,
    SpecsChanged,
)
from .node import MissingNode, Node
from .ports import Spec, Unavailable
from .registry import Registry, default_registry
from .stash import ResultStash, fingerprints

#: Longest id, node type, label, port name or key (characters); they appear in one-line messages.
MAX_NAME_LENGTH = 200
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def text_problem(text: str, *, structural: int = 0) -> str | None:
    """Why ``text`` cannot be kept in a workflow, or ``None``: a NUL character or a lone surrogate
    (not Unicode: it can be neither printed nor saved). ``structural`` text (ids, labels, types,
    keys) must also be free of control characters and at most that long, as it appears in
    one-line messages."""
    if structural and len(text) > structural:
        return f"the text {short_text(text)} is too long (at most {structural} characters)"
    if "\0" in text:
        return f"the text {short_text(text)} contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"the text {short_text(text)} is not valid Unicode "
                f"(it holds the lone surrogate {ascii(exc.object[exc.start])})")
    if structural and _CONTROL.search(text):
        return f"the text {short_text(text)} contains a control character"
    return None


def short_text(text: str) -> str:
    """``repr`` of a text for a message, cut short."""
    return repr(text) if len(text) <= 40 else repr(text[:30]) + f"... ({len(text):,} characters)"


@dataclass(frozen=True)
class Connection:
    source: str
    source_port: str
    target: str
    target_port: str

    def describe(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


@dataclass(eq=False)
class WorkflowNode:
    """A node placed in a workflow: stable id, label, settings holder and runtime state."""

    id: str
    node: Node
    label: str
    position: tuple[float, float] = (0.0, 0.0)
    state: NodeState = NodeState.NOT_CONFIGURED
    message: str = ""
    specs: dict[str, Spec] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    seconds: float = 0.0
    #: Why the last configure found the node invalid ("" when it is valid).
    problem: str = ""

    @property
    def type_id(self) -> str:
        node = self.node
        return node.missing_type if isinstance(node, MissingNode) else node.type_id

    @property
    def title(self) -> str:
        """How messages name this node: its label and id."""
        return f"'{self.label}' ({self.id})"


Listener = Callable[[Any], None]


class ConnectionList(Sequence[Connection]):
    """The workflow's connections in order, read-only: edits go through :class:`Workflow`.

    Compares equal to a list or tuple of the same connections; ``in`` takes constant time.
    """

    __slots__ = ("_items", "_members")

    def __init__(self, items: list[Connection], members: set[Connection]) -> None:
        self._items = items
        self._members = members

    @overload
    def __getitem__(self, index: int) -> Connection: ...
    @overload
    def __getitem__(self, index: slice) -> list[Connection]: ...
    def __getitem__(self, index: int | slice) -> Connection | list[Connection]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Connection]:
        return iter(self._items)

    def __contains__(self, value: object) -> bool:
        return value in self._members

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        return self._items.index(value, start, len(self._items) if stop is None else stop)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConnectionList):
            return self._items == other._items
        if isinstance(other, (list, tuple)):
            return self._items == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConnectionList({self._items!r})"


class Workflow:
    """Nodes and connections, with the invariants and reset rules of a dataflow graph."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()
        self._nodes: dict[str, WorkflowNode] = {}
        self._connections: list[Connection] = []
        self._members: set[Connection] = set()
        #: target id -> {target port: connection}, and source id -> connections, in list order.
        self._incoming: dict[str, dict[str, Connection]] = {}
        self._outgoing: dict[str, list[Connection]] = {}
        self._nodes_view: Mapping[str, WorkflowNode] = MappingProxyType(self._nodes)
        self._connections_view = ConnectionList(self._connections, self._members)
        self._listeners: list[Listener] = []
        self._bulk_depth = 0
        self._dirty: set[str] = set()  # nodes to re-configure when the bulk edit ends
        self._stash = ResultStash()
        #: The folder of the workflow's file; relative paths in settings resolve against it.
        self.folder: Path | None = None

    @property
    def nodes(self) -> Mapping[str, WorkflowNode]:
        """Node id -> node, in the workflow's order (read-only)."""
        return self._nodes_view

    @property
    def connections(self) -> ConnectionList:
        """The connections in the workflow's order (read-only)."""
        return self._connections_view

    def set_folder(self, folder: str | os.PathLike[str] | None) -> None:
        """Where the workflow file lives (after loading or saving it); re-configures, as the
        meaning of relative paths in settings changes, but keeps results already computed."""
        self.folder = Path(folder).resolve() if folder is not None else None
        for item in self._nodes.values():
            item.node.base_folder = self.folder
        self._stash.discard()  # their fingerprints named the old folder
        self.configure()

    @contextmanager
    def bulk_edit(self) -> Iterator[Workflow]:
        """Apply many edits (e.g. loading a file) and configure once at the end."""
        self._bulk_depth += 1
        try:
            yield self
        finally:
            self._bulk_depth -= 1
        if self._bulk_depth == 0:
            dirty, self._dirty = self._dirty, set()
            self._reconfigure(dirty)

    # -- listeners ------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, event: Any) -> None:
        for listener in list(self._listeners):
            listener(event)

    def set_state(self, node_id: str, state: NodeState, message: str = "") -> None:
        item = self._nodes[node_id]
        if item.state is state and item.message == message:
            return
        item.state, item.message = state, message
        self.emit(NodeStateChanged(node_id, state, message))

    # -- nodes ----------------------------------------------------------------------------
    def new_id(self) -> str:
        # Ids from a file can be anything, "n" and 5,000 digits included: count only short ones.
        numbers = [int(m.group(1)) for key in self._nodes if (m := re.fullmatch(r"n(\d{1,9})", key))]
        number = max(numbers, default=0) + 1
        while f"n{number}" in self._nodes:
            number += 1
        return f"n{number}"

    def add_node(
        self,
        node: Node | type[Node] | str,
        *,
        settings: Mapping[str, Any] | None = None,
        label: str | None = None,
        node_id: str | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        index: int | None = None,
    ) -> WorkflowNode:
        """Add a node given as an instance, a node class or a registered type id; ``index``
        puts it at that place in the workflow's order (undo of a delete), else at the end."""
        if isinstance(node, str):
            node_type = self.registry.get(node)
            if node_type is None:
                raise ConfigureError(f"unknown node type '{node}'")
            node = node_type
        if isinstance(node, type):
            node = node(settings)
        elif settings:
            for key, value in settings.items():
                node.set(key, value)
        node_id = node_id or self.new_id()
        if node_id in self._nodes:
            raise ConfigureError(f"a node with id '{node_id}' already exists")
        node.node_id = node_id
        node.base_folder = self.folder
        item = WorkflowNode(node_id, node, label or node.name, position)
        if index is None or index >= len(self._nodes):
            self._nodes[node_id] = item
        else:  # rebuilt in place: ``nodes`` is a live view of this very dict
            entries = list(self._nodes.items())
            entries.insert(max(index, 0), (node_id, item))
            self._nodes.clear()
            self._nodes.update(entries)
        self._stash.discard()
        self.emit(NodeAdded(node_id))
        self._touched({node_id})
        return item

    def remove_node(self, node_id: str) -> None:
        self.reset(node_id)
        wires = [c for c in self._connections if node_id in (c.source, c.target)]
        for connection in wires:
            self._unlink(connection)
            self.emit(ConnectionRemoved(connection))
        del self._nodes[node_id]
        self._incoming.pop(node_id, None)
        self._outgoing.pop(node_id, None)
        self._stash.discard()
        self.emit(NodeRemoved(node_id))
        self._touched({c.target for c in wires if c.source == node_id})

    def node(self, key: str) -> WorkflowNode:
        """Find a node by id, or by label when the label is unambiguous."""
        if key in self._nodes:
            return self._nodes[key]
        matches = [item for item in self._nodes.values() if item.label == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(item.id for item in matches)
            raise ConfigureError(f"node label '{key}' is ambiguous ({ids}); use the id")
        raise ConfigureError(f"no node with id or label '{key}'")

    def set_setting(self, node_id: str, name: str, value: Any) -> None:
        """Change one setting: the node and its downstream are reset and re-configured. Their
        results are kept for an undo, and results kept by an earlier change come back when the
        settings are those they were computed with again (:mod:`neuroflow.core.stash`)."""
        item = self._nodes[node_id]
        affected = [node_id, *self.downstream(node_id)]
        executed = [nid for nid in affected
                    if self._nodes[nid].state is NodeState.EXECUTED and self._nodes[nid].outputs is not None]
        before = fingerprints(self, executed) if executed else {}
        try:
            item.node.set(name, value)
        except SettingError as exc:
            raise exc.at_node(item.title) from None
        for nid in executed:
            self._stash.keep(self._nodes[nid], before[nid])
        self.emit(SettingChanged(node_id, name, item.node.settings[name]))
        self._drop_results(affected)
        self._touched({node_id})
        self._restore_stashed(affected)

    def set_label(self, node_id: str, label: str) -> None:
        """Rename a node; a name that could not be saved or shown on one line is refused."""
        item = self._nodes[node_id]
        problem = text_problem(label, structural=MAX_NAME_LENGTH)
        if problem:
            raise ConfigureError(f"{item.title}: the name {problem[len('the text '):]}")
        if item.label == label:
            return
        item.label = label
        self.emit(LabelChanged(node_id, label))
        # "waiting for 'Old name' (n3)": the nodes right after it name it in their problem.
        self._touched({c.target for c in self._outgoing.get(node_id, ()) if self._nodes[c.target].problem})

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        """Place a node (layout only: never resets or re-configures anything)."""
        item = self._nodes[node_id]
        position = (float(position[0]), float(position[1]))
        if tuple(item.position) == position:
            return
        item.position = position
        self.emit(NodeMoved(node_id, position))

    # -- connections ----------------------------------------------------------------------
    def check_connection(self, source: str, source_port: str, target: str, target_port: str) -> None:
        """Raise :class:`ConnectionRefused` naming both ends if the connection is not allowed."""
        src, dst = self._nodes.get(source), self._nodes.get(target)
        if src is None or dst is None:
            raise ConnectionRefused(f"no node '{source if src is None else target}'")
        try:
            out_port = src.node.output_port(source_port)
        except KeyError:
            raise ConnectionRefused(f"{src.title} has no output '{source_port}'") from None
        try:
            in_port = dst.node.input_port(target_port)
        except KeyError:
            raise ConnectionRefused(f"{dst.title} has no input '{target_port}'") from None
        ends = f"{src.title} output '{out_port.title}' -> {dst.title} input '{in_port.title}'"
        if out_port.type is not in_port.type:
            raise ConnectionRefused(
                f"cannot connect {ends}: {out_port.type.label} does not fit {in_port.type.label}"
            )
        if source == target or source in self.downstream(target):
            raise ConnectionRefused(f"cannot connect {ends}: it would make a cycle")
        if target_port in self._incoming.get(target, {}):
            raise ConnectionRefused(f"cannot connect {ends}: that input is already connected")

    def connect(self, source: str, source_port: str, target: str, target_port: str,
                *, index: int | None = None) -> Connection:
        """Wire an output to an input (at ``index`` in the connection order, else at the end)."""
        self.check_connection(source, source_port, target, target_port)
        connection = Connection(source, source_port, target, target_port)
        self._link(connection, index)
        return connection

    def connect_any(self, source: str, source_port: str, target: str, target_port: str,
                    *, index: int | None = None) -> Connection:
        """Connect like :meth:`connect`, but keep a wire of a missing node, whose ports are
        unknown, as long as the graph stays a graph: no cycle and one connection per input,
        which everything else relies on. Loading a file and undoing an edit both use it, so a
        missing node's wiring survives either."""
        try:
            return self.connect(source, source_port, target, target_port, index=index)
        except ConnectionRefused:
            ends = (self._nodes.get(source), self._nodes.get(target))
            if not any(item is not None and isinstance(item.node, MissingNode) for item in ends):
                raise
            if None in ends:
                raise
        wire = short_text(f"{source}.{source_port} -> {target}.{target_port}")
        if source == target or source in self.downstream(target):
            raise ConnectionRefused(f"cannot connect {wire}: it would make a cycle")
        if target_port in self._incoming.get(target, {}):
            raise ConnectionRefused(f"cannot connect {wire}: that input is already connected")
        connection = Connection(source, source_port, target, target_port)
        self._link(connection, index)
        return connection

    def disconnect(self, connection: Connection) -> None:
        if connection not in self._members:
            raise ConnectionRefused(f"there is no connection {connection.describe()}")
        self._unlink(connection)
        self._stash.discard()
        self.emit(ConnectionRemoved(connection))
        self._drop_results([connection.target, *self.downstream(connection.target)])
        self._touched({connection.target})

    def _link(self, connection: Connection, index: int | None) -> None:
        c = connection
        if index is None or index >= len(self._connections):
            self._connections.append(c)
            self._outgoing.setdefault(c.source, []).append(c)
            self._incoming.setdefault(c.target, {})[c.target_port] = c
        else:  # back at its old place (undo): the indexes follow the list's order
            self._connections.insert(max(index, 0), c)
            self._outgoing[c.source] = [w for w in self._connections if w.source == c.source]
            self._incoming[c.target] = {w.target_port: w for w in self._connections if w.target == c.target}
        self._members.add(c)
        self._stash.discard()
        self.emit(ConnectionAdded(c))
        self._drop_results([c.target, *self.downstream(c.target)])
        self._touched({c.target})

    def _unlink(self, connection: Connection) -> None:
        c = connection
        self._connections.remove(c)
        self._members.discard(c)
        outgoing = self._outgoing.get(c.source)
        if outgoing is not None:
            outgoing.remove(c)
            if not outgoing:
                del self._outgoing[c.source]
        incoming = self._incoming.get(c.target)
        if incoming is not None:
            incoming.pop(c.target_port, None)
            if not incoming:
                del self._incoming[c.target]

    def incoming(self, node_id: str) -> dict[str, Connection]:
        """Target port -> connection feeding it."""
        return dict(self._incoming.get(node_id, {}))

    def outgoing(self, node_id: str) -> list[Connection]:
        return list(self._outgoing.get(node_id, ()))

    # -- graph queries --------------------------------------------------------------------
    def downstream(self, node_id: str) -> set[str]:
        """All nodes reachable from ``node_id`` (not including it)."""
        found: set[str] = set()
        stack = [node_id]
        while stack:
            for connection in self._outgoing.get(stack.pop(), ()):
                if connection.target not in found:
                    found.add(connection.target)
                    stack.append(connection.target)
        return found

    def upstream(self, node_id: str) -> set[str]:
        """All nodes ``node_id`` depends on (not including it)."""
        found: set[str] = set()
        stack = [node_id]
        while stack:
            for connection in self._incoming.get(stack.pop(), {}).values():
                if connection.source not in found:
                    found.add(connection.source)
                    stack.append(connection.source)
        return found

    def topological_order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Node ids so that every node comes after its inputs; ties keep insertion order."""
        if subset is None:
            indegree = dict.fromkeys(self._nodes, 0)
        else:
            wanted = set(subset)
            indegree = {nid: 0 for nid in self._nodes if nid in wanted}
        for nid in indegree:
            for connection in self._incoming.get(nid, {}).values():
                if connection.source in indegree:
                    indegree[nid] += 1
        order: list[str] = []
        ready = deque(nid for nid, count in indegree.items() if count == 0)
        while ready:
            nid = ready.popleft()
            order.append(nid)
            for connection in self._outgoing.get(nid, ()):
                if connection.target in indegree:
                    indegree[connection.target] -= 1
                    if indegree[connection.target] == 0:
                        ready.append(connection.target)
        if len(order) != len(indegree):  # only reachable through a corrupted file
            stuck = sorted(set(indegree) - set(order))
            raise ConnectionRefused(f"the workflow has a cycle through nodes {', '.join(stuck)}")
        return order

    # -- configure and reset --------------------------------------------------------------
    def reset(self, node_id: str) -> None:
        """Drop cached results of ``node_id`` and everything downstream of it, including any
        kept for undoing a settings change (a reset asks for them to go)."""
        ids = [node_id, *self.downstream(node_id)]
        self._stash.discard(ids)
        self._drop_results(ids)

    def reset_all(self) -> None:
        self._stash.discard()
        for nid in self._nodes:
            self.reset(nid)
        self.configure()

    def discard_stash(self, node_ids: Iterable[str] | None = None) -> None:
        """Forget the results kept for undoing settings changes (of these nodes, or all): whoever
        executes the workflow elsewhere calls this when those results are gone there."""
        self._stash.discard(node_ids)

    @property
    def stashed(self) -> int:
        """How many nodes have results kept for undoing a settings change."""
        return len(self._stash)

    def _drop_results(self, node_ids: Iterable[str]) -> None:
        for nid in node_ids:
            item = self._nodes[nid]
            item.outputs = None
            item.seconds = 0.0
            if item.state in (NodeState.EXECUTED, NodeState.FAILED):
                self.set_state(nid, NodeState.CONFIGURED)

    def _restore_stashed(self, node_ids: Iterable[str]) -> None:
        """Put back kept results whose fingerprint matches again, sources before targets."""
        if not len(self._stash) or self._bulk_depth:
            return
        candidates = [nid for nid in self.topological_order(node_ids) if nid in self._stash]
        if not candidates:
            return
        prints = fingerprints(self, candidates)
        for nid in candidates:
            item = self._nodes[nid]
            if item.state is not NodeState.CONFIGURED:
                continue
            sources = [self._nodes[c.source] for c in self._incoming.get(nid, {}).values()]
            if any(s.state is not NodeState.EXECUTED or s.outputs is None for s in sources):
                continue
            entry = self._stash.take(nid, prints)
            if entry is not None:
                item.outputs, item.seconds = entry.outputs, entry.seconds
                self.set_state(nid, NodeState.EXECUTED, entry.message)

    def _touched(self, node_ids: Iterable[str]) -> None:
        """These nodes' settings or inputs changed: re-configure them now, or when the bulk edit ends."""
        if self._bulk_depth:
            self._dirty.update(node_ids)
        else:
            self._reconfigure(node_ids)

    def _reconfigure(self, seeds: Iterable[str]) -> None:
        """Configure ``seeds`` and, in topological order, each node after them whose input
        specs changed in this pass; a node whose inputs came out unchanged is left alone."""
        seeds = {nid for nid in seeds if nid in self._nodes}
        if not seeds:
            return
        affected = set(seeds)
        stack = list(seeds)
        while stack:  # everything after the seeds, each node visited once
            for connection in self._outgoing.get(stack.pop(), ()):
                if connection.target not in affected:
                    affected.add(connection.target)
                    stack.append(connection.target)
        changed: set[str] = set()
        for nid in self.topological_order(affected):
            if nid not in seeds and not any(
                c.source in changed for c in self._incoming.get(nid, {}).values()
            ):
                continue
            if self._configure_node(self._nodes[nid]):
                changed.add(nid)

    def configure(self) -> dict[str, str]:
        """Recompute every node's output specs; return ``{node_id: problem}`` for the invalid ones.

        Cheap (no data is read beyond file headers), so it runs after every edit. Executed and
        failed nodes keep their state; the others become configured or not configured.
        """
        problems: dict[str, str] = {}
        if self._bulk_depth:
            return problems
        self._dirty.clear()
        for nid in self.topological_order():
            item = self._nodes[nid]
            self._configure_node(item)
            if item.problem:
                problems[nid] = item.problem
        return problems

    def _configure_node(self, item: WorkflowNode) -> bool:
        """Configure one node (its sources are up to date); True if its specs, problem or note
        changed, which is when :class:`SpecsChanged` is sent and the nodes after it need it too."""
        old_specs, old_problem, old_note = item.specs, item.problem, item.node.note
        problem = self._configure_one(item)
        item.problem = problem
        if problem:
            item.specs = {}
            if item.state is not NodeState.FAILED:
                item.outputs = None
                self.set_state(item.id, NodeState.NOT_CONFIGURED, problem)
        elif item.state in (NodeState.NOT_CONFIGURED, NodeState.CONFIGURED):
            self.set_state(item.id, NodeState.CONFIGURED)
        changed = problem != old_problem or item.node.note != old_note or item.specs != old_specs
        if changed:
            self.emit(SpecsChanged(item.id))
        return changed

    def _configure_one(self, item: WorkflowNode) -> str:
        incoming = self._incoming.get(item.id, {})
        specs: dict[str, Spec | None] = {}
        for port in item.node.inputs:
            connection = incoming.get(port.name)
            if connection is None:
                if not port.optional:
                    return f"input '{port.title}' is not connected"
                specs[port.name] = None
                continue
            source = self._nodes[connection.source]
            if source.problem:
                return f"waiting for {source.title}, which is not configured"
            spec = source.specs.get(connection.source_port)
            if isinstance(spec, Unavailable):
                return f"input '{port.title}' from {source.title}: {spec.reason}"
            specs[port.name] = spec
        try:
            item.specs = dict(item.node.configure(specs))
        except NeuroFlowError as exc:
            return str(exc)
        except OSError as exc:  # a path setting the system cannot use (too long, no permission...)
            name = str(exc.filename or "")
            where = f" ({name if len(name) <= 120 else name[:60] + '...' + name[-40:]})" if name else ""
            return f"cannot use the file or folder{where}: {exc.strerror or exc}"
        except Exception as exc:  # a bug, e.g. in a plugin: the node shows it, the editor stays up
            return f"internal error while configuring: {type(exc).__name__}: {exc}"
        return ""

    def first_problem(self) -> str | None:
        """The root-cause problem of an invalid workflow as one line, or ``None`` if valid."""
        problems = self.configure()
        for nid, problem in problems.items():
            if not problem.startswith("waiting for "):
                return f"{self._nodes[nid].title}: {problem}"
        return None
