"""Augmentation layers: they vary training images, leave predictions alone and save with the model."""

from __future__ import annotations

from pathlib import Path

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
TRAINING = {"epochs": 6, "batch_size": 32, "seed": 3, "learning_rate": 0.003}
KINDS = ("random_flip", "random_shift", "random_rotation", "random_zoom")


@pytest.fixture(scope="module")
def data() -> ImageDataset:
    return read_mnist("train", 400)


def augmented_network(kind: str):  # type: ignore[no-untyped-def]
    workflow = learning_workflow(read_mnist("t10k", 1), [MLP[0], ("neuroflow.layers." + kind, {})])
    return workflow.nodes["layer1"].specs["network"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_augmentation_varies_training_images_and_leaves_prediction_alone(kind: str, data: ImageDataset) -> None:
    model = build_keras_model(augmented_network(kind))
    images = data.images[:64]
    np.testing.assert_array_equal(np.asarray(model(images, training=False)), images)
    changed = np.asarray(model(images, training=True))
    assert changed.shape == images.shape
    differs = np.any(np.abs(changed - images) > 1e-3, axis=(1, 2, 3))
    assert differs.mean() > 0.25, f"{kind} left {100 - 100 * differs.mean():.0f}% of the images untouched"


@pytest.mark.parametrize("kind", KINDS)
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


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_an_augmented_model_saves_and_loads_back_with_identical_predictions(
    suffix: str, trained: TrainedModel, data: ImageDataset, tmp_path: Path
) -> None:
    path = tmp_path / f"augmented{suffix}"
    write(trained, path)
    loaded = node_of("neuroflow.learning.reader", path=str(path)).execute({}, learner_context())["model"]
    executor = node_of("neuroflow.learning.executor", batch_size=64)
    test = data.subset(np.arange(100))
    before = executor.execute({"model": trained, "images": test}, learner_context())["predictions"]
    after = executor.execute({"model": loaded, "images": test}, learner_context())["predictions"]
    np.testing.assert_allclose(before.probabilities, after.probabilities, rtol=0, atol=1e-6)
