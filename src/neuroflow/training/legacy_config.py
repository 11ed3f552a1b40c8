"""Keras 2 model configurations rewritten in the forms Keras 3 builds correctly.

``.h5`` files written by Keras 2.2 to 2.15 - also what KNIME's Keras Network Writer produces -
carry a ``model_config`` Keras 3 still reads, but some of its forms it reads differently or not
at all. The worst is silent: a ``Sequential`` model whose first layer carries
``batch_input_shape`` (Keras 2 had no InputLayer entry there) is built by Keras 3 *without* that
input shape, so it loads, ``validate`` calls it valid, and the first prediction fails with
"Kernel shape must have the same length as input ... (None, None, 28, 28, 1)".

:func:`translate` rewrites those forms in plain JSON before anything reads the configuration -
the configure step (shapes, classes, the layer graph) and the loader both - so what NeuroFlow
says about a file is what Keras then builds:

* a ``Sequential`` config that is a bare list of layers (Keras up to 2.2.2) gets its
  ``{"name", "layers"}`` form;
* the input shape of a ``Sequential`` model's first layer (``batch_input_shape``, or
  ``input_shape``/``input_dim`` in hand-written or Keras 1 style) becomes an ``InputLayer``
  entry before it, and leaves the layer;
* an ``InputLayer``'s ``batch_input_shape`` becomes Keras 3's ``batch_shape``; ``input_dim`` and
  ``batch_input_shape`` on any other layer are dropped (Keras 2 recorded them where Keras 3
  rejects or ignores them);
* a ``VarianceScaling`` initializer with Keras 2's ``distribution: "normal"`` (which meant a
  truncated normal) gets ``"truncated_normal"``, which Keras 3 names explicitly;
* regularizers written as ``L1L2`` with one factor zero stay ``L1L2`` (Keras 3 has it) and
  lowercase Keras 2 names (``l1``, ``l2``, ``l1_l2``) get their class names.

Keras 3 configurations pass through unchanged, so it is safe on every ``.h5`` file.
"""

from __future__ import annotations

import copy
from typing import Any

_REGULARIZER_NAMES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2", "l1l2": "L1L2"}
_INITIALIZER_KEYS = ("kernel_initializer", "bias_initializer", "depthwise_initializer",
                     "pointwise_initializer", "gamma_initializer", "beta_initializer",
                     "moving_mean_initializer", "moving_variance_initializer",
                     "embeddings_initializer", "recurrent_initializer")
_REGULARIZER_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                     "depthwise_regularizer", "pointwise_regularizer", "gamma_regularizer",
                     "beta_regularizer")


def translate(config: Any) -> tuple[Any, list[str]]:
    """The configuration in Keras 3 forms, and what was changed (one phrase each; empty when
    nothing was). The argument is not modified."""
    if not isinstance(config, dict):
        return config, []
    changes: list[str] = []
    result = copy.deepcopy(config)
    _translate_model(result, changes)
    return result, changes


def _translate_model(model: dict[str, Any], changes: list[str]) -> None:
    kind = model.get("class_name")
    inner = model.get("config")
    if kind == "Sequential" and isinstance(inner, list):
        inner = {"name": "sequential", "layers": inner}
        model["config"] = inner
        changes.append("Keras 2.2 Sequential layer list")
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        return
    layers: list[Any] = inner["layers"]
    for layer in layers:
        if isinstance(layer, dict) and layer.get("class_name") in ("Sequential", "Functional", "Model"):
            _translate_model(layer, changes)  # a nested model
    if kind == "Sequential" and layers and isinstance(layers[0], dict) and layers[0].get("class_name") != "InputLayer":
        _sequential_input(layers, changes)
    for layer in layers:
        if isinstance(layer, dict) and isinstance(layer.get("config"), dict):
            _translate_layer(layer, changes)


def _sequential_input(layers: list[Any], changes: list[str]) -> None:
    first = layers[0].get("config")
    if not isinstance(first, dict):
        return
    shape = first.get("batch_input_shape")
    if shape is None and first.get("input_shape") is not None:
        shape = [None, *first["input_shape"]]
    if shape is None and first.get("input_dim") is not None:
        shape = [None, first["input_dim"]]
    if not isinstance(shape, list):
        return
    name = f"{first.get('name', 'layer')}_input"
    entry: dict[str, Any] = {"class_name": "InputLayer",
                             "config": {"batch_shape": list(shape), "dtype": first.get("dtype", "float32"),
                                        "sparse": False, "name": name}}
    layers.insert(0, entry)
    for key in ("batch_input_shape", "input_shape", "input_dim"):
        first.pop(key, None)
    changes.append(f"input shape {shape[1:]} of the first layer '{first.get('name', '?')}' as an InputLayer")


def _translate_layer(layer: dict[str, Any], changes: list[str]) -> None:
    config: dict[str, Any] = layer["config"]
    name = config.get("name", "?")
    if layer.get("class_name") == "InputLayer":
        if "batch_input_shape" in config:
            config.setdefault("batch_shape", config.pop("batch_input_shape"))
        return
    for key in ("batch_input_shape", "input_dim", "input_shape"):
        if key in config:
            config.pop(key)
            changes.append(f"{key} of layer '{name}' dropped")
    for key in _INITIALIZER_KEYS:
        initializer = config.get(key)
        if isinstance(initializer, dict) and initializer.get("class_name") == "VarianceScaling":
            inner = initializer.get("config")
            if isinstance(inner, dict) and inner.get("distribution") == "normal":
                inner["distribution"] = "truncated_normal"
                changes.append(f"{key} of layer '{name}': Keras 2 'normal' as 'truncated_normal'")
    for key in _REGULARIZER_KEYS:
        regularizer = config.get(key)
        if isinstance(regularizer, dict):
            kind = regularizer.get("class_name")
            if isinstance(kind, str) and kind in _REGULARIZER_NAMES:
                regularizer["class_name"] = _REGULARIZER_NAMES[kind]
                changes.append(f"{key} of layer '{name}': '{kind}' as '{_REGULARIZER_NAMES[kind]}'")
        elif isinstance(regularizer, str) and regularizer in _REGULARIZER_NAMES:
            config[key] = {"class_name": _REGULARIZER_NAMES[regularizer], "config": {}}
            changes.append(f"{key} of layer '{name}': '{regularizer}'")
