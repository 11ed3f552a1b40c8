"""Random Rotation: turn training images by a random angle (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.settings import FloatSetting

from ._augmentation import FILL_MODE, AugmentationNode


class RandomRotationNode(AugmentationNode):
    type_id = "neuroflow.layers.random_rotation"
    name = "Random Rotation"
    description = (
        "While training, turns each image by a random angle up to the given number of degrees "
        "either way, so slanted handwriting or tilted objects are recognised too. Does nothing "
        "when predicting."
    )
    keywords = (*AugmentationNode.keywords, "rotate", "rotation", "angle", "tilt")
    keras_class = "RandomRotation"
    settings_spec = (
        FloatSetting("degrees", "Largest angle (degrees)", 10.0, minimum=0.0, maximum=180.0,
                     help="Images are turned by up to this many degrees clockwise or "
                          "anticlockwise; 10 to 15 suits handwriting."),
        FILL_MODE,
    )

    def keras_config(self) -> dict[str, Any]:
        # Keras takes the angle as a fraction of a full turn.
        return {"factor": self["degrees"] / 360.0, **self.fill_config()}
