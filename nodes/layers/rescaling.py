"""Rescaling: multiply every value by a scale and add an offset, inside the network."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.settings import FloatSetting


class RescalingNode(LayerNode):
    type_id = "neuroflow.layers.rescaling"
    name = "Rescaling"
    description = (
        "Multiplies every value by a scale and adds an offset: scale 1/255 maps raw 0-255 pixels "
        "to [0, 1], scale 1/127.5 with offset -1 maps them to [-1, 1]. It has no weights. Unlike "
        "the Normalizer data node it is part of the saved model, so the model can be fed raw "
        "pixels wherever it is used."
    )
    keywords = ("scale", "normalize", "normalise", "preprocessing", "pixels", "255")
    keras_class = "Rescaling"
    # The network description follows the pixel range through it from "scale" and "offset".
    range_rule = "affine"
    settings_spec = (
        FloatSetting("scale", "Scale", 1 / 255,
                     help="Every value is multiplied by this; 1/255 = 0.00392156862745098 turns "
                          "0-255 pixels into [0, 1], 1/127.5 = 0.00784313725490196 into [0, 2]."),
        FloatSetting("offset", "Offset", 0.0,
                     help="Added after scaling: -1 after a scale of 1/127.5 gives [-1, 1]."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"scale": self["scale"], "offset": self["offset"]}
