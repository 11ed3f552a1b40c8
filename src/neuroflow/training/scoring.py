"""Classification scores from true and predicted labels, in plain numpy.

Definitions (K classes, confusion ``C[i, j]`` = images of true class i predicted as j):

* accuracy = trace(C) / N, error rate = 1 - accuracy;
* precision_k = C[k, k] / column k sum, recall_k = C[k, k] / row k sum,
  F1_k = 2 p r / (p + r) - each 0 where its denominator is 0 (no warnings, no NaN);
* Cohen's kappa = (p_o - p_e) / (1 - p_e) with p_o = accuracy and
  p_e = sum_k row_k * col_k / N^2; when p_e = 1 (every label and every prediction is the same
  single class) the agreement is perfect and kappa is 1;
* balanced accuracy = mean recall over the classes that have images (see ``Scores``).

From the class probabilities ``P`` (N x K):

* top-k accuracy = share of images whose true class is among the k most probable. Classes of
  equal probability rank in class order, as the predicted class (the first most probable)
  does, so top-1 accuracy equals accuracy;
* one-vs-rest ROC curve of class k: the images ordered by ``P[:, k]``, one point per distinct
  probability (tied images enter together, a diagonal step), starting at (0, 0) - scikit-learn's
  ``roc_curve`` rule. AUC is the trapezoid area under it, so a tie between a positive and a
  negative counts one half (scikit-learn's ``roc_auc_score``). A class with no image, or with
  every image, has no curve; the macro AUC averages the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroflow.core.data import RocCurve, Scores
from neuroflow.core.errors import DataError

#: Most points kept per ROC curve: enough for a smooth plot, small in a JSON report.
MAX_ROC_POINTS = 200
#: Probabilities compared at once by the top-k accuracy (bounds its memory on many classes).
TOP_K_CHUNK = 1 << 20


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


def check_probabilities(probabilities: np.ndarray, count: int, class_count: int) -> np.ndarray:
    """The ``(count, class_count)`` probabilities as a float array; refuses other shapes and NaN."""
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (count, class_count):
        raise DataError(
            f"expected class probabilities of shape ({count}, {class_count}) for {count} images "
            f"and {class_count} classes, got {probabilities.shape}"
        )
    if not np.issubdtype(probabilities.dtype, np.floating):
        probabilities = probabilities.astype(np.float64)
    finite = np.isfinite(probabilities)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise DataError(f"the class probabilities of image {row} are not all finite numbers (NaN or infinity)")
    return probabilities


def top_k_accuracy(labels: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """Share of images whose true class ranks among the ``k`` most probable (ties in class order)."""
    labels = np.asarray(labels, dtype=np.int64).ravel()
    count, class_count = probabilities.shape
    if count == 0:
        return 0.0
    classes = np.arange(class_count)
    rows = max(1, TOP_K_CHUNK // max(1, class_count))
    hits = 0
    for start in range(0, count, rows):
        p = probabilities[start : start + rows]
        y = labels[start : start + rows]
        true = p[np.arange(len(y)), y][:, None]
        ahead = (p > true).sum(axis=1) + ((p == true) & (classes < y[:, None])).sum(axis=1)
        hits += int(np.count_nonzero(ahead < k))
    return hits / count


def roc_counts(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive counts and thresholds, one point per distinct score, highest first,
    after the origin (threshold ``inf``). Images of equal score enter the curve together."""
    positive = np.asarray(positive, dtype=bool).ravel()
    scores = np.asarray(scores).ravel()
    order = np.argsort(scores, kind="mergesort")[::-1]
    scores, positive = scores[order], positive[order]
    # The last image of each run of equal scores closes that threshold's point.
    ends = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    tps = np.cumsum(positive, dtype=np.int64)[ends]
    fps = ends + 1 - tps
    return (
        np.r_[0, fps].astype(np.int64),
        np.r_[0, tps].astype(np.int64),
        np.r_[np.inf, scores[ends].astype(np.float64)],
    )


def area_under(fps: np.ndarray, tps: np.ndarray) -> float:
    """Trapezoid area under a curve of counts, normalised to the unit square (exact in integers)."""
    negatives, positives = int(fps[-1]), int(tps[-1])
    twice = int(np.sum(np.diff(fps) * (tps[1:] + tps[:-1])))
    return twice / (2 * negatives * positives)


def thin_curve(fps: np.ndarray, tps: np.ndarray, max_points: int = MAX_ROC_POINTS) -> np.ndarray:
    """Indices of the points to keep: every corner of the curve (collinear points add nothing),
    and when that is still more than ``max_points``, points evenly spread along its length."""
    if fps.size <= 2:
        return np.arange(fps.size)
    dx, dy = np.diff(fps), np.diff(tps)
    corner = dx[:-1] * dy[1:] != dy[:-1] * dx[1:]
    keep = np.r_[0, np.flatnonzero(corner) + 1, fps.size - 1]
    if keep.size <= max_points:
        return keep
    # Both rates only grow, so fpr + tpr (0 to 2) is the distance travelled along the curve.
    travelled = fps[keep] / fps[-1] + tps[keep] / tps[-1]
    picks = np.searchsorted(travelled, np.linspace(0.0, 2.0, max_points))
    return keep[np.unique(np.clip(picks, 0, keep.size - 1))]


def roc_curve(positive: np.ndarray, scores: np.ndarray, max_points: int = MAX_ROC_POINTS) -> RocCurve | None:
    """One-vs-rest ROC curve with its exact AUC; ``None`` without both positives and negatives."""
    fps, tps, thresholds = roc_counts(positive, scores)
    if fps[-1] == 0 or tps[-1] == 0:
        return None
    auc = area_under(fps, tps)
    keep = thin_curve(fps, tps, max_points)
    return RocCurve(
        fpr=fps[keep] / fps[-1], tpr=tps[keep] / tps[-1], thresholds=thresholds[keep], auc=auc
    )


def score(
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
    probabilities: np.ndarray | None = None,
    top_k: int = 5,
) -> Scores:
    """All scores of :class:`~neuroflow.core.data.Scores`; refuses an empty set of predictions.

    With ``probabilities`` (N x K) it adds the top-``top_k`` accuracy (k at most K) and the
    one-vs-rest ROC curves; without them those stay empty.
    """
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
    k, top_k_share = 0, None
    roc: tuple[RocCurve | None, ...] = ()
    if probabilities is not None:
        probabilities = check_probabilities(probabilities, total, class_count)
        labels = np.asarray(labels, dtype=np.int64).ravel()
        k = max(1, min(int(top_k), class_count))
        top_k_share = top_k_accuracy(labels, probabilities, k)
        roc = tuple(roc_curve(labels == c, probabilities[:, c]) for c in range(class_count))
    return Scores(
        class_names=tuple(class_names),
        confusion=confusion,
        accuracy=accuracy,
        error_rate=1.0 - accuracy,
        cohen_kappa=float(kappa),
        precision=precision,
        recall=recall,
        f1=f1,
        top_k=k,
        top_k_accuracy=top_k_share,
        roc=roc,
    )
