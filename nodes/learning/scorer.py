"""Scorer: accuracy, confusion matrix and per-class scores of a table of predictions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import Predictions
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType, PredictionsSpec, ScoresSpec, Spec


class ScorerNode(Node):
    type_id = "neuroflow.learning.scorer"
    category = "Learning"
    name = "Scorer"
    description = (
        "Compares predicted classes with the true labels. It reports accuracy and error rate, "
        "the confusion matrix (rows: true class, columns: predicted class), precision, recall "
        "and F1 for every class, and Cohen's kappa, which corrects accuracy for the agreement "
        "expected by chance. A class that is never predicted (or never present) scores 0 where "
        "a ratio is undefined."
    )
    keywords = ("accuracy", "confusion matrix", "precision", "recall", "f1", "kappa", "evaluate")
    inputs = (Port("predictions", PortType.PREDICTIONS, "predictions", help="From a Network Executor."),)
    outputs = (Port("scores", PortType.SCORES, "scores", help="Accuracy, confusion matrix and per-class scores."),)

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        predictions: PredictionsSpec = self.require(specs, "predictions", PredictionsSpec)
        return {"scores": ScoresSpec(predictions.class_names)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.scoring import score

        predictions: Predictions = inputs["predictions"]
        return {"scores": score(predictions.labels, predictions.predicted, predictions.class_names)}
