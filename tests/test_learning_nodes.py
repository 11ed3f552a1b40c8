"""Learning nodes: Network Learner, Network Executor, Scorer, Network Writer and Network Reader.

Training runs on a few hundred bundled MNIST images (read straight from ``assets/mnist`` so the
tests do not depend on the data nodes) and takes seconds per test.
"""

from __future__ import annotations

import errno
import gzip
import json
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuroflow.core.data import ImageDataset, Predictions, TrainedModel
from neuroflow.core.errors import Cancelled, ConfigureError, DataError
from neuroflow.core.events import (
    BatchEnded,
    EpochEnded,
    NodeProgress,
    NodeState,
    NodeWarning,
    TrainingEnded,
    TrainingStarted,
)
from neuroflow.core.executor import Executor
from neuroflow.core.memory import InMemorySource
from neuroflow.core.node import CancelToken, ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, PredictionsSpec, ScoresSpec, Spec
from neuroflow.core.workflow import Workflow
from neuroflow.reporting import build_report
from neuroflow.training.compile import LOSSES, OPTIMIZERS
from neuroflow.training.scoring import score

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO / "assets" / "mnist"
DIGITS = tuple(str(d) for d in range(10))
LEARNER = "neuroflow.learning.learner"



# -- data and workflow helpers ------------------------------------------------------------------
def read_mnist(split: str, count: int, skip: int = 0) -> ImageDataset:
    """``count`` images after ``skip`` from the bundled IDX files, scaled to [0, 1] float32."""
    with gzip.open(MNIST / f"{split}-images-idx3-ubyte.gz") as handle:
        raw = handle.read(16 + (skip + count) * 784)
    with gzip.open(MNIST / f"{split}-labels-idx1-ubyte.gz") as handle:
        labels = handle.read(8 + skip + count)
    images = np.frombuffer(raw, np.uint8, offset=16 + skip * 784).reshape(count, 28, 28, 1)
    return ImageDataset(
        images.astype(np.float32) / 255.0,
        np.frombuffer(labels, np.uint8, offset=8 + skip).astype(np.int64),
        DIGITS,
        (0.0, 1.0),
        f"mnist {split}",
    )


@pytest.fixture(scope="module")
def train_set() -> ImageDataset:
    return read_mnist("train", 1000)


@pytest.fixture(scope="module")
def test_set() -> ImageDataset:
    return read_mnist("t10k", 300)


Layer = tuple[str, dict[str, Any]]
MLP: list[Layer] = [
    ("neuroflow.layers.input", {"shape": [28, 28, 1]}),
    ("neuroflow.layers.flatten", {}),
    ("neuroflow.layers.dense", {"units": 64, "activation": "relu"}),
    ("neuroflow.layers.dense", {"units": 10, "activation": "softmax"}),
]


def learning_workflow(
    train: ImageDataset,
    layers: list[Layer] = MLP,
    learner: Mapping[str, Any] | None = None,
    *,
    test: ImageDataset | None = None,
    validation: ImageDataset | None = None,
) -> Workflow:
    """layers -> learner(train[, validation]) [-> executor(test) -> scorer]."""
    workflow = Workflow()
    previous = None
    for index, (type_id, settings) in enumerate(layers):
        workflow.add_node(type_id, settings=settings, node_id=f"layer{index}")
        if previous:
            workflow.connect(previous, "network", f"layer{index}", "network")
        previous = f"layer{index}"
    workflow.add_node(InMemorySource(train), node_id="train")
    workflow.add_node(LEARNER, node_id="learn", settings=dict(learner or {}))
    workflow.connect(str(previous), "network", "learn", "network")
    workflow.connect("train", "data", "learn", "training")
    if validation is not None:
        workflow.add_node(InMemorySource(validation), node_id="val")
        workflow.connect("val", "data", "learn", "validation")
    if test is not None:
        workflow.add_node(InMemorySource(test), node_id="test")
        workflow.add_node("neuroflow.learning.executor", node_id="apply", settings={"batch_size": 64})
        workflow.add_node("neuroflow.learning.scorer", node_id="score")
        workflow.connect("learn", "model", "apply", "model")
        workflow.connect("test", "data", "apply", "images")
        workflow.connect("apply", "predictions", "score", "predictions")
    return workflow


def run(workflow: Workflow, token: CancelToken | None = None) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    result = Executor(workflow, listener=events.append).run(token=token)
    return result, events


def node_of(type_id: str, **settings: Any) -> Node:
    return Workflow().registry.get(type_id)(settings)  # type: ignore[misc]


