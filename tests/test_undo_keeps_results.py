"""A settings slip costs nothing: undoing it brings the trained model and its scores back.

The flagship trains headless, in process, on a few hundred images; the learner's epochs are
changed (which resets the learner, executor, scorer and writer) and changed back, as undo does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from neuroflow.core import fileformat
from neuroflow.core.events import NodeState
from neuroflow.core.executor import Executor

pytestmark = pytest.mark.slow

FLAGSHIP = Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow"
AFTER_LEARNER = ("learner", "executor", "scorer", "writer")


def test_undoing_an_epochs_change_restores_the_trained_model_and_scores(tmp_path: Path) -> None:
    workflow = fileformat.load(FLAGSHIP)
    workflow.set_setting("train_reader", "limit", 300)
    workflow.set_setting("test_reader", "limit", 200)
    workflow.set_setting("learner", "epochs", 1)
    workflow.set_setting("writer", "path", str(tmp_path / "model.keras"))
    first = Executor(workflow).run()
    assert first.ok, first
    before = {nid: (item.outputs, item.seconds) for nid, item in workflow.nodes.items()}

    workflow.set_setting("learner", "epochs", 2)
    for nid in AFTER_LEARNER:
        assert workflow.nodes[nid].state is NodeState.CONFIGURED and workflow.nodes[nid].outputs is None
    assert workflow.nodes["train_norm"].outputs is before["train_norm"][0]  # upstream untouched

    workflow.set_setting("learner", "epochs", 1)  # what undo does
    for nid in AFTER_LEARNER:
        item = workflow.nodes[nid]
        assert item.state is NodeState.EXECUTED, nid
        assert item.outputs is before[nid][0] and item.seconds == before[nid][1], nid
    assert workflow.nodes["scorer"].outputs["scores"].accuracy > 0.1

    again = Executor(workflow).run()
    assert again.ok and again.executed == []  # nothing trains twice
