"""RunRecorder: a workflow's training events, sent through the real Executor, become runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import toy_nodes
from toy_nodes import toy_registry

from neuroflow.core.events import BatchEnded, EpochEnded, TrainingEnded, TrainingStarted
from neuroflow.core.executor import Executor
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType
from neuroflow.core.settings import IntSetting
from neuroflow.core.workflow import Workflow
from neuroflow.history import RunRecorder, open_store


class ToyTrainer(Node):
    """Sends the events a Learner sends, without TensorFlow: loss 1/epoch, stops when told."""

    type_id = "test.toy_trainer"
    name = "Toy trainer"
    category = "Test"
    description = "Pretends to train: emits the training events of a Learner."
    inputs = (Port("data", PortType.IMAGES),)
    settings_spec = (
        IntSetting("epochs", "Epochs", 3, minimum=1, maximum=100),
        IntSetting("seed", "Seed", 42, minimum=0, maximum=1000),
        IntSetting("stop_after_batches", "Stop after batches", 0, minimum=0, maximum=1000),
    )

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        epochs, batches, stop = self["epochs"], 4, self["stop_after_batches"]
        ctx.emit(TrainingStarted(ctx.node_id, epochs, batches, inputs["data"], devices="CPU"))
        done = 0
        for epoch in range(1, epochs + 1):
            for batch in range(1, batches + 1):
                if stop and done == stop:
                    ctx.emit(TrainingEnded(ctx.node_id, epoch - 1, "stopped by user during epoch"))
                    return {}
                ctx.emit(BatchEnded(ctx.node_id, epoch, batch, batches, {"loss": 1 / epoch + 1 / batch}))
                done += 1
            ctx.emit(EpochEnded(ctx.node_id, epoch, epochs, {"loss": 1 / epoch, "val_loss": 2 / epoch}))
        ctx.emit(TrainingEnded(ctx.node_id, epochs, "completed"))
        return {}


@pytest.fixture(autouse=True)
def _forget_toy_executions() -> Any:
    """The toy nodes log their executions in a module list; leave it as other tests expect it."""
    yield
    toy_nodes.EXECUTIONS.clear()


def workflow(**trainer: int) -> Workflow:
    registry = toy_registry()
    registry.register(ToyTrainer)
    flow = Workflow(registry)
    flow.add_node("test.source", node_id="src", settings={"count": 30})
    flow.add_node("test.double", node_id="twice")
    flow.add_node("test.toy_trainer", node_id="learner", settings={"seed": 7, **trainer})
    flow.add_node("test.source", node_id="unrelated", settings={"count": 5})
    flow.connect("src", "data", "twice", "data")
    flow.connect("twice", "data", "learner", "data")
    return flow


def test_a_training_becomes_a_finished_run_with_curves(tmp_path: Path) -> None:
    flow = workflow()
    with open_store(tmp_path / "w.runs.sqlite") as store:
        recorder = RunRecorder(store, flow, workflow_path="project/w.workflow")
        assert Executor(flow, recorder).run().ok
        assert recorder.problem is None
        (listed,) = store.list_runs()
        run = store.get_run(recorder.runs["learner"])
        assert listed.id == run.id and run.state == "finished" and run.stop_reason == "completed"
        assert (run.workflow, run.seed, run.devices) == ("project/w.workflow", 7, ["CPU"])
        assert run.duration is not None and run.duration >= 0
        # the learner and what it depends on, not the unrelated node
        assert sorted(run.settings) == ["learner", "src", "twice"]
        assert run.settings["src"] == {
            "type": "test.source", "version": 1, "settings": {"count": 30, "sleep": 0.0}, "title": "Source",
        }
        assert run.settings["learner"]["settings"]["epochs"] == 3
        assert run.curves == {
            "loss": [(1, 1.0), (2, 0.5), (3, 1 / 3)],
            "val_loss": [(1, 2.0), (2, 1.0), (3, 2 / 3)],
        }
        batches = store.batch_curves(run.id)["loss"]
        assert len(batches) == 12 and batches[0] == (1, 1, 2.0) and batches[-1] == (3, 4, 1 / 3 + 1 / 4)

        flow.set_setting("learner", "epochs", 2)  # a second run of the edited workflow
        Executor(flow, recorder).run()
        newest, oldest = store.list_runs()
        assert oldest.id == run.id and newest.id == recorder.runs["learner"] != run.id
        assert newest.settings["learner"]["settings"]["epochs"] == 2


def test_a_run_stopped_during_an_epoch_keeps_that_epochs_batches(tmp_path: Path) -> None:
    flow = workflow(stop_after_batches=6)  # all of epoch 1, half of epoch 2
    with open_store(tmp_path / "w.runs.sqlite") as store:
        recorder = RunRecorder(store, flow)
        Executor(flow, recorder).run()
        run = store.get_run(recorder.runs["learner"])
        assert run.stop_reason == "stopped by user during epoch" and run.workflow == ""
        assert run.curves == {"loss": [(1, 1.0)], "val_loss": [(1, 2.0)]}
        assert [(e, b) for e, b, _ in store.batch_curves(run.id)["loss"]] == [
            (1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)
        ]


def test_a_history_that_cannot_be_written_does_not_stop_training(tmp_path: Path) -> None:
    flow = workflow()
    store = open_store(tmp_path / "w.runs.sqlite")
    recorder = RunRecorder(store, flow)
    store.close()  # every write now fails
    result = Executor(flow, recorder).run()
    assert result.ok and result.executed.count("learner") == 1
    assert recorder.problem is not None and "w.runs.sqlite" in recorder.problem


@pytest.mark.slow
def test_a_real_learner_run_is_recorded(tmp_path: Path) -> None:
    """The recorder's reading of the events against the Network Learner itself (300 images)."""
    from test_learning_nodes import learning_workflow, read_mnist

    flow = learning_workflow(read_mnist("train", 300), learner={"epochs": 2, "batch_size": 50, "seed": 5})
    with open_store(tmp_path / "mlp.runs.sqlite") as store:
        recorder = RunRecorder(store, flow, workflow_path="mlp.workflow")
        assert Executor(flow, recorder).run().ok
        assert recorder.problem is None
        run = store.get_run(recorder.runs["learn"])
        assert run.state == "finished" and run.stop_reason == "completed" and run.seed == 5
        assert sorted(run.settings) == ["layer0", "layer1", "layer2", "layer3", "learn", "train"]
        assert run.settings["layer2"]["settings"]["units"] == 64 and run.devices
        assert run.curves is not None and [e for e, _ in run.curves["loss"]] == [1, 2]
        assert run.curves["loss"][1][1] < run.curves["loss"][0][1]  # it learned something
        assert len(store.batch_curves(run.id)["loss"]) == 2 * 6  # 300 images in batches of 50
        assert run.data_fingerprint is not None and run.data_fingerprint.startswith("training: 300 images, 10 classes")
