"""Start a network from the weights of a model file, matched by layer name.

A model imported as layer nodes (:mod:`.model_import`) names each node after its Keras layer,
and the Network Learner names the Keras layer it builds for a node ``<class>_<node id>``
(``LayerDesc.keras_name``). So the weights of the file's layer ``conv2d_1`` go to the built
layer ``conv2d_conv2d_1``, or to one named ``conv2d_1`` itself. Matching by name, not by order,
keeps the weights where they belong after the user adds, removes or rewires layers: a layer
that is new gets fresh weights, one whose weights no longer fit is refused in one line.

The file is loaded through :func:`.model_files.load_keras_model` - checked, translated from
Keras 2 forms, safe mode - never read any other way.
"""

from __future__ import annotations

import re
from typing import Any

from neuroflow.core.errors import DataError


def node_id_for(name: str) -> str:
    """The node id an imported layer of this Keras name gets (before de-duplication)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "layer"


def load_initial_weights(model: Any, path: str, shown: str) -> tuple[int, list[str]]:
    """Copy the weights of the model file at ``path`` into ``model`` by layer name; returns how
    many layers took weights and the names of built layers with weights the file lacks."""
    from .model_files import load_keras_model

    source = load_keras_model(path)
    stored: dict[str, Any] = {}
    for layer in source.layers:
        if layer.weights:
            stored[layer.name] = layer
            stored.setdefault(node_id_for(layer.name), layer)
    loaded, missing = 0, []
    for layer in model.layers:
        if not layer.weights:
            continue
        prefix = f"{type(layer).__name__.lower()}_"
        key = layer.name.removeprefix(prefix) if layer.name.startswith(prefix) else layer.name
        match = stored.get(key) or stored.get(layer.name)
        if match is None:
            missing.append(layer.name)
            continue
        values = match.get_weights()
        wanted = [tuple(w.shape) for w in layer.get_weights()]
        if [tuple(v.shape) for v in values] != wanted:
            raise DataError(
                f"initial weights file '{shown}': layer '{match.name}' holds weights of shapes "
                f"{[tuple(v.shape) for v in values]}, the network's layer needs {wanted}"
            )
        layer.set_weights(values)
        loaded += 1
    if not loaded:
        raise DataError(f"initial weights file '{shown}' has no layer named like a layer of this network")
    return loaded, missing
