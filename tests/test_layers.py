"""Layer nodes: configure's shapes and parameter counts are Keras's own, and refusals are clear.

Every network here is built through the real :class:`Workflow` API (add_node, connect), its
:class:`NetworkSpec` is turned into a real ``keras.Model`` with ``build_keras_model``, and each
layer's output shape and parameter count from configure (plain Python) is compared with what
Keras computes. Hypothesis draws random networks - including branches that merge - and whenever
configure refuses a layer, Keras must refuse it too (or the refusal is one of our deliberate,
documented restrictions).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from neuroflow import Workflow, default_registry
from neuroflow.core import fileformat
from neuroflow.core.errors import ConfigureError, NeuroFlowError, SettingError
from neuroflow.core.layer_node import ACTIVATIONS, LayerNode
from neuroflow.core.network import INPUT_RANGE, NetworkSpec, Shape, build_keras_model, format_shape
from neuroflow.core.node import ExecutionContext

L = "neuroflow.layers."


# -- helpers ------------------------------------------------------------------------------


class Net:
    """A workflow grown one layer node at a time, the way the editor or a file would."""

    def __init__(self) -> None:
        self.wf = Workflow()

    def add(self, kind: str, *sources: str, **node_settings: Any) -> str:
        """Add ``neuroflow.layers.<kind>`` and connect ``sources`` to its inputs in order."""
        item = self.wf.add_node(L + kind, settings=node_settings)
        ports = [port.name for port in item.node.inputs]
        assert len(sources) == len(ports), f"{kind} takes {len(ports)} inputs"
        for port, source in zip(ports, sources, strict=True):
            self.wf.connect(source, "network", item.id, port)
        return item.id

    def chain(self, source: str, layers: list[tuple[str, dict[str, Any]]]) -> str:
        for kind, node_settings in layers:
            source = self.add(kind, source, **node_settings)
        return source

    def spec(self, node_id: str) -> NetworkSpec:
        problem = self.wf.first_problem()
        assert problem is None, problem
        return self.network(node_id)

    def network(self, node_id: str) -> NetworkSpec:
        spec = self.wf.nodes[node_id].specs["network"]
        assert isinstance(spec, NetworkSpec)
        return spec

    def input_specs(self, node_id: str) -> dict[str, Any]:
        return {
            port: self.wf.nodes[c.source].specs.get(c.source_port)
            for port, c in self.wf.incoming(node_id).items()
        }

    def refusal(self, node_id: str) -> NeuroFlowError:
        """The error the node's own configure raises, given its (configured) upstream specs."""
        item = self.wf.nodes[node_id]
        assert not item.specs and item.message, f"{item.title} was expected to be refused"
        with pytest.raises(NeuroFlowError) as caught:
            item.node.configure(self.input_specs(node_id))
        assert str(caught.value) == item.message  # what the editor shows on the node
        return caught.value


def keras_output_shape(keras_layer: Any) -> Shape:
    return tuple(int(d) for d in keras_layer.output.shape[1:])


def assert_matches_keras(spec: NetworkSpec) -> None:
    """Each layer's configure-time shape and parameter count equal the built Keras model's."""
    model = build_keras_model(spec)
    for layer in spec.layers:
        keras_layer = model.get_layer(layer.keras_name)
        where = f"{layer.class_name} {layer.id} {dict(layer.config)}"
        assert keras_output_shape(keras_layer) == layer.output_shape, where
        assert keras_layer.count_params() == layer.params, where
    assert model.count_params() == spec.total_params
    assert len(model.layers) == len(spec.layers)


def assert_keras_refuses(net: Net, node_id: str) -> None:
    """Configure refused ``node_id``; Keras must refuse the same layer on the same inputs too,
    unless the refusal is one of our deliberate restrictions (checked separately)."""
    import keras

    error = net.refusal(node_id)
    message = str(error)
    assert "\n" not in message and message
    node = net.wf.nodes[node_id].node
    assert isinstance(node, LayerNode)
    shapes = [spec.shape for spec in net.input_specs(node_id).values()]
    if node.keras_class == "Dense":
        # Keras would apply Dense to the last axis; we ask for an explicit Flatten instead.
        assert len(shapes[0]) != 1 and "Flatten" in message and format_shape(shapes[0]) in message
        return
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in node.keras_config().items()}
    config = {k: [0.0, 255.0] if v == INPUT_RANGE else v for k, v in config.items()}
    tensors = [keras.Input(shape=shape) for shape in shapes]
    try:
        layer = getattr(keras.layers, node.keras_class)(**config)
        layer(tensors if len(tensors) > 1 else tensors[0])
    except (ValueError, IndexError):
        pass  # Keras refuses as well
    else:
        assert_deliberate_refusal(node, shapes, message)
        return
    if isinstance(error, SettingError):
        assert f"'{error.setting}'" in message
    else:
        assert isinstance(error, ConfigureError)
        assert any(format_shape(shape) in message for shape in shapes), message


#: Layers that only make sense on images; Keras applies some of them to any tensor.
IMAGE_ONLY = ("Resizing", "RandomCrop", "RandomBrightness", "RandomContrast")


def assert_deliberate_refusal(node: LayerNode, shapes: list[Shape], message: str) -> None:
    """Keras accepts what configure refused: only our documented restrictions may do that."""
    if node.keras_class == "Add":
        # Keras's Add broadcasts axes of length 1; we ask for equal shapes, as the help says.
        first, second = shapes
        broadcast = len(first) != len(second) or any(
            1 in (a, b) for a, b in zip(first, second, strict=True) if a != b
        )
        assert broadcast, message  # e.g. (8, 8, 3) + (8, 8, 1)
    elif INPUT_RANGE in node.keras_config().values() and "works on image pixels" in message:
        pass  # after a Conv2D or Dense the pixel range is unknown; checked in test_pixel_range_*
    elif node.keras_class in IMAGE_ONLY and len(shapes[0]) != 3:
        assert format_shape(shapes[0]) in message and "(height, width, channels)" in message, message
    elif node.keras_class == "RandomCrop":
        # Keras enlarges a small image, and crops at a fixed place when one side already fits.
        height, width = node["height"], node["width"]
        assert height >= shapes[0][0] or width >= shapes[0][1], message
        assert f"{height}x{width}" in message and format_shape(shapes[0]) in message, message
    else:
        raise AssertionError(f"Keras accepts what configure refused: {message}")


