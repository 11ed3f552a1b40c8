"""2-D convolution: a bank of small learnable filters slid over an image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import SettingError
from neuroflow.core.network import Shape
from neuroflow.core.ports import Spec
from neuroflow.core.settings import IntSetting

from ._common import KERNEL_INITIALIZER, L2, PADDING, kernel_config
from ._convolution import (
    ACTIVATION,
    KERNEL_SIZE,
    USE_BIAS,
    Convolution2DNode,
    dilation_setting,
    strides_setting,
)


class Conv2DNode(Convolution2DNode):
    type_id = "neuroflow.layers.conv2d"
    #: 2 added the weight initializer and the L2 penalty; version-1 files load with their
    #: defaults (Glorot uniform, no penalty), which is what Keras gave those networks.
    version = 2
    name = "Conv2D"
    description = (
        "A 2-D convolution: each filter is a small window of learnable weights slid over the "
        "image, producing one feature map per filter. Needs an image-shaped input (height, "
        "width, channels), so place it before any Flatten. Stacks of Conv2D and pooling layers "
        "are the classic way to recognise shapes in images."
    )
    keras_class = "Conv2D"
    settings_spec = (
        IntSetting("filters", "Filters", 32, minimum=1, maximum=4096,
                   help="Number of filters, which is the number of channels of the output."),
        KERNEL_SIZE,
        strides_setting(" Must be 1x1 when the dilation rate is above 1."),
        PADDING,
        dilation_setting(" Must be 1x1 when the strides are above 1."),
        ACTIVATION,
        USE_BIAS,
        KERNEL_INITIALIZER,
        L2,
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
        return {"filters": self["filters"], **self.window_config(),
                **kernel_config(self["kernel_initializer"], self["l2"])}

    def output_channels(self, channels: int) -> int:
        return int(self["filters"])

    def param_count(self, input_shapes: list[Shape]) -> int:
        kernel_h, kernel_w = self["kernel_size"]
        filters = self["filters"]
        weights = kernel_h * kernel_w * input_shapes[0][-1] * filters
        return weights + (filters if self["use_bias"] else 0)
