"""What the pooling layers share (not a node type): max and average pooling a window, its step
and the padding; global pooling only that it needs an image and keeps one value per channel."""

from __future__ import annotations

from typing import Any, ClassVar

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape, require_image, window_output_shape

from ._common import PADDING, pair_setting


class Pooling2DNode(LayerNode):
    """Base of the 2-D pooling nodes; subclasses set the identity and ``keras_class``."""

    range_rule = "keep"  # a maximum or an average of pixels stays within their range

    keywords: ClassVar[tuple[str, ...]] = ("pooling", "downsample", "subsample", "cnn")
    settings_spec = (
        pair_setting("pool_size", "Pool size", (2, 2),
                     "Height and width of the window summarised into one value; 2x2 halves the "
                     "image size."),
        pair_setting("strides", "Strides", (0, 0),
                     "Step of the window along height and width. 0 means 'the same as the pool "
                     "size' (windows side by side, not overlapping), the usual choice; e.g. pool "
                     "size 3x3 with strides 2x2 gives overlapping windows.",
                     minimum=0),
        PADDING,
    )

    def effective_strides(self) -> tuple[int, int]:
        """The strides with each 0 replaced by the pool size along that axis."""
        strides, pool = self["strides"], self["pool_size"]
        return (strides[0] or pool[0], strides[1] or pool[1])

    def keras_config(self) -> dict[str, Any]:
        return {
            "pool_size": self["pool_size"],
            "strides": self.effective_strides(),
            "padding": self["padding"],
        }

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        height, width = window_output_shape(
            shape, self["pool_size"], self.effective_strides(), self["padding"], what=self.name
        )
        return (height, width, shape[-1])


class GlobalPooling2DNode(LayerNode):
    """Base of the global pooling nodes: a whole (H, W, C) image becomes C numbers."""

    range_rule = "keep"  # as for windowed pooling
    keywords: ClassVar[tuple[str, ...]] = ("pooling", "global", "gap", "channels", "head", "classifier", "cnn")

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        require_image(shape, self.name)
        return (shape[-1],)