# -- every layer type, many settings: configure == Keras -----------------------------------

IMAGE_CHAINS: dict[str, tuple[Shape, list[tuple[str, dict[str, Any]]]]] = {
    "lenet": ((28, 28, 1), [
        ("conv2d", {"filters": 6, "kernel_size": [5, 5]}),
        ("max_pooling2d", {}),
        ("conv2d", {"filters": 16, "kernel_size": [5, 5], "padding": "same"}),
        ("average_pooling2d", {}),
        ("flatten", {}),
        ("dense", {"units": 10, "activation": "softmax"}),
    ]),
    "strides_and_rectangular_kernels": ((31, 17, 3), [
        ("conv2d", {"filters": 4, "kernel_size": [5, 3], "strides": [2, 3]}),
        ("conv2d", {"filters": 5, "kernel_size": [2, 2], "strides": [3, 2], "padding": "same"}),
        ("conv2d", {"filters": 2, "kernel_size": [1, 1], "strides": [2, 2], "activation": "tanh"}),
    ]),
    "dilation": ((15, 15, 2), [
        ("conv2d", {"filters": 3, "kernel_size": [3, 2], "dilation_rate": [2, 3]}),
        ("conv2d", {"filters": 3, "kernel_size": [3, 3], "dilation_rate": [2, 2], "padding": "same"}),
        ("conv2d", {"filters": 1, "kernel_size": [2, 2], "dilation_rate": [4, 1], "use_bias": False}),
    ]),
    "augmentation_keeps_the_shape": ((28, 28, 1), [
        ("random_flip", {"mode": "horizontal_and_vertical"}),
        ("random_shift", {"height_factor": 0.2, "width_factor": 0.0, "fill_mode": "nearest"}),
        ("random_rotation", {"degrees": 15.0}),
        ("random_zoom", {"factor": 0.3}),
        ("conv2d", {"filters": 2, "kernel_size": [3, 3]}),
    ]),
    "kernel_as_large_as_input": ((5, 7, 3), [
        ("conv2d", {"filters": 8, "kernel_size": [5, 7]}),
        ("flatten", {}),
    ]),
    "kernel_larger_than_input_with_same_padding": ((3, 2, 2), [
        ("conv2d", {"filters": 2, "kernel_size": [7, 9], "padding": "same", "strides": [2, 2]}),
    ]),
    "no_bias": ((10, 10, 3), [
        ("conv2d", {"filters": 7, "kernel_size": [3, 3], "use_bias": False, "activation": "linear"}),
    ]),
    "pooling_odd_sizes_valid": ((7, 9, 2), [
        ("max_pooling2d", {"pool_size": [2, 2]}),
        ("average_pooling2d", {"pool_size": [3, 2], "strides": [1, 1]}),
    ]),
    "pooling_odd_sizes_same": ((7, 9, 2), [
        ("max_pooling2d", {"pool_size": [2, 2], "padding": "same"}),
        ("average_pooling2d", {"pool_size": [3, 3], "padding": "same"}),
    ]),
    "pooling_overlapping_and_sparse_strides": ((23, 19, 1), [
        ("max_pooling2d", {"pool_size": [3, 3], "strides": [2, 2]}),
        ("average_pooling2d", {"pool_size": [2, 2], "strides": [3, 1]}),
        ("max_pooling2d", {"pool_size": [1, 2], "strides": [0, 3], "padding": "same"}),
    ]),
    "pool_larger_than_input_with_same_padding": ((2, 3, 4), [
        ("max_pooling2d", {"pool_size": [4, 4], "padding": "same"}),
    ]),
    "normalisation_dropout_activation_on_images": ((12, 12, 3), [
        ("conv2d", {"filters": 6, "activation": "linear", "use_bias": False}),
        ("batch_normalization", {"momentum": 0.9, "epsilon": 1e-5}),
        ("activation", {"activation": "relu"}),
        ("dropout", {"rate": 0.25}),
        ("flatten", {}),
        ("batch_normalization", {}),
        ("dense", {"units": 3, "activation": "linear"}),
        ("activation", {"activation": "softmax"}),
    ]),
    "dense_on_vectors": ((784,), [
        ("dense", {"units": 32}),
        ("dropout", {"rate": 0.0}),
        ("batch_normalization", {}),
        ("dense", {"units": 1, "activation": "sigmoid"}),
        ("flatten", {}),
    ]),
    "two_dimensional_input": ((4, 6), [
        ("batch_normalization", {}),
        ("dropout", {"rate": 0.5}),
        ("activation", {"activation": "gelu"}),
        ("flatten", {}),
        ("dense", {"units": 5}),
    ]),
    "separable_and_depthwise": ((15, 13, 3), [
        ("separable_conv2d", {"filters": 6, "kernel_size": [3, 2], "depth_multiplier": 2, "strides": [2, 1]}),
        ("depthwise_conv2d", {"kernel_size": [3, 3], "depth_multiplier": 3, "padding": "same", "use_bias": False}),
        ("separable_conv2d", {"filters": 4, "dilation_rate": [2, 1], "use_bias": False, "activation": "linear"}),
        ("depthwise_conv2d", {"kernel_size": [2, 2], "strides": [2, 2], "dilation_rate": [1, 2]}),
        ("separable_conv2d", {"filters": 5, "kernel_size": [1, 1], "padding": "same", "strides": [2, 3]}),
    ]),
    "global_average_pooling_head": ((9, 7, 3), [
        ("conv2d", {"filters": 5, "padding": "same"}),
        ("global_average_pooling2d", {}),
        ("dense", {"units": 2, "activation": "softmax"}),
    ]),
    "global_max_pooling_head": ((4, 11, 2), [
        ("depthwise_conv2d", {"kernel_size": [1, 1], "depth_multiplier": 4}),
        ("global_max_pooling2d", {}),
        ("layer_normalization", {}),
        ("dense", {"units": 3}),
    ]),
    "initializers_and_l2": ((12, 12, 1), [
        ("conv2d", {"filters": 4, "kernel_initializer": "he_normal", "l2": 0.001}),
        ("conv2d", {"filters": 3, "kernel_initializer": "orthogonal", "l2": 0.0}),
        ("flatten", {}),
        ("dense", {"units": 6, "kernel_initializer": "lecun_normal", "l2": 0.01, "activation": "selu"}),
        ("dense", {"units": 2, "kernel_initializer": "truncated_normal"}),
    ]),
    "preprocessing_inside_the_network": ((28, 28, 1), [
        ("rescaling", {"scale": 1 / 127.5, "offset": -1.0}),
        ("resizing", {"height": 32, "width": 36, "interpolation": "bicubic", "aspect_ratio": "crop"}),
        ("zero_padding2d", {"top": 1, "bottom": 2, "left": 0, "right": 3}),
        ("random_crop", {"height": 30, "width": 20}),
        ("random_contrast", {"factor": 0.3}),
        ("random_brightness", {"factor": 0.1}),
        ("conv2d", {"filters": 2}),
        ("global_max_pooling2d", {}),
    ]),
    "resizing_keeps_the_aspect_ratio_by_padding": ((20, 10, 3), [
        ("resizing", {"height": 16, "width": 16, "interpolation": "area", "aspect_ratio": "pad"}),
        ("resizing", {"height": 5, "width": 9, "interpolation": "nearest", "aspect_ratio": "stretch"}),
        ("resizing", {"height": 64, "width": 7, "interpolation": "lanczos3"}),
    ]),
    "reshape_and_layer_normalization": ((784,), [
        ("reshape", {"target_shape": [28, 28, 1]}),
        ("conv2d", {"filters": 4, "kernel_size": [5, 5], "strides": [2, 2]}),
        ("layer_normalization", {"center": False, "epsilon": 1e-5}),
        ("reshape", {"target_shape": [36, 16]}),
        ("layer_normalization", {"scale": False}),
        ("reshape", {"target_shape": [576]}),
        ("rescaling", {"scale": -2.0, "offset": 0.5}),
        ("layer_normalization", {"center": False, "scale": False}),
    ]),
    "one_pixel_image": ((1, 1, 3), [
        ("conv2d", {"filters": 2, "kernel_size": [1, 1]}),
        ("max_pooling2d", {"pool_size": [1, 1]}),
        ("flatten", {}),
    ]),
}