def network_spec(layers: list[Layer]) -> Any:
    workflow = learning_workflow(read_mnist("t10k", 1), layers)
    return workflow.nodes[f"layer{len(layers) - 1}"].specs["network"]


@pytest.fixture(scope="module")
def trained(train_set: ImageDataset, test_set: ImageDataset) -> Workflow:
    """One trained MLP workflow shared by the executor, scorer and file tests."""
    workflow = learning_workflow(
        train_set, learner={"epochs": 3, "batch_size": 20, "seed": 3}, test=test_set
    )
    result, _ = run(workflow)
    assert result.ok, result
    return workflow


# -- Network Learner ------------------------------------------------------------------------------
def test_learner_reaches_accuracy_floor_on_tiny_mnist(trained: Workflow) -> None:
    scores = trained.nodes["score"].outputs["scores"]  # type: ignore[index]
    # 1000 training images, 3 epochs: typically ~0.87 on 300 unseen test images.
    assert scores.accuracy > 0.8, scores.accuracy
    model: TrainedModel = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    assert model.stop_reason == "completed"
    assert model.class_names == DIGITS
    assert model.spec == ModelSpec((28, 28, 1), (10,), DIGITS)
    assert sorted(model.history) == ["accuracy", "loss"]
    assert len(model.history["loss"]) == 3
    assert model.history["loss"][-1] < model.history["loss"][0]
    assert model.seconds > 0


def test_learner_output_spec_matches_the_trained_model(trained: Workflow) -> None:
    configured = trained.nodes["learn"].specs["model"]
    assert configured == trained.nodes["learn"].outputs["model"].spec  # type: ignore[index]


def test_training_events_arrive_in_order_with_plausible_values(train_set: ImageDataset) -> None:
    data = train_set.subset(np.arange(200))
    workflow = learning_workflow(data, learner={"epochs": 2, "batch_size": 50, "validation_split": 0.2})
    result, events = run(workflow)
    assert result.ok, result
    training = [e for e in events if isinstance(e, (TrainingStarted, BatchEnded, EpochEnded, TrainingEnded))]
    assert isinstance(training[0], TrainingStarted)
    assert (training[0].epochs, training[0].batches_per_epoch, training[0].samples) == (2, 4, 160)
    assert isinstance(training[-1], TrainingEnded)
    assert (training[-1].epochs_run, training[-1].reason) == (2, "completed")
    kinds = [type(e).__name__ for e in training[1:-1]]
    assert kinds == (["BatchEnded"] * 4 + ["EpochEnded"]) * 2
    batches = [e for e in training if isinstance(e, BatchEnded)]
    assert [(e.epoch, e.batch, e.batches) for e in batches] == [(ep, b, 4) for ep in (1, 2) for b in (1, 2, 3, 4)]
    for batch in batches:
        assert batch.node_id == "learn"
        assert set(batch.metrics) == {"loss", "accuracy"}
        assert 0 < batch.metrics["loss"] < 10 and 0 <= batch.metrics["accuracy"] <= 1
    epochs = [e for e in training if isinstance(e, EpochEnded)]
    assert [(e.epoch, e.epochs) for e in epochs] == [(1, 2), (2, 2)]
    for epoch in epochs:
        assert set(epoch.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert epoch.seconds > 0
    # the epoch's metrics are the running averages the last batch reported
    assert epochs[0].metrics["loss"] == pytest.approx(batches[3].metrics["loss"], rel=1e-5)
    model = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    assert model.history["val_loss"] == [e.metrics["val_loss"] for e in epochs]
    fractions = [float(e.fraction or 0) for e in events if isinstance(e, NodeProgress) and e.node_id == "learn"]
    assert fractions and all(0 < f <= 1 for f in fractions) and fractions == sorted(fractions)


def test_connected_validation_data_is_used_and_the_split_ignored(
    train_set: ImageDataset, test_set: ImageDataset
) -> None:
    validation = test_set.subset(np.arange(100))
    workflow = learning_workflow(
        train_set.subset(np.arange(200)), TINY, {"epochs": 1, "validation_split": 0.5}, validation=validation
    )
    result, events = run(workflow)
    assert result.ok, result
    assert [e.samples for e in events if isinstance(e, TrainingStarted)] == [200]
    assert "validation data is connected, so the validation split setting is ignored" in [
        e.message for e in events if isinstance(e, NodeWarning)
    ]
    model: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    predicted = model.model.predict(validation.images.reshape(100, 784), verbose=0).argmax(axis=1)
    assert model.history["val_accuracy"][0] == pytest.approx(float(np.mean(predicted == validation.labels)))


def learner_context(token: CancelToken | None = None, events: list[Any] | None = None) -> ExecutionContext:
    sink = events.append if events is not None else (lambda event: None)
    return ExecutionContext("learn", "Network Learner", token or CancelToken(), sink)


def train_directly(network: Any, data: ImageDataset, **settings: Any) -> TrainedModel:
    node = node_of(LEARNER, **settings)
    node.node_id = "learn"
    return node.execute({"network": network, "training": data, "validation": None}, learner_context())["model"]


def test_same_seed_gives_identical_weights_and_another_seed_does_not(train_set: ImageDataset) -> None:
    layers = MLP[:3] + [("neuroflow.layers.dropout", {"rate": 0.3})] + MLP[3:]
    network = network_spec(layers)
    data = train_set.subset(np.arange(300))
    settings = {"epochs": 1, "batch_size": 32, "seed": 7, "shuffle": True, "validation_split": 0.1}
    first = train_directly(network, data, **settings).model.get_weights()
    second = train_directly(network, data, **settings).model.get_weights()
    other = train_directly(network, data, **{**settings, "seed": 8}).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, c) for a, c in zip(first, other, strict=True))


