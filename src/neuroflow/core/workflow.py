"""The workflow graph: nodes, typed connections, invariants, configure and reset.

The :class:`Workflow` is the single source of truth. The editor's canvas mirrors it and the
executor runs it. Every edit goes through a method here that keeps three invariants - ports
connect only to ports of the same type, an input takes at most one connection, and the graph
has no cycle - and resets the edited node and everything downstream, as KNIME does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigureError, ConnectionRefused, NeuroFlowError, SettingError
from .events import NodeState, NodeStateChanged
from .node import MissingNode, Node
from .ports import Spec, Unavailable
from .registry import Registry, default_registry

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

    @property
    def type_id(self) -> str:
        node = self.node
        return node.missing_type if isinstance(node, MissingNode) else node.type_id

    @property
    def title(self) -> str:
        """How messages name this node: its label and id."""
        return f"'{self.label}' ({self.id})"


Listener = Callable[[Any], None]


class Workflow:
    """Nodes and connections, with the invariants and reset rules of a dataflow graph."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.nodes: dict[str, WorkflowNode] = {}
        self.connections: list[Connection] = []
        self._listeners: list[Listener] = []
        self._bulk_depth = 0
        #: The folder of the workflow's file; relative paths in settings resolve against it.
        self.folder: Path | None = None

    def set_folder(self, folder: str | os.PathLike[str] | None) -> None:
        """Where the workflow file lives (after loading or saving it); re-configures, as the
        meaning of relative paths in settings changes, but keeps results already computed."""
        self.folder = Path(folder).resolve() if folder is not None else None
        for item in self.nodes.values():
            item.node.base_folder = self.folder
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
            self.configure()

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
        item = self.nodes[node_id]
        if item.state is state and item.message == message:
            return
        item.state, item.message = state, message
        self.emit(NodeStateChanged(node_id, state, message))

    # -- nodes ----------------------------------------------------------------------------
    def new_id(self) -> str:
        # Ids from a file can be anything, "n" and 5,000 digits included: count only short ones.
        numbers = [int(m.group(1)) for key in self.nodes if (m := re.fullmatch(r"n(\d{1,9})", key))]
        number = max(numbers, default=0) + 1
        while f"n{number}" in self.nodes:
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
    ) -> WorkflowNode:
        """Add a node given as an instance, a node class or a registered type id."""
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
        if node_id in self.nodes:
            raise ConfigureError(f"a node with id '{node_id}' already exists")
        node.node_id = node_id
        node.base_folder = self.folder
        item = WorkflowNode(node_id, node, label or node.name, position)
        self.nodes[node_id] = item
        self.configure()
        return item

    def remove_node(self, node_id: str) -> None:
        self.reset(node_id)
        for connection in [c for c in self.connections if node_id in (c.source, c.target)]:
            self.connections.remove(connection)
        del self.nodes[node_id]
        self.configure()

    def node(self, key: str) -> WorkflowNode:
        """Find a node by id, or by label when the label is unambiguous."""
        if key in self.nodes:
            return self.nodes[key]
        matches = [item for item in self.nodes.values() if item.label == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(item.id for item in matches)
            raise ConfigureError(f"node label '{key}' is ambiguous ({ids}); use the id")
        raise ConfigureError(f"no node with id or label '{key}'")

    def set_setting(self, node_id: str, name: str, value: Any) -> None:
        item = self.nodes[node_id]
        try:
            item.node.set(name, value)
        except SettingError as exc:
            raise exc.at_node(item.title) from None
        self.reset(node_id)
        self.configure()

    def set_label(self, node_id: str, label: str) -> None:
        """Rename a node; a name that could not be saved or shown on one line is refused."""
        problem = text_problem(label, structural=MAX_NAME_LENGTH)
        if problem:
            raise ConfigureError(f"{self.nodes[node_id].title}: the name {problem[len('the text '):]}")
        self.nodes[node_id].label = label

    # -- connections ----------------------------------------------------------------------
    def check_connection(self, source: str, source_port: str, target: str, target_port: str) -> None:
        """Raise :class:`ConnectionRefused` naming both ends if the connection is not allowed."""
        src, dst = self.nodes.get(source), self.nodes.get(target)
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
        if any(c.target == target and c.target_port == target_port for c in self.connections):
            raise ConnectionRefused(f"cannot connect {ends}: that input is already connected")

    def connect(self, source: str, source_port: str, target: str, target_port: str) -> Connection:
        self.check_connection(source, source_port, target, target_port)
        connection = Connection(source, source_port, target, target_port)
        self.connections.append(connection)
        self.reset(target)
        self.configure()
        return connection

    def disconnect(self, connection: Connection) -> None:
        self.connections.remove(connection)
        self.reset(connection.target)
        self.configure()

    def incoming(self, node_id: str) -> dict[str, Connection]:
        return {c.target_port: c for c in self.connections if c.target == node_id}

    def outgoing(self, node_id: str) -> list[Connection]:
        return [c for c in self.connections if c.source == node_id]

    # -- graph queries --------------------------------------------------------------------
    def downstream(self, node_id: str) -> set[str]:
        """All nodes reachable from ``node_id`` (not including it)."""
        targets: dict[str, list[str]] = {}
        for connection in self.connections:  # one pass: a walk per node would be quadratic
            targets.setdefault(connection.source, []).append(connection.target)
        return _reachable(node_id, targets)

    def upstream(self, node_id: str) -> set[str]:
        """All nodes ``node_id`` depends on (not including it)."""
        sources: dict[str, list[str]] = {}
        for connection in self.connections:
            sources.setdefault(connection.target, []).append(connection.source)
        return _reachable(node_id, sources)

    def topological_order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Node ids so that every node comes after its inputs; ties keep insertion order."""
        wanted = set(self.nodes) if subset is None else set(subset)
        indegree = {nid: 0 for nid in self.nodes if nid in wanted}
        for c in self.connections:
            if c.source in indegree and c.target in indegree:
                indegree[c.target] += 1
        order: list[str] = []
        ready = [nid for nid in self.nodes if nid in indegree and indegree[nid] == 0]
        while ready:
            nid = ready.pop(0)
            order.append(nid)
            for c in self.outgoing(nid):
                if c.target in indegree:
                    indegree[c.target] -= 1
                    if indegree[c.target] == 0:
                        ready.append(c.target)
        if len(order) != len(indegree):  # only reachable through a corrupted file
            stuck = sorted(set(indegree) - set(order))
            raise ConnectionRefused(f"the workflow has a cycle through nodes {', '.join(stuck)}")
        return order

    # -- configure and reset --------------------------------------------------------------
    def reset(self, node_id: str) -> None:
        """Drop cached results of ``node_id`` and everything downstream of it."""
        for nid in {node_id} | self.downstream(node_id):
            item = self.nodes[nid]
            item.outputs = None
            item.seconds = 0.0
            if item.state in (NodeState.EXECUTED, NodeState.FAILED):
                self.set_state(nid, NodeState.CONFIGURED)

    def reset_all(self) -> None:
        for nid in self.nodes:
            self.reset(nid)
        self.configure()

    def configure(self) -> dict[str, str]:
        """Recompute every node's output specs; return ``{node_id: problem}`` for the invalid ones.

        Cheap (no data is read beyond file headers), so it runs after every edit. Executed and
        failed nodes keep their state; the others become configured or not configured.
        """
        problems: dict[str, str] = {}
        if self._bulk_depth:
            return problems
        for nid in self.topological_order():
            item = self.nodes[nid]
            problem = self._configure_one(item, problems)
            if problem:
                problems[nid] = problem
                item.specs = {}
                if item.state is not NodeState.FAILED:
                    item.outputs = None
                    self.set_state(nid, NodeState.NOT_CONFIGURED, problem)
            elif item.state in (NodeState.NOT_CONFIGURED, NodeState.CONFIGURED):
                self.set_state(nid, NodeState.CONFIGURED)
        return problems

    def _configure_one(self, item: WorkflowNode, problems: Mapping[str, str]) -> str:
        incoming = self.incoming(item.id)
        specs: dict[str, Spec | None] = {}
        for port in item.node.inputs:
            connection = incoming.get(port.name)
            if connection is None:
                if not port.optional:
                    return f"input '{port.title}' is not connected"
                specs[port.name] = None
                continue
            if connection.source in problems:
                source = self.nodes[connection.source]
                return f"waiting for {source.title}, which is not configured"
            spec = self.nodes[connection.source].specs.get(connection.source_port)
            if isinstance(spec, Unavailable):
                return f"input '{port.title}' from {self.nodes[connection.source].title}: {spec.reason}"
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
                return f"{self.nodes[nid].title}: {problem}"
        return None


def _reachable(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    found: set[str] = set()
    stack = [start]
    while stack:
        for neighbour in edges.get(stack.pop(), ()):
            if neighbour not in found:
                found.add(neighbour)
                stack.append(neighbour)
    return found