@pytest.mark.parametrize("case", list(IMAGE_CHAINS))
def test_chain_matches_keras(case: str) -> None:
    shape, layers = IMAGE_CHAINS[case]
    net = Net()
    last = net.chain(net.add("input", shape=list(shape)), layers)
    spec = net.spec(last)
    assert len(spec.layers) == len(layers) + 1
    assert_matches_keras(spec)


def _inception(net: Net) -> str:
    x = net.add("input", shape=[15, 13, 3])
    a = net.add("conv2d", x, filters=4, kernel_size=[1, 1], padding="same")
    b = net.add("conv2d", x, filters=6, kernel_size=[3, 3], padding="same")
    c = net.add("max_pooling2d", x, pool_size=[3, 3], strides=[1, 1], padding="same")
    ab = net.add("concatenate", a, b)
    abc = net.add("concatenate", ab, c)
    return net.chain(abc, [("max_pooling2d", {}), ("flatten", {}), ("dense", {"units": 2})])


def _residual(net: Net) -> str:
    x = net.add("input", shape=[9, 9, 4])
    y = net.add("conv2d", x, filters=4, padding="same", activation="linear")
    y = net.add("batch_normalization", y)
    block = net.add("add", x, y)
    y2 = net.add("conv2d", block, filters=4, kernel_size=[5, 5], padding="same")
    block2 = net.add("add", y2, block)
    return net.add("activation", block2, activation="relu")


def _two_inputs(net: Net) -> str:
    image = net.add("input", shape=[6, 6, 1])
    mask = net.add("input", shape=[6, 6, 2])
    both = net.add("concatenate", image, mask)
    features = net.chain(both, [("conv2d", {"filters": 3}), ("flatten", {})])
    extra = net.add("input", shape=[5])
    joined = net.add("concatenate", features, extra)
    return net.add("dense", joined, units=4, activation="softmax")


def _same_source_twice(net: Net) -> str:
    x = net.add("input", shape=[10])
    doubled = net.add("add", x, x)
    stacked = net.add("concatenate", doubled, doubled)
    return net.add("dense", stacked, units=3)


def _diamond_of_vectors(net: Net) -> str:
    x = net.add("input", shape=[8, 8, 1])
    flat = net.add("flatten", x)
    left = net.add("dense", flat, units=16)
    right = net.chain(flat, [("dropout", {"rate": 0.3}), ("dense", {"units": 16, "activation": "tanh"})])
    summed = net.add("add", left, right)
    return net.add("concatenate", summed, flat)


BRANCHES = {
    "inception": _inception,
    "residual": _residual,
    "two_inputs": _two_inputs,
    "same_source_twice": _same_source_twice,
    "diamond_of_vectors": _diamond_of_vectors,
}


