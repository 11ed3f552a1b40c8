"""Batch normalisation: keep each channel's values centred and scaled while training."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape
from neuroflow.core.settings import FloatSetting


class BatchNormalizationNode(LayerNode):
    type_id = "neuroflow.layers.batch_normalization"
    name = "BatchNormalization"
    description = (
        "Normalises each channel (the last axis) to zero mean and unit variance over the batch, "
        "then applies a learnt scale and offset. It usually lets a network train faster and "
        "more stably. It keeps moving averages of mean and variance for prediction; those count "
        "as parameters but are not trained."
    )
    keywords = ("normalization", "normalisation", "batchnorm", "bn", "standardize")
    keras_class = "BatchNormalization"
    settings_spec = (
        FloatSetting("momentum", "Momentum", 0.99, minimum=0.0, maximum=1.0,
                     help="How slowly the moving mean and variance used for prediction follow "
                          "the batches (0.9 to 0.999 are usual)."),
        FloatSetting("epsilon", "Epsilon", 0.001, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                     help="Small number added to the variance to avoid dividing by zero."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"momentum": self["momentum"], "epsilon": self["epsilon"]}

    def param_count(self, input_shapes: list[Shape]) -> int:
        # gamma and beta are trained; the moving mean and variance are not, but Keras's
        # count_params() counts all four, and so do we.
        return 4 * input_shapes[0][-1]
