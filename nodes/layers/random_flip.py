"""Random Flip: mirror training images at random (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.settings import ChoiceSetting

from ._augmentation import AugmentationNode


class RandomFlipNode(AugmentationNode):
    type_id = "neuroflow.layers.random_flip"
    name = "Random Flip"
    description = (
        "While training, mirrors each image with probability one half, so the network learns "
        "that a mirrored shirt is still a shirt. Use it where mirroring keeps the class (clothes, "
        "animals, most photos), not for digits or letters. Does nothing when predicting."
    )
    keywords = (*AugmentationNode.keywords, "mirror", "flip")
    keras_class = "RandomFlip"
    settings_spec = (
        ChoiceSetting("mode", "Direction", "horizontal",
                      choices=("horizontal", "vertical", "horizontal_and_vertical"),
                      choice_labels=("left-right", "upside down", "both"),
                      help="Which mirroring is applied: left-right suits most objects."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"mode": self["mode"]}