@pytest.mark.parametrize("case", list(BRANCHES))
def test_branches_that_merge_match_keras(case: str) -> None:
    net = Net()
    last = BRANCHES[case](net)
    spec = net.spec(last)
    assert_matches_keras(spec)


def test_two_input_network_has_two_keras_inputs() -> None:
    net = Net()
    spec = net.spec(_two_inputs(net))
    assert len(spec.inputs) == 3
    model = build_keras_model(spec)
    assert [tuple(t.shape[1:]) for t in model.inputs] == [(6, 6, 1), (6, 6, 2), (5,)]


def test_batch_normalization_counts_moving_statistics_as_untrained_params() -> None:
    net = Net()
    last = net.add("batch_normalization", net.add("input", shape=[4, 4, 5]))
    spec = net.spec(last)
    assert spec.by_id[last].params == 20
    layer = build_keras_model(spec).get_layer(spec.by_id[last].keras_name)
    assert sum(math.prod(w.shape) for w in layer.non_trainable_weights) == 10
    assert sum(math.prod(w.shape) for w in layer.trainable_weights) == 10


def test_every_layer_type_is_covered() -> None:
    """A new layer node type must show up in the Keras comparison above (the Pretrained Network,
    a whole backbone per node, is compared with Keras in test_pretrained.py)."""
    layer_types = {t.type_id for t in default_registry() if t.type_id.startswith(L)}
    covered = {"input", "pretrained_network"}
    for _, layers in IMAGE_CHAINS.values():
        covered |= {kind for kind, _ in layers}
    covered |= {"concatenate", "add"}
    assert layer_types == {L + kind for kind in covered}


# -- random networks --------------------------------------------------------------------

pairs = st.tuples(st.integers(1, 3), st.integers(1, 3)).map(list)
ones = st.just([1, 1])

INITIALIZERS = ("glorot_uniform", "he_normal", "lecun_uniform", "orthogonal", "random_uniform")
KERNEL = {"kernel_initializer": st.sampled_from(INITIALIZERS), "l2": st.sampled_from([0.0, 1e-4, 0.01])}
WINDOW = {
    "kernel_size": st.tuples(st.integers(1, 6), st.integers(1, 6)).map(list),
    "strides": st.one_of(ones, pairs),
    "padding": st.sampled_from(["valid", "same"]),
    "dilation_rate": st.one_of(ones, pairs),
    "activation": st.sampled_from(ACTIVATIONS),
    "use_bias": st.booleans(),
}
CONV = st.fixed_dictionaries({"filters": st.integers(1, 6), **WINDOW, **KERNEL})
SEPARABLE = st.fixed_dictionaries({"filters": st.integers(1, 6), "depth_multiplier": st.integers(1, 3), **WINDOW})
DEPTHWISE = st.fixed_dictionaries({"depth_multiplier": st.integers(1, 3), **WINDOW})
side = st.integers(1, 12)
POOL = st.fixed_dictionaries({
    "pool_size": st.tuples(st.integers(1, 4), st.integers(1, 4)).map(list),
    "strides": st.tuples(st.integers(0, 3), st.integers(0, 3)).map(list),
    "padding": st.sampled_from(["valid", "same"]),
})
STEP = st.one_of(
    st.tuples(st.just("conv2d"), CONV),
    st.tuples(st.just("conv2d"), CONV),
    st.tuples(st.just("max_pooling2d"), POOL),
    st.tuples(st.just("average_pooling2d"), POOL),
    st.tuples(st.just("flatten"), st.just({})),
    st.tuples(st.just("dense"), st.fixed_dictionaries({
        "units": st.integers(1, 12), "activation": st.sampled_from(ACTIVATIONS), **KERNEL})),
    st.tuples(st.just("separable_conv2d"), SEPARABLE),
    st.tuples(st.just("depthwise_conv2d"), DEPTHWISE),
    st.tuples(st.sampled_from(["global_average_pooling2d", "global_max_pooling2d"]), st.just({})),
    st.tuples(st.just("zero_padding2d"), st.fixed_dictionaries(
        {name: st.integers(0, 3) for name in ("top", "bottom", "left", "right")})),
    st.tuples(st.just("resizing"), st.fixed_dictionaries({
        "height": side, "width": side, "interpolation": st.sampled_from(["bilinear", "nearest", "area"]),
        "aspect_ratio": st.sampled_from(["stretch", "crop", "pad"])})),
    st.tuples(st.just("random_crop"), st.fixed_dictionaries({"height": side, "width": side})),
    st.tuples(st.sampled_from(["random_brightness", "random_contrast"]),
              st.fixed_dictionaries({"factor": st.floats(0.0, 1.0)})),
    st.tuples(st.just("rescaling"), st.fixed_dictionaries(
        {"scale": st.floats(-2.0, 2.0), "offset": st.floats(-1.0, 1.0)})),
    st.tuples(st.just("reshape"), st.fixed_dictionaries(
        {"target_shape": st.lists(st.integers(1, 8), min_size=1, max_size=3)})),
    st.tuples(st.just("layer_normalization"), st.fixed_dictionaries({
        "epsilon": st.floats(1e-6, 0.1), "center": st.booleans(), "scale": st.booleans()})),
    st.tuples(st.just("dropout"), st.fixed_dictionaries({"rate": st.floats(0.0, 0.9)})),
    st.tuples(st.just("batch_normalization"), st.fixed_dictionaries({
        "momentum": st.floats(0.0, 1.0), "epsilon": st.floats(1e-6, 0.1)})),
    st.tuples(st.just("activation"), st.fixed_dictionaries({"activation": st.sampled_from(ACTIVATIONS)})),
    st.tuples(st.sampled_from(["concatenate", "add"]), st.just({})),
)
INPUT_SHAPE = st.one_of(
    st.tuples(st.integers(1, 24), st.integers(1, 24), st.integers(1, 4)),
    st.tuples(st.integers(1, 40)),
)
# Each step picks its source(s) among the layers configured so far, counted from the newest
# (modulo their number); mostly the newest, so that chains grow long as well as branch out.
NEWEST_MOSTLY = st.one_of(st.just(0), st.just(0), st.integers(0, 99))
PROGRAM = st.lists(st.tuples(STEP, NEWEST_MOSTLY, st.integers(0, 99)), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=INPUT_SHAPE, program=PROGRAM)
def test_random_networks_match_keras(shape: Shape, program: list[Any]) -> None:
    net = Net()
    tips = [net.add("input", shape=list(shape))]
    used: set[str] = set()
    for (kind, node_settings), first, second in program:
        sources = [tips[-1 - first % len(tips)]]
        if kind in ("concatenate", "add"):
            sources.append(tips[-1 - second % len(tips)])
        node_id = net.add(kind, *sources, **node_settings)
        if net.wf.nodes[node_id].specs:
            tips.append(node_id)
            used.update(sources)
            if len(sources) == 2:
                event(f"merged with {kind}")
        else:
            event(f"refused {kind}")
            assert_keras_refuses(net, node_id)
    for sink in [tip for tip in tips if tip not in used]:
        spec = net.network(sink)
        event(f"compared a network of {min(len(spec.layers), 5)}{'+' if len(spec.layers) >= 5 else ''} layers")
        assert_matches_keras(spec)


