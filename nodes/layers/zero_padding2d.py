"""Zero padding: a border of black pixels around each image or feature map."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape, require_image
from neuroflow.core.settings import IntSetting

from ._common import MAX_WINDOW


def _side(name: str, label: str) -> IntSetting:
    return IntSetting(name, label, 1, minimum=0, maximum=MAX_WINDOW,
                      help=f"Rows or columns of zeros added at the {name}.")


class ZeroPadding2DNode(LayerNode):
    type_id = "neuroflow.layers.zero_padding2d"
    name = "ZeroPadding2D"
    description = (
        "Adds rows and columns of zeros around an image-shaped input, so that a following "
        "convolution or pooling window can also centre on the border pixels, or so that the size "
        "becomes what a later layer expects (1 on every side turns 28x28 into 30x30). It has no "
        "weights."
    )
    keywords = ("padding", "pad", "border", "zeros", "margin")
    keras_class = "ZeroPadding2D"
    range_rule = "keep"  # zeros lie within every pixel range the readers and the Normalizer give
    settings_spec = (
        _side("top", "Top"),
        _side("bottom", "Bottom"),
        _side("left", "Left"),
        _side("right", "Right"),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"padding": ((self["top"], self["bottom"]), (self["left"], self["right"]))}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        require_image(shape, self.name)
        height, width, channels = shape
        return (height + self["top"] + self["bottom"], width + self["left"] + self["right"], channels)
