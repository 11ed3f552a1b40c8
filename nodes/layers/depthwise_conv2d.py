"""Depthwise 2-D convolution: each channel filtered on its own, with no mixing between channels."""

from __future__ import annotations

from typing import Any

from neuroflow.core.network import Shape

from ._common import PADDING
from ._convolution import (
    ACTIVATION,
    DEPTH_MULTIPLIER,
    KERNEL_SIZE,
    USE_BIAS,
    Convolution2DNode,
    dilation_setting,
    strides_setting,
)


class DepthwiseConv2DNode(Convolution2DNode):
    type_id = "neuroflow.layers.depthwise_conv2d"
    name = "DepthwiseConv2D"
    description = (
        "Filters each channel of an image on its own with its own small windows (as many as the "
        "depth multiplier), without mixing channels: the output has channels x multiplier "
        "feature maps. Followed by a 1x1 Conv2D it makes the cheap blocks of MobileNet. Needs an "
        "image-shaped input."
    )
    keywords = (*Convolution2DNode.keywords, "depthwise", "channel-wise", "mobilenet")
    keras_class = "DepthwiseConv2D"
    settings_spec = (
        KERNEL_SIZE,
        strides_setting(),
        PADDING,
        dilation_setting(),
        DEPTH_MULTIPLIER,
        ACTIVATION,
        USE_BIAS,
    )

    def keras_config(self) -> dict[str, Any]:
        return {"depth_multiplier": self["depth_multiplier"], **self.window_config()}

    def output_channels(self, channels: int) -> int:
        return channels * int(self["depth_multiplier"])

    def param_count(self, input_shapes: list[Shape]) -> int:
        kernel_h, kernel_w = self["kernel_size"]
        outputs = self.output_channels(input_shapes[0][-1])
        return kernel_h * kernel_w * outputs + (outputs if self["use_bias"] else 0)
