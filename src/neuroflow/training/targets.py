"""Training targets from integer labels, and a validation split that respects classes.

Users give integer labels; what the loss needs is decided here in one place, so the learner
and its tests agree: one-hot rows for categorical cross-entropy and mean squared error, the
integers themselves for sparse categorical cross-entropy, and for binary cross-entropy either
one-hot rows (one sigmoid unit per class) or a single 0/1 column (one unit, two classes).
"""

from __future__ import annotations

import numpy as np

from neuroflow.core.errors import DataError


def training_targets(labels: np.ndarray, class_count: int, loss: str, output_units: int) -> np.ndarray:
    """The ``y`` array passed to ``fit`` for ``loss`` and a network ending in ``output_units``."""
    labels = np.asarray(labels)
    if loss == "sparse_categorical_crossentropy":
        return labels.astype(np.int32, copy=False)
    if output_units == 1:  # binary cross-entropy with a single sigmoid unit: P(class 1)
        return labels.astype(np.float32).reshape(-1, 1)
    return np.eye(class_count, dtype=np.float32)[labels]


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int, *, data_what: str = "the training data"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` holding out ``fraction`` of every class, chosen by ``seed``.

    Keras's own ``validation_split`` takes the *last* samples, which for a dataset sorted by
    class (as a folder reader produces) would validate on the last class only; a seeded
    per-class draw avoids that and stays reproducible.
    """
    rng = np.random.default_rng(seed)
    held_out = []
    for klass in np.unique(labels):
        members = np.flatnonzero(labels == klass)
        rng.shuffle(members)
        held_out.append(members[: int(round(len(members) * fraction))])
    validation = np.sort(np.concatenate(held_out)) if held_out else np.zeros(0, dtype=np.int64)
    keep = np.ones(len(labels), dtype=bool)
    keep[validation] = False
    train = np.flatnonzero(keep)
    if len(validation) == 0 or len(train) == 0:
        raise DataError(
            f"a validation split of {fraction:g} leaves {len(train)} training and "
            f"{len(validation)} validation images of {data_what}'s {len(labels)}; "
            "use more images or another split"
        )
    return train, validation
