"""Blocks: layer nodes collapsed into one node with its own ports (KNIME's metanode).

A :class:`BlockNode` holds an inner :class:`~neuroflow.core.workflow.Workflow` of layer nodes
plus boundary markers: one :class:`BlockInput` per network input of the block (in inner node
order; the marker's inner id is the block's port name, its label the port's title) and exactly
one :class:`BlockOutput`. ``configure`` feeds the incoming network specs to the input markers,
configures the inner workflow and returns the spec that reaches the output marker. The inner
layer nodes therefore append to the very network description the expanded nodes would, so
shapes, parameter counts, the model the learner builds and the training run are those of the
expanded network. Inner layers are named ``<block id>.<inner id>`` in that description, which
keeps them unique when the same block is placed twice.

:func:`plan_collapse` and :func:`plan_expand` compute the edits that turn a selection of layer
nodes into a block and back; the editor applies them as single undoable steps. Saving and
loading a block's inside is the file format's job (:mod:`neuroflow.core.fileformat`), so a
block's inside is held to exactly the rules of a workflow file.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import ConfigureError
from .network import NetworkSpec
from .node import ExecutionContext, MissingNode, Node
from .ports import Port, PortType, Spec, Unavailable
from .registry import Registry, default_registry
from .workflow import Connection, Workflow, WorkflowNode

BLOCK_TYPE = "neuroflow.blocks.block"
INPUT_TYPE = "neuroflow.block.input"
OUTPUT_TYPE = "neuroflow.block.output"
OUTPUT_PORT = Port("network", PortType.NETWORK, "network", help="The network with the block's layers added.")
#: Room between the block's outermost layers and its boundary markers inside (canvas units).
MARKER_GAP = 240.0


class BlockInput(Node):
    """Inside a block: where one of the block's network inputs enters."""

    type_id = INPUT_TYPE
    category = "Block"
    name = "Block input"
    description = "Where a network enters the block: one of the block's input ports."
    outputs: ClassVar[tuple[Port, ...]] = (Port("network", PortType.NETWORK, "network"),)

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        #: The spec reaching the block's port (set by the block before each configure).
        self.feed: Spec | None = None

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        if self.feed is None:
            raise ConfigureError("the block's input is not connected")
        if isinstance(self.feed, Unavailable):
            raise ConfigureError(self.feed.reason)
        return {"network": self.feed}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return self.configure(inputs)


class BlockOutput(Node):
    """Inside a block: the network that leaves through the block's output port."""

    type_id = OUTPUT_TYPE
    category = "Block"
    name = "Block output"
    description = "The network that leaves the block through its output port."
    inputs: ClassVar[tuple[Port, ...]] = (Port("network", PortType.NETWORK, "network"),)

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        self.require(specs, "network", NetworkSpec)
        return {}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return {}


class _InputPorts:
    """``BlockNode.inputs``: none on the class (what the node library shows), the input
    markers' ports on an instance."""

    def __get__(self, obj: BlockNode | None, owner: type) -> tuple[Port, ...]:
        if obj is None:
            return ()
        return tuple(
            Port(item.id, PortType.NETWORK, item.label, help="A network entering the block.")
            for item in obj.graph.nodes.values()
            if isinstance(item.node, BlockInput)
        )


