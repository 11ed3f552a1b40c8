"""2-D convolution: a bank of small learnable filters slid over an image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import SettingError
from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.network import Shape, window_output_shape
from neuroflow.core.ports import Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, IntSetting

from ._common import PADDING, pair_setting


class Conv2DNode(LayerNode):
    type_id = "neuroflow.layers.conv2d"
    name = "Conv2D"
    description = (
        "A 2-D convolution: each filter is a small window of learnable weights slid over the "
        "image, producing one feature map per filter. Needs an image-shaped input (height, "
        "width, channels), so place it before any Flatten. Stacks of Conv2D and pooling layers "
        "are the classic way to recognise shapes in images."
    )
    keywords = ("convolution", "conv", "filter", "kernel", "feature map", "cnn")
    keras_class = "Conv2D"
    settings_spec = (
        IntSetting("filters", "Filters", 32, minimum=1, maximum=4096,
                   help="Number of filters, which is the number of channels of the output."),
        pair_setting("kernel_size", "Kernel size", (3, 3),
                     "Height and width of each filter window, e.g. 3x3 or 5x5."),
        pair_setting("strides", "Strides", (1, 1),
                     "Step of the window along height and width; 2x2 halves the output size. "
                     "Must be 1x1 when the dilation rate is above 1."),
        PADDING,
        pair_setting("dilation_rate", "Dilation rate", (1, 1),
                     "Spacing between the kernel's taps: 2x2 makes a 3x3 kernel cover 5x5 pixels "
                     "without extra weights. Must be 1x1 when the strides are above 1."),
        ChoiceSetting("activation", "Activation", "relu", choices=ACTIVATIONS,
                      help="Applied to every value of the output; relu is the usual choice."),
        BoolSetting("use_bias", "Use bias", True,
                    help="Add one learnable offset per filter. Often switched off when a "
                         "BatchNormalization layer follows."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        strides, dilation = self["strides"], self["dilation_rate"]
        if max(strides) > 1 and max(dilation) > 1:
            raise SettingError(
                f"setting 'dilation_rate': {list(dilation)!r} cannot be combined with strides "
                f"{list(strides)!r}; Keras allows dilation above 1 only with strides 1x1",
                setting="dilation_rate",
            )
        return super().configure(specs)

    def keras_config(self) -> dict[str, Any]:
        return {
            "filters": self["filters"],
            "kernel_size": self["kernel_size"],
            "strides": self["strides"],
            "padding": self["padding"],
            "dilation_rate": self["dilation_rate"],
            "activation": self["activation"],
            "use_bias": self["use_bias"],
        }

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        height, width = window_output_shape(
            input_shapes[0], self["kernel_size"], self["strides"], self["padding"],
            self["dilation_rate"], what="Conv2D",
        )
        return (height, width, self["filters"])

    def param_count(self, input_shapes: list[Shape]) -> int:
        kernel_h, kernel_w = self["kernel_size"]
        filters = self["filters"]
        weights = kernel_h * kernel_w * input_shapes[0][-1] * filters
        return weights + (filters if self["use_bias"] else 0)
