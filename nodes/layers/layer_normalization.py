"""Layer normalisation: centre and scale each sample's values along the last axis."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape
from neuroflow.core.settings import BoolSetting, FloatSetting


class LayerNormalizationNode(LayerNode):
    type_id = "neuroflow.layers.layer_normalization"
    name = "LayerNormalization"
    description = (
        "Normalises the values of each sample along the last axis (the channels of each pixel, "
        "or a whole vector) to zero mean and unit variance, then applies a learnt scale and "
        "offset per channel. Unlike BatchNormalization it does not depend on the batch, so it "
        "behaves the same in training and prediction and with any batch size."
    )
    keywords = ("normalization", "normalisation", "layernorm", "ln", "standardize")
    keras_class = "LayerNormalization"
    settings_spec = (
        FloatSetting("epsilon", "Epsilon", 0.001, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                     help="Small number added to the variance to avoid dividing by zero."),
        BoolSetting("center", "Learn an offset", True,
                    help="Add a learnt offset (beta) per channel after normalising."),
        BoolSetting("scale", "Learn a scale", True,
                    help="Multiply by a learnt factor (gamma) per channel after normalising; can be "
                         "off when a linear or relu layer follows, which can scale by itself."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"axis": -1, "epsilon": self["epsilon"], "center": self["center"], "scale": self["scale"]}

    def param_count(self, input_shapes: list[Shape]) -> int:
        return input_shapes[0][-1] * (int(self["center"]) + int(self["scale"]))
