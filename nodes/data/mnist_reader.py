"""MNIST Reader: the MNIST handwritten digits (bundled) or Fashion-MNIST, one split at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageDataset
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import ChoiceSetting, IntSetting, PathSetting
from neuroflow.datasets.mnist import COLLECTIONS, SplitInfo, inspect_split, load_split, locate_split

VALUE_RANGE = (0.0, 255.0)


class MnistReaderNode(Node):
    type_id = "neuroflow.data.mnist_reader"
    category = "Data"
    name = "MNIST Reader"
    description = (
        "Reads the training or test split of MNIST (handwritten digits 0-9, shipped with "
        "NeuroFlow) or Fashion-MNIST (ten kinds of clothing) as 28x28 grayscale images with "
        "pixel values 0-255. It reads IDX files (gzipped or not) or a Keras-style mnist.npz "
        "from the data folder; without one it uses the bundled MNIST, and looks for "
        "Fashion-MNIST in $NEUROFLOW_DATA/fashion-mnist, ~/.neuroflow/data/fashion-mnist and "
        "the Keras cache ~/.keras/datasets/fashion-mnist."
    )
    keywords = ("mnist", "fashion", "digits", "reader", "idx", "npz", "dataset", "load")
    outputs = (
        Port("data", PortType.IMAGES, "images", help="The images (N, 28, 28, 1) uint8 with labels 0-9."),
    )
    settings_spec = (
        ChoiceSetting(
            "dataset", "Dataset", "digits", choices=("digits", "fashion"),
            choice_labels=("MNIST handwritten digits", "Fashion-MNIST clothing"),
            help="Which dataset of the MNIST family to read.",
        ),
        ChoiceSetting(
            "split", "Split", "train", choices=("train", "test"),
            choice_labels=("training set (60,000 images)", "test set (10,000 images)"),
            help="The training split for learning, the test split for scoring.",
        ),
        PathSetting(
            "data_folder", "Data folder", "", mode="folder",
            help="Folder with the IDX files (.gz or raw) or an .npz archive; may also name the "
                 ".npz file itself. Empty: bundled MNIST, or the standard Fashion-MNIST places.",
        ),
        IntSetting(
            "limit", "Sample limit", 0, minimum=0,
            help="Read only the first N images (0 = all). The files store samples in shuffled "
                 "order, so the first N are a fair, reproducible sample, and reading stops there.",
        ),
    )

    def _inspect(self) -> SplitInfo:
        collection = COLLECTIONS[self["dataset"]]
        return inspect_split(locate_split(collection, self["split"], self["data_folder"]))

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        info = self._inspect()  # headers only: cheap enough to run after every edit
        return {
            "data": DatasetSpec(
                shape=(*info.image_shape, 1),
                class_names=info.files.collection.class_names,
                count=info.selected(self["limit"]),
                value_range=VALUE_RANGE,
            )
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        info = self._inspect()
        images, labels = load_split(info, self["limit"], progress=ctx.progress)
        dataset = ImageDataset(
            images, labels, info.files.collection.class_names, VALUE_RANGE, source=info.files.describe()
        )
        return {"data": dataset}