# -- refusals -----------------------------------------------------------------------------


def test_conv_after_flatten_says_it_needs_an_image() -> None:
    net = Net()
    flat = net.add("flatten", net.add("input", shape=[28, 28, 1]))
    conv = net.add("conv2d", flat)
    error = net.refusal(conv)
    assert isinstance(error, ConfigureError)
    message = str(error)
    assert "Conv2D" in message and "(height, width, channels)" in message
    assert f"got shape {format_shape((784,))}" in message and "Flatten" in message
    problem = net.wf.first_problem()
    assert problem is not None and problem.startswith(f"'Conv2D' ({conv}): ") and "784" in problem


def test_pooling_after_dense_says_it_needs_an_image() -> None:
    net = Net()
    dense = net.add("dense", net.add("input", shape=[20]), units=7)
    message = str(net.refusal(net.add("max_pooling2d", dense)))
    assert "MaxPooling2D" in message and "(height, width, channels)" in message
    assert format_shape((7,)) in message


@pytest.mark.parametrize(
    ("kind", "node_settings", "expected"),
    [
        ("conv2d", {"kernel_size": [5, 3]}, ["Conv2D", "5x3", "height 4", "(4, 4, 1)"]),
        ("conv2d", {"kernel_size": [3, 3], "dilation_rate": [1, 2]}, ["3x3", "dilated to 5", "width 4"]),
        ("max_pooling2d", {"pool_size": [2, 6]}, ["MaxPooling2D", "2x6", "width 4", "(4, 4, 1)"]),
        ("average_pooling2d", {"pool_size": [5, 5], "strides": [1, 1]}, ["AveragePooling2D", "5x5"]),
        ("separable_conv2d", {"kernel_size": [2, 5]}, ["SeparableConv2D", "2x5", "width 4", "(4, 4, 1)"]),
        ("depthwise_conv2d", {"kernel_size": [2, 2], "dilation_rate": [4, 1]}, ["DepthwiseConv2D", "dilated to 5"]),
    ],
)
def test_window_larger_than_input_is_refused(kind: str, node_settings: dict, expected: list[str]) -> None:
    net = Net()
    node = net.add(kind, net.add("input", shape=[4, 4, 1]), **node_settings)
    error = net.refusal(node)
    assert isinstance(error, ConfigureError)
    for text in expected:
        assert text in str(error)


def test_conv_refuses_strides_with_dilation() -> None:
    net = Net()
    node = net.add("conv2d", net.add("input", shape=[32, 32, 3]), strides=[2, 1], dilation_rate=[1, 2])
    error = net.refusal(node)
    assert isinstance(error, SettingError) and error.setting == "dilation_rate"
    assert "'dilation_rate'" in str(error) and "[1, 2]" in str(error) and "[2, 1]" in str(error)
    net.wf.set_setting(node, "strides", [1, 1])
    assert net.spec(node).shape == (30, 28, 32)


@pytest.mark.parametrize(
    ("kind", "first", "second"),
    [
        ("concatenate", (8, 8, 3), (4, 4, 3)),
        ("concatenate", (8, 8, 3), (192,)),
        ("add", (8, 8, 3), (8, 8, 4)),
        ("add", (10,), (1,)),
    ],
)
def test_merge_of_mismatched_shapes_names_both(kind: str, first: Shape, second: Shape) -> None:
    net = Net()
    node = net.add(kind, net.add("input", shape=list(first)), net.add("input", shape=list(second)))
    message = str(net.refusal(node))
    assert f"network 1 {format_shape(first)}" in message
    assert f"network 2 {format_shape(second)}" in message


def test_dense_on_an_image_asks_for_flatten() -> None:
    net = Net()
    node = net.add("dense", net.add("input", shape=[28, 28, 1]))
    error = net.refusal(node)
    assert isinstance(error, ConfigureError)
    assert "(28, 28, 1)" in str(error) and "Flatten" in str(error)