class BlockNode(Node):
    """Several layer nodes drawn and run as one, with their own input and output ports."""

    type_id = BLOCK_TYPE
    category = "Blocks"
    name = "Block"
    description = (
        "Several layer nodes collapsed into one node (Edit > Collapse to Block), with an input "
        "port for each network entering it and one output. It shows the output shape and the "
        "parameters of its layers, and runs exactly as the layers it holds. Double-click to "
        "open it and edit its layers; Expand Block puts them back on the canvas."
    )
    keywords: ClassVar[tuple[str, ...]] = ("block", "group", "metanode", "unit", "module", "collapse")
    inputs = _InputPorts()  # type: ignore[assignment]
    outputs: ClassVar[tuple[Port, ...]] = (OUTPUT_PORT,)

    def __init__(self, settings: Mapping[str, Any] | None = None, *, graph: Workflow | None = None) -> None:
        super().__init__(settings)
        self.graph = graph if graph is not None else identity_graph(block_registry(default_registry()))

    # ports of this instance (the base class looks them up on the class)
    def input_port(self, name: str) -> Port:  # type: ignore[override]
        for port in self.inputs:
            if port.name == name:
                return port
        raise KeyError(name)

    def output_port(self, name: str) -> Port:  # type: ignore[override]
        if name == OUTPUT_PORT.name:
            return OUTPUT_PORT
        raise KeyError(name)

    # -- inside ---------------------------------------------------------------------------
    def output_marker(self) -> WorkflowNode | None:
        return next((item for item in self.graph.nodes.values() if isinstance(item.node, BlockOutput)), None)

    def layers(self) -> list[WorkflowNode]:
        """The inner nodes that are not boundary markers, in inner order."""
        return [item for item in self.graph.nodes.values() if not is_marker(item.node)]

    def feed(self, specs: Mapping[str, Spec | None]) -> None:
        """Hand the block's incoming specs to its input markers and name the inner layers
        after this block, so that they stay unique in the whole network."""
        for item in self.graph.nodes.values():
            if isinstance(item.node, BlockInput):
                item.node.feed = specs.get(item.id)
            elif not is_marker(item.node):
                item.node.node_id = f"{self.node_id}.{item.id}" if self.node_id else item.id
            item.node.base_folder = self.base_folder
        self.graph.folder = self.base_folder

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        self.feed(specs)
        problems = self.graph.configure()
        if problems:
            nid, problem = next(
                ((n, p) for n, p in problems.items() if not p.startswith("waiting for ")),
                next(iter(problems.items())),
            )
            item = self.graph.nodes[nid]
            if isinstance(item.node, BlockInput):
                raise ConfigureError(f"block input '{item.label}': {problem}")
            raise ConfigureError(f"inside the block, {item.title}: {problem}")
        marker = self.output_marker()
        if marker is None:
            raise ConfigureError("the block has no output")
        connection = self.graph.incoming(marker.id).get("network")
        if connection is None:
            raise ConfigureError("nothing inside the block is connected to its output")
        spec = self.graph.nodes[connection.source].specs.get(connection.source_port)
        if not isinstance(spec, NetworkSpec):
            raise ConfigureError("the block's output carries no network")
        return {OUTPUT_PORT.name: spec}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return self.configure(inputs)

    def layer_params(self) -> int:
        """The parameters of the block's own layers (not those of the network before it)."""
        return sum(
            sum(spec.by_id[spec.output].params for spec in item.specs.values() if isinstance(spec, NetworkSpec))
            for item in self.layers()
        )


# -- helpers --------------------------------------------------------------------------------------
def is_marker(node: Node) -> bool:
    return isinstance(node, (BlockInput, BlockOutput))


def layer_node_problem(item: WorkflowNode) -> str:
    """Why ``item`` cannot go inside a block (``""`` when it can): only nodes whose ports all
    carry networks - layer nodes and blocks - can."""
    node = item.node
    if isinstance(node, MissingNode):
        return f"{item.title} is a missing node"
    ports = tuple(node.inputs) + tuple(node.outputs)
    if not node.outputs or any(port.type is not PortType.NETWORK for port in ports):
        return f"{item.title} is not a layer node"
    return ""


_REGISTRIES: weakref.WeakKeyDictionary[Registry, Registry] = weakref.WeakKeyDictionary()


def block_registry(outer: Registry) -> Registry:
    """The registry of a block's inside: the outer one's node types plus the two markers."""
    if INPUT_TYPE in outer:
        return outer
    inner = _REGISTRIES.get(outer)
    if inner is None:
        inner = Registry()
        for node_type in outer:
            inner.register(node_type)
        inner.register(BlockInput)
        inner.register(BlockOutput)
        _REGISTRIES[outer] = inner
    return inner


