"""Normalizer: pixel values scaled linearly to [0, 1] or [-1, 1] as float32."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageData
from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import ChoiceSetting

#: Target ranges by choice value.
RANGES: dict[str, tuple[float, float]] = {"0..1": (0.0, 1.0), "-1..1": (-1.0, 1.0)}


class NormalizerNode(Node):
    type_id = "neuroflow.data.normalizer"
    category = "Data"
    name = "Normalizer"
    description = (
        "Scales pixel values linearly from the dataset's value range (0-255 for the readers) "
        "to [0, 1] or [-1, 1] and stores them as 32-bit floats. Networks learn faster and more "
        "reliably on small, centred inputs, so put this between a reader and a learner. Images "
        "read from files are not loaded here: the scaling is applied as they are decoded."
    )
    keywords = ("scale", "normalise", "normalize", "rescale", "preprocess", "float", "min-max")
    inputs = (Port("data", PortType.IMAGES, "images", help="Images with a known value range."),)
    outputs = (Port("data", PortType.IMAGES, "images", help="The same images as float32 in the new range."),)
    settings_spec = (
        ChoiceSetting(
            "range", "Target range", "0..1", choices=tuple(RANGES), choice_labels=("[0, 1]", "[-1, 1]"),
            help="[0, 1] suits most networks; [-1, 1] centres the values on zero (e.g. for tanh).",
        ),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        spec: DatasetSpec = self.require(specs, "data", DatasetSpec)
        _check_range(spec.value_range)
        return {
            "data": dataclasses.replace(spec, value_range=RANGES[self["range"]])
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        dataset: ImageData = inputs["data"]
        _check_range(dataset.value_range)
        target_low, target_high = RANGES[self["range"]]
        normalized = dataset.rescaled((target_low, target_high))
        done = "scaled" if dataset.in_memory else "will scale (while decoding)"
        ctx.progress(1.0, f"{done} {len(dataset):,} images to [{target_low:g}, {target_high:g}]")
        return {"data": normalized}


def _check_range(value_range: tuple[float, float]) -> tuple[float, float]:
    low, high = value_range
    if not high > low:
        raise ConfigureError(f"cannot scale images whose value range {value_range} is empty")
    return low, high
