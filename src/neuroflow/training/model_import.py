"""A Keras model file brought in as layer nodes: the inverse of how layer nodes build Keras layers.

Read without TensorFlow, so the editor can import in its own process: the configuration and
the stored weight sizes come from :mod:`.model_graph` (which reads them through the same safety
checks and Keras 2 translation as every other reader: a Lambda or custom class is refused
before anything else happens). Each layer becomes the node type whose ``keras_class`` it is,
its settings taken from the layer's configuration, wired as in the model (Add and Concatenate
join two branches), and the whole laid out by the Arrange machinery of :mod:`neuroflow.core.layout`.

**Nothing is guessed.** Layers without a node type - or with a configuration a node cannot
express (an Add of three branches, a Concatenate on another axis, an activation no node
offers) - are all listed by name in one line, and the import stops. When every layer maps,
the imported network is configured and each layer's output shape and parameter count are
compared with the file's: any difference (a Dense without bias, a BatchNormalization without
scale, ...) stops the import naming that layer, so an imported network is the file's network.

**Weights** (``weights=True``): a Network Learner is added after the network with its
``initial_weights`` setting naming the model file, so training starts from the file's weights,
matched by layer name (node ids are the Keras layer names); with 0 epochs it keeps them as
they are, to apply or score the model unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroflow.core.errors import DataError, NeuroFlowError
from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.layout import arrange_workflow
from neuroflow.core.network import NetworkSpec, format_shape
from neuroflow.core.registry import Registry, default_registry
from neuroflow.core.workflow import Workflow

from .initial_weights import node_id_for
from .model_graph import GraphLayer, ModelGraph, read_model_graph

LEARNER = "neuroflow.learning.learner"
#: Keras 2 and Keras 3 names of the same layer classes.
ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
           "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
           "SeparableConvolution2D": "SeparableConv2D"}
#: Keras 3 initializer classes and their Keras names in the layer nodes' choices.
INITIALIZERS = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeUniform": "he_uniform",
                "HeNormal": "he_normal", "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
                "Orthogonal": "orthogonal", "OrthogonalInitializer": "orthogonal",
                "TruncatedNormal": "truncated_normal", "RandomNormal": "random_normal",
                "RandomUniform": "random_uniform"}
#: Keras 2 spelled the named initializers as VarianceScaling: (scale, mode, distribution) -> name.
VARIANCE_SCALING = {(1.0, "fan_avg", "uniform"): "glorot_uniform", (1.0, "fan_avg", "truncated_normal"): "glorot_normal",
                    (2.0, "fan_in", "uniform"): "he_uniform", (2.0, "fan_in", "truncated_normal"): "he_normal",
                    (1.0, "fan_in", "uniform"): "lecun_uniform", (1.0, "fan_in", "truncated_normal"): "lecun_normal"}


class UnsupportedLayers(DataError):
    """Layers of the model that no node type represents; the message lists them all."""


@dataclass(frozen=True)
class ImportResult:
    workflow: Workflow
    #: Node id of each imported layer, in the model's order.
    nodes: tuple[str, ...]
    output: str
    #: Settings the nodes cannot hold that do not change the network (e.g. an initializer).
    notes: tuple[str, ...]


def import_model(path: str, *, weights: bool = False, registry: Registry | None = None,
                 folder: str | Path | None = None) -> ImportResult:
    """The model file at ``path`` as a workflow of layer nodes (see the module docstring).
    ``folder`` is where the workflow will be saved: the learner's weights path is written
    relative to it when the model file lies beneath it."""
    registry = registry or default_registry()
    graph = read_model_graph(path)
    by_class = _layer_types(registry)
    problems: list[str] = []
    plans: list[tuple[GraphLayer, str, dict[str, Any]]] = []
    notes: list[str] = []
    for layer in graph.layers:
        kind = ALIASES.get(layer.class_name, layer.class_name)
        type_id = by_class.get(kind)
        if type_id is None:
            problems.append(f"'{layer.name}' ({layer.class_name})")
            continue
        try:
            settings = _settings(kind, layer, notes)
        except _Unsupported as exc:
            problems.append(f"'{layer.name}' ({layer.class_name}: {exc})")
            continue
        node_type = registry.get(type_id)
        declared = {setting.name for setting in node_type.settings_spec} if node_type is not None else set()
        # A value the node has no setting for shows in the shape and parameter check below.
        plans.append((layer, type_id, {k: v for k, v in settings.items() if k in declared}))
    if problems:
        raise UnsupportedLayers(
            f"cannot import '{graph.shown}': no node represents layer{'s' if len(problems) > 1 else ''} "
            f"{', '.join(problems)}"
        )
    workflow = Workflow(registry)
    if folder is not None:
        workflow.set_folder(folder)
    ids = _node_ids([layer.name for layer, _, _ in plans])
    for layer, type_id, settings in plans:
        try:
            workflow.add_node(type_id, node_id=ids[layer.name], label=layer.name, settings=settings)
        except NeuroFlowError as exc:
            raise DataError(f"cannot import layer '{layer.name}' ({layer.class_name}) of '{graph.shown}': {exc}") from None
    for layer, _, _ in plans:
        node = workflow.nodes[ids[layer.name]].node
        ports = [port.name for port in node.inputs]
        for port, source in zip(ports, layer.sources, strict=True):
            workflow.connect(ids[source], "network", ids[layer.name], port)
    output = ids[graph.output]
    _compare(workflow, graph, ids)
    if weights:
        learner = workflow.add_node(LEARNER, node_id="learner", label="Network Learner",
                                    settings={"initial_weights": _weights_path(path, folder), "epochs": 0})
        workflow.connect(output, "network", learner.id, "network")
    for nid, position in arrange_workflow(workflow, origin=(0.0, 0.0)).items():
        workflow.move_node(nid, position)
    return ImportResult(workflow, tuple(ids[layer.name] for layer, _, _ in plans), output, tuple(notes))


def _layer_types(registry: Registry) -> dict[str, str]:
    """Keras class -> node type id, for the layer node types that are one Keras class."""
    found: dict[str, str] = {}
    for node_type in registry:
        if issubclass(node_type, LayerNode) and node_type.keras_class and not node_type.builder:
            found.setdefault(node_type.keras_class, node_type.type_id)
    return found


def _node_ids(names: list[str]) -> dict[str, str]:
    """Node ids from Keras layer names (letters, digits, ``_`` and ``-``; unique)."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = node_id_for(name)
        candidate, number = base, 1
        while candidate in used:
            number += 1
            candidate = f"{base}_{number}"
        used.add(candidate)
        ids[name] = candidate
    return ids