def identity_graph(registry: Registry) -> Workflow:
    """An empty block's inside: its one input wired straight to its output."""
    graph = Workflow(registry)
    with graph.bulk_edit():
        graph.add_node(BlockInput(), label="network", node_id="in1", position=(0.0, 0.0))
        graph.add_node(BlockOutput(), label="output", node_id="out", position=(MARKER_GAP, 0.0))
        graph.connect("in1", "network", "out", "network")
    return graph


def clone_node(node: Node) -> Node:
    """A fresh instance with the same settings (and, for a block, the same inside)."""
    if isinstance(node, BlockNode):
        return BlockNode(graph=clone_graph(node.graph))
    copy = type(node)()
    for key, value in node.settings_json().items():
        copy.set(key, value)
    return copy


def clone_graph(graph: Workflow) -> Workflow:
    copy = Workflow(graph.registry)
    with copy.bulk_edit():
        for item in graph.nodes.values():
            copy.add_node(clone_node(item.node), label=item.label, node_id=item.id, position=item.position)
        copy.connections.extend(graph.connections)
    return copy


# -- collapse and expand --------------------------------------------------------------------------
@dataclass
class CollapsePlan:
    """How to replace the selected nodes by one block: what goes, what comes, which wires."""

    removed: list[str]
    block: BlockNode
    position: tuple[float, float]
    connections: list[Connection]