@pytest.mark.parametrize(
    ("kind", "node_settings", "message"),
    [
        ("global_average_pooling2d", {}, "GlobalAveragePooling2D needs a 3-D input (height, width, channels), "
                                         "got shape (784) - is it after a Flatten or Dense layer?"),
        ("global_max_pooling2d", {}, "GlobalMaxPooling2D needs a 3-D input (height, width, channels), "
                                     "got shape (784) - is it after a Flatten or Dense layer?"),
        ("separable_conv2d", {}, "SeparableConv2D needs a 3-D input (height, width, channels), "
                                 "got shape (784) - is it after a Flatten or Dense layer?"),
        ("depthwise_conv2d", {}, "DepthwiseConv2D needs a 3-D input (height, width, channels), "
                                 "got shape (784) - is it after a Flatten or Dense layer?"),
        ("resizing", {}, "Resizing needs a 3-D input (height, width, channels), "
                         "got shape (784) - is it after a Flatten or Dense layer?"),
        ("zero_padding2d", {}, "ZeroPadding2D needs a 3-D input (height, width, channels), "
                               "got shape (784) - is it after a Flatten or Dense layer?"),
        ("random_crop", {}, "Random Crop transforms images of shape (height, width, channels), but its input "
                            "has shape (784): place it right after the Input layer, before Flatten"),
        ("reshape", {"target_shape": [28, 28, 3]}, "Reshape cannot lay the 784 values of shape (784) out as "
                                                   "(28, 28, 3), which holds 2352; the number of values must stay the same"),
    ],
)
def test_image_layers_after_flatten_and_wrong_reshapes_are_refused(kind: str, node_settings: dict, message: str) -> None:
    net = Net()
    flat = net.add("flatten", net.add("input", shape=[28, 28, 1]))
    error = net.refusal(net.add(kind, flat, **node_settings))
    assert isinstance(error, ConfigureError) and str(error) == message


@pytest.mark.parametrize(
    ("size", "image"),
    [((28, 20), (28, 28, 1)), ((20, 28), (28, 28, 1)), ((32, 32), (28, 28, 3)), ((5, 5), (5, 6, 2))],
)
def test_random_crop_must_be_smaller_than_the_image(size: tuple[int, int], image: Shape) -> None:
    net = Net()
    crop = net.add("random_crop", net.add("input", shape=list(image)), height=size[0], width=size[1])
    assert str(net.refusal(crop)) == (
        f"Random Crop {size[0]}x{size[1]} must be smaller than its input {format_shape(image)} in both height "
        "and width, to leave room to move; use Resizing to change the size instead"
    )
    net.wf.set_setting(crop, "height", image[0] - 1)
    net.wf.set_setting(crop, "width", image[1] - 1)
    assert net.spec(crop).shape == (image[0] - 1, image[1] - 1, image[2])


def test_reshape_into_the_same_count_of_values_in_another_layout() -> None:
    net = Net()
    image = net.add("reshape", net.add("input", shape=[784]), target_shape=[28, 28, 1])
    again = net.add("reshape", image, target_shape=[14, 56])
    spec = net.spec(again)
    assert spec.by_id[image].output_shape == (28, 28, 1) and spec.shape == (14, 56)
    model = build_keras_model(spec)
    values = np.arange(2 * 784, dtype="float32").reshape(2, 784)
    np.testing.assert_array_equal(np.asarray(model(values)), values.reshape(2, 14, 56))


@pytest.mark.parametrize(
    ("kind", "name", "value", "quoted"),
    [
        ("conv2d", "filters", 0, "0"),
        ("conv2d", "filters", 2.5, "2.5"),
        ("conv2d", "filters", "many", "'many'"),
        ("conv2d", "kernel_size", [0, 3], "[0, 3]"),
        ("conv2d", "kernel_size", [3, 3, 3], "[3, 3, 3]"),
        ("conv2d", "strides", [1, 0], "[1, 0]"),
        ("conv2d", "dilation_rate", [-1, 1], "[-1, 1]"),
        ("conv2d", "padding", "full", "'full'"),
        ("conv2d", "activation", "relu7", "'relu7'"),
        ("max_pooling2d", "pool_size", [0, 2], "[0, 2]"),
        ("average_pooling2d", "strides", [-1, 1], "[-1, 1]"),
        ("dense", "units", 0, "0"),
        ("dropout", "rate", 1.5, "1.5"),
        ("dropout", "rate", 1.0, "1.0"),
        ("dropout", "rate", -0.1, "-0.1"),
        ("batch_normalization", "momentum", 1.5, "1.5"),
        ("batch_normalization", "epsilon", 0.0, "0.0"),
        ("activation", "activation", "Relu", "'Relu'"),
        ("input", "shape", [0, 28, 1], "[0, 28, 1]"),
        ("conv2d", "kernel_initializer", "zeros", "'zeros'"),
        ("conv2d", "l2", -0.01, "-0.01"),
        ("dense", "kernel_initializer", "HeNormal", "'HeNormal'"),
        ("dense", "l2", "0.1", "'0.1'"),
        ("separable_conv2d", "depth_multiplier", 0, "0"),
        ("depthwise_conv2d", "kernel_size", [3], "[3]"),
        ("resizing", "aspect_ratio", "fit", "'fit'"),
        ("resizing", "interpolation", "cubic", "'cubic'"),
        ("resizing", "height", 0, "0"),
        ("zero_padding2d", "left", -1, "-1"),
        ("reshape", "target_shape", [0, 784], "[0, 784]"),
        ("reshape", "target_shape", [1, 2, 3, 4], "[1, 2, 3, 4]"),
        ("layer_normalization", "epsilon", 0.0, "0.0"),
        ("random_crop", "width", 0, "0"),
        ("random_brightness", "factor", 1.5, "1.5"),
        ("random_contrast", "factor", -0.2, "-0.2"),
        ("rescaling", "scale", "1/255", "'1/255'"),
    ],
)
def test_invalid_setting_names_setting_and_value(kind: str, name: str, value: Any, quoted: str) -> None:
    with pytest.raises(SettingError) as caught:
        Workflow().add_node(L + kind, settings={name: value})
    message = str(caught.value)
    assert caught.value.setting == name and f"'{name}'" in message and quoted in message
    assert "\n" not in message


