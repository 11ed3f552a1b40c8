"""Build ``workflows/transfer_learning.workflow``: your own photos on a pretrained MobileNetV2.

Image Folder Reader -> Partitioning (80 % to train, stratified) -> Network Learner, with the
network Pretrained Network (MobileNetV2, ImageNet weights, frozen) -> GlobalAveragePooling2D ->
Dropout -> Dense softmax; the held-out 20 % go through the Network Executor to the Scorer, and
the trained model to a Network Writer. No Normalizer: the backbone brings the pixels into the
range MobileNetV2 was trained on by itself. The reader reads ``data/clothes`` beside the
workflow, which ``make transfer-demo`` fills with Fashion-MNIST photos (or point it at your own
folder with one sub-folder per class). Kept as a script so the file is reproducible: a test
rebuilds it and compares the bytes.

Run from the repository root::

    python tools/make_transfer_workflow.py            # (re)write the workflow
    python tools/make_transfer_workflow.py --check    # exit 1 if the shipped file differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from neuroflow.core import fileformat
from neuroflow.core.layout import arrange_workflow
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "workflows" / "transfer_learning.workflow"
SIZE = [96, 96]
CLASSES = 10

#: (id, type, label, settings); positions come from the editor's Arrange.
NODES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("reader", "neuroflow.data.image_folder_reader", "Photos", {
        "folder": "data/clothes", "size": SIZE, "color_mode": "auto", "resize_mode": "crop",
        "on_error": "skip", "cache": "memory",
    }),
    ("split", "neuroflow.data.partitioning", "Train / test split", {
        "mode": "fraction", "fraction": 0.8, "stratified": True, "sampling": "random", "seed": 42,
    }),
    ("pretrained", "neuroflow.layers.pretrained_network", "MobileNetV2 (ImageNet)", {
        "architecture": "MobileNetV2", "input_size": SIZE, "weights": "imagenet", "trainable": "frozen",
    }),
    ("pool", "neuroflow.layers.global_average_pooling2d", "Global average pooling", {}),
    ("dropout", "neuroflow.layers.dropout", "Dropout 0.2", {"rate": 0.2}),
    ("output", "neuroflow.layers.dense", "Dense softmax", {"units": CLASSES, "activation": "softmax"}),
    ("learner", "neuroflow.learning.learner", "Network Learner", {
        "optimizer": "adam", "learning_rate": 0.001, "epochs": 5, "batch_size": 32,
        "validation_split": 0.1, "restore_best": True, "monitor": "val_accuracy", "seed": 42,
    }),
    ("executor", "neuroflow.learning.executor", "Network Executor", {}),
    ("scorer", "neuroflow.learning.scorer", "Scorer", {}),
    ("writer", "neuroflow.learning.writer", "Network Writer", {
        "path": "out/transfer_learning.keras", "overwrite": True,
    }),
]
CONNECTIONS = [
    ("reader", "data", "split", "data"),
    ("pretrained", "network", "pool", "network"),
    ("pool", "network", "dropout", "network"),
    ("dropout", "network", "output", "network"),
    ("output", "network", "learner", "network"),
    ("split", "first", "learner", "training"),
    ("learner", "model", "executor", "model"),
    ("split", "second", "executor", "images"),
    ("executor", "predictions", "scorer", "predictions"),
    ("learner", "model", "writer", "model"),
]


def build() -> Workflow:
    workflow = Workflow()
    with workflow.bulk_edit():
        for node_id, type_id, label, settings in NODES:
            workflow.add_node(type_id, settings=settings, label=label, node_id=node_id)
        for source, source_port, target, target_port in CONNECTIONS:
            workflow.connect(source, source_port, target, target_port)
    for node_id, position in arrange_workflow(workflow, origin=(0.0, 0.0)).items():
        workflow.nodes[node_id].position = position
    return workflow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    options = parser.parse_args(argv)
    text = fileformat.dumps(build())
    if options.check:
        same = TARGET.is_file() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET.name}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    fileformat.atomic_write_text(TARGET, text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
