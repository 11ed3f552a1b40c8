"""Build the reference workflows of issue 4 through the Workflow API and save them canonically.

The six networks come from published codeless-deep-learning articles (KNIME, DLHUB, Keras);
the seventh, "best MNIST CNN", is NeuroFlow's own stronger network. Each is described here as
plain data - its layers, the learner's settings and the dataset - and built into a
:class:`~neuroflow.core.workflow.Workflow` with the same node ids as the flagship
(``train_reader``, ``test_reader``, ``train_norm``, ``test_norm``, ``input``, ``learner``,
``executor``, ``scorer``, ``writer``), so ``neuroflow run FILE --set train_reader.limit=...``
works the same on all of them. Keeping the workflows generated makes them reproducible: a test
regenerates them and compares the bytes with the files in ``workflows/``.

Run from the repository root::

    python tools/make_reference_workflows.py            # (re)write workflows/*.workflow
    python tools/make_reference_workflows.py --check    # exit 1 if a shipped file differs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroflow.core import fileformat
from neuroflow.core.block import MARKER_GAP, BlockNode
from neuroflow.core.block_edits import collapse
from neuroflow.core.layout import Spacing, arrange_workflow, default_size
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"


@dataclass(frozen=True)
class Layer:
    """One layer node: its id, node type (short name under ``neuroflow.layers``), label, settings."""

    id: str
    kind: str
    label: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """Layers drawn as one block: the block's node id, its label and the ids of its layers."""

    id: str
    label: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """One reference workflow: the file name, the dataset, the network and how it is trained."""

    name: str
    dataset: str  # "digits" or "fashion"
    layers: tuple[Layer, ...]
    learner: Mapping[str, Any]
    #: Runs of consecutive layers shown as one block each (the layers keep their ids inside).
    blocks: tuple[Group, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.name}.workflow"


def conv(node_id: str, filters: int, size: int, activation: str = "relu") -> Layer:
    shown = "" if activation == "relu" else f" {activation}"
    return Layer(node_id, "conv2d", f"Conv2D {filters} {size}x{size}{shown}",
                 {"filters": filters, "kernel_size": [size, size], "strides": [1, 1], "activation": activation})


def max_pool(node_id: str) -> Layer:
    return Layer(node_id, "max_pooling2d", "MaxPooling 2x2", {"pool_size": [2, 2], "strides": [2, 2]})


def dense(node_id: str, units: int, activation: str) -> Layer:
    return Layer(node_id, "dense", f"Dense {units} {activation}", {"units": units, "activation": activation})


def dropout(node_id: str, rate: float) -> Layer:
    return Layer(node_id, "dropout", f"Dropout {rate:g}", {"rate": rate})


def batch_norm(node_id: str) -> Layer:
    return Layer(node_id, "batch_normalization", "BatchNorm")


INPUT = Layer("input", "input", "Input 28x28x1", {"shape": [28, 28, 1]})
FLATTEN = Layer("flatten", "flatten", "Flatten")
OUTPUT = dense("output", 10, "softmax")


def learner(optimizer: str, learning_rate: float, epochs: int, batch_size: int,
            loss: str = "categorical_crossentropy", lr_schedule: str = "constant") -> dict[str, Any]:
    """Learner settings as the articles state them: no validation split, shuffled, seed 42."""
    return {
        "loss": loss, "optimizer": optimizer, "learning_rate": learning_rate, "lr_schedule": lr_schedule,
        "epochs": epochs, "batch_size": batch_size, "shuffle": True, "seed": 42, "validation_split": 0.0,
        "early_stopping": False,
    }


#: Adadelta as Keras 1 and 2 (the articles' era) defaulted it: learning rate 1.0, not Keras 3's 0.001.
ADADELTA_CLASSIC = 1.0

