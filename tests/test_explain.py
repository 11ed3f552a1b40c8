"""Grad-CAM, activation maps and the execution process's answers about a trained flagship.

The flagship trains once for the module on 2,000 MNIST digits (a few seconds), in this process:
these are the headless halves of what the Inference panel shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from neuroflow.core import fileformat  # noqa: E402
from neuroflow.core.data import ImageDataset, TrainedModel  # noqa: E402
from neuroflow.core.executor import Executor  # noqa: E402
from neuroflow.training import explain  # noqa: E402
from neuroflow.worker import inference  # noqa: E402

FLAGSHIP = Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow"


@pytest.fixture(scope="module")
def trained_flagship(tmp_path_factory: pytest.TempPathFactory):
    workflow = fileformat.load(FLAGSHIP)
    workflow.set_setting("train_reader", "limit", 2000)
    workflow.set_setting("test_reader", "limit", 200)
    workflow.set_setting("learner", "epochs", 2)
    workflow.set_setting("writer", "path", str(tmp_path_factory.mktemp("model") / "cnn.keras"))
    result = Executor(workflow).run(targets=["executor"])
    assert not result.failed, result.failed
    return workflow


def _model(workflow) -> TrainedModel:
    return workflow.nodes["learner"].outputs["model"]


def _test_images(workflow) -> ImageDataset:
    return workflow.nodes["test_norm"].outputs["data"]


def test_layers_with_maps_are_the_conv_and_pool(trained_flagship) -> None:
    model = _model(trained_flagship).model
    names = explain.spatial_layers(model)
    assert len(names) == 2  # conv (26x26x32) and pool (13x13x32); flatten and dense are not maps
    assert explain.conv_layers(model) == names[:1]
    assert explain.default_layer(model) == names[0]


def test_grad_cam_lies_over_the_digit(trained_flagship) -> None:
    model = _model(trained_flagship).model
    data = _test_images(trained_flagship)
    probabilities = np.asarray(model(data.images[:60], training=False))
    right = np.flatnonzero(probabilities.argmax(axis=1) == data.labels[:60])[:20]
    assert right.size >= 10
    border = np.ones((28, 28), bool)
    border[4:-4, 4:-4] = False  # MNIST's outer 4 pixels are nearly always empty
    on_digit, on_border, empty = [], [], 0
    for i in right:
        image = data.images[i]
        heat, index, layer = explain.grad_cam(model, image)
        assert heat.shape == (28, 28) and heat.dtype == np.float32
        assert 0.0 <= heat.min() and heat.max() <= 1.0
        assert index == data.labels[i] and layer == explain.default_layer(model)
        empty += heat.max() == 0  # no part of the layer speaks for the class: rare
        ink = image[..., 0] > 0.5
        on_digit.append(heat[ink].mean())
        on_border.append(heat[border & ~ink].mean())
    print(f"Grad-CAM on digit {np.mean(on_digit):.3f}, on border {np.mean(on_border):.3f}, empty {empty}/{right.size}")
    assert np.mean(on_digit) > np.mean(on_border)
    assert empty <= right.size // 2, f"{empty} of {right.size} maps are empty"


def test_activations_have_the_layers_output_shape(trained_flagship) -> None:
    model = _model(trained_flagship).model
    image = _test_images(trained_flagship).images[0]
    for name in explain.spatial_layers(model):
        maps = explain.activations(model, image, name)
        assert maps.shape == tuple(model.get_layer(name).output.shape[1:])
    with pytest.raises(ValueError, match="no 2-D feature maps"):
        explain.activations(model, image, model.layers[-1].name)


def test_worker_answers_scale_pixels_like_the_training_data(trained_flagship) -> None:
    data = _test_images(trained_flagship)
    description = inference.answer(trained_flagship, "learner", "describe", {})
    assert description["value_range"] == (0.0, 1.0)  # the Normalizer's 0..1, not the reader's 0..255
    assert description["input_shape"] == (28, 28, 1)
    raw = np.clip(data.images[:8] * 255 + 0.5, 0, 255).astype(np.uint8)  # as a PNG of the digit holds it
    answered = inference.answer(trained_flagship, "learner", "predict", {"images": raw})["probabilities"]
    direct = np.asarray(_model(trained_flagship).model(data.images[:8], training=False))
    np.testing.assert_allclose(answered, direct, atol=2e-3)
    # an executor's model is the learner's; an image the worker holds needs no pixels from the editor
    cam = inference.answer(trained_flagship, "executor", "gradcam",
                           {"key": ["test_norm", "data"], "index": 3})
    heat, _, _ = explain.grad_cam(_model(trained_flagship).model, data.images[3])
    np.testing.assert_allclose(cam["heat"], heat, atol=1e-5)
    many = inference.answer(trained_flagship, "executor", "gradcam_many",
                            {"key": ["executor", "predictions", "dataset"], "indices": [5, 3]})
    assert many["indices"] == [5, 3] and many["heats"].shape == (2, 28, 28)
    np.testing.assert_allclose(many["heats"][1], heat, atol=1e-5)  # a batch gives each image's own map
    with pytest.raises(LookupError, match="no results"):
        inference.answer(trained_flagship, "scorer", "predict", {"images": raw})


def test_a_read_model_is_fed_like_the_images_an_executor_gives_it(trained_flagship) -> None:
    """Runs last: it adds nodes to the module's workflow."""
    workflow = trained_flagship
    assert not Executor(workflow).run(targets=["writer"]).failed
    path = workflow.nodes["writer"].node["path"]
    workflow.add_node("neuroflow.learning.reader", node_id="read", settings={"path": path})
    assert not Executor(workflow).run(targets=["read"]).failed
    # alone, nothing says what the read model was trained on: the common 0..1
    assert inference.answer(workflow, "read", "describe", {})["value_range"] == inference.DEFAULT_RANGE
    workflow.add_node("neuroflow.learning.executor", node_id="read_executor")
    workflow.connect("read", "model", "read_executor", "model")
    workflow.connect("test_reader", "data", "read_executor", "images")  # raw 0..255 pixels this time
    assert not Executor(workflow).run(targets=["read_executor"]).failed
    assert inference.answer(workflow, "read", "describe", {})["value_range"] == (0.0, 255.0)
    raw = np.asarray(workflow.nodes["test_reader"].outputs["data"].images[:4])
    answered = inference.answer(workflow, "read", "predict", {"images": raw})["probabilities"]
    direct = np.asarray(workflow.nodes["read"].outputs["model"].model(raw.astype(np.float32), training=False))
    np.testing.assert_allclose(answered, direct, atol=2e-3)
