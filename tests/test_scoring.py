"""Scores for imbalanced classes: balanced accuracy, top-k accuracy, one-vs-rest ROC curves and AUC.

Small cases are computed by hand (ties, a class without images, a class with every image);
scikit-learn, when it happens to be installed, checks random cases; the Scorer node and the
command line's summary and JSON report show the new scores.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from neuroflow.core import fileformat
from neuroflow.core.data import ImageDataset, Predictions
from neuroflow.core.errors import DataError
from neuroflow.core.executor import Executor
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType, Spec
from neuroflow.core.workflow import Workflow
from neuroflow.reporting import build_report, print_summary
from neuroflow.training.scoring import MAX_ROC_POINTS, roc_counts, roc_curve, score, top_k_accuracy

ABC = ("a", "b", "c")


def softmax_predictions(
    count: int, classes: int, seed: int = 0, strength: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and softmax probabilities of a classifier that is right more often than chance."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count)
    logits = rng.normal(size=(count, classes))
    logits[np.arange(count), labels] += strength
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


def rank_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """AUC as the Mann-Whitney statistic (average ranks for ties): independent of the curve."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    values, inverse = np.unique(scores, return_inverse=True)
    mean_rank = np.bincount(inverse, weights=ranks) / np.bincount(inverse)
    ranks = mean_rank[inverse]
    p, n = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - p * (p + 1) / 2) / (p * n))


# -- balanced accuracy ----------------------------------------------------------------------------
def test_balanced_accuracy_is_the_mean_recall_of_the_classes_present() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 0, 1, 1, 0, 2])
    scores = score(labels, predicted, ABC)
    assert scores.accuracy == pytest.approx(5 / 7)
    assert scores.balanced_accuracy == pytest.approx((3 / 4 + 1 / 2 + 1) / 3)
    # "d" has no image (but is predicted once): it is left out, as scikit-learn does
    scores = score(np.array([0, 0, 1, 1]), np.array([0, 3, 1, 1]), ("a", "b", "c", "d"))
    assert scores.balanced_accuracy == pytest.approx((1 / 2 + 1) / 2)
    # a classifier that always says the majority class: high accuracy, chance balanced accuracy
    majority = score(np.array([0] * 9 + [1]), np.zeros(10, dtype=int), ("many", "few"))
    assert majority.accuracy == pytest.approx(0.9) and majority.balanced_accuracy == pytest.approx(0.5)


# -- top-k accuracy -------------------------------------------------------------------------------
def test_top_k_accuracy_by_hand_with_ties_in_class_order() -> None:
    probabilities = np.array(
        [
            [0.6, 0.3, 0.1],  # label 1: second
            [0.2, 0.3, 0.5],  # label 0: third
            [0.4, 0.4, 0.2],  # label 1: tied with class 0, which ranks first (as argmax does)
            [0.4, 0.4, 0.2],  # label 0: first
        ]
    )
    labels = np.array([1, 0, 1, 0])
    assert top_k_accuracy(labels, probabilities, 1) == pytest.approx(1 / 4)
    assert top_k_accuracy(labels, probabilities, 2) == pytest.approx(3 / 4)
    assert top_k_accuracy(labels, probabilities, 3) == pytest.approx(1.0)
    # top-1 accuracy is the accuracy of the predicted (first most probable) class
    scores = score(labels, probabilities.argmax(axis=1), ABC, probabilities, top_k=1)
    assert scores.top_k == 1 and scores.top_k_accuracy == pytest.approx(scores.accuracy)


def test_top_k_is_clipped_to_the_number_of_classes() -> None:
    labels, probabilities = softmax_predictions(50, 3)
    scores = score(labels, probabilities.argmax(axis=1), ABC, probabilities)  # the default k is 5
    assert scores.top_k == 3 and scores.top_k_accuracy == 1.0
    assert score(labels, probabilities.argmax(axis=1), ABC, probabilities, top_k=2).top_k == 2


def test_top_k_accuracy_in_chunks_matches_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.training import scoring

    labels, probabilities = softmax_predictions(1000, 10, seed=4)
    whole = top_k_accuracy(labels, probabilities, 3)
    monkeypatch.setattr(scoring, "TOP_K_CHUNK", 70)  # 7 rows at a time
    assert top_k_accuracy(labels, probabilities, 3) == whole
    in_top_3 = (np.argsort(-probabilities, axis=1)[:, :3] == labels[:, None]).any(axis=1)
    assert whole == pytest.approx(in_top_3.mean())