REFERENCES: tuple[Reference, ...] = (
    # KNIME codeless MNIST article: categorical cross-entropy, Adadelta, 10 epochs, batch 200 (94.26%).
    Reference(
        "knime_simple_cnn", "digits",
        (INPUT, conv("conv", 32, 3), max_pool("pool"), FLATTEN, dense("dense", 100, "relu"), OUTPUT),
        learner("adadelta", ADADELTA_CLASSIC, epochs=10, batch_size=200),
    ),
    # The same article's second network: a second Conv2D 32 3x3, 3 epochs (96.26%).
    Reference(
        "knime_two_conv_cnn", "digits",
        (INPUT, conv("conv1", 32, 3), conv("conv2", 32, 3), max_pool("pool"), FLATTEN,
         dense("dense", 100, "relu"), OUTPUT),
        learner("adadelta", ADADELTA_CLASSIC, epochs=3, batch_size=200),
    ),
    # KNIME's Fashion-MNIST CNN (92%); optimizer and epochs not stated. Chosen (docs/results.md):
    # mirrored and shifted training images (Random Flip, Random Shift 5%; no weights), Adam with
    # cosine decay, batch 32, 30 epochs.
    Reference(
        "knime_fashion_cnn", "fashion",
        (INPUT, Layer("flip", "random_flip", "Random Flip", {"mode": "horizontal"}),
         Layer("shift", "random_shift", "Random Shift 5%",
               {"height_factor": 0.05, "width_factor": 0.05, "fill_mode": "constant"}),
         conv("conv1", 16, 2), conv("conv2", 16, 2), max_pool("pool1"), conv("conv3", 32, 2),
         conv("conv4", 32, 2), max_pool("pool2"), FLATTEN, dense("dense", 100, "relu"), OUTPUT),
        learner("adam", 0.001, epochs=30, batch_size=32, lr_schedule="cosine"),
    ),
    # Keras's mnist_cnn example, rebuilt in DLHUB: Adadelta, batch 128, 12 epochs (99.25%; DLHUB ~99%).
    # Those settings give 99.08% with seed 42; shipped (docs/results.md): shifted training images
    # (Random Shift, no weights), Adam with cosine decay, batch 128, 15 epochs.
    Reference(
        "keras_example_cnn", "digits",
        (INPUT, Layer("shift", "random_shift", "Random Shift 10%",
                      {"height_factor": 0.1, "width_factor": 0.1, "fill_mode": "constant"}),
         conv("conv1", 32, 3), conv("conv2", 64, 3), max_pool("pool"), dropout("dropout1", 0.25),
         FLATTEN, dense("dense", 128, "relu"), dropout("dropout2", 0.5), OUTPUT),
        learner("adam", 0.001, epochs=15, batch_size=128, lr_schedule="cosine"),
        (Group("features", "Features: Conv 32, 64", ("conv1", "conv2", "pool", "dropout1")),
         Group("classifier", "Classifier: Dense 128", ("flatten", "dense", "dropout2", "output"))),
    ),
    # Keras's first dense network on flattened MNIST: RMSprop, batch 128 (97.75% after 5 epochs).
    Reference(
        "keras_dense_mnist", "digits",
        (INPUT, Layer("flatten", "flatten", "Flatten to 784"), dense("dense", 512, "relu"), OUTPUT),
        learner("rmsprop", 0.001, epochs=10, batch_size=128),  # article: 5 (just below its 97.75%)
    ),
    # Keras CNN tutorial: linear Conv2D 28 3x3, Adam, sparse labels, 10 epochs, fit's batch 32 (98.5%).
    Reference(
        "keras_cnn_tutorial", "digits",
        (INPUT, conv("conv", 28, 3, activation="linear"), max_pool("pool"), FLATTEN,
         dense("dense", 128, "relu"), dropout("dropout", 0.2), OUTPUT),
        learner("adam", 0.001, epochs=10, batch_size=32, loss="sparse_categorical_crossentropy"),
    ),
    # NeuroFlow's own: two Conv-BN-Conv-BN-pool-dropout blocks and a BN head, for >= 99.3%.
    Reference(
        "best_mnist_cnn", "digits",
        (INPUT, conv("conv1", 32, 3), batch_norm("bn1"), conv("conv2", 32, 3), batch_norm("bn2"),
         max_pool("pool1"), dropout("dropout1", 0.25),
         conv("conv3", 64, 3), batch_norm("bn3"), conv("conv4", 64, 3), batch_norm("bn4"),
         max_pool("pool2"), dropout("dropout2", 0.25),
         FLATTEN, dense("dense", 256, "relu"), batch_norm("bn5"), dropout("dropout3", 0.5), OUTPUT),
        learner("adam", 0.0005, epochs=12, batch_size=128),
        (Group("stage1", "Stage 1: 2x Conv 32", ("conv1", "bn1", "conv2", "bn2", "pool1", "dropout1")),
         Group("stage2", "Stage 2: 2x Conv 64", ("conv3", "bn3", "conv4", "bn4", "pool2", "dropout2")),
         Group("classifier", "Classifier: Dense 256", ("flatten", "dense", "bn5", "dropout3", "output"))),
    ),
)
BY_NAME = {reference.name: reference for reference in REFERENCES}