def _weights_path(path: str, folder: str | Path | None) -> str:
    """The model file as the learner names it: relative to the workflow's folder when inside it."""
    file = Path(os.path.abspath(os.path.expanduser(path)))
    if folder is not None:
        try:
            return file.relative_to(Path(os.path.abspath(folder))).as_posix()
        except ValueError:
            pass
    return str(file)


# -- settings from a layer's configuration ---------------------------------------------------------
class _Unsupported(Exception):
    """A configuration value no setting of the node can hold."""


def _settings(kind: str, layer: GraphLayer, notes: list[str]) -> dict[str, Any]:
    config = layer.config
    if config.get("data_format", "channels_last") != "channels_last":
        raise _Unsupported(f"data_format {config['data_format']!r}")
    if kind == "InputLayer":
        shape = config.get("batch_shape") or config.get("batch_input_shape") or []
        return {"shape": tuple(int(d) for d in shape[1:])}  # read_model_graph checked it is fixed
    settings: dict[str, Any] = {}
    for key in ("filters", "units", "rate", "momentum", "epsilon", "center", "scale", "offset",
                "depth_multiplier", "use_bias"):
        if key in config:
            settings[key] = config[key]
    for key in ("kernel_size", "strides", "dilation_rate", "pool_size", "target_shape"):
        if key in config:
            value = config[key]
            settings[key] = tuple(value) if isinstance(value, (list, tuple)) else (int(value), int(value))
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D"):
        settings["padding"] = str(config.get("padding", "valid")).lower()
    if "activation" in config:
        activation = _function_name(config["activation"])
        if activation not in ACTIVATIONS:
            raise _Unsupported(f"activation {activation!r}")
        settings["activation"] = activation
    if kind in ("Conv2D", "Dense"):
        settings["kernel_initializer"] = _initializer(config.get("kernel_initializer"), layer.name, notes)
        settings["l2"] = _l2(config.get("kernel_regularizer"))
    if kind == "BatchNormalization":
        axis = config.get("axis", -1)
        if axis not in (-1, 3, [3], [-1]):
            raise _Unsupported(f"axis {axis!r}")
    if kind == "LayerNormalization" and config.get("axis", -1) not in (-1, [-1]):
        raise _Unsupported(f"axis {config.get('axis')!r}")
    if kind == "Concatenate" and config.get("axis", -1) != -1:
        raise _Unsupported(f"axis {config.get('axis')!r} (the node joins along the last axis)")
    if kind in ("Add", "Concatenate") and len(layer.sources) != 2:
        raise _Unsupported(f"{len(layer.sources)} inputs (the node joins two)")
    if kind == "ZeroPadding2D":
        padding = config.get("padding", 1)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        (top, bottom), (left, right) = (p if isinstance(p, (list, tuple)) else (p, p) for p in padding)
        settings.update(top=top, bottom=bottom, left=left, right=right)
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D") and config.get("keepdims"):
        raise _Unsupported("keepdims")
    return settings