def plan_collapse(workflow: Workflow, node_ids: Iterable[str], block_id: str) -> CollapsePlan:
    """The block that replaces ``node_ids`` (given the id ``block_id``) and its outer wiring.

    Each distinct outer output feeding the selection becomes one block input (the same output
    feeding two inner layers, as in a residual block, is one input), and so does each inner
    input left unconnected; inputs are ordered by where they enter. The block has one output:
    the one inner output that feeds the rest of the workflow, or else the selection's one last
    layer. Refused, with the reason, when that cannot be.
    """
    chosen = [nid for nid in dict.fromkeys(node_ids) if nid in workflow.nodes]
    if not chosen:
        raise ConfigureError("select the layer nodes to put in a block first")
    refused = [problem for nid in chosen if (problem := layer_node_problem(workflow.nodes[nid]))]
    if refused:
        raise ConfigureError(f"only layer nodes can go in a block: {'; '.join(refused)}")
    inside = set(chosen)
    after = set().union(*(workflow.downstream(nid) for nid in chosen)) - inside
    before = set().union(*(workflow.upstream(nid) for nid in chosen)) - inside
    between = [nid for nid in workflow.nodes if nid in after & before]
    if between:  # the block would feed itself through them
        names = ", ".join(workflow.nodes[nid].title for nid in between)
        raise ConfigureError(f"the selection has layers outside it between its own ({names}): select them too")
    order = [nid for nid in workflow.topological_order() if nid in inside]
    rank = {nid: index for index, nid in enumerate(order)}
    internal = [c for c in workflow.connections if c.source in inside and c.target in inside]
    leaving = [c for c in workflow.connections if c.source in inside and c.target not in inside]

    # inputs: one per outer source, or per inner input left unconnected
    entries: list[tuple[tuple[int, int], tuple[str, str] | None, str, str]] = []
    for nid in order:
        incoming = workflow.incoming(nid)
        for port_index, port in enumerate(workflow.nodes[nid].node.inputs):
            connection = incoming.get(port.name)
            if connection is not None and connection.source in inside:
                continue
            source = (connection.source, connection.source_port) if connection is not None else None
            entries.append(((rank[nid], port_index), source, nid, port.name))
    entries.sort(key=lambda entry: entry[0])

    outputs = sorted({(c.source, c.source_port) for c in leaving}, key=lambda end: rank[end[0]])
    if len(outputs) > 1:
        names = ", ".join(workflow.nodes[nid].title for nid, _ in outputs)
        raise ConfigureError(
            f"a block has one output, but several selected layers feed the rest of the workflow ({names})"
        )
    if not outputs:
        feeding = {c.source for c in internal}
        ends = [nid for nid in order if nid not in feeding]
        if len(ends) != 1:
            names = ", ".join(workflow.nodes[nid].title for nid in ends)
            raise ConfigureError(f"a block has one output, but the selection ends in several layers ({names})")
        outputs = [(ends[0], workflow.nodes[ends[0]].node.outputs[0].name)]
    (out_node, out_port), = outputs

    xs = [workflow.nodes[nid].position[0] for nid in chosen]
    ys = [workflow.nodes[nid].position[1] for nid in chosen]
    # the block sits in the middle of where its layers were; inside, they keep their places
    # relative to it, so expanding puts them back around wherever the block is then
    left, top, right = min(xs), min(ys), max(xs)
    origin = (round((left + right) / 2, 1), round(top, 1))
    graph = Workflow(block_registry(workflow.registry))
    connections: list[Connection] = []
    with graph.bulk_edit():
        keys = list(dict.fromkeys(_entry_key(entry) for entry in entries))
        marker_ids: dict[Any, str] = {}
        taken = set(inside)
        for _, source, target, target_port in entries:
            key = _entry_key((None, source, target, target_port))
            if key in marker_ids:
                continue
            number = len(marker_ids) + 1
            marker_id = marker_ids[key] = _fresh(f"in{number}", taken)
            label = "network" if len(keys) == 1 else f"network {number}"
            graph.add_node(BlockInput(), label=label, node_id=marker_id,
                           position=(round(left - origin[0] - MARKER_GAP, 1),
                                     round(workflow.nodes[target].position[1] - top, 1)))
            if source is not None:
                connections.append(Connection(source[0], source[1], block_id, marker_id))
        for nid in order:
            item = workflow.nodes[nid]
            position = (round(item.position[0] - origin[0], 1), round(item.position[1] - origin[1], 1))
            graph.add_node(clone_node(item.node), label=item.label, node_id=nid, position=position)
        output_id = _fresh("out", taken | set(marker_ids.values()))
        graph.add_node(BlockOutput(), label="output", node_id=output_id,
                       position=(round(right - origin[0] + MARKER_GAP, 1),
                                 round(workflow.nodes[out_node].position[1] - top, 1)))
        for _, source, target, target_port in entries:
            key = _entry_key((None, source, target, target_port))
            graph.connections.append(Connection(marker_ids[key], "network", target, target_port))
        for connection in workflow.connections:
            if connection in internal:
                graph.connections.append(connection)
        graph.connections.append(Connection(out_node, out_port, output_id, "network"))
    connections.extend(Connection(block_id, OUTPUT_PORT.name, c.target, c.target_port) for c in leaving)
    return CollapsePlan(chosen, BlockNode(graph=graph), origin, connections)


def _fresh(wanted: str, taken: set[str]) -> str:
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}_{number}"
    taken.add(name)
    return name


def _entry_key(entry: tuple[Any, tuple[str, str] | None, str, str]) -> Any:
    """Entries from one outer output share a block input; each unconnected one has its own."""
    _, source, target, target_port = entry
    return source if source is not None else (target, target_port, "unconnected")


@dataclass
class ExpandedNode:
    id: str
    node: Node
    label: str
    position: tuple[float, float]


@dataclass
class ExpandPlan:
    """How to put a block's layers back: new nodes (fresh copies) and the wires to make."""

    nodes: list[ExpandedNode]
    connections: list[Connection]


