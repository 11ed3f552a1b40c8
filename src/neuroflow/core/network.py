"""The network description that layer nodes pass downstream.

Following KNIME's Keras integration, layer nodes never build Keras objects: each appends a
:class:`LayerDesc` (Keras class name, config, inputs, output shape, parameter count) to an
immutable :class:`NetworkSpec`. The spec is both the configure-time spec and the execute-time
data of a network port; only the Network Learner turns it into a real ``keras.Model``
(:func:`build_keras_model`), importing TensorFlow at that moment and not before.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import ConfigureError

Shape = tuple[int, ...]
ValueRange = tuple[float, float]

#: A config value that the model builder replaces by the pixel value range reaching the layer
#: (e.g. Random Brightness's ``value_range``): the network description cannot know whether the
#: images arrive as 0-255 or normalised to [0, 1]; the learner, which sees the data, does.
INPUT_RANGE = "<input value range>"

#: How a layer treats the *range* of the pixel values flowing through it: ``keep`` passes values
#: through unchanged or mixes them convexly (augmentation, resizing, pooling), ``affine`` scales
#: and shifts them (Rescaling's ``scale`` and ``offset``), ``lost`` turns them into features
#: whose range nobody knows (convolutions, dense layers).
RANGE_RULES = ("keep", "affine", "lost")


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
    #: See :data:`RANGE_RULES`.
    range_rule: str = "lost"
    #: ``"module:function"`` building this layer when it is not one Keras layer class (a
    #: pretrained backbone, a model read from a file); called as ``function(desc, inputs,
    #: value_range)`` with the Keras input tensors, returning the output tensor. The module may
    #: also define ``prepare(desc, progress)``, run by :func:`prepare_network` before building.
    builder: str = ""

    @property
    def keras_name(self) -> str:
        return f"{self.class_name.lower()}_{self.id}"

    def needs_input_range(self) -> bool:
        return any(value == INPUT_RANGE for _, value in self.config)

    def config_dict(self) -> dict[str, Any]:
        return {key: (list(v) if isinstance(v, tuple) else v) for key, v in self.config}


@dataclass(frozen=True)
class NetworkSpec:
    """A layer graph ending in ``output``; ``layers`` is topologically ordered."""

    layers: tuple[LayerDesc, ...]
    output: str

    # ``by_id`` and ``total_params`` are computed once per spec (it is immutable): a network of
    # hundreds of layers is configured node by node, and each node asks them of its input.
    @cached_property
    def by_id(self) -> dict[str, LayerDesc]:
        return {layer.id: layer for layer in self.layers}

    @property
    def shape(self) -> Shape:
        """The current tensor shape (without the batch dimension)."""
        return self.by_id[self.output].output_shape

    @property
    def inputs(self) -> tuple[LayerDesc, ...]:
        return tuple(layer for layer in self.layers if layer.class_name == "InputLayer")

    @cached_property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def describe(self) -> str:
        return f"network, shape {format_shape(self.shape)}"

    def carries_pixels(self, layer_id: str | None = None) -> bool:
        """True when the output of ``layer_id`` (default: the network's output) still holds
        image pixels whose value range follows from the input's: only ``keep`` and ``affine``
        layers lie between it and an Input layer."""
        return self._range_through(layer_id or self.output, (0.0, 1.0)) is not None

    def value_range_at(self, layer_id: str, data_range: ValueRange) -> ValueRange | None:
        """The pixel value range reaching the input of ``layer_id`` when the images fed to the
        network span ``data_range``; ``None`` when a layer before it has lost that meaning."""
        layer = self.by_id[layer_id]
        ranges = [self._range_through(source, data_range) for source in layer.inputs]
        if not ranges or any(r is None for r in ranges):
            return None
        lows, highs = zip(*ranges, strict=True)  # type: ignore[arg-type]
        return (min(lows), max(highs))

    def _range_through(self, layer_id: str, data_range: ValueRange) -> ValueRange | None:
        layer = self.by_id[layer_id]
        if layer.class_name == "InputLayer":
            return data_range
        if layer.range_rule == "lost":
            return None
        before = self.value_range_at(layer_id, data_range)
        if before is None or layer.range_rule == "keep":
            return before
        config = dict(layer.config)
        scale, offset = float(config.get("scale", 1.0)), float(config.get("offset", 0.0))
        ends = (before[0] * scale + offset, before[1] * scale + offset)
        return (min(ends), max(ends))

    @staticmethod
    def start(layer: LayerDesc) -> NetworkSpec:
        return NetworkSpec(layers=(layer,), output=layer.id)

    def then(self, layer: LayerDesc) -> NetworkSpec:
        """A new spec with ``layer`` appended (its inputs already set by the caller)."""
        if layer.id in self.by_id:
            raise ConfigureError(f"layer {layer.id} is already part of this network")
        spec = NetworkSpec(layers=self.layers + (layer,), output=layer.id)
        spec.__dict__["by_id"] = {**self.by_id, layer.id: layer}  # a copy in C, not a loop
        return spec

    @staticmethod
    def merge(branches: list[NetworkSpec], layer: LayerDesc) -> NetworkSpec:
        """Join several branches (sharing any common trunk) into ``layer``."""
        seen: dict[str, LayerDesc] = dict(branches[0].by_id) if branches else {}
        for branch in branches[1:]:
            if branch.by_id.keys() - seen.keys():  # often none: a skip joins its own trunk again
                for item in branch.layers:
                    seen.setdefault(item.id, item)
        if layer.id in seen:
            raise ConfigureError(f"layer {layer.id} would feed into itself")
        spec = NetworkSpec(layers=tuple(seen.values()) + (layer,), output=layer.id)
        seen[layer.id] = layer
        spec.__dict__["by_id"] = seen
        return spec


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def conv_output_length(length: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis (Keras arithmetic)."""
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    return (length - effective) // stride + 1


def require_image(shape: Shape, what: str) -> None:
    """Refuse an input that is not an image (height, width, channels), the same way for every
    layer that needs one, with a hint when the image was flattened before it."""
    if len(shape) != 3:
        raise ConfigureError(
            f"{what} needs a 3-D input (height, width, channels), got shape {format_shape(shape)}"
            + (" - is it after a Flatten or Dense layer?" if len(shape) == 1 else "")
        )


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
    require_image(shape, what)
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


def prepare_network(spec: NetworkSpec, progress: Callable[[float | None, str], None]) -> None:
    """Let custom builders get ready before the model is built, e.g. download pretrained
    weights while reporting ``progress(fraction or None, message)`` (which may raise
    ``Cancelled``): calls ``prepare(desc, progress)`` of each builder module that has one."""
    for layer in spec.layers:
        if not layer.builder:
            continue
        module = importlib.import_module(layer.builder.partition(":")[0])
        prepare = getattr(module, "prepare", None)
        if prepare is not None:
            prepare(layer, progress)


def build_keras_model(
    spec: NetworkSpec,
    *,
    name: str = "neuroflow_network",
    value_range: ValueRange = (0.0, 255.0),
    output_dtype: str | None = None,
) -> Any:
    """Build a functional ``keras.Model`` from a network spec (imports Keras lazily).

    ``value_range`` is the range of the pixel values the model will be fed (the training
    data's); it fills in every :data:`INPUT_RANGE` placeholder and reaches custom builders.
    ``output_dtype`` gives the network's last layer its own dtype policy: under mixed precision
    it stays ``"float32"`` so that the probabilities it outputs are exact.
    """
    import keras

    tensors: dict[str, Any] = {}
    inputs = []
    for layer in spec.layers:
        config: dict[str, Any] = layer.config_dict()
        args = [tensors[source] for source in layer.inputs]
        if layer.class_name == "InputLayer":
            tensor = keras.Input(shape=tuple(config["shape"]), name=layer.keras_name)
            inputs.append(tensor)
        elif layer.builder:
            module, _, function = layer.builder.partition(":")
            build = getattr(importlib.import_module(module), function)
            tensor = build(layer, args, spec.value_range_at(layer.id, value_range))
        else:
            if layer.needs_input_range():
                _fill_input_range(spec, layer, config, value_range)
            if output_dtype is not None and layer.id == spec.output:
                config["dtype"] = output_dtype
            keras_layer = getattr(keras.layers, layer.class_name)(name=layer.keras_name, **config)
            tensor = keras_layer(args if len(args) > 1 else args[0])
        tensors[layer.id] = tensor
    model_inputs = inputs if len(inputs) > 1 else inputs[0]
    return keras.Model(inputs=model_inputs, outputs=tensors[spec.output], name=name)


def _fill_input_range(spec: NetworkSpec, layer: LayerDesc, config: dict[str, Any], data_range: ValueRange) -> None:
    reaching = spec.value_range_at(layer.id, data_range)
    if reaching is None:  # configure refuses this placement; a hand-made spec may not
        raise ConfigureError(f"{layer.label or layer.class_name} must see image pixels, but a layer before it changes them")
    for key, value in config.items():
        if value == INPUT_RANGE:
            # a tuple: Keras would keep a list as a tracked list, which its .h5 writer cannot copy
            config[key] = (float(reaching[0]), float(reaching[1]))