def _function_name(value: Any) -> str:
    if isinstance(value, dict):  # Keras 3 may serialise a built-in function as an object
        return str(value.get("config"))
    return str(value)


def _initializer(value: Any, layer: str, notes: list[str]) -> str:
    if value is None:
        return "glorot_uniform"
    if isinstance(value, str):
        name = value
    else:
        kind, config = value.get("class_name"), value.get("config") or {}
        if kind == "VarianceScaling":
            distribution = str(config.get("distribution"))
            distribution = "truncated_normal" if distribution == "normal" else distribution
            name = VARIANCE_SCALING.get((float(config.get("scale", 1.0)), str(config.get("mode")), distribution), "")
        else:
            name = INITIALIZERS.get(str(kind), "")
    if name in INITIALIZERS.values():
        return name
    notes.append(f"layer '{layer}': initializer {value!r} has no choice in the node; it starts from "
                 "Glorot uniform (this matters only when it trains from scratch)")
    return "glorot_uniform"


def _l2(value: Any) -> float:
    if value is None:
        return 0.0
    if not isinstance(value, dict):
        raise _Unsupported(f"kernel_regularizer {value!r}")
    config = value.get("config") or {}
    if float(config.get("l1", 0.0) or 0.0):
        raise _Unsupported("an L1 weight penalty")
    return float(config.get("l2", 0.0) or 0.0)


# -- the check ------------------------------------------------------------------------------------
def _compare(workflow: Workflow, graph: ModelGraph, ids: dict[str, str]) -> None:
    """Every imported layer gives the file's output shape and parameter count."""
    problem = workflow.first_problem()
    if problem:
        raise DataError(f"the network imported from '{graph.shown}' does not configure: {problem}")
    for layer in graph.layers:
        item = workflow.nodes[ids[layer.name]]
        network = item.specs.get("network")
        assert isinstance(network, NetworkSpec)
        desc = network.by_id[network.output]
        shape = graph.output_shape(layer.name)
        if desc.output_shape != shape or desc.params != layer.params:
            raise DataError(
                f"cannot import layer '{layer.name}' ({layer.class_name}) of '{graph.shown}': as a "
                f"{item.node.name} node it gives shape {format_shape(desc.output_shape)} with "
                f"{desc.params:,} parameters, the file {format_shape(shape)} with {layer.params:,} "
                "(an option the node does not offer)"
            )
