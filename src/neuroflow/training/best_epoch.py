"""Keep the weights of the best epoch, with or without early stopping.

Training a few epochs too long on a small dataset costs validation accuracy; the user should
not have to guess the right number of epochs. :func:`best_epoch_callback` watches one metric
(e.g. ``val_accuracy``) at the end of every epoch, copies the weights when it improves and puts
the best copy back when training ends - also when the user stops it. Keras's EarlyStopping
can restore only when it is the one that stops, so the learner uses this instead for both.
Keras is imported when the callback is created.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def best_epoch_callback(monitor: str, counts: Callable[[int], bool] | None = None) -> Any:
    """A ``keras.callbacks.Callback``; ``best_epoch`` (1-based, 0 = none yet) and ``best`` after fit.

    ``counts(epoch)`` says whether a (1-based) epoch ran whole: an epoch the user stopped part-way
    has metrics of a few batches and is never taken as the best."""
    return _callback_class()(monitor, counts or (lambda _epoch: True))


def higher_is_better(monitor: str) -> bool:
    return monitor.endswith("accuracy")


@functools.cache
def _callback_class() -> type:
    import keras

    class BestEpoch(keras.callbacks.Callback):
        def __init__(self, monitor: str, counts: Callable[[int], bool]) -> None:
            super().__init__()
            self.monitor = monitor
            self.counts = counts
            self.best: float | None = None
            self.best_epoch = 0
            self.restored = False
            self._weights: list[Any] | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            value = (logs or {}).get(self.monitor)
            if value is None or not self.counts(epoch + 1):
                return
            value = float(value)
            better = self.best is None or (value > self.best if higher_is_better(self.monitor) else value < self.best)
            if better:
                self.best, self.best_epoch = value, epoch + 1
                self._weights = self.model.get_weights()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            if self._weights is not None:
                self.model.set_weights(self._weights)
                self.restored = True
                self._weights = None

    return BestEpoch
