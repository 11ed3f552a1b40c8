"""Random Crop: cut a randomly placed window out of each training image (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.network import LayerDesc, Shape, ValueRange, format_shape
from neuroflow.core.settings import IntSetting

from ._augmentation import AugmentationNode
from ._common import MAX_WINDOW


def _side(name: str, label: str) -> IntSetting:
    return IntSetting(name, label, 24, minimum=1, maximum=MAX_WINDOW,
                      help=f"{label} of the cut-out window in pixels; smaller than the input's.")


class RandomCropNode(AugmentationNode):
    type_id = "neuroflow.layers.random_crop"
    name = "Random Crop"
    description = (
        "While training, cuts a window of the given size out of each batch of images at a random "
        "place, so the network does not depend on where in the picture the object is. When "
        "predicting it cuts the centred window. Unlike the other augmentations it makes the "
        "images smaller: the layers after it see the window's size."
    )
    keywords = (*AugmentationNode.keywords, "crop", "cut", "window", "translate", "size")
    keras_class = "RandomCrop"
    builder = "neuroflow.nodes.layers.random_crop:build"
    settings_spec = (_side("height", "Height"), _side("width", "Width"))

    def keras_config(self) -> dict[str, Any]:
        return {"height": self["height"], "width": self["width"]}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = super().output_shape(input_shapes)
        height, width = self["height"], self["width"]
        # Keras would enlarge a smaller image, and crops at a fixed place when one side already
        # fits: neither is a random crop, so both are refused.
        if height >= shape[0] or width >= shape[1]:
            raise ConfigureError(
                f"Random Crop {height}x{width} must be smaller than its input {format_shape(shape)} in both "
                "height and width, to leave room to move; use Resizing to change the size instead"
            )
        return (height, width, shape[2])


def build(desc: LayerDesc, inputs: list[Any], value_range: ValueRange | None) -> Any:
    """Keras's RandomCrop followed by a CenterCrop of the same size, as one nested layer.

    Keras 3's RandomCrop passes images through uncropped when predicting (keras-team/keras
    issue 21868), so the model would refuse the full-size images it is given then. The
    CenterCrop after it keeps the random window while training (its input already has its size)
    and cuts the centred one when predicting; both are standard layers, so the saved model loads
    anywhere.
    """
    import keras

    config = desc.config_dict()
    crop = keras.Sequential(
        [keras.layers.RandomCrop(**config, name="random"), keras.layers.CenterCrop(**config, name="centre")],
        name=desc.keras_name,
    )
    return crop(inputs[0])