def test_stop_keeps_the_model_trained_so_far(train_set: ImageDataset, test_set: ImageDataset) -> None:
    """Stopped during epoch 2: epoch 1 is recorded, the 5 batches of epoch 2 are not an epoch."""
    workflow = learning_workflow(train_set, learner={"epochs": 20, "batch_size": 10}, test=test_set)
    token = CancelToken()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (2, 5):
            token.request_stop()

    result = Executor(workflow, listener=listener).run(token=token)
    assert result.ok, result
    model: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    partial = "stopped by user during epoch 2, after 5 of 100 batches (not counted as an epoch)"
    assert model.stop_reason == partial
    assert {key: len(values) for key, values in model.history.items()} == {"loss": 1, "accuracy": 1}
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [1]
    assert [(e.epoch, e.batch) for e in events if isinstance(e, BatchEnded)][-1] == (2, 5)
    ended = [e for e in events if isinstance(e, TrainingEnded)]
    assert [(e.epochs_run, e.reason) for e in ended] == [(1, partial)]
    report = build_report(workflow, result)["training"]["learn"]
    assert (report["epochs_run"], report["stop_reason"], len(report["history"]["loss"])) == (1, partial, 1)
    # the partly trained model is a real model: the executor and scorer downstream ran on it
    assert workflow.nodes["score"].state is NodeState.EXECUTED
    assert workflow.nodes["apply"].outputs["predictions"].probabilities.shape == (300, 10)  # type: ignore[index]


def test_stop_in_the_first_epoch_records_no_epoch_and_skips_validation(train_set: ImageDataset) -> None:
    validation = train_set.subset(np.arange(500, 1000))
    workflow = learning_workflow(train_set.subset(np.arange(500)), learner={"epochs": 3, "batch_size": 10},
                                 validation=validation)
    token = CancelToken()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and event.batch == 3:
            token.request_stop()

    result = Executor(workflow, listener=listener).run(token=token)
    assert result.ok, result
    model: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    assert model.stop_reason == "stopped by user during epoch 1, after 3 of 50 batches (not counted as an epoch)"
    assert all(values == [] for values in model.history.values())
    assert not any(isinstance(e, EpochEnded) for e in events)
    assert [e.epochs_run for e in events if isinstance(e, TrainingEnded)] == [0]


def test_stop_at_the_end_of_an_epoch_counts_that_epoch(train_set: ImageDataset) -> None:
    workflow = learning_workflow(train_set.subset(np.arange(100)), learner={"epochs": 5, "batch_size": 10})
    token = CancelToken()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (2, 10):
            token.request_stop()

    result = Executor(workflow, listener=listener).run(token=token)
    assert result.ok, result
    model: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    assert model.stop_reason == "stopped by user"
    assert len(model.history["loss"]) == 2
    assert [e.epochs_run for e in events if isinstance(e, TrainingEnded)] == [2]


def test_cancel_during_an_epoch_counts_only_the_finished_ones(train_set: ImageDataset) -> None:
    workflow = learning_workflow(train_set.subset(np.arange(100)), learner={"epochs": 5, "batch_size": 10})
    token = CancelToken()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (2, 4):
            token.cancel()

    result = Executor(workflow, listener=listener).run(token=token)
    assert result.cancelled
    assert [(e.epochs_run, e.reason) for e in events if isinstance(e, TrainingEnded)] == [
        (1, "cancelled during epoch 2, after 4 of 10 batches")]


