"""Classification scores from true and predicted labels, in plain numpy.

Definitions (K classes, confusion ``C[i, j]`` = images of true class i predicted as j):

* accuracy = trace(C) / N, error rate = 1 - accuracy;
* precision_k = C[k, k] / column k sum, recall_k = C[k, k] / row k sum,
  F1_k = 2 p r / (p + r) - each 0 where its denominator is 0 (no warnings, no NaN);
* Cohen's kappa = (p_o - p_e) / (1 - p_e) with p_o = accuracy and
  p_e = sum_k row_k * col_k / N^2; when p_e = 1 (every label and every prediction is the same
  single class) the agreement is perfect and kappa is 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroflow.core.data import Scores
from neuroflow.core.errors import DataError


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, class_count: int) -> np.ndarray:
    """``(K, K)`` int64 counts; rows are true classes, columns predicted classes."""
    labels = np.asarray(labels, dtype=np.int64).ravel()
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    if labels.shape != predicted.shape:
        raise DataError(f"{len(labels)} labels but {len(predicted)} predictions")
    for what, values in (("label", labels), ("predicted class", predicted)):
        if values.size and (values.min() < 0 or values.max() >= class_count):
            bad = int(values.min()) if values.min() < 0 else int(values.max())
            raise DataError(f"{what} {bad} is outside the {class_count} classes (0 to {class_count - 1})")
    flat = np.bincount(labels * class_count + predicted, minlength=class_count * class_count)
    return flat.reshape(class_count, class_count)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def score(labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]) -> Scores:
    """All scores of :class:`~neuroflow.core.data.Scores`; refuses an empty set of predictions."""
    class_count = len(class_names)
    confusion = confusion_matrix(labels, predicted, class_count)
    total = int(confusion.sum())
    if total == 0:
        raise DataError("there are no predictions to score (the dataset is empty)")
    correct = np.diag(confusion).astype(np.float64)
    true_counts = confusion.sum(axis=1).astype(np.float64)
    predicted_counts = confusion.sum(axis=0).astype(np.float64)
    accuracy = float(correct.sum() / total)
    precision = _ratio(correct, predicted_counts)
    recall = _ratio(correct, true_counts)
    f1 = _ratio(2 * precision * recall, precision + recall)
    expected = float((true_counts * predicted_counts).sum() / (total * total))
    kappa = 1.0 if expected >= 1.0 else (accuracy - expected) / (1.0 - expected)
    return Scores(
        class_names=tuple(class_names),
        confusion=confusion,
        accuracy=accuracy,
        error_rate=1.0 - accuracy,
        cohen_kappa=float(kappa),
        precision=precision,
        recall=recall,
        f1=f1,
    )
