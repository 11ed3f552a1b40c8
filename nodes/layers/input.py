"""Input layer: where a network starts, with the shape of one image."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape
from neuroflow.core.settings import IntTupleSetting


class InputNode(LayerNode):
    type_id = "neuroflow.layers.input"
    name = "Input"
    description = (
        "Starts a network. The shape is that of one sample without the batch dimension: "
        "height, width and channels for images (28, 28, 1 for MNIST), or a single length for "
        "flat vectors (784)."
    )
    keywords = ("start", "shape", "placeholder")
    inputs = ()
    keras_class = "InputLayer"
    settings_spec = (
        IntTupleSetting(
            "shape", "Shape", (28, 28, 1), min_length=1, max_length=3, minimum=1, maximum=100_000,
            help="Shape of one sample: (height, width, channels) or (length,).",
        ),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"shape": self["shape"]}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        return tuple(self["shape"])