def test_cancel_takes_effect_quickly_and_the_workflow_runs_again(train_set: ImageDataset) -> None:
    workflow = learning_workflow(train_set, learner={"epochs": 50, "batch_size": 10})
    token = CancelToken()
    started = threading.Event()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and event.batch >= 3:
            started.set()

    outcome: dict[str, Any] = {}

    def execute() -> None:
        outcome["result"] = Executor(workflow, listener=listener).run(token=token)
        outcome["returned"] = time.perf_counter()

    thread = threading.Thread(target=execute)
    thread.start()
    assert started.wait(60), "training did not start"
    cancelled_at = time.perf_counter()
    token.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert outcome["returned"] - cancelled_at < 1.0
    result = outcome["result"]
    assert result.cancelled and not result.failed
    learn = workflow.nodes["learn"]
    assert learn.state is NodeState.CONFIGURED and learn.outputs is None
    assert not any(isinstance(e, EpochEnded) for e in events)
    assert [e.reason.partition(",")[0] for e in events if isinstance(e, TrainingEnded)] == [
        "cancelled during epoch 1"]

    workflow.set_setting("learn", "epochs", 1)
    again, _ = run(workflow)
    assert again.ok, again
    assert workflow.nodes["learn"].outputs["model"].stop_reason == "completed"  # type: ignore[index]


def test_cancel_before_fit_returns_raises_cancelled(train_set: ImageDataset) -> None:
    node = node_of(LEARNER, epochs=3)
    node.node_id = "learn"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        node.execute(
            {"network": network_spec(MLP), "training": train_set.subset(np.arange(50)), "validation": None},
            learner_context(token),
        )


TINY: list[Layer] = [("neuroflow.layers.input", {"shape": [784]}), ("neuroflow.layers.dense", {"units": 10, "activation": "softmax"})]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_builds_and_trains_one_step(optimizer: str, train_set: ImageDataset) -> None:
    data = train_set.subset(np.arange(64))
    model = train_directly(
        network_spec(TINY), data, optimizer=optimizer, learning_rate=0.01, momentum=0.5, epochs=1, batch_size=64
    )
    assert type(model.model.optimizer).__name__.lower() == optimizer
    assert int(model.model.optimizer.iterations) == 1
    assert float(model.model.optimizer.learning_rate) == pytest.approx(0.01)
    if optimizer == "sgd":
        assert float(model.model.optimizer.momentum) == pytest.approx(0.5)
    assert np.isfinite(model.history["loss"][0])


@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_trains_with_labels_encoded_for_it(loss: str, train_set: ImageDataset) -> None:
    data = train_set.subset(np.arange(200))
    layers = TINY if loss != "binary_crossentropy" else TINY[:1] + [("neuroflow.layers.dense", {"units": 10, "activation": "sigmoid"})]
    model = train_directly(network_spec(layers), data, loss=loss, epochs=3, batch_size=20, learning_rate=0.01)
    assert model.history["loss"][-1] < model.history["loss"][0]
    # accuracy counts images, not one-hot elements: a random 10-class model is far below 0.9
    assert model.history["accuracy"][0] < 0.9