def build(reference: Reference) -> Workflow:
    """The workflow of ``reference`` with the flagship's node ids, laid out by the editor's Arrange."""
    title = "MNIST" if reference.dataset == "digits" else "Fashion-MNIST"
    workflow = Workflow()
    with workflow.bulk_edit():
        for split in ("train", "test"):
            workflow.add_node(
                "neuroflow.data.mnist_reader", node_id=f"{split}_reader", label=f"{title} {split}",
                settings={"dataset": reference.dataset, "split": split, "data_folder": "", "limit": 0,
                          "download": True, "mirror": ""},
            )
            workflow.add_node(
                "neuroflow.data.normalizer", node_id=f"{split}_norm", label=f"Normalize {split}",
                settings={"range": "0..1"},
            )
        for layer in reference.layers:
            workflow.add_node(
                f"neuroflow.layers.{layer.kind}", node_id=layer.id, label=layer.label,
                settings=dict(layer.settings),
            )
        workflow.add_node("neuroflow.learning.learner", node_id="learner", label="Network Learner",
                          settings=dict(reference.learner))
        workflow.add_node("neuroflow.learning.executor", node_id="executor", label="Network Executor",
                          settings={"batch_size": 256})
        workflow.add_node("neuroflow.learning.scorer", node_id="scorer", label="Scorer")
        workflow.add_node(
            "neuroflow.learning.writer", node_id="writer", label="Network Writer",
            settings={"path": f"out/{reference.name}.keras", "format": "auto", "overwrite": True,
                      "create_folders": True},
        )
        for split in ("train", "test"):
            workflow.connect(f"{split}_reader", "data", f"{split}_norm", "data")
        for before, after in zip(reference.layers, reference.layers[1:], strict=False):
            workflow.connect(before.id, "network", after.id, "network")
        workflow.connect(reference.layers[-1].id, "network", "learner", "network")
        workflow.connect("train_norm", "data", "learner", "training")
        workflow.connect("learner", "model", "executor", "model")
        workflow.connect("test_norm", "data", "executor", "images")
        workflow.connect("executor", "predictions", "scorer", "predictions")
        workflow.connect("learner", "model", "writer", "model")
    for group in reference.blocks:
        collapse(workflow, group.layers, label=group.label, block_id=group.id)
        arrange_inside(workflow.nodes[group.id].node)
    for node_id, position in arrange_in_rows(workflow).items():
        workflow.move_node(node_id, position)
    return workflow


def arrange_inside(block: BlockNode) -> None:
    """Lay out a block's inside as Arrange would, its first layer where the block sits (the
    input markers one column to the left), so Expand Block puts the layers in a row from there."""
    graph = block.graph
    for node_id, position in arrange_workflow(graph, origin=(-MARKER_GAP, 0.0)).items():
        graph.move_node(node_id, position)


def network_chain(workflow: Workflow) -> list[str]:
    """The top-level network nodes from ``input`` to the node feeding the learner."""
    chain = ["input"]
    while True:
        following = [c.target for c in workflow.outgoing(chain[-1]) if c.source_port == "network"]
        if not following or following[0] == "learner":
            return chain
        chain.append(following[0])


