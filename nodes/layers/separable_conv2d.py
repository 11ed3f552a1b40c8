"""Separable 2-D convolution: a filter per channel, then a 1x1 convolution mixing the channels."""

from __future__ import annotations

from typing import Any

from neuroflow.core.network import Shape
from neuroflow.core.settings import IntSetting

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


class SeparableConv2DNode(Convolution2DNode):
    type_id = "neuroflow.layers.separable_conv2d"
    name = "SeparableConv2D"
    description = (
        "A cheaper Conv2D in two steps: first each channel is filtered on its own (a depthwise "
        "convolution), then a 1x1 convolution mixes the channels into the requested number of "
        "filters. It needs far fewer weights than Conv2D for the same output, which is why "
        "Xception and MobileNet are built from it. Needs an image-shaped input."
    )
    keywords = (*Convolution2DNode.keywords, "separable", "depthwise", "pointwise", "mobilenet", "xception")
    keras_class = "SeparableConv2D"
    settings_spec = (
        IntSetting("filters", "Filters", 32, minimum=1, maximum=4096,
                   help="Number of filters of the 1x1 step, which is the number of channels of the output."),
        KERNEL_SIZE,
        strides_setting(),
        PADDING,
        dilation_setting(),
        DEPTH_MULTIPLIER,
        ACTIVATION,
        USE_BIAS,
    )

    def keras_config(self) -> dict[str, Any]:
        return {"filters": self["filters"], "depth_multiplier": self["depth_multiplier"], **self.window_config()}

    def output_channels(self, channels: int) -> int:
        return int(self["filters"])

    def param_count(self, input_shapes: list[Shape]) -> int:
        kernel_h, kernel_w = self["kernel_size"]
        depthwise = input_shapes[0][-1] * self["depth_multiplier"]
        filters = self["filters"]
        return kernel_h * kernel_w * depthwise + depthwise * filters + (filters if self["use_bias"] else 0)