# -- ROC curves and AUC ---------------------------------------------------------------------------
def test_roc_curve_by_hand_with_a_tie_between_a_positive_and_a_negative() -> None:
    positive = np.array([True, False, True, False, True])
    scores = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    fps, tps, thresholds = roc_counts(positive, scores)
    # one point per distinct score: the tied pair at 0.8 enters together (a diagonal step)
    assert fps.tolist() == [0, 0, 1, 2, 2]
    assert tps.tolist() == [0, 1, 2, 2, 3]
    assert thresholds[0] == np.inf and thresholds[1:].tolist() == [0.9, 0.8, 0.3, 0.1]
    curve = roc_curve(positive, scores)
    assert curve is not None
    np.testing.assert_allclose(curve.fpr, [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(curve.tpr, [0, 1 / 3, 2 / 3, 2 / 3, 1])
    # 6 positive-negative pairs: 0.9 beats both, 0.8 ties one (1/2) and beats one, 0.1 beats none
    assert curve.auc == pytest.approx(3.5 / 6)
    assert curve.auc == pytest.approx(rank_auc(positive, scores))


def test_roc_curve_drops_collinear_points_but_keeps_the_exact_auc() -> None:
    positive = np.array([True, True, True, False, False])
    curve = roc_curve(positive, np.array([0.9, 0.8, 0.7, 0.2, 0.1]))
    assert curve is not None
    assert curve.fpr.tolist() == [0.0, 0.0, 1.0] and curve.tpr.tolist() == [0.0, 1.0, 1.0]
    assert curve.thresholds.tolist() == [np.inf, 0.7, 0.1]
    assert curve.auc == 1.0
    # all scores equal: one diagonal step, AUC one half
    flat = roc_curve(np.array([True, False, True, False]), np.full(4, 0.25))
    assert flat is not None and flat.fpr.tolist() == [0, 1] and flat.tpr.tolist() == [0, 1]
    assert flat.auc == 0.5
    # ranked the wrong way round
    worst = roc_curve(np.array([False, True]), np.array([0.9, 0.1]))
    assert worst is not None and worst.auc == 0.0


def test_a_class_without_positives_or_negatives_has_no_curve_and_no_nan() -> None:
    labels = np.array([0, 0, 1, 1, 0])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1]])
    scores = score(labels, probabilities.argmax(axis=1), ABC, probabilities)
    assert scores.roc[2] is None and scores.auc[2] is None
    # a: positives 0.8, 0.6, 0.2 against negatives 0.3, 0.5 -> 4 of 6 pairs
    assert scores.auc[0] == pytest.approx(4 / 6)
    # b: positives 0.6, 0.4 against 0.1, 0.3, 0.7 -> 2 + 2 of 6 pairs
    assert scores.auc[1] == pytest.approx(4 / 6)
    assert scores.macro_auc == pytest.approx(4 / 6) and scores.auc_classes == 2
    assert scores.roc_note(2) == "no ROC curve: no image of class 'c' was scored"
    assert scores.macro_auc_note() == "mean over 2 of 3 classes; 'c' without a ROC curve"
    report = scores.to_dict()
    assert "NaN" not in json.dumps(report) and "Infinity" not in json.dumps(report)
    assert report["macro_auc"] == pytest.approx(4 / 6, abs=1e-6) and report["macro_auc_classes"] == 2
    assert [row["auc"] for row in report["per_class"]] == [pytest.approx(4 / 6, abs=1e-6)] * 2 + [None]
    assert report["roc_curves"][2] == {
        "class": "c", "auc": None, "note": "no ROC curve: no image of class 'c' was scored"
    }

    only_a = score(np.zeros(4, dtype=int), np.zeros(4, dtype=int), ABC, np.tile([0.5, 0.3, 0.2], (4, 1)))
    assert only_a.roc == (None, None, None) and only_a.macro_auc is None
    assert only_a.roc_note(0) == "no ROC curve: every image scored is of class 'a'"
    assert only_a.to_dict()["macro_auc"] is None
    assert only_a.to_dict()["macro_auc_note"] == "no class has both images of it and images of other classes"


