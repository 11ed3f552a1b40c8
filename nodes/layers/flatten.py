"""Flatten: turn an image-shaped tensor into one long vector."""

from __future__ import annotations

import math

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape


class FlattenNode(LayerNode):
    type_id = "neuroflow.layers.flatten"
    name = "Flatten"
    description = (
        "Lays all values of each sample out in one vector: a 7x7x64 feature map becomes 3136 "
        "numbers. It has no weights. Put it between the convolution part of a network and the "
        "Dense layers that classify."
    )
    keywords = ("reshape", "vector", "flat")
    keras_class = "Flatten"
    range_rule = "keep"

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        return (math.prod(input_shapes[0]),)
