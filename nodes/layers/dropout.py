"""Dropout: randomly silence a fraction of the values while training."""

from __future__ import annotations

from typing import Any

from neuroflow.core.errors import SettingError
from neuroflow.core.layer_node import LayerNode
from neuroflow.core.settings import FloatSetting


class FractionBelowOne(FloatSetting):
    """A fraction in [0, 1): a dropout rate of 1 would drop every value and learn nothing."""

    def _coerce(self, value: Any) -> float:
        number = super()._coerce(value)
        if number >= 1:
            raise SettingError(
                f"setting '{self.name}': {value!r} must be less than 1", setting=self.name
            )
        return number

    def describe(self) -> str:
        return "number (0 to less than 1)"


class DropoutNode(LayerNode):
    type_id = "neuroflow.layers.dropout"
    name = "Dropout"
    description = (
        "While training, sets a random fraction of its input values to zero at every step (and "
        "scales up the rest), so the network cannot rely on any single value; this reduces "
        "overfitting. It has no weights and does nothing when predicting."
    )
    keywords = ("regularization", "regularisation", "overfitting", "noise")
    keras_class = "Dropout"
    settings_spec = (
        FractionBelowOne("rate", "Rate", 0.5, minimum=0.0, maximum=1.0,
                         help="Fraction of the values dropped at each training step, from 0 "
                              "(keep all) to below 1; 0.2 to 0.5 are usual."),
    )

    def keras_config(self) -> dict[str, Any]:
        return {"rate": self["rate"]}
