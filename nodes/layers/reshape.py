"""Reshape: lay the same values out in another shape."""

from __future__ import annotations

import math
from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape, format_shape
from neuroflow.core.settings import IntTupleSetting


class ReshapeNode(LayerNode):
    type_id = "neuroflow.layers.reshape"
    name = "Reshape"
    description = (
        "Lays the values of each sample out in another shape holding the same number of values, "
        "for example a flat vector of 784 values back into a 28x28x1 image. It has no weights and "
        "does not change the values or their order."
    )
    keywords = ("reshape", "shape", "unflatten", "view", "image")
    keras_class = "Reshape"
    range_rule = "keep"  # the values are only rearranged
    settings_spec = (
        IntTupleSetting("target_shape", "Target shape", (28, 28, 1), min_length=1, max_length=3, minimum=1,
                        maximum=100_000,
                        help="Shape of one sample afterwards: (height, width, channels) or (length,); it "
                             "must hold as many values as the input."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"target_shape": self["target_shape"]}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape, target = input_shapes[0], tuple(self["target_shape"])
        have, want = math.prod(shape), math.prod(target)
        if have != want:
            raise ConfigureError(
                f"Reshape cannot lay the {have} values of shape {format_shape(shape)} out as "
                f"{format_shape(target)}, which holds {want}; the number of values must stay the same"
            )
        return target
