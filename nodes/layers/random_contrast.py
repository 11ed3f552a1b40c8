"""Random Contrast: strengthen or weaken the contrast of training images at random (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.network import INPUT_RANGE

from ._augmentation import AugmentationNode, factor_setting


class RandomContrastNode(AugmentationNode):
    type_id = "neuroflow.layers.random_contrast"
    name = "Random Contrast"
    description = (
        "While training, moves every pixel of each image towards or away from the image's mean "
        "(per channel) by a random factor between 1 - strength and 1 + strength, clipped to the "
        "pixel range of the training images, so the network copes with dull and harsh pictures. "
        "Does nothing when predicting."
    )
    keywords = (*AugmentationNode.keywords, "contrast", "color", "exposure")
    keras_class = "RandomContrast"
    settings_spec = (
        factor_setting(0.2, "Largest change of contrast either way: 0.2 scales each image's "
                            "contrast by 0.8 to 1.2."),
    )

    def keras_config(self) -> dict[str, Any]:
        # Keras 3 reads one number as "only stronger" (factors 1 to 1 + f) although its
        # documentation says 1 - f to 1 + f; a pair states both bounds explicitly.
        factor = self["factor"]
        return {"factor": (factor, factor), "value_range": INPUT_RANGE}
