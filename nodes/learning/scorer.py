"""Scorer: accuracy, confusion matrix, per-class and ranking scores of a table of predictions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import Predictions
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType, PredictionsSpec, ScoresSpec, Spec
from neuroflow.core.settings import IntSetting


class ScorerNode(Node):
    type_id = "neuroflow.learning.scorer"
    #: 2: the top-k setting (version 1 files get its default, 5).
    version = 2
    category = "Learning"
    name = "Scorer"
    description = (
        "Compares predicted classes with the true labels. It reports accuracy and error rate, "
        "balanced accuracy (the mean recall of the classes, fair to rare classes), the confusion "
        "matrix (rows: true class, columns: predicted class), precision, recall and F1 for every "
        "class, and Cohen's kappa, which corrects accuracy for the agreement expected by chance. "
        "From the class probabilities it adds the top-k accuracy (the true class among the k most "
        "probable) and a one-vs-rest ROC curve with its AUC for every class, and their mean (macro "
        "AUC). A class that is never predicted (or never present) scores 0 where a ratio is "
        "undefined, and has no ROC curve without images of it and of other classes."
    )
    keywords = ("accuracy", "confusion matrix", "precision", "recall", "f1", "kappa", "evaluate",
                "balanced accuracy", "top-k", "roc", "auc", "imbalanced")
    inputs = (Port("predictions", PortType.PREDICTIONS, "predictions", help="From a Network Executor."),)
    outputs = (Port("scores", PortType.SCORES, "scores",
                    help="Accuracy, confusion matrix, per-class scores and ROC curves."),)
    settings_spec = (
        IntSetting("top_k", "Top-k", 5, minimum=1, maximum=100_000,
                   help="k of the top-k accuracy: an image counts as right when its true class is "
                        "among the k most probable. At most the number of classes."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        predictions: PredictionsSpec = self.require(specs, "predictions", PredictionsSpec)
        return {"scores": ScoresSpec(predictions.class_names)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.scoring import score

        predictions: Predictions = inputs["predictions"]
        scores = score(
            predictions.labels,
            predictions.predicted,
            predictions.class_names,
            probabilities=predictions.probabilities,
            top_k=self["top_k"],
        )
        return {"scores": scores}