def plan_expand(workflow: Workflow, block_id: str, fresh_ids: Iterable[str]) -> ExpandPlan:
    """The nodes and wires that replace block ``block_id``. Inner ids are kept where the
    workflow does not use them (so collapse then expand gives the graph back), else taken from
    ``fresh_ids``; positions are the inner ones placed relative to the block."""
    item = workflow.nodes.get(block_id)
    if item is None or not isinstance(item.node, BlockNode):
        raise ConfigureError("select one block to expand")
    block = item.node
    fresh = iter(fresh_ids)
    taken = set(workflow.nodes) - {block_id}
    ids: dict[str, str] = {}
    nodes = []
    bx, by = item.position
    for inner in block.layers():
        outer_id = inner.id if inner.id not in taken else next(fresh)
        while outer_id in taken:
            outer_id = next(fresh)
        taken.add(outer_id)
        ids[inner.id] = outer_id
        position = (round(bx + inner.position[0], 1), round(by + inner.position[1], 1))
        nodes.append(ExpandedNode(outer_id, clone_node(inner.node), inner.label, position))
    outer_in = workflow.incoming(block_id)
    outer_out = workflow.outgoing(block_id)
    connections = []
    for c in block.graph.connections:
        source = block.graph.nodes[c.source].node
        target = block.graph.nodes[c.target].node
        if isinstance(target, BlockOutput):
            continue
        if isinstance(source, BlockInput):
            feeding = outer_in.get(c.source)
            if feeding is not None:
                connections.append(Connection(feeding.source, feeding.source_port, ids[c.target], c.target_port))
            continue
        connections.append(Connection(ids[c.source], c.source_port, ids[c.target], c.target_port))
    marker = block.output_marker()
    last = block.graph.incoming(marker.id).get("network") if marker is not None else None
    if last is not None and not isinstance(block.graph.nodes[last.source].node, BlockInput):
        for c in outer_out:
            connections.append(Connection(ids[last.source], last.source_port, c.target, c.target_port))
    elif last is not None:  # the block passes its input straight through
        feeding = outer_in.get(last.source)
        if feeding is not None:
            for c in outer_out:
                connections.append(Connection(feeding.source, feeding.source_port, c.target, c.target_port))
    return ExpandPlan(nodes, connections)


def collapse(workflow: Workflow, node_ids: Iterable[str], *, label: str = "Block", block_id: str | None = None) -> str:
    """Replace ``node_ids`` by a block in ``workflow`` (not undoable: the editor wraps the same
    plan in a command); returns the block's id."""
    block_id = block_id or workflow.new_id()
    plan = plan_collapse(workflow, node_ids, block_id)
    with workflow.bulk_edit():
        for nid in plan.removed:
            workflow.remove_node(nid)
        workflow.add_node(plan.block, label=label, node_id=block_id, position=plan.position)
        for c in plan.connections:
            workflow.connect(c.source, c.source_port, c.target, c.target_port)
    return block_id


def expand(workflow: Workflow, block_id: str) -> list[str]:
    """Replace block ``block_id`` by its layers; returns their ids in the workflow."""
    taken = set(workflow.nodes)
    fresh = (f"n{number}" for number in range(1, 10**9) if f"n{number}" not in taken)
    plan = plan_expand(workflow, block_id, fresh)
    with workflow.bulk_edit():
        workflow.remove_node(block_id)
        for item in plan.nodes:
            workflow.add_node(item.node, label=item.label, node_id=item.id, position=item.position)
        for c in plan.connections:
            workflow.connect(c.source, c.source_port, c.target, c.target_port)
    return [item.id for item in plan.nodes]


def layer_label(workflow: Workflow, layer_id: str) -> str | None:
    """The label of the node that made layer ``layer_id`` of a network, looking inside blocks
    (``"Stage 1 / Conv2D 32"`` for ``"n1.conv"``); ``None`` when no node has that id."""
    item = workflow.nodes.get(layer_id)
    if item is not None:
        return item.label
    for block_id, block in workflow.nodes.items():
        prefix = f"{block_id}."
        if isinstance(block.node, BlockNode) and layer_id.startswith(prefix):
            inner = layer_label(block.node.graph, layer_id[len(prefix):])
            if inner is not None:
                return f"{block.label} / {inner}"
    return None
