"""Random Shift: move training images by a random offset (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.settings import FloatSetting

from ._augmentation import FILL_MODE, AugmentationNode


def _fraction(name: str, label: str, direction: str) -> FloatSetting:
    return FloatSetting(name, label, 0.1, minimum=0.0, maximum=0.5,
                        help=f"Largest shift {direction}, as a fraction of the image size "
                             "(0.1 of 28 pixels is up to 2.8 pixels either way).")


class RandomShiftNode(AugmentationNode):
    type_id = "neuroflow.layers.random_shift"
    name = "Random Shift"
    description = (
        "While training, moves each image by a random offset up to a fraction of its size, so "
        "the network does not depend on objects being exactly centred. Does nothing when "
        "predicting."
    )
    keywords = (*AugmentationNode.keywords, "translate", "translation", "shift", "move")
    keras_class = "RandomTranslation"
    settings_spec = (
        _fraction("height_factor", "Vertical shift", "up or down"),
        _fraction("width_factor", "Horizontal shift", "left or right"),
        FILL_MODE,
    )

    def keras_config(self) -> dict[str, Any]:
        return {"height_factor": self["height_factor"], "width_factor": self["width_factor"],
                **self.fill_config()}
