"""Write a large residual network as a ``.workflow`` file, for timing the editor at real sizes.

The network is the shape of a ResNet: Input -> a stem (Conv2D, BatchNormalization,
Activation) -> repeated residual blocks (Conv2D, BatchNormalization, Activation, Conv2D,
BatchNormalization, Add with the block's input, Activation) -> GlobalAveragePooling2D ->
Dropout -> Dense softmax, trained and scored by the same reader, normaliser, learner, executor,
scorer and writer nodes as the flagship MNIST workflow. Every convolution keeps the image
size and channel count ("same" padding, one filter count), so each block's Add is valid and
the whole workflow is configured, as a real network being edited would be. Blocks are laid out
in rows on the flagship's grid.

Usage::

    python tools/make_residual_workflow.py OUT.workflow [--nodes 400] [--filters 16]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from neuroflow.core import fileformat
from neuroflow.core.workflow import Workflow

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a large residual network workflow")
    parser.add_argument("out", type=Path, help="the .workflow file to write")
    parser.add_argument("--nodes", type=int, default=400, help="about how many nodes (default 400)")
    parser.add_argument("--filters", type=int, default=16, help="filters of every convolution")
    options = parser.parse_args(argv)
    if options.nodes < FIXED_NODES + BLOCK_NODES:
        print(f"error: --nodes must be at least {FIXED_NODES + BLOCK_NODES}", file=sys.stderr)
        return 2
    workflow = residual_workflow(options.nodes, options.filters)
    problem = workflow.first_problem()
    if problem:
        print(f"error: the generated workflow is invalid: {problem}", file=sys.stderr)
        return 1
    fileformat.save(workflow, options.out)
    print(f"wrote {options.out} ({len(workflow.nodes)} nodes, {len(workflow.connections)} connections)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
