"""Dense (fully connected) layer."""

from __future__ import annotations

from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.network import Shape, format_shape
from neuroflow.core.settings import ChoiceSetting, IntSetting

from ._common import KERNEL_INITIALIZER, L2, kernel_config


class DenseNode(LayerNode):
    type_id = "neuroflow.layers.dense"
    #: 2 added the weight initializer and the L2 penalty; version-1 files load with their
    #: defaults (Glorot uniform, no penalty), which is what Keras gave those networks.
    version = 2
    name = "Dense"
    description = (
        "A fully connected layer: every unit sees every value of its input. Use it after "
        "Flatten; the last Dense layer of a classifier has one unit per class and softmax."
    )
    keywords = ("fully connected", "linear", "output", "softmax")
    keras_class = "Dense"
    settings_spec = (
        IntSetting("units", "Units", 100, minimum=1, maximum=65_536, help="Number of neurons."),
        ChoiceSetting("activation", "Activation", "relu", choices=ACTIVATIONS,
                      help="Applied to each unit's output; softmax turns scores into class probabilities."),
        KERNEL_INITIALIZER,
        L2,
    )

    def keras_config(self) -> dict[str, Any]:
        return {"units": self["units"], "activation": self["activation"],
                **kernel_config(self["kernel_initializer"], self["l2"])}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        if len(shape) != 1:
            raise ConfigureError(
                f"Dense expects a flat input, got shape {format_shape(shape)}; add a Flatten layer before it"
            )
        return (self["units"],)

    def param_count(self, input_shapes: list[Shape]) -> int:
        return (input_shapes[0][-1] + 1) * self["units"]