#: Nodes the editor draws wider than the layout's default 200 pixels (long port names or
#: titles), so that the rows' shared columns leave a clear gap after them.
WIDE = {"learner": 260.0, "executor": 240.0}
BLOCK_WIDTH = 240.0
#: Columns closer than Arrange's default, so that three rows of four fit the editor at 100%.
ROW_SPACING = Spacing(column_gap=50.0, row_gap=30.0)
MODEL_WIRE_ROOM = 30.0


def arrange_in_rows(workflow: Workflow) -> dict[str, tuple[float, float]]:
    """Three rows, each laid out by Arrange, one under the other in shared columns: the network
    (Input and its blocks), then training (reader, normalizer, learner, writer), then scoring
    (reader, normalizer, executor, scorer).

    Arrange on the whole workflow gives each node of the chain Input -> blocks -> learner ->
    executor -> scorer a column of its own: seven columns, too wide for the editor of a
    1600 x 1000 window at 100% zoom even with blocks. Three rows of four columns fit; two wires
    turn back to reach the row below (the network into the learner, the trained model into
    the executor). The flagship and the other reference workflows, whose networks are plain
    layers, use the same rows: the network on top, as wide as it is."""
    rows = [network_chain(workflow), ["train_reader", "train_norm", "learner", "writer"],
            ["test_reader", "test_norm", "executor", "scorer"]]
    width = [ROW_SPACING.default_width] * max(len(row) for row in rows)
    for row in rows:
        for column, node_id in enumerate(row):
            drawn = BLOCK_WIDTH if isinstance(workflow.nodes[node_id].node, BlockNode) else WIDE.get(node_id, 0.0)
            width[column] = max(width[column], drawn)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for number, row in enumerate(rows):
        if number == len(rows) - 1:  # room for the trained model's wire to curve back under the learner
            top += MODEL_WIRE_ROOM
        sizes = {}
        for column, node_id in enumerate(row):
            ports = max(len(workflow.nodes[node_id].node.inputs), 1)
            sizes[node_id] = (width[column], default_size(ports, ROW_SPACING)[1])
        placed = arrange_workflow(workflow, row, sizes, origin=(0.0, top), spacing=ROW_SPACING)
        positions.update(placed)
        top = max(placed[node_id][1] + sizes[node_id][1] for node_id in row) + ROW_SPACING.row_gap
    return positions


def fashion_folder() -> Path:
    """Where the canonical Fashion-MNIST files sit next to a clone: ``../shared/data/fashion-mnist``."""
    return REPO.parent / "shared" / "data" / "fashion-mnist"


def check_valid(reference: Reference, workflow: Workflow) -> str | None:
    """The workflow's first problem, or None. A Fashion workflow is checked against the sibling
    data folder when the standard places hold no Fashion-MNIST (its shipped setting stays empty)."""
    problem = workflow.first_problem()
    if not problem or reference.dataset != "fashion":
        return problem
    if not fashion_folder().is_dir():
        if "(train_reader):" in problem or "(test_reader):" in problem:
            print(f"{reference.file}: no Fashion-MNIST here, so only written, not checked: {problem}",
                  file=sys.stderr)
            return None
        return problem
    for split in ("train", "test"):
        workflow.set_setting(f"{split}_reader", "data_folder", str(fashion_folder()))
    problem = workflow.first_problem()
    for split in ("train", "test"):
        workflow.set_setting(f"{split}_reader", "data_folder", "")
    return problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    parser.add_argument("--out", type=Path, default=WORKFLOWS, help="folder to write into (default: workflows/)")
    options = parser.parse_args(argv)
    differing = []
    for reference in REFERENCES:
        workflow = build(reference)
        problem = check_valid(reference, workflow)
        if problem:
            print(f"{reference.file}: invalid: {problem}", file=sys.stderr)
            return 1
        target = options.out / reference.file
        if options.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != fileformat.dumps(workflow):
                differing.append(reference.file)
            continue
        fileformat.save(workflow, target)
        print(f"wrote {target}")
    if differing:
        print(f"out of date: {', '.join(differing)}; run python tools/make_reference_workflows.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
