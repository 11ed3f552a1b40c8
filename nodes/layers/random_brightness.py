"""Random Brightness: make training images lighter or darker at random (augmentation)."""

from __future__ import annotations

from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.network import INPUT_RANGE, LayerDesc, ValueRange

from ._augmentation import AugmentationNode, factor_setting


class RandomBrightnessNode(AugmentationNode):
    type_id = "neuroflow.layers.random_brightness"
    name = "Random Brightness"
    description = (
        "While training, adds a random amount to every pixel of each image, up to a fraction of "
        "the pixel range either way (0.2: up to 51 of 0-255, or 0.2 of [0, 1]), clipped to that "
        "range, so the network copes with lighter and darker pictures. The range is that of the "
        "training images (raw or normalised). Does nothing when predicting."
    )
    keywords = (*AugmentationNode.keywords, "brightness", "light", "dark", "exposure", "color")
    keras_class = "RandomBrightness"
    builder = "neuroflow.nodes.layers.random_brightness:build"
    settings_spec = (
        factor_setting(0.2, "Largest change, as a fraction of the pixel range, up or down."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"factor": self["factor"], "value_range": INPUT_RANGE}


def build(desc: LayerDesc, inputs: list[Any], value_range: ValueRange | None) -> Any:
    """Keras's RandomBrightness with ``value_range`` the pixel range reaching it, kept as a tuple.

    Keras stores the range as a list, which it tracks (a ``TrackedList``); its .h5 writer then
    fails to copy the layer's config ("cannot pickle 'module' object"). A tuple is not tracked,
    so the model saves as .keras and .h5 alike.
    """
    import keras

    if value_range is None:  # configure refuses this placement; a hand-made spec may not
        raise ConfigureError(f"{desc.label or desc.class_name} must see image pixels, but a layer before it changes them")
    config = desc.config_dict()
    config["value_range"] = (float(value_range[0]), float(value_range[1]))
    layer = keras.layers.RandomBrightness(name=desc.keras_name, **config)
    layer.value_range = tuple(layer.value_range)
    return layer(inputs[0])