def test_100000_predictions_give_bounded_curves_with_exact_aucs() -> None:
    labels, probabilities = softmax_predictions(100_000, 10, seed=2, strength=2.5)
    probabilities = probabilities.astype(np.float32)  # as the Network Executor outputs them
    scores = score(labels, probabilities.argmax(axis=1), [str(i) for i in range(10)], probabilities)
    for k, curve in enumerate(scores.roc):
        assert curve is not None
        assert 3 <= len(curve.fpr) <= MAX_ROC_POINTS
        assert (curve.fpr[0], curve.tpr[0], curve.fpr[-1], curve.tpr[-1]) == (0, 0, 1, 1)
        assert np.all(np.diff(curve.fpr) >= 0) and np.all(np.diff(curve.tpr) >= 0)
        assert np.all(np.diff(curve.thresholds) < 0)  # falling thresholds, one per kept point
        assert curve.auc == pytest.approx(rank_auc(labels == k, probabilities[:, k]), abs=1e-12)
        # the thinned curve still draws the same area, within a hair
        drawn = float(np.sum(np.diff(curve.fpr) * (curve.tpr[1:] + curve.tpr[:-1]) / 2))
        assert drawn == pytest.approx(curve.auc, abs=2e-3)
    assert len(json.dumps(scores.to_dict())) < 150_000  # a report, not a data dump


def test_bad_probabilities_get_one_line() -> None:
    labels = np.array([0, 1])
    with pytest.raises(DataError, match=r"expected class probabilities of shape \(2, 3\) .* got \(2, 2\)"):
        score(labels, labels, ABC, np.full((2, 2), 0.5))
    nan = np.full((2, 3), 1 / 3)
    nan[1, 2] = np.nan
    with pytest.raises(DataError, match="probabilities of image 1 are not all finite numbers"):
        score(labels, labels, ABC, nan)