def test_invalid_setting_in_a_workflow_names_the_node() -> None:
    net = Net()
    drop = net.add("dropout", net.add("input", shape=[3]))
    with pytest.raises(SettingError) as caught:
        net.wf.set_setting(drop, "rate", 1.5)
    assert str(caught.value).startswith(f"'Dropout' ({drop}): setting 'rate'")
    assert net.wf.nodes[drop].node["rate"] == 0.5  # the old value is kept


# -- pixel value ranges -------------------------------------------------------------------


def keras_layer(spec: NetworkSpec, node_id: str, **build: Any) -> Any:
    return build_keras_model(spec, **build).get_layer(spec.by_id[node_id].keras_name)


@pytest.mark.parametrize("kind", ["random_brightness", "random_contrast"])
@pytest.mark.parametrize(
    ("before", "data_range", "expected"),
    [
        ([], (0.0, 1.0), (0.0, 1.0)),  # after the Normalizer
        ([], (-1.0, 1.0), (-1.0, 1.0)),
        ([], (0.0, 255.0), (0.0, 255.0)),  # raw from a reader
        ([("rescaling", {"scale": 1 / 255})], (0.0, 255.0), (0.0, 1.0)),
        ([("rescaling", {"scale": 1 / 127.5, "offset": -1.0})], (0.0, 255.0), (-1.0, 1.0)),
        ([("rescaling", {"scale": -1.0, "offset": 1.0})], (0.0, 1.0), (0.0, 1.0)),  # inverted
        ([("random_flip", {}), ("zero_padding2d", {}), ("resizing", {"height": 20, "width": 20}),
          ("max_pooling2d", {}), ("random_crop", {"height": 8, "width": 8})], (0.0, 1.0), (0.0, 1.0)),
        ([("rescaling", {"scale": 2.0}), ("global_average_pooling2d", {}), ("reshape", {"target_shape": [1, 1, 1]})],
         (0.0, 1.0), (0.0, 2.0)),
    ],
)
def test_pixel_range_reaches_brightness_and_contrast(
    kind: str, before: list[tuple[str, dict[str, Any]]], data_range: tuple[float, float], expected: tuple[float, float]
) -> None:
    net = Net()
    node = net.add(kind, net.chain(net.add("input", shape=[28, 28, 1]), before))
    spec = net.spec(node)
    assert dict(spec.by_id[node].config)["value_range"] == INPUT_RANGE  # filled in when built
    layer = keras_layer(spec, node, value_range=data_range)
    assert list(layer.value_range) == pytest.approx(list(expected))
    assert layer.get_config()["value_range"] == pytest.approx(list(expected))  # saved with the model


def test_random_brightness_keeps_normalised_pixels_in_their_range() -> None:
    net = Net()
    node = net.add("random_brightness", net.add("input", shape=[8, 8, 1]), factor=0.5)
    model = build_keras_model(net.spec(node), value_range=(0.0, 1.0))
    images = np.random.default_rng(0).uniform(0.0, 1.0, (64, 8, 8, 1)).astype("float32")
    brightened = np.asarray(model(images, training=True))
    shift = np.abs(brightened - images)
    assert brightened.min() >= 0.0 and brightened.max() <= 1.0
    # shifted by up to half the range [0, 1] (half of 0-255 would push most pixels to 0 or 1)
    assert 0.2 < shift.max() <= 0.5 + 1e-6


@pytest.mark.parametrize(
    ("before", "culprit"),
    [
        ([("conv2d", {"filters": 2})], "Conv2D"),
        ([("separable_conv2d", {"filters": 2}), ("max_pooling2d", {})], "SeparableConv2D"),
        ([("layer_normalization", {}), ("rescaling", {"scale": 0.5})], "LayerNormalization"),
    ],
)
@pytest.mark.parametrize("kind", ["random_brightness", "random_contrast"])
def test_pixel_range_layers_after_features_are_refused(
    kind: str, before: list[tuple[str, dict[str, Any]]], culprit: str
) -> None:
    net = Net()
    node = net.add(kind, net.chain(net.add("input", shape=[12, 12, 1]), before))
    error = net.refusal(node)
    name = net.wf.nodes[node].node.name
    assert isinstance(error, ConfigureError) and str(error) == (
        f"{name} works on image pixels, but a layer before it (such as Conv2D or Dense) has turned them "
        "into features: place it right after the Input layer"
    )


def test_brightness_beside_a_merge_of_pixels_and_features_is_refused() -> None:
    net = Net()
    image = net.add("input", shape=[6, 6, 1])
    both = net.add("concatenate", image, net.add("conv2d", image, filters=1, padding="same"))
    assert "works on image pixels" in str(net.refusal(net.add("random_brightness", both)))
    fine = net.add("random_brightness", net.add("concatenate", image, net.add("random_flip", image)))
    assert net.network(fine).shape == (6, 6, 2)


# -- weight initializers and L2 penalty ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "source", "initializer", "keras_name", "l2"),
    [
        ("conv2d", [10, 10, 3], "he_normal", "HeNormal", 0.001),
        ("conv2d", [10, 10, 3], "orthogonal", "Orthogonal", 0.0),
        ("dense", [50], "lecun_uniform", "LecunUniform", 0.05),
        ("dense", [50], "glorot_uniform", "GlorotUniform", 0.0),
    ],
)
def test_initializer_and_l2_reach_the_keras_layer(
    kind: str, source: list[int], initializer: str, keras_name: str, l2: float
) -> None:
    import keras

    net = Net()
    node = net.add(kind, net.add("input", shape=source), kernel_initializer=initializer, l2=l2)
    spec = net.spec(node)
    model = build_keras_model(spec)
    layer = model.get_layer(spec.by_id[node].keras_name)
    assert keras.initializers.serialize(layer.kernel_initializer)["class_name"] == keras_name
    if l2 == 0.0:
        assert layer.kernel_regularizer is None and not model.losses
    else:
        assert isinstance(layer.kernel_regularizer, keras.regularizers.L2)
        assert layer.kernel_regularizer.get_config() == {"l2": pytest.approx(l2)}
        # the penalty that joins the training loss: l2 times the sum of the squared weights
        kernel = np.asarray(layer.kernel)
        (penalty,) = model.losses
        assert float(penalty) == pytest.approx(l2 * float(np.sum(kernel**2)), rel=1e-4)