def test_single_sigmoid_unit_learns_two_classes(train_set: ImageDataset, test_set: ImageDataset) -> None:
    def zeros_and_ones(data: ImageDataset) -> ImageDataset:
        keep = np.flatnonzero(data.labels < 2)
        return ImageDataset(data.images[keep], data.labels[keep], ("zero", "one"), (0.0, 1.0))

    layers = TINY[:1] + [("neuroflow.layers.dense", {"units": 1, "activation": "sigmoid"})]
    layers[0] = ("neuroflow.layers.input", {"shape": [28, 28, 1]})
    layers.insert(1, ("neuroflow.layers.flatten", {}))
    workflow = learning_workflow(
        zeros_and_ones(train_set), layers, {"loss": "binary_crossentropy", "epochs": 3, "batch_size": 16},
        test=zeros_and_ones(test_set),
    )
    result, _ = run(workflow)
    assert result.ok, result
    predictions = workflow.nodes["apply"].outputs["predictions"]  # type: ignore[index]
    assert predictions.probabilities.shape == (len(predictions.labels), 2)
    np.testing.assert_allclose(predictions.probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert workflow.nodes["score"].outputs["scores"].accuracy > 0.9  # type: ignore[index]

    workflow.set_setting("learn", "loss", "categorical_crossentropy")
    assert "needs the loss 'binary_crossentropy'" in workflow.configure()["learn"]


def test_flat_input_reshapes_images_and_warns(train_set: ImageDataset) -> None:
    workflow = learning_workflow(train_set.subset(np.arange(100)), TINY, {"epochs": 1})
    assert workflow.configure() == {}
    assert workflow.nodes["learn"].specs["model"] == ModelSpec((784,), (10,), DIGITS)
    result, events = run(workflow)
    assert result.ok, result
    warnings_ = [e.message for e in events if isinstance(e, NodeWarning)]
    assert warnings_ == [
        "the training data: images of shape 28x28x1 are reshaped to the network input shape 784 (same 784 values)"
    ]


def configure_learner(layers: list[Layer], data: DatasetSpec, validation: DatasetSpec | None = None, **settings: Any) -> dict[str, Spec]:
    return node_of(LEARNER, **settings).configure(
        {"network": network_spec(layers), "training": data, "validation": validation}
    )


MNIST_SPEC = DatasetSpec((28, 28, 1), DIGITS, 1000, (0.0, 1.0))


def test_configure_refuses_a_class_count_mismatch_with_a_clear_message(train_set: ImageDataset) -> None:
    layers = MLP[:3] + [("neuroflow.layers.dense", {"units": 12, "activation": "softmax"})]
    with pytest.raises(ConfigureError) as error:
        configure_learner(layers, MNIST_SPEC)
    assert str(error.value) == (
        "the network ends in 12 units but the training data has 10 classes; set the last Dense layer to 10 units"
    )
    workflow = learning_workflow(train_set, layers)
    assert workflow.first_problem() == f"'Network Learner' (learn): {error.value}"


def test_configure_refuses_an_input_shape_mismatch() -> None:
    layers = [("neuroflow.layers.input", {"shape": [32, 32, 3]})] + MLP[1:]
    with pytest.raises(ConfigureError) as error:
        configure_learner(layers, MNIST_SPEC)
    assert str(error.value) == (
        "the training data has images of shape 28x28x1 (784 values) but the network input expects "
        "32x32x3 (3,072 values); set the Input layer's shape to 28x28x1"
    )


def test_configure_refuses_other_impossible_combinations() -> None:
    with pytest.raises(ConfigureError, match=r"ends in shape \(28, 28, 1\); a classifier ends in a flat vector"):
        configure_learner(MLP[:1], MNIST_SPEC)
    with pytest.raises(ConfigureError, match="early stopping on 'val_accuracy' needs validation data"):
        configure_learner(MLP, MNIST_SPEC, early_stopping=True, monitor="val_accuracy")
    assert configure_learner(MLP, MNIST_SPEC, early_stopping=True, validation_split=0.2)
    assert configure_learner(MLP, MNIST_SPEC, validation=MNIST_SPEC, early_stopping=True)
    assert configure_learner(MLP, MNIST_SPEC, early_stopping=True, monitor="loss")
    letters = DatasetSpec((28, 28, 1), tuple("abcdefghij"), 10)
    with pytest.raises(ConfigureError, match=r"validation data has classes \(a, b, c, d, e, f, \.\.\.\) \[10\]"):
        configure_learner(MLP, MNIST_SPEC, validation=letters)
    two_inputs = [("neuroflow.layers.input", {"shape": [784]}), ("neuroflow.layers.input", {"shape": [784]})]
    workflow = Workflow()
    workflow.add_node(two_inputs[0][0], settings=two_inputs[0][1], node_id="a")
    workflow.add_node(two_inputs[1][0], settings=two_inputs[1][1], node_id="b")
    workflow.add_node("neuroflow.layers.add", node_id="add")
    add_inputs = [port.name for port in workflow.nodes["add"].node.inputs][:2]
    workflow.connect("a", "network", "add", add_inputs[0])
    workflow.connect("b", "network", "add", add_inputs[1])
    workflow.add_node("neuroflow.layers.dense", settings={"units": 10}, node_id="out")
    workflow.connect("add", "network", "out", "network")
    with pytest.raises(ConfigureError, match="the network has 2 Input layers"):
        node_of(LEARNER).configure(
            {"network": workflow.nodes["out"].specs["network"], "training": MNIST_SPEC, "validation": None}
        )


def test_early_stopping_ends_training_and_says_so(train_set: ImageDataset) -> None:
    data = train_set.subset(np.arange(300))
    # a learning rate this large makes the validation loss worse after the first epochs
    workflow = learning_workflow(
        data, learner={"epochs": 30, "batch_size": 30, "learning_rate": 0.5, "early_stopping": True,
                       "patience": 1, "validation_split": 0.2, "monitor": "val_loss"},
    )
    result, events = run(workflow)
    assert result.ok, result
    model: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    assert model.stop_reason == "early stopping"
    assert len(model.history["loss"]) < 30
    assert [e.reason for e in events if isinstance(e, TrainingEnded)] == ["early stopping"]


def test_learner_refuses_labels_outside_the_classes(train_set: ImageDataset) -> None:
    broken = ImageDataset(train_set.images[:20], np.full(20, 11), DIGITS, (0.0, 1.0))
    node = node_of(LEARNER, epochs=1)
    with pytest.raises(DataError, match="the training data has label 11 but only 10 classes"):
        node.execute({"network": network_spec(MLP), "training": broken, "validation": None}, learner_context())


# -- Network Executor -----------------------------------------------------------------------------
def test_executor_outputs_probabilities_for_every_image(trained: Workflow, test_set: ImageDataset) -> None:
    predictions: Predictions = trained.nodes["apply"].outputs["predictions"]  # type: ignore[index]
    assert predictions.probabilities.shape == (300, 10)
    assert predictions.probabilities.dtype == np.float32
    assert predictions.predicted.shape == (300,)
    np.testing.assert_allclose(predictions.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(predictions.predicted, predictions.probabilities.argmax(axis=1))
    assert predictions.dataset is test_set
    assert predictions.spec == trained.nodes["apply"].specs["predictions"]
    # batching (300 images in batches of 64) gives what one call on all images gives
    model = trained.nodes["learn"].outputs["model"].model  # type: ignore[index]
    np.testing.assert_allclose(predictions.probabilities, model.predict(test_set.images, verbose=0), atol=1e-5)


def test_executor_reports_progress_and_honours_cancel(trained: Workflow, test_set: ImageDataset) -> None:
    node = node_of("neuroflow.learning.executor", batch_size=100)
    model = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    events: list[Any] = []
    node.execute({"model": model, "images": test_set}, ExecutionContext("apply", "x", CancelToken(), events.append))
    fractions = [e.fraction for e in events if isinstance(e, NodeProgress)]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        node.execute({"model": model, "images": test_set}, ExecutionContext("apply", "x", token))


def test_executor_configure_checks_shapes_and_classes() -> None:
    node = node_of("neuroflow.learning.executor")
    model = ModelSpec((784,), (10,), DIGITS)
    assert node.configure({"model": model, "images": MNIST_SPEC}) == {"predictions": PredictionsSpec(DIGITS, 1000)}
    with pytest.raises(ConfigureError, match="images of shape 32x32x3 .* network input expects 784"):
        node.configure({"model": model, "images": DatasetSpec((32, 32, 3), DIGITS)})
    with pytest.raises(ConfigureError, match="the model predicts 10 classes but the images have 3 classes"):
        node.configure({"model": model, "images": DatasetSpec((28, 28, 1), ("a", "b", "c"))})


def test_executor_turns_scores_into_probabilities_and_warns(train_set: ImageDataset, test_set: ImageDataset) -> None:
    linear = MLP[:3] + [("neuroflow.layers.dense", {"units": 10, "activation": "linear"})]
    workflow = learning_workflow(
        train_set.subset(np.arange(100)), linear, {"loss": "mean_squared_error", "epochs": 1}, test=test_set
    )
    result, events = run(workflow)
    assert result.ok, result
    predictions = workflow.nodes["apply"].outputs["predictions"]  # type: ignore[index]
    np.testing.assert_allclose(predictions.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert any("not probabilities" in e.message for e in events if isinstance(e, NodeWarning) and e.node_id == "apply")


# -- Scorer ---------------------------------------------------------------------------------------
def test_scorer_matches_hand_computed_values() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 2, 2, 2, 0, 2])
    dataset = ImageDataset(np.zeros((10, 2, 2, 1), np.float32), labels, ("a", "b", "c", "d"))
    probabilities = np.eye(4, dtype=np.float32)[predicted]
    node = node_of("neuroflow.learning.scorer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # class "d" is never present nor predicted: no 0/0 warnings
        scores = node.execute({"predictions": Predictions(probabilities, predicted, dataset)}, learner_context())["scores"]
    assert scores.confusion.tolist() == [[1, 2, 0, 0], [0, 1, 1, 0], [1, 0, 4, 0], [0, 0, 0, 0]]
    assert scores.accuracy == pytest.approx(0.6)
    assert scores.error_rate == pytest.approx(0.4)
    np.testing.assert_allclose(scores.precision, [1 / 2, 1 / 3, 4 / 5, 0])
    np.testing.assert_allclose(scores.recall, [1 / 3, 1 / 2, 4 / 5, 0])
    np.testing.assert_allclose(scores.f1, [0.4, 0.4, 0.8, 0])
    # p_o = 0.6, p_e = (3*2 + 2*3 + 5*5) / 100 = 0.37
    assert scores.cohen_kappa == pytest.approx((0.6 - 0.37) / (1 - 0.37))
    assert scores.count == 10 and scores.class_names == ("a", "b", "c", "d")
    spec = Predictions(probabilities, predicted, dataset).spec
    assert node.configure({"predictions": spec}) == {"scores": ScoresSpec(("a", "b", "c", "d"))}
    # imbalanced-class scores: "d" has no image, so no recall to average and no ROC curve
    assert scores.balanced_accuracy == pytest.approx((1 / 3 + 1 / 2 + 4 / 5) / 3)
    assert (scores.top_k, scores.top_k_accuracy) == (4, 1.0)  # k = 5 clipped to the 4 classes
    # AUC over positive-negative pairs, a tie counting one half: a 12.5 of 21, b 10 of 16, c 20 of 25
    assert scores.auc[:3] == pytest.approx([12.5 / 21, 10 / 16, 20 / 25]) and scores.auc[3] is None
    assert scores.macro_auc == pytest.approx((12.5 / 21 + 10 / 16 + 20 / 25) / 3)
    # top-2 with one-hot probabilities: the true class ranks after the predicted one and after
    # the zero-probability classes before it, so images 1 and 2 count and images 4 and 8 do not
    top_2 = node_of("neuroflow.learning.scorer", top_k=2).execute(
        {"predictions": Predictions(probabilities, predicted, dataset)}, learner_context()
    )["scores"]
    assert (top_2.top_k, top_2.top_k_accuracy) == (2, pytest.approx(0.8))


def test_scorer_edge_cases() -> None:
    perfect = score(np.array([1, 1, 1]), np.array([1, 1, 1]), ("x", "y"))
    assert (perfect.accuracy, perfect.cohen_kappa) == (1.0, 1.0)
    assert perfect.precision.tolist() == [0.0, 1.0] and perfect.f1.tolist() == [0.0, 1.0]
    chance = score(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), ("x", "y"))
    assert chance.cohen_kappa == pytest.approx(0.0)
    with pytest.raises(DataError, match="no predictions to score"):
        score(np.zeros(0, np.int64), np.zeros(0, np.int64), ("x", "y"))
    with pytest.raises(DataError, match="label 5 is outside the 2 classes"):
        score(np.array([5]), np.array([0]), ("x", "y"))


def test_scorer_agrees_with_the_trained_workflow(trained: Workflow) -> None:
    predictions = trained.nodes["apply"].outputs["predictions"]  # type: ignore[index]
    scores = trained.nodes["score"].outputs["scores"]  # type: ignore[index]
    assert scores.accuracy == pytest.approx(float(np.mean(predictions.predicted == predictions.labels)))
    assert scores.confusion.sum() == 300
    assert scores.confusion.sum(axis=1).tolist() == np.bincount(predictions.labels, minlength=10).tolist()
    # a trained network ranks far better than chance, and its top-5 contains the top-1
    assert scores.top_k == 5 and scores.top_k_accuracy >= scores.accuracy
    assert scores.macro_auc > 0.9 and scores.auc_classes == 10


# -- Network Writer and Reader --------------------------------------------------------------------
def renamed(model: TrainedModel, names: tuple[str, ...]) -> TrainedModel:
    return TrainedModel(model.model, names, model.history, model.stop_reason, model.seconds)


def write(model: TrainedModel, path: Path, **settings: Any) -> None:
    node = node_of("neuroflow.learning.writer", path=str(path), **settings)
    assert node.configure({"model": model.spec}) == {}
    node.execute({"model": model}, learner_context())


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_writer_and_reader_round_trip(suffix: str, trained: Workflow, test_set: ImageDataset, tmp_path: Path) -> None:
    names = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    original = renamed(trained.nodes["learn"].outputs["model"], names)  # type: ignore[index]
    path = tmp_path / f"digits{suffix}"
    write(original, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind

    reader = node_of("neuroflow.learning.reader", path=str(path))
    spec = reader.configure({})["model"]
    assert spec == ModelSpec((28, 28, 1), (10,), names)
    loaded: TrainedModel = reader.execute({}, learner_context())["model"]
    assert loaded.class_names == names
    assert loaded.spec == spec
    assert loaded.history == original.history and loaded.stop_reason == "completed"

    executor = node_of("neuroflow.learning.executor", batch_size=64)
    before = executor.execute({"model": original, "images": test_set}, learner_context())["predictions"]
    after = executor.execute({"model": loaded, "images": test_set}, learner_context())["predictions"]
    assert np.array_equal(before.predicted, after.predicted)
    np.testing.assert_allclose(before.probabilities, after.probabilities, rtol=0, atol=1e-6)


def test_reader_configure_reads_the_spec_without_tensorflow(trained: Workflow, tmp_path: Path) -> None:
    model = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    for suffix in (".keras", ".h5"):
        write(model, tmp_path / f"m{suffix}")
    script = textwrap.dedent(
        """
        import sys
        from neuroflow.core.registry import default_registry
        reader = default_registry().get("neuroflow.learning.reader")
        for name in ("m.keras", "m.h5"):
            spec = reader({"path": name}).configure({})["model"]
            assert spec.input_shape == (28, 28, 1) and spec.output_shape == (10,), spec
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_reader_opens_models_saved_by_plain_keras(suffix: str, tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dropout(0.1)(keras.layers.Softmax()(hidden)))
    path = tmp_path / f"plain{suffix}"
    model.save(path)
    reader = node_of("neuroflow.learning.reader", path=str(path))
    assert reader.configure({})["model"] == ModelSpec((8, 8, 1), (3,), ("0", "1", "2"))
    loaded = reader.execute({}, learner_context())["model"]
    assert loaded.class_names == ("0", "1", "2") and loaded.stop_reason == "loaded from file"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_reader_refuses_python_code_before_keras_sees_it(suffix: str, tmp_path: Path) -> None:
    import keras

    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2, name="twice"), keras.layers.Dense(2, activation="softmax")]
    )
    path = tmp_path / f"lambda{suffix}"
    model.save(path)
    reader = node_of("neuroflow.learning.reader", path=str(path))
    message = (f"'{path}' contains Python code (Lambda layer 'twice'), which would run when the model is "
               "loaded; NeuroFlow refuses such model files")
    with pytest.raises(DataError) as configuring:
        reader.configure({})
    assert str(configuring.value) == message
    with pytest.raises(DataError) as executing:
        reader.execute({}, learner_context())
    assert str(executing.value) == message


def test_reader_reports_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="model file '.*nothing.keras' does not exist"):
        node_of("neuroflow.learning.reader", path=str(tmp_path / "nothing.keras")).configure({})
    (tmp_path / "broken.keras").write_bytes(b"not a zip archive")
    with pytest.raises(DataError, match=r"is not a readable Keras \(.keras\) model file"):
        node_of("neuroflow.learning.reader", path=str(tmp_path / "broken.keras")).configure({})
    with pytest.raises(ConfigureError, match="cannot tell the model format from the file name 'model.bin'"):
        node_of("neuroflow.learning.reader", path=str(tmp_path / "model.bin")).configure({})
    with pytest.raises(ConfigureError, match="no file set"):
        node_of("neuroflow.learning.reader").configure({})


def test_writer_refuses_a_missing_folder_and_a_format_mismatch(trained: Workflow, tmp_path: Path) -> None:
    model = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    missing = tmp_path / "no such folder" / "m.keras"
    writer = node_of("neuroflow.learning.writer", path=str(missing), create_folders=False)
    assert writer.configure({"model": model.spec}) == {}  # the folder may be created before running
    with pytest.raises(DataError, match="cannot save the model to '.*m.keras': the folder '.*no such folder' does not exist"):
        writer.execute({"model": model}, learner_context())
    assert list(tmp_path.iterdir()) == []
    creating = node_of("neuroflow.learning.writer", path=str(missing))
    creating.execute({"model": model}, learner_context())
    assert missing.is_file()
    missing.unlink()
    missing.parent.rmdir()
    mismatch = node_of("neuroflow.learning.writer", path=str(tmp_path / "m.keras"), format="h5")
    with pytest.raises(ConfigureError, match="format 'h5' does not match the file name 'm.keras'"):
        mismatch.configure({"model": model.spec})
    assert list(tmp_path.iterdir()) == []


def test_writer_keeps_an_existing_file_unless_overwrite_is_on(trained: Workflow, tmp_path: Path) -> None:
    model = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    path = tmp_path / "m.keras"
    path.write_bytes(b"precious")
    with pytest.raises(DataError, match="already exists; turn on 'overwrite'"):
        write(model, path)
    assert path.read_bytes() == b"precious"
    write(model, path, overwrite=True)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("neuroflow.json"))["class_names"] == list(DIGITS)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_writer_leaves_an_existing_file_intact_when_saving_fails(
    suffix: str, trained: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = trained.nodes["learn"].outputs["model"]  # type: ignore[index]
    path = tmp_path / f"m{suffix}"
    path.write_bytes(b"the previous model")

    def failing_save(target: str, *args: Any, **kwargs: Any) -> None:
        Path(target).write_bytes(b"half a mod")  # a crash in the middle of writing
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model.model, "save", failing_save)
    with pytest.raises(DataError, match=f"could not save the model to '.*m{suffix}': the disk is full$"):
        write(model, path, overwrite=True)
    assert path.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