def test_scores_without_probabilities_report_no_ranking_scores() -> None:
    scores = score(np.array([0, 1, 2]), np.array([0, 1, 1]), ABC)
    assert scores.top_k == 0 and scores.top_k_accuracy is None and scores.roc == ()
    report = scores.to_dict()
    assert report["balanced_accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["top_k_accuracy"] is None and report["macro_auc"] is None and report["roc_curves"] == []
    assert report["macro_auc_note"] == "no class probabilities were scored"


# -- against scikit-learn, when it is installed ---------------------------------------------------
def test_agrees_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    for _ in range(200):  # binary cases with many ties
        n = int(rng.integers(2, 60))
        positive = rng.random(n) < rng.random()
        scores = rng.integers(0, int(rng.integers(1, 8)), n) / 7
        if positive.all() or not positive.any():
            assert roc_curve(positive, scores) is None
            continue
        fpr, tpr, thresholds = metrics.roc_curve(positive, scores, drop_intermediate=False)
        fps, tps, ours = roc_counts(positive, scores)
        np.testing.assert_allclose(fps / fps[-1], fpr)
        np.testing.assert_allclose(tps / tps[-1], tpr)
        np.testing.assert_allclose(ours[1:], thresholds[1:])
        curve = roc_curve(positive, scores)
        assert curve is not None
        assert curve.auc == pytest.approx(metrics.roc_auc_score(positive, scores), abs=1e-12)
        full = set(zip(fpr.round(12), tpr.round(12), strict=True))
        assert set(zip(curve.fpr.round(12), curve.tpr.round(12), strict=True)) <= full
    classes = [str(i) for i in range(7)]
    for seed in range(10):  # multi-class, continuous probabilities
        labels, probabilities = softmax_predictions(400, 7, seed=seed)
        predicted = probabilities.argmax(axis=1)
        ours = score(labels, predicted, classes, probabilities, top_k=3)
        assert ours.balanced_accuracy == pytest.approx(metrics.balanced_accuracy_score(labels, predicted))
        assert ours.top_k_accuracy == pytest.approx(
            metrics.top_k_accuracy_score(labels, probabilities, k=3, labels=range(7))
        )
        assert ours.macro_auc == pytest.approx(metrics.roc_auc_score(labels, probabilities, multi_class="ovr"))


# -- the Scorer node, the summary line and the report ---------------------------------------------
class PredictionsSource(Node):
    """Puts Predictions made in Python into a workflow (no type id: never saved)."""

    name = "In-memory predictions"
    outputs = (Port("predictions", PortType.PREDICTIONS, "predictions"),)

    def __init__(self, predictions: Predictions) -> None:
        super().__init__()
        self.predictions = predictions

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        return {"predictions": self.predictions.spec}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return {"predictions": self.predictions}


def scored_workflow(predictions: Predictions, top_k: int = 5) -> tuple[Workflow, Any]:
    workflow = Workflow()
    workflow.add_node(PredictionsSource(predictions), node_id="apply")
    workflow.add_node("neuroflow.learning.scorer", node_id="scorer", label="Scorer", settings={"top_k": top_k})
    workflow.connect("apply", "predictions", "scorer", "predictions")
    result = Executor(workflow).run()
    assert result.ok, result
    return workflow, result


def test_scorer_node_reports_the_new_scores_in_summary_and_report() -> None:
    names = ("cat", "dog", "fox", "owl")
    labels, probabilities = softmax_predictions(300, 4, seed=5)
    labels[labels == 3] = 2  # no owl in the test set
    images = np.zeros((300, 2, 2, 1), dtype=np.uint8)
    predictions = Predictions(probabilities, probabilities.argmax(axis=1), ImageDataset(images, labels, names))
    workflow, result = scored_workflow(predictions, top_k=2)
    scores = workflow.nodes["scorer"].outputs["scores"]  # type: ignore[index]
    assert scores.top_k == 2 and scores.auc_classes == 3 and scores.roc[3] is None

    out = io.StringIO()
    print_summary(workflow, result, out)
    line = next(text for text in out.getvalue().splitlines() if "balanced accuracy" in text)
    assert line == (
        f"  balanced accuracy {scores.balanced_accuracy:.4f}, top-2 accuracy {scores.top_k_accuracy:.4f}, "
        f"macro AUC {scores.macro_auc:.4f} (mean over 3 of 4 classes; 'owl' without a ROC curve)"
    )

    report = json.loads(json.dumps(build_report(workflow, result)))  # strict JSON: no NaN, no inf
    data = report["scores"]["scorer"]
    assert data["balanced_accuracy"] == round(scores.balanced_accuracy, 6)
    assert (data["top_k"], data["top_k_accuracy"]) == (2, round(scores.top_k_accuracy, 6))
    assert data["macro_auc"] == round(scores.macro_auc, 6)
    assert [row["auc"] for row in data["per_class"]] == [round(a, 6) for a in scores.auc[:3]] + [None]
    curves = data["roc_curves"]
    assert [curve["class"] for curve in curves] == list(names)
    assert curves[3] == {"class": "owl", "auc": None, "note": "no ROC curve: no image of class 'owl' was scored"}
    for curve, ours in zip(curves[:3], scores.roc[:3], strict=True):
        assert curve["fpr"] == [round(float(v), 6) for v in ours.fpr]
        assert curve["tpr"][0] == 0 and curve["tpr"][-1] == 1
        assert curve["thresholds"][0] is None  # the origin's threshold is above every score
        assert len(curve["fpr"]) == len(curve["tpr"]) == len(curve["thresholds"])


def test_summary_without_probabilities_keeps_to_balanced_accuracy() -> None:
    from neuroflow.reporting import ranking_line

    scores = score(np.array([0, 1, 1]), np.array([0, 1, 0]), ("x", "y"))
    assert ranking_line(scores) == "balanced accuracy 0.7500, macro AUC n/a (no class probabilities were scored)"


def test_scorer_settings_version_1_files_load_with_the_default_k(tmp_path: Any) -> None:
    from neuroflow.nodes.learning.scorer import ScorerNode

    assert ScorerNode.version == 2
    raw = {
        "format": "neuroflow.workflow",
        "format_version": 1,
        "nodes": [{"id": "scorer", "type": "neuroflow.learning.scorer", "version": 1, "label": "Scorer",
                   "settings": {}}],
        "connections": [],
        "layout": {},
    }
    path = tmp_path / "old.workflow"
    path.write_text(json.dumps(raw))
    workflow = fileformat.load(path)
    assert workflow.nodes["scorer"].node.settings == {"top_k": 5}
    saved = json.loads(fileformat.dumps(workflow))
    assert saved["nodes"][0]["version"] == 2 and saved["nodes"][0]["settings"] == {"top_k": 5}
