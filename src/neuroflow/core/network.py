"""The network description that layer nodes pass downstream.

Following KNIME's Keras integration, layer nodes never build Keras objects: each appends a
:class:`LayerDesc` (Keras class name, config, inputs, output shape, parameter count) to an
immutable :class:`NetworkSpec`. The spec is both the configure-time spec and the execute-time
data of a network port; only the Network Learner turns it into a real ``keras.Model``
(:func:`build_keras_model`), importing TensorFlow at that moment and not before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigureError

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerDesc:
    """One layer: ``id`` is the owning node's stable id, unique within a network."""

    id: str
    class_name: str
    config: tuple[tuple[str, Any], ...]
    inputs: tuple[str, ...]
    output_shape: Shape
    params: int
    label: str = ""

    @property
    def keras_name(self) -> str:
        return f"{self.class_name.lower()}_{self.id}"

    def config_dict(self) -> dict[str, Any]:
        return {key: (list(v) if isinstance(v, tuple) else v) for key, v in self.config}


@dataclass(frozen=True)
class NetworkSpec:
    """A layer graph ending in ``output``; ``layers`` is topologically ordered."""

    layers: tuple[LayerDesc, ...]
    output: str

    @property
    def by_id(self) -> dict[str, LayerDesc]:
        return {layer.id: layer for layer in self.layers}

    @property
    def shape(self) -> Shape:
        """The current tensor shape (without the batch dimension)."""
        return self.by_id[self.output].output_shape

    @property
    def inputs(self) -> tuple[LayerDesc, ...]:
        return tuple(layer for layer in self.layers if layer.class_name == "InputLayer")

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def describe(self) -> str:
        return f"network, shape {format_shape(self.shape)}"

    @staticmethod
    def start(layer: LayerDesc) -> NetworkSpec:
        return NetworkSpec(layers=(layer,), output=layer.id)

    def then(self, layer: LayerDesc) -> NetworkSpec:
        """A new spec with ``layer`` appended (its inputs already set by the caller)."""
        if layer.id in self.by_id:
            raise ConfigureError(f"layer {layer.id} is already part of this network")
        return NetworkSpec(layers=self.layers + (layer,), output=layer.id)

    @staticmethod
    def merge(branches: list[NetworkSpec], layer: LayerDesc) -> NetworkSpec:
        """Join several branches (sharing any common trunk) into ``layer``."""
        seen: dict[str, LayerDesc] = {}
        for branch in branches:
            for item in branch.layers:
                seen.setdefault(item.id, item)
        if layer.id in seen:
            raise ConfigureError(f"layer {layer.id} would feed into itself")
        return NetworkSpec(layers=tuple(seen.values()) + (layer,), output=layer.id)


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def conv_output_length(length: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis (Keras arithmetic)."""
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    return (length - effective) // stride + 1


def window_output_shape(
    shape: Shape,
    kernel: Shape,
    strides: Shape,
    padding: str,
    dilation: Shape = (1, 1),
    *,
    what: str,
) -> tuple[int, int]:
    """Spatial output of a 2-D window over an (H, W, C) input; refuses impossible windows."""
    if len(shape) != 3:
        raise ConfigureError(
            f"{what} needs a 3-D input (height, width, channels), got shape {format_shape(shape)}"
            + (" - is it after a Flatten or Dense layer?" if len(shape) == 1 else "")
        )
    out = []
    for axis, name in enumerate(("height", "width")):
        effective = (kernel[axis] - 1) * dilation[axis] + 1
        if padding == "valid" and effective > shape[axis]:
            dilated = f" (dilated to {effective})" if dilation[axis] > 1 else ""
            raise ConfigureError(
                f"{what} window {kernel[0]}x{kernel[1]}{dilated} is larger than "
                f"the input {name} {shape[axis]} of shape {format_shape(shape)}"
            )
        out.append(conv_output_length(shape[axis], kernel[axis], strides[axis], padding, dilation[axis]))
    return out[0], out[1]


def build_keras_model(spec: NetworkSpec, *, name: str = "neuroflow_network") -> Any:
    """Build a functional ``keras.Model`` from a network spec (imports Keras lazily)."""
    import keras

    tensors: dict[str, Any] = {}
    inputs = []
    for layer in spec.layers:
        config: Mapping[str, Any] = layer.config_dict()
        if layer.class_name == "InputLayer":
            tensor = keras.Input(shape=tuple(config["shape"]), name=layer.keras_name)
            inputs.append(tensor)
        else:
            keras_layer = getattr(keras.layers, layer.class_name)(name=layer.keras_name, **config)
            args = [tensors[source] for source in layer.inputs]
            tensor = keras_layer(args if len(args) > 1 else args[0])
        tensors[layer.id] = tensor
    model_inputs = inputs if len(inputs) > 1 else inputs[0]
    return keras.Model(inputs=model_inputs, outputs=tensors[spec.output], name=name)
