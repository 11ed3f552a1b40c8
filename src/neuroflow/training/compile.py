"""Losses, optimizers and the accuracy metric the Network Learner compiles a model with.

The choice tuples are plain data (the learner's settings are declared from them); the
functions that build Keras objects import Keras when called, never at import time.
"""

from __future__ import annotations

from typing import Any

LOSSES = (
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
)
LOSS_LABELS = (
    "categorical cross-entropy (labels one-hot encoded for you)",
    "sparse categorical cross-entropy (integer labels)",
    "binary cross-entropy (sigmoid outputs)",
    "mean squared error (on one-hot labels)",
)
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adadelta", "adagrad")
OPTIMIZER_LABELS = ("Adam", "SGD (stochastic gradient descent)", "RMSprop", "Adadelta", "Adagrad")
#: Early-stopping metrics; ``val_`` ones need validation data.
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


def make_optimizer(name: str, learning_rate: Any, momentum: float = 0.0) -> Any:
    """A fresh Keras optimizer (each training run needs its own state).

    ``learning_rate`` is a number or a Keras learning-rate schedule (see ``schedules``).
    """
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    classes = {
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
        "adadelta": keras.optimizers.Adadelta,
        "adagrad": keras.optimizers.Adagrad,
    }
    return classes[name](learning_rate=learning_rate)


def make_accuracy(loss: str, output_units: int) -> Any:
    """The accuracy metric matching the targets of :func:`training_targets`, named ``accuracy``.

    Passing the plain string ``"accuracy"`` would let Keras pick binary accuracy for binary
    cross-entropy on one-hot targets, which counts matching *elements*, not images.
    """
    import keras

    if loss == "sparse_categorical_crossentropy":
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    if output_units == 1:
        return keras.metrics.BinaryAccuracy(name="accuracy")
    return keras.metrics.CategoricalAccuracy(name="accuracy")


def make_top_k(loss: str, k: int) -> Any:
    """Top-k accuracy named ``top{k}_accuracy``, for integer or one-hot targets."""
    import keras

    name = f"top{k}_accuracy"
    if loss == "sparse_categorical_crossentropy":
        return keras.metrics.SparseTopKCategoricalAccuracy(k=k, name=name)
    return keras.metrics.TopKCategoricalAccuracy(k=k, name=name)
