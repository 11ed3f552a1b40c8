"""Activation: apply a function such as relu or softmax to every value."""

from __future__ import annotations

from typing import Any

from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.settings import ChoiceSetting


class ActivationNode(LayerNode):
    type_id = "neuroflow.layers.activation"
    name = "Activation"
    description = (
        "Applies an activation function to every value of its input, keeping the shape. Useful "
        "after a layer whose own activation is linear, e.g. Conv2D -> BatchNormalization -> "
        "Activation(relu), or to add a softmax after a merge."
    )
    keywords = ("relu", "softmax", "sigmoid", "tanh", "nonlinearity")
    keras_class = "Activation"
    settings_spec = (
        ChoiceSetting("activation", "Activation", "relu", choices=ACTIVATIONS,
                      help="The function applied to each value; softmax turns the last axis into "
                           "probabilities."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"activation": self["activation"]}