@pytest.mark.parametrize(("initializer", "spread"), [("he_normal", math.sqrt(2 / 400)), ("glorot_uniform", math.sqrt(2 / 600))])
def test_initializer_sets_the_spread_of_the_starting_weights(initializer: str, spread: float) -> None:
    net = Net()
    node = net.add("dense", net.add("input", shape=[400]), units=200, kernel_initializer=initializer)
    spec = net.spec(node)
    kernel = np.asarray(build_keras_model(spec).get_layer(spec.by_id[node].keras_name).kernel)
    assert float(np.std(kernel)) == pytest.approx(spread, rel=0.05)


VERSION_1 = {
    "neuroflow.layers.conv2d": {"activation": "relu", "dilation_rate": [1, 1], "filters": 8, "kernel_size": [3, 3],
                                "padding": "valid", "strides": [1, 1], "use_bias": True},
    "neuroflow.layers.dense": {"activation": "softmax", "units": 10},
}


def test_version_1_conv2d_and_dense_load_with_the_default_initializer_and_no_l2() -> None:
    nodes = [{"id": "input", "type": L + "input", "version": 1, "settings": {"shape": [12, 12, 1]}},
             {"id": "conv", "type": L + "conv2d", "version": 1, "settings": VERSION_1[L + "conv2d"]},
             {"id": "flat", "type": L + "flatten", "version": 1, "settings": {}},
             {"id": "dense", "type": L + "dense", "version": 1, "settings": VERSION_1[L + "dense"]}]
    text = json.dumps({
        "format": "neuroflow.workflow", "format_version": 1, "nodes": nodes, "layout": {},
        "connections": [{"from": f"{a}.network", "to": f"{b}.network"}
                        for a, b in (("input", "conv"), ("conv", "flat"), ("flat", "dense"))],
    })
    workflow = fileformat.loads(text)
    for node_id in ("conv", "dense"):
        node = workflow.nodes[node_id].node
        assert node["kernel_initializer"] == "glorot_uniform" and node["l2"] == 0.0
        assert {k: node.settings_json()[k] for k in VERSION_1[node.type_id]} == VERSION_1[node.type_id]
    assert workflow.first_problem() is None
    assert workflow.nodes["dense"].specs["network"].total_params == 8 * 9 + 8 + (10 * 10 * 8 + 1) * 10
    saved = {node["id"]: node for node in json.loads(fileformat.dumps(workflow))["nodes"]}
    assert saved["conv"]["version"] == saved["dense"]["version"] == 2
    assert saved["conv"]["settings"]["l2"] == 0.0 and saved["dense"]["settings"]["kernel_initializer"] == "glorot_uniform"


# -- node contract ------------------------------------------------------------------------

LAYER_TYPES = sorted(
    (t for t in default_registry() if t.type_id.startswith(L)), key=lambda t: t.type_id
)


@pytest.mark.parametrize("node_type", LAYER_TYPES, ids=lambda t: t.type_id)
def test_layer_node_declaration_and_round_trip(node_type: type[LayerNode]) -> None:
    assert issubclass(node_type, LayerNode) and (node_type.keras_class or node_type.builder)
    assert node_type.description and node_type.keywords
    assert all(setting.help for setting in node_type.settings_spec)
    port_names = [port.name for port in node_type.inputs]
    assert len(set(port_names)) == len(port_names)
    node = node_type()
    again = node_type(node.settings_json())
    assert again.settings == node.settings


def test_execute_passes_the_configured_spec_on() -> None:
    net = Net()
    conv = net.add("conv2d", net.add("input", shape=[8, 8, 1]), filters=2)
    node = net.wf.nodes[conv].node
    inputs = net.input_specs(conv)
    assert node.execute(inputs, ExecutionContext(conv, "Conv2D")) == node.configure(inputs)


def test_layer_modules_do_not_import_tensorflow() -> None:
    """Importing the layer nodes and configuring a network must stay free of TensorFlow."""
    script = textwrap.dedent(
        """
        import importlib, json, pkgutil, sys
        import neuroflow.nodes.layers as package
        names = [m.name for m in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
        for name in names:
            importlib.import_module(name)
        from neuroflow import Workflow
        wf = Workflow()
        previous = wf.add_node("neuroflow.layers.input", settings={"shape": [28, 28, 1]}).id
        for kind in ("rescaling", "resizing", "zero_padding2d", "random_crop", "random_brightness",
                     "random_contrast", "conv2d", "separable_conv2d", "depthwise_conv2d",
                     "batch_normalization", "layer_normalization", "max_pooling2d", "average_pooling2d",
                     "dropout", "activation", "global_max_pooling2d", "flatten", "dense"):
            node = wf.add_node("neuroflow.layers." + kind).id
            wf.connect(previous, "network", node, "network")
            previous = node
        assert wf.first_problem() is None, wf.first_problem()
        loaded = [m for m in ("tensorflow", "keras", "PySide6") if m in sys.modules]
        print(json.dumps({"modules": names, "loaded": loaded}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ), timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"neuroflow.nodes.layers.conv2d", "neuroflow.nodes.layers.add"} <= set(report["modules"])
    loaded = report["loaded"]
    assert loaded == [], f"importing layer nodes loaded {loaded}"
