"""Resizing: scale every image to a fixed height and width inside the network."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape, require_image
from neuroflow.core.settings import ChoiceSetting, IntSetting

#: Largest output side; beyond any image a CPU trains on.
MAX_SIDE = 4096


class ResizingNode(LayerNode):
    type_id = "neuroflow.layers.resizing"
    name = "Resizing"
    description = (
        "Scales every image to the given height and width, for example to feed 28x28 digits to a "
        "network built for 32x32 images. It has no weights and acts when predicting too. Choose "
        "whether images with another aspect ratio are stretched, cropped or padded with black."
    )
    keywords = ("resize", "scale", "size", "interpolation", "upsample", "downsample", "preprocessing")
    keras_class = "Resizing"
    # Interpolated pixels stay between their neighbours (bicubic and Lanczos may overshoot a
    # little; the layers that need the range, such as Random Brightness, clip to it anyway).
    range_rule = "keep"
    settings_spec = (
        IntSetting("height", "Height", 32, minimum=1, maximum=MAX_SIDE, help="Height of the output images in pixels."),
        IntSetting("width", "Width", 32, minimum=1, maximum=MAX_SIDE, help="Width of the output images in pixels."),
        ChoiceSetting(
            "interpolation", "Interpolation", "bilinear",
            choices=("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5"),
            choice_labels=("bilinear", "nearest pixel", "bicubic", "area (good for shrinking)",
                           "Lanczos 3", "Lanczos 5"),
            help="How new pixel values are computed: bilinear is smooth and fast, nearest keeps hard "
                 "edges, area averages and suits shrinking, bicubic and Lanczos are sharper.",
        ),
        ChoiceSetting(
            "aspect_ratio", "Aspect ratio", "stretch", choices=("stretch", "crop", "pad"),
            choice_labels=("stretch to the new size", "crop to keep proportions", "pad with black to keep proportions"),
            help="When the new size has other proportions than the image: stretch distorts it, crop "
                 "cuts the largest centred part with the new proportions, pad adds black borders.",
        ),
    )

    def keras_config(self) -> dict[str, Any]:
        return {
            "height": self["height"],
            "width": self["width"],
            "interpolation": self["interpolation"],
            "crop_to_aspect_ratio": self["aspect_ratio"] == "crop",
            "pad_to_aspect_ratio": self["aspect_ratio"] == "pad",
        }

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        require_image(shape, self.name)
        return (self["height"], self["width"], shape[-1])
