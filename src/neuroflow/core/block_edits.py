"""Collapsing selected layer nodes into a block, and expanding a block back.

:func:`plan_collapse` and :func:`plan_expand` only compute the edit - which nodes go, the block
or the layers that come, the wires to make - so that the editor can apply it as one undoable
command and the command line or a test can apply it directly (:func:`collapse`, :func:`expand`).
Collapsing then expanding gives the same graph back: the layers keep their ids where the
workflow has them free, and their places relative to the block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .block import (
    MARKER_GAP,
    OUTPUT_PORT,
    BlockInput,
    BlockNode,
    BlockOutput,
    block_registry,
    clone_node,
    layer_node_problem,
)
from .errors import ConfigureError
from .node import Node
from .workflow import Connection, Workflow


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
            graph.connect_any(marker_ids[key], "network", target, target_port)
        for connection in workflow.connections:
            if connection in internal:
                c = connection
                graph.connect_any(c.source, c.source_port, c.target, c.target_port)
        graph.connect_any(out_node, out_port, output_id, "network")
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
