"""Random Zoom: zoom training images in or out at random (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.settings import FloatSetting

from ._augmentation import FILL_MODE, AugmentationNode


class RandomZoomNode(AugmentationNode):
    type_id = "neuroflow.layers.random_zoom"
    name = "Random Zoom"
    description = (
        "While training, zooms each image in or out by a random amount up to a fraction of its "
        "size, so objects are recognised whether drawn large or small. Does nothing when "
        "predicting."
    )
    keywords = (*AugmentationNode.keywords, "zoom", "scale", "size")
    keras_class = "RandomZoom"
    settings_spec = (
        FloatSetting("factor", "Largest zoom", 0.1, minimum=0.0, maximum=0.9,
                     help="Images are scaled by up to this fraction either way (0.1: from 90% to "
                          "110% of their size)."),
        FILL_MODE,
    )

    def keras_config(self) -> dict[str, Any]:
        return {"height_factor": self["factor"], **self.fill_config()}
