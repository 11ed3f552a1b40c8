"""Write a large residual network as a ``.workflow`` file, for timing the editor at real sizes.

The network is the shape of a ResNet: Input -> a stem (Conv2D, BatchNormalization,
Activation) -> repeated residual blocks (Conv2D, BatchNormalization, Activation, Conv2D,
BatchNormalization, Add with the block's input, Activation) -> GlobalAveragePooling2D ->
Dropout -> Dense softmax, trained and scored by the same reader, normaliser, learner, executor,
scorer and writer nodes as the flagship MNIST workflow. Every convolution keeps the image
size and channel count ("same" padding, one filter count), so each block's Add is valid and
the whole workflow is configured, as a real network being edited would be. Blocks are laid out
in rows on the flagship's grid.

With ``--blocks`` the same network is drawn as a person would build it in the editor: each
residual block collapsed into a block node ("Residual block 7"), the stem and the head into one
block each, and the residual blocks grouped into ``--stages`` stage blocks (blocks inside
blocks, as ResNet's stages hold its blocks), every level laid out by Arrange. It is the same
network - the same layers in the same order, so the same parameters - in a top level of about
twenty nodes instead of hundreds.

Usage::

    python tools/make_residual_workflow.py OUT.workflow [--nodes 400] [--filters 16]
    python tools/make_residual_workflow.py OUT.workflow --nodes 180 --blocks [--stages 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from neuroflow.core import fileformat
from neuroflow.core.block import MARKER_GAP, BlockNode
from neuroflow.core.block_edits import collapse
from neuroflow.core.layout import SPACING, arrange_workflow, default_size
from neuroflow.core.workflow import Workflow, WorkflowNode

#: Nodes outside the residual blocks: 8 for data and learning, input, 3 stem, pooling, dropout, dense.
FIXED_NODES = 15
BLOCK_NODES = 7
GRID_X, GRID_Y = 220.0, 190.0
ROW_LENGTH = 14

LAYER = "neuroflow.layers."
DATA_AND_LEARNING: list[tuple[str, str, str, dict[str, Any], tuple[float, float]]] = [
    ("train_reader", "neuroflow.data.mnist_reader", "MNIST train", {"split": "train"}, (0.0, -570.0)),
    ("train_norm", "neuroflow.data.normalizer", "Normalize train", {"range": "0..1"}, (220.0, -570.0)),
    ("test_reader", "neuroflow.data.mnist_reader", "MNIST test", {"split": "test"}, (0.0, -380.0)),
    ("test_norm", "neuroflow.data.normalizer", "Normalize test", {"range": "0..1"}, (220.0, -380.0)),
    ("learner", "neuroflow.learning.learner", "Network Learner", {"epochs": 1, "batch_size": 64},
     (660.0, -570.0)),
    ("executor", "neuroflow.learning.executor", "Network Executor", {}, (880.0, -380.0)),
    ("scorer", "neuroflow.learning.scorer", "Scorer", {}, (1100.0, -380.0)),
    ("writer", "neuroflow.learning.writer", "Network Writer",
     {"path": "out/residual.keras", "overwrite": True}, (880.0, -570.0)),
]
DATA_WIRES = [
    ("train_reader", "data", "train_norm", "data"),
    ("test_reader", "data", "test_norm", "data"),
    ("train_norm", "data", "learner", "training"),
    ("learner", "model", "executor", "model"),
    ("test_norm", "data", "executor", "images"),
    ("executor", "predictions", "scorer", "predictions"),
    ("learner", "model", "writer", "model"),
]


def blocks_for(nodes: int) -> int:
    """How many residual blocks give (about) ``nodes`` nodes in all."""
    return max(1, round((nodes - FIXED_NODES) / BLOCK_NODES))


def residual_workflow(nodes: int = 400, filters: int = 16) -> Workflow:
    """The workflow described in the module docstring, with about ``nodes`` nodes."""
    workflow = Workflow()
    conv = {"filters": filters, "kernel_size": [3, 3], "padding": "same", "activation": "linear"}
    layers: list[tuple[str, str, str, dict[str, Any]]] = [
        ("input", "input", "Input", {"shape": [28, 28, 1]}),
        ("stem_conv", "conv2d", "Stem Conv2D", conv),
        ("stem_bn", "batch_normalization", "Stem BatchNorm", {}),
        ("stem_act", "activation", "Stem ReLU", {"activation": "relu"}),
    ]
    wires = [("input", "stem_conv"), ("stem_conv", "stem_bn"), ("stem_bn", "stem_act")]
    adds: list[tuple[str, str]] = []
    previous = "stem_act"
    for block in range(1, blocks_for(nodes) + 1):
        b = f"b{block}_"
        layers += [
            (b + "conv1", "conv2d", f"Block {block} Conv2D 1", conv),
            (b + "bn1", "batch_normalization", f"Block {block} BatchNorm 1", {}),
            (b + "act1", "activation", f"Block {block} ReLU 1", {"activation": "relu"}),
            (b + "conv2", "conv2d", f"Block {block} Conv2D 2", conv),
            (b + "bn2", "batch_normalization", f"Block {block} BatchNorm 2", {}),
            (b + "add", "add", f"Block {block} Add", {}),
            (b + "out", "activation", f"Block {block} ReLU", {"activation": "relu"}),
        ]
        wires += [(previous, b + "conv1"), (b + "conv1", b + "bn1"), (b + "bn1", b + "act1"),
                  (b + "act1", b + "conv2"), (b + "conv2", b + "bn2"), (b + "add", b + "out")]
        adds += [(b + "bn2", b + "add"), (previous, b + "add")]
        previous = b + "out"
    layers += [
        ("pool", "global_average_pooling2d", "Global average pooling", {}),
        ("dropout", "dropout", "Dropout", {"rate": 0.2}),
        ("output", "dense", "Dense 10 softmax", {"units": 10, "activation": "softmax"}),
    ]
    wires += [(previous, "pool"), ("pool", "dropout"), ("dropout", "output")]

    with workflow.bulk_edit():
        for node_id, type_id, label, settings, position in DATA_AND_LEARNING:
            workflow.add_node(type_id, settings=settings, label=label, node_id=node_id, position=position)
        for index, (node_id, kind, label, settings) in enumerate(layers):
            row, column = divmod(index, ROW_LENGTH)
            workflow.add_node(LAYER + kind, settings=settings, label=label, node_id=node_id,
                              position=(column * GRID_X, row * GRID_Y))
        for source, target in wires:
            workflow.connect(source, "network", target, "network")
        for source, target in adds:
            port = "network_1" if source.endswith("bn2") else "network_2"
            workflow.connect(source, "network", target, port)
        workflow.connect("output", "network", "learner", "network")
        for source, source_port, target, target_port in DATA_WIRES:
            workflow.connect(source, source_port, target, target_port)
    return workflow


def stage_sizes(blocks: int, stages: int) -> list[int]:
    """How many residual blocks each stage holds: as even as can be, the later stages the larger."""
    stages = max(1, min(stages, blocks))
    base, extra = divmod(blocks, stages)
    return [base + (1 if stage >= stages - extra else 0) for stage in range(stages)]


def with_blocks(workflow: Workflow, stages: int = 4) -> Workflow:
    """Collapse the network of :func:`residual_workflow` into blocks, in place: the stem, each
    residual block, ``stages`` stages of residual blocks and the head; then lay out every level
    with Arrange. Node ids outside the network (readers, learner, ...) and ``input`` stay."""
    count = sum(1 for node_id in workflow.nodes if node_id.endswith("_add"))
    collapse(workflow, ["stem_conv", "stem_bn", "stem_act"], label="Stem: Conv, BN, ReLU", block_id="stem")
    for block in range(1, count + 1):
        b = f"b{block}_"
        members = [b + name for name in ("conv1", "bn1", "act1", "conv2", "bn2", "add", "out")]
        collapse(workflow, members, label=f"Residual block {block}", block_id=f"block{block}")
    first = 1
    for stage, size in enumerate(stage_sizes(count, stages), start=1):
        members = [f"block{number}" for number in range(first, first + size)]
        label = f"Stage {stage}: blocks {first}-{first + size - 1}" if size > 1 else f"Stage {stage}: block {first}"
        collapse(workflow, members, label=label, block_id=f"stage{stage}")
        first += size
    collapse(workflow, ["pool", "dropout", "output"], label="Head: pool, Dense 10", block_id="head")
    arrange_all(workflow)
    return workflow


def count_nodes(workflow: Workflow) -> tuple[int, int]:
    """(layer and other nodes, block nodes) in ``workflow``, inside blocks included, markers not."""
    nodes = blocks = 0
    for item in workflow.nodes.values():
        if isinstance(item.node, BlockNode):
            inner_nodes, inner_blocks = count_nodes(item.node.graph)
            nodes, blocks = nodes + inner_nodes, blocks + inner_blocks + 1
        elif not item.node.type_id.startswith("neuroflow.block."):
            nodes += 1
    return nodes, blocks


def arrange_all(workflow: Workflow) -> None:
    """Arrange the workflow and, inside out, every block in it (a block's first layer where the
    block sits, its input markers a column to the left)."""
    for item in workflow.nodes.values():
        if isinstance(item.node, BlockNode):
            arrange_all(item.node.graph)
            inner = item.node.graph
            sizes = {node_id: (drawn_width(child), default_size(max(len(child.node.inputs), 1))[1])
                     for node_id, child in inner.nodes.items()}
            for node_id, position in arrange_workflow(inner, sizes=sizes, origin=(-MARKER_GAP, 0.0)).items():
                inner.nodes[node_id].position = position
    sizes = {node_id: (drawn_width(item), default_size(max(len(item.node.inputs), 1))[1])
             for node_id, item in workflow.nodes.items()}
    for node_id, position in arrange_workflow(workflow, sizes=sizes, origin=(0.0, 0.0)).items():
        workflow.nodes[node_id].position = position


def drawn_width(item: WorkflowNode) -> float:
    """About how wide the editor draws a node: blocks and the learner are wider than the
    layout's default (a title and a block badge, long port names), so their columns are too."""
    if isinstance(item.node, BlockNode):
        return max(SPACING.default_width, 60.0 + 8.5 * len(item.label))
    return 260.0 if item.id == "learner" else SPACING.default_width


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a large residual network workflow")
    parser.add_argument("out", type=Path, help="the .workflow file to write")
    parser.add_argument("--nodes", type=int, default=400, help="about how many nodes (default 400)")
    parser.add_argument("--filters", type=int, default=16, help="filters of every convolution")
    parser.add_argument("--blocks", action="store_true",
                        help="draw each residual block, the stem, the head and each stage as a block node")
    parser.add_argument("--stages", type=int, default=4, help="stages of residual blocks with --blocks (default 4)")
    options = parser.parse_args(argv)
    if options.nodes < FIXED_NODES + BLOCK_NODES:
        print(f"error: --nodes must be at least {FIXED_NODES + BLOCK_NODES}", file=sys.stderr)
        return 2
    workflow = residual_workflow(options.nodes, options.filters)
    if options.blocks:
        with_blocks(workflow, options.stages)
    problem = workflow.first_problem()
    if problem:
        print(f"error: the generated workflow is invalid: {problem}", file=sys.stderr)
        return 1
    fileformat.save(workflow, options.out)
    shown = f"{len(workflow.nodes)} nodes, {len(workflow.connections)} connections"
    if options.blocks:
        nodes, blocks = count_nodes(workflow)
        shown += f" at the top; {nodes} nodes in {blocks} blocks in all"
    print(f"wrote {options.out} ({shown})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
