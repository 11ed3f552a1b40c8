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

:mod:`neuroflow.core.block_edits` computes the edits that turn a selection of layer nodes into
a block and back; the editor applies them as single undoable steps. Saving and
loading a block's inside is the file format's job (:mod:`neuroflow.core.fileformat`), so a
block's inside is held to exactly the rules of a workflow file.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

from .errors import ConfigureError
from .network import NetworkSpec
from .node import ExecutionContext, MissingNode, Node
from .ports import Port, PortType, Spec, Unavailable
from .registry import Registry, default_registry
from .workflow import Workflow, WorkflowNode

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
        """The parameters of the block's own layers (not those of the network before it),
        those of blocks inside it included (a block's output layer is only its last one)."""
        total = 0
        for item in self.layers():
            if isinstance(item.node, BlockNode):
                total += item.node.layer_params()
            else:
                total += sum(spec.by_id[spec.output].params for spec in item.specs.values()
                             if isinstance(spec, NetworkSpec))
        return total

    def layer_count(self) -> int:
        """How many layer nodes the block holds, those inside blocks in it included."""
        return sum(item.node.layer_count() if isinstance(item.node, BlockNode) else 1 for item in self.layers())


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
        for c in graph.connections:
            copy.connect_any(c.source, c.source_port, c.target, c.target_port)
    return copy


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
