"""Model files in the layout Keras 2.2.4 wrote (and KNIME's Keras Network Writer still writes),
made with h5py from the weights of a real Keras 3 model, so tests need no Keras 2.

Layout: root attributes ``keras_version``, ``backend`` and ``model_config`` (the Keras 2.2.4
``Sequential`` form: the input shape as ``batch_input_shape`` on the first layer, no InputLayer;
initializers as ``VarianceScaling`` objects with Keras 2's ``distribution: "normal"``;
regularizers as ``L1L2``); a ``model_weights`` group with ``layer_names``, and one group per
layer with ``weight_names`` and the arrays at ``<layer>/<layer>/kernel:0``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

GLOROT_UNIFORM = {"class_name": "VarianceScaling",
                  "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}
HE_NORMAL = {"class_name": "VarianceScaling",  # Keras 2's "normal" meant a truncated normal
             "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}
NO_PENALTY = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0}}


def keras2_layer(layer: Any, name: str) -> dict[str, Any]:
    """The Keras 2.2.4 config entry of a Keras 3 layer (Conv2D, pooling, Flatten, Dense, Dropout)."""
    kind = type(layer).__name__
    config = layer.get_config()
    entry: dict[str, Any] = {"name": name, "trainable": True, "dtype": "float32"}
    if kind == "Conv2D":
        entry.update(
            filters=config["filters"], kernel_size=list(config["kernel_size"]), strides=list(config["strides"]),
            padding=config["padding"], data_format="channels_last", dilation_rate=list(config["dilation_rate"]),
            activation=config["activation"], use_bias=config["use_bias"], kernel_initializer=HE_NORMAL,
            bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
            kernel_constraint=None, bias_constraint=None,
        )
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        entry.update(pool_size=list(config["pool_size"]), padding=config["padding"],
                     strides=list(config["strides"]), data_format="channels_last")
    elif kind == "Flatten":
        entry.update(data_format="channels_last")
    elif kind == "Dense":
        entry.update(
            units=config["units"], activation=config["activation"], use_bias=True,
            kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS, kernel_regularizer=NO_PENALTY,
            bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
        )
    elif kind == "Dropout":
        entry.update(rate=config["rate"], noise_shape=None, seed=None)
    else:
        raise ValueError(f"no Keras 2 form for {kind} here")
    return {"class_name": kind, "config": entry}


def write_keras2_sequential(model: Any, path: Path, *, with_config: bool = True) -> list[str]:
    """Write the layers of ``model`` after its input as a Keras 2.2.4 ``Sequential`` ``.h5``;
    ``with_config=False`` writes only the weights (Keras 2's ``save_weights``). Returns the
    Keras 2 layer names."""
    import h5py

    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        base = {"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "Flatten": "flatten", "Dense": "dense",
                "Dropout": "dropout", "AveragePooling2D": "average_pooling2d"}[type(layer).__name__]
        counts[base] = counts.get(base, 0) + 1
        names.append(f"{base}_{counts[base]}")
    entries = [keras2_layer(layer, name) for layer, name in zip(layers, names, strict=True)]
    entries[0]["config"]["batch_input_shape"] = [None, *model.input_shape[1:]]
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": entries},
              "keras_version": "2.2.4", "backend": "tensorflow"}
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = b"2.2.4"
        handle.attrs["backend"] = b"tensorflow"
        if with_config:
            handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
            group = handle.create_group("model_weights")
        else:
            group = handle  # save_weights put the layer groups at the root
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.2.4"
        for layer, name in zip(layers, names, strict=True):
            sub = group.create_group(name)
            suffixes = ["kernel:0", "bias:0"][: len(layer.weights)]
            sub.attrs["weight_names"] = np.array([f"{name}/{s}".encode() for s in suffixes], dtype="S")
            for suffix, value in zip(suffixes, layer.get_weights(), strict=True):
                sub.create_dataset(f"{name}/{suffix}", data=value)
    return names


def write_small_keras2_cnn(path: Path, *, extra_layer: dict[str, Any] | None = None) -> None:
    """A tiny Keras 2.2.4 ``Sequential`` CNN (12x12x1 -> Conv2D 4 -> Flatten -> Dense 3) with
    seeded random weights, written with h5py and numpy alone (no Keras in the writing process).
    ``extra_layer`` (a Keras 2 config entry) goes before the Dense layer."""
    import h5py

    rng = np.random.default_rng(3)
    conv = {"name": "conv2d_1", "trainable": True, "batch_input_shape": [None, 12, 12, 1], "dtype": "float32",
            "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
            "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": True,
            "kernel_initializer": HE_NORMAL, "bias_initializer": ZEROS, "kernel_regularizer": None}
    flatten = {"name": "flatten_1", "trainable": True, "data_format": "channels_last"}
    dense = {"name": "dense_1", "trainable": True, "units": 3, "activation": "softmax", "use_bias": True,
             "kernel_initializer": GLOROT_UNIFORM, "bias_initializer": ZEROS, "kernel_regularizer": NO_PENALTY}
    layers = [{"class_name": "Conv2D", "config": conv}, {"class_name": "Flatten", "config": flatten}]
    if extra_layer is not None:
        layers.append(extra_layer)
    layers.append({"class_name": "Dense", "config": dense})
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": layers},
              "keras_version": "2.2.4", "backend": "tensorflow"}
    weights = {"conv2d_1": [rng.normal(size=(3, 3, 1, 4)), np.zeros(4)],
               "flatten_1": [], "dense_1": [rng.normal(size=(400, 3)) * 0.05, np.zeros(3)]}
    names = [layer["config"]["name"] for layer in layers]
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = b"2.2.4"
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            sub = group.create_group(name)
            values = weights.get(name, [])
            suffixes = ["kernel:0", "bias:0"][: len(values)]
            sub.attrs["weight_names"] = np.array([f"{name}/{s}".encode() for s in suffixes], dtype="S")
            for suffix, value in zip(suffixes, values, strict=True):
                sub.create_dataset(f"{name}/{suffix}", data=value.astype("float32"))
