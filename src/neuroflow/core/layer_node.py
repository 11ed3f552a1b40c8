"""Base class for layer nodes: one Keras layer appended to the incoming network description.

A layer node type only states its Keras class, its Keras config and - in plain Python - its
output shape and parameter count. ``configure`` and ``execute`` are the same step here: the
network description *is* the data, and the Network Learner builds the real model from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .errors import ConfigureError
from .network import INPUT_RANGE, LayerDesc, NetworkSpec, Shape
from .node import ExecutionContext, Node
from .ports import Port, PortType, Spec

NETWORK_IN = Port("network", PortType.NETWORK, "network", help="The network so far.")
NETWORK_OUT = Port("network", PortType.NETWORK, "network", help="The network with this layer added.")

#: Activation choices shared by layer nodes (Keras names).
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish", "softplus", "leaky_relu")


class LayerNode(Node):
    """A node that adds one layer on top of ``inputs`` (one network port unless overridden)."""

    category = "Layers"
    inputs: ClassVar[tuple[Port, ...]] = (NETWORK_IN,)
    outputs: ClassVar[tuple[Port, ...]] = (NETWORK_OUT,)
    #: The Keras layer class name, e.g. ``"Conv2D"``.
    keras_class: ClassVar[str] = ""
    #: How the layer treats the range of pixel values (see ``network.RANGE_RULES``).
    range_rule: ClassVar[str] = "lost"
    #: ``"module:function"`` for layers that are not one Keras class (see ``LayerDesc.builder``).
    builder: ClassVar[str] = ""

    def keras_config(self) -> dict[str, Any]:
        """The keyword arguments for the Keras layer constructor (JSON-compatible)."""
        return {}

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        """Pure arithmetic; raise :class:`ConfigureError` for impossible inputs."""
        return input_shapes[0]

    def param_count(self, input_shapes: list[Shape]) -> int:
        return 0

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        networks = [self.require(specs, port.name, NetworkSpec) for port in self.inputs]
        shapes = [network.shape for network in networks]
        config = self.keras_config()
        if INPUT_RANGE in config.values() and not all(network.carries_pixels() for network in networks):
            raise ConfigureError(
                f"{self.name} works on image pixels, but a layer before it (such as Conv2D or "
                "Dense) has turned them into features: place it right after the Input layer"
            )
        shape = self.output_shape(shapes)
        if any(d <= 0 for d in shape):
            raise ConfigureError(f"{self.name} would produce an empty output shape {shape}")
        layer = LayerDesc(
            id=self.node_id or self.type_id,
            class_name=self.keras_class,
            config=tuple(sorted(config.items())),
            inputs=tuple(network.output for network in networks),
            output_shape=tuple(int(d) for d in shape),
            params=int(self.param_count(shapes)),
            label=self.name,
            range_rule=self.range_rule,
            builder=self.builder,
        )
        if not networks:
            return {NETWORK_OUT.name: NetworkSpec.start(layer)}
        if len(networks) == 1:
            return {NETWORK_OUT.name: networks[0].then(layer)}
        return {NETWORK_OUT.name: NetworkSpec.merge(networks, layer)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return self.configure(inputs)
