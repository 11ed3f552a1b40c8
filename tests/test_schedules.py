"""The Network Learner's learning-rate schedules: what rate each epoch trains with, and old files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_learning_nodes import (
    MLP,
    MNIST_SPEC,
    configure_learner,
    learning_workflow,
    read_mnist,
    run,
)

from neuroflow.core import fileformat
from neuroflow.core.data import ImageDataset, TrainedModel
from neuroflow.core.errors import ConfigureError
from neuroflow.core.events import EpochEnded

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data() -> ImageDataset:
    return read_mnist("train", 300)


def train(data: ImageDataset, **learner: Any) -> tuple[TrainedModel, list[Any]]:
    workflow = learning_workflow(data, learner={"batch_size": 50, **learner})
    result, events = run(workflow)
    assert result.ok, result
    return workflow.nodes["learn"].outputs["model"], events  # type: ignore[return-value]


def test_step_decay_multiplies_the_rate_every_n_epochs_and_reports_it(data: ImageDataset) -> None:
    model, events = train(data, epochs=5, learning_rate=0.01, lr_schedule="step", lr_factor=0.5, lr_every=2)
    assert model.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])
    reported = [e.metrics["learning_rate"] for e in events if isinstance(e, EpochEnded)]
    assert reported == pytest.approx(model.history["learning_rate"])


def test_step_decay_stops_at_the_minimum(data: ImageDataset) -> None:
    model, _ = train(data, epochs=4, learning_rate=0.01, lr_schedule="step", lr_factor=0.1, lr_every=1,
                     min_learning_rate=0.0005)
    assert model.history["learning_rate"] == pytest.approx([0.01, 0.001, 0.0005, 0.0005])


def test_cosine_decay_falls_smoothly_from_the_rate_to_the_minimum(data: ImageDataset) -> None:
    model, _ = train(data, epochs=4, learning_rate=0.01, lr_schedule="cosine", min_learning_rate=0.001)
    rates = model.history["learning_rate"]
    # six batches per epoch: epoch e starts at batch 6e of 24
    expected = [0.001 + 0.009 * 0.5 * (1 + math.cos(math.pi * 6 * e / 24)) for e in range(4)]
    assert rates == pytest.approx(expected, rel=1e-4)
    final = float(model.model.optimizer.learning_rate)
    assert final == pytest.approx(0.001, rel=1e-3)


def test_reduce_on_plateau_lowers_the_rate_when_the_validation_loss_stalls(data: ImageDataset) -> None:
    # a learning rate this large makes the validation loss worse after the first epochs
    model, _ = train(data, epochs=8, learning_rate=0.5, validation_split=0.2, batch_size=30,
                     lr_schedule="plateau", lr_factor=0.1, lr_patience=0)
    rates = model.history["learning_rate"]
    assert rates[0] == pytest.approx(0.5)
    assert min(rates) < 0.5, "the validation loss rose, so the rate must have been reduced"
    for before, after in zip(rates, rates[1:], strict=False):
        assert after == pytest.approx(before) or after == pytest.approx(before * 0.1)
    losses = model.history["val_loss"]
    for epoch in range(1, len(rates)):
        improved = losses[epoch - 1] < min(losses[: epoch - 1], default=np.inf)
        assert (rates[epoch] == pytest.approx(rates[epoch - 1])) == improved, (epoch, losses, rates)


def test_a_constant_rate_adds_nothing_to_the_history(data: ImageDataset) -> None:
    model, _ = train(data, epochs=1)
    assert "learning_rate" not in model.history


def test_a_minimum_above_the_rate_is_refused_with_both_values() -> None:
    with pytest.raises(ConfigureError, match=r"minimum learning rate \(0\.01\) is above the learning rate \(0\.001\)"):
        configure_learner(MLP, MNIST_SPEC, learning_rate=0.001, lr_schedule="cosine", min_learning_rate=0.01)
    assert configure_learner(MLP, MNIST_SPEC, learning_rate=0.001, min_learning_rate=0.01)  # constant: unused


def test_a_learner_saved_before_schedules_existed_loads_with_a_constant_rate(tmp_path: Path) -> None:
    raw = json.loads((REPO / "workflows" / "mnist_cnn.workflow").read_text())
    learner = next(node for node in raw["nodes"] if node["id"] == "learner")
    learner["version"] = 1
    for name in ("lr_schedule", "lr_factor", "lr_every", "lr_patience", "min_learning_rate"):
        learner["settings"].pop(name, None)
    old = tmp_path / "old.workflow"
    old.write_text(json.dumps(raw))
    workflow = fileformat.load(old)
    node = workflow.nodes["learner"].node
    assert node["lr_schedule"] == "constant" and node["learning_rate"] == learner["settings"]["learning_rate"]
    fileformat.save(workflow, tmp_path / "new.workflow")
    saved = json.loads((tmp_path / "new.workflow").read_text())
    assert next(n for n in saved["nodes"] if n["id"] == "learner")["version"] == type(node).version


def test_the_command_line_shows_each_epochs_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from neuroflow.cli import main

    code = main([
        "run", str(REPO / "workflows" / "mnist_cnn.workflow"),
        "--set", "train_reader.limit=300", "--set", "test_reader.limit=100", "--set", "learner.epochs=2",
        "--set", "learner.lr_schedule=step", "--set", "learner.lr_every=1",
        "--set", f"writer.path={tmp_path / 'm.keras'}",
    ])
    captured = capsys.readouterr()
    out = captured.out + captured.err  # progress goes to stderr
    assert code == 0
    assert "learning_rate 0.001\n" in out and "learning_rate 0.0005\n" in out
