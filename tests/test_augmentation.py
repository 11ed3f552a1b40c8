"""Augmentation layers: they vary training images, leave predictions alone and save with the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_learning_nodes import MLP, learner_context, learning_workflow, node_of, read_mnist, run, write

from neuroflow.core.data import ImageDataset, TrainedModel
from neuroflow.core.network import build_keras_model

AUGMENTED = [
    MLP[0],
    ("neuroflow.layers.random_flip", {"mode": "horizontal"}),
    ("neuroflow.layers.random_shift", {"height_factor": 0.1, "width_factor": 0.1}),
    ("neuroflow.layers.random_rotation", {"degrees": 10.0}),
    ("neuroflow.layers.random_zoom", {"factor": 0.1}),
    *MLP[1:],
]
#: The augmentations that change pixel values or the image size, briefly trained for saving.
RANGE_AND_CROP = [
    MLP[0],
    ("neuroflow.layers.random_crop", {"height": 26, "width": 25}),
    ("neuroflow.layers.random_brightness", {"factor": 0.1}),
    ("neuroflow.layers.random_contrast", {"factor": 0.1}),
    *MLP[1:],
]
TRAINING = {"epochs": 6, "batch_size": 32, "seed": 3, "learning_rate": 0.003}
KINDS = ("random_flip", "random_shift", "random_rotation", "random_zoom", "random_brightness", "random_contrast")


@pytest.fixture(scope="module")
def data() -> ImageDataset:
    return read_mnist("train", 400)


def augmented_network(kind: str, **settings: Any):  # type: ignore[no-untyped-def]
    workflow = learning_workflow(read_mnist("t10k", 1), [MLP[0], ("neuroflow.layers." + kind, settings)])
    return workflow.nodes["layer1"].specs["network"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_augmentation_varies_training_images_and_leaves_prediction_alone(kind: str, data: ImageDataset) -> None:
    model = build_keras_model(augmented_network(kind), value_range=data.value_range)  # as the learner does
    images = data.images[:64]
    np.testing.assert_array_equal(np.asarray(model(images, training=False)), images)
    changed = np.asarray(model(images, training=True))
    assert changed.shape == images.shape
    differs = np.any(np.abs(changed - images) > 1e-3, axis=(1, 2, 3))
    assert differs.mean() > 0.25, f"{kind} left {100 - 100 * differs.mean():.0f}% of the images untouched"
    assert changed.min() >= 0.0 and changed.max() <= 1.0  # still pixels of the range [0, 1]


def test_random_contrast_both_weakens_and_strengthens(data: ImageDataset) -> None:
    model = build_keras_model(augmented_network("random_contrast", factor=0.5), value_range=(0.0, 255.0))
    images = data.images[:200] * 100.0 + 50.0  # room on both sides: nothing is clipped
    changed = np.asarray(model(images, training=True))
    ratio = changed.std(axis=(1, 2, 3)) / images.std(axis=(1, 2, 3))
    assert 0.5 - 1e-3 <= ratio.min() < 0.8 and 1.2 < ratio.max() <= 1.5 + 1e-3


def test_random_crop_cuts_random_windows_while_training_and_the_centre_when_predicting(data: ImageDataset) -> None:
    model = build_keras_model(augmented_network("random_crop", height=20, width=22))
    grid = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28, 1)  # every pixel tells its place
    assert model.output_shape == (None, 20, 22, 1)
    np.testing.assert_array_equal(np.asarray(model(grid, training=False)), grid[:, 4:24, 3:25])
    corners = set()
    for _ in range(40):
        window = np.asarray(model(grid, training=True))
        top, left = divmod(int(window[0, 0, 0, 0]), 28)
        np.testing.assert_array_equal(window, grid[:, top:top + 20, left:left + 22])
        corners.add((top, left))
    assert len(corners) >= 10 and all(0 <= top <= 8 and 0 <= left <= 6 for top, left in corners)
    np.testing.assert_array_equal(np.asarray(model.predict(data.images[:3], verbose=0)), data.images[:3, 4:24, 3:25])


@pytest.mark.parametrize("data_range", [(0.0, 1.0), (0.0, 255.0)])
def test_the_learner_gives_brightness_and_contrast_the_range_of_the_training_images(data: ImageDataset, data_range: tuple) -> None:
    scale = data_range[1]
    images = ImageDataset(data.images[:64] * scale, data.labels[:64], data.class_names, data_range, "scaled")
    layers = [MLP[0], ("neuroflow.layers.random_brightness", {}), ("neuroflow.layers.random_contrast", {}), *MLP[1:]]
    workflow = learning_workflow(images, layers, {"epochs": 1, "batch_size": 32})
    result, _ = run(workflow)
    assert result.ok, result
    model = workflow.nodes["learn"].outputs["model"].model
    network = workflow.nodes["layer2"].specs["network"]
    for layer_id in ("layer1", "layer2"):
        assert list(model.get_layer(network.by_id[layer_id].keras_name).value_range) == list(data_range)


@pytest.mark.parametrize("kind", (*KINDS, "random_crop"))
def test_augmentation_after_flatten_is_refused_with_where_to_put_it(kind: str) -> None:
    workflow = learning_workflow(read_mnist("t10k", 1), [*MLP[:2], ("neuroflow.layers." + kind, {})])
    problem = workflow.first_problem()
    assert problem is not None
    assert "has shape (784)" in str(problem) and "right after the Input layer, before Flatten" in str(problem)


@pytest.fixture(scope="module")
def trained(data: ImageDataset) -> TrainedModel:
    workflow = learning_workflow(data, AUGMENTED, TRAINING)
    result, _ = run(workflow)
    assert result.ok, result
    return workflow.nodes["learn"].outputs["model"]  # type: ignore[return-value]


def test_an_augmented_network_learns_and_the_same_seed_repeats_it(data: ImageDataset, trained: TrainedModel) -> None:
    assert trained.history["accuracy"][-1] > 0.6
    again = learning_workflow(data, AUGMENTED, TRAINING)
    assert run(again)[0].ok
    repeat: TrainedModel = again.nodes["learn"].outputs["model"]  # type: ignore[assignment]
    for a, b in zip(trained.model.get_weights(), repeat.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def trained_with_range_and_crop(data: ImageDataset) -> TrainedModel:
    workflow = learning_workflow(data, RANGE_AND_CROP, {"epochs": 1, "batch_size": 64, "seed": 3})
    result, _ = run(workflow)
    assert result.ok, result
    return workflow.nodes["learn"].outputs["model"]  # type: ignore[return-value]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("which", ["trained", "trained_with_range_and_crop"])
def test_an_augmented_model_saves_and_loads_back_with_identical_predictions(
    suffix: str, which: str, request: pytest.FixtureRequest, data: ImageDataset, tmp_path: Path
) -> None:
    trained: TrainedModel = request.getfixturevalue(which)
    path = tmp_path / f"augmented{suffix}"
    write(trained, path)
    loaded = node_of("neuroflow.learning.reader", path=str(path)).execute({}, learner_context())["model"]
    executor = node_of("neuroflow.learning.executor", batch_size=64)
    test = data.subset(np.arange(100))
    before = executor.execute({"model": trained, "images": test}, learner_context())["predictions"]
    after = executor.execute({"model": loaded, "images": test}, learner_context())["predictions"]
    np.testing.assert_allclose(before.probabilities, after.probabilities, rtol=0, atol=1e-6)
    # the pixel range the training images had travels with the model
    ranges = [list(layer.value_range) for layer in loaded.model.layers if hasattr(layer, "value_range")]
    assert ranges == ([[0.0, 1.0], [0.0, 1.0]] if which == "trained_with_range_and_crop" else [])
