"""What the 2-D convolutions share: a window slid over the image, an activation and a bias
(not a node type itself).

Conv2D, SeparableConv2D and DepthwiseConv2D differ only in how many weights each window
position has and how many channels come out, so they share the window settings, their help
texts and the output-size arithmetic here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.network import Shape, window_output_shape
from neuroflow.core.settings import BoolSetting, ChoiceSetting, IntSetting, IntTupleSetting

from ._common import pair_setting

KERNEL_SIZE = pair_setting("kernel_size", "Kernel size", (3, 3),
                           "Height and width of each filter window, e.g. 3x3 or 5x5.")
ACTIVATION = ChoiceSetting("activation", "Activation", "relu", choices=ACTIVATIONS,
                           help="Applied to every value of the output; relu is the usual choice.")
USE_BIAS = BoolSetting("use_bias", "Use bias", True,
                       help="Add one learnable offset per output channel. Often switched off when a "
                            "BatchNormalization layer follows.")
DEPTH_MULTIPLIER = IntSetting(
    "depth_multiplier", "Depth multiplier", 1, minimum=1, maximum=256,
    help="How many filters each input channel gets of its own: an image with 3 channels and "
         "multiplier 2 gives 6 feature maps.",
)


def strides_setting(note: str = "") -> IntTupleSetting:
    return pair_setting("strides", "Strides", (1, 1),
                        "Step of the window along height and width; 2x2 halves the output size." + note)


def dilation_setting(note: str = "") -> IntTupleSetting:
    return pair_setting("dilation_rate", "Dilation rate", (1, 1),
                        "Spacing between the kernel's taps: 2x2 makes a 3x3 kernel cover 5x5 pixels "
                        "without extra weights." + note)


class Convolution2DNode(LayerNode):
    """Base of the 2-D convolution nodes: subclasses state how many channels come out."""

    keywords: ClassVar[tuple[str, ...]] = ("convolution", "conv", "filter", "kernel", "feature map", "cnn")

    def output_channels(self, channels: int) -> int:
        """The number of channels of the output for an input with ``channels`` channels."""
        raise NotImplementedError

    def window_config(self) -> dict[str, Any]:
        """The Keras arguments every convolution has, from the shared settings."""
        return {
            "kernel_size": self["kernel_size"],
            "strides": self["strides"],
            "padding": self["padding"],
            "dilation_rate": self["dilation_rate"],
            "activation": self["activation"],
            "use_bias": self["use_bias"],
        }

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        height, width = window_output_shape(
            shape, self["kernel_size"], self["strides"], self["padding"], self["dilation_rate"], what=self.name,
        )
        return (height, width, self.output_channels(shape[-1]))

