"""A network with blocks trains exactly as the same network expanded (same seed, MNIST sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuroflow.core import fileformat
from neuroflow.core.block_edits import collapse
from neuroflow.core.executor import Executor
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def sample_flagship() -> Workflow:
    workflow = fileformat.load(FLAGSHIP)
    workflow.set_setting("train_reader", "limit", 400)
    workflow.set_setting("test_reader", "limit", 300)
    workflow.set_setting("learner", "epochs", 1)
    workflow.remove_node("writer")
    return workflow


def train(workflow: Workflow) -> tuple[float, Any]:
    result = Executor(workflow).run()
    assert result.ok, (result.failed, result.not_configured)
    scores = workflow.nodes["scorer"].outputs["scores"]
    model = workflow.nodes["learner"].outputs["model"].model
    return scores.accuracy, model


def test_a_network_with_blocks_trains_to_the_same_accuracy_as_expanded(tmp_path: Path) -> None:
    expanded = sample_flagship()
    blocked = sample_flagship()
    collapse(blocked, ["conv", "pool"], label="Features")
    collapse(blocked, ["dense", "output"], label="Classifier")
    # through the file, as the editor's execution process receives it
    path = tmp_path / "blocks.workflow"
    fileformat.save(blocked, path)
    blocked = fileformat.load(path)

    accuracy_a, model_a = train(expanded)
    accuracy_b, model_b = train(blocked)

    assert [type(layer).__name__ for layer in model_a.layers] == [type(layer).__name__ for layer in model_b.layers]
    assert [layer.count_params() for layer in model_a.layers] == [layer.count_params() for layer in model_b.layers]
    assert model_a.count_params() == model_b.count_params() == 542_230
    assert 0.5 < accuracy_a  # it learnt something, so equal accuracies mean something
    assert accuracy_b == accuracy_a
    print(f"accuracy expanded {accuracy_a:.4f}, with blocks {accuracy_b:.4f}")
    for weights_a, weights_b in zip(model_a.get_weights(), model_b.get_weights(), strict=True):
        np.testing.assert_allclose(weights_a, weights_b, rtol=1e-5, atol=1e-6)
