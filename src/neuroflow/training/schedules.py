"""Learning-rate schedules of the Network Learner: constant, step decay, cosine decay, plateau.

A constant learning rate is rarely the best: lowering it as training converges lets the
weights settle into a minimum instead of bouncing around it, which typically gains some
tenths of a percentage point of test accuracy for free. The four schedules are the ones
codeless tools offer (KNIME's learner has "reduce learning rate on plateau"; Neural Network
Console has step and cosine schedulers):

* ``constant`` - the learning rate never changes;
* ``step`` - multiplied by ``factor`` every ``every`` epochs;
* ``cosine`` - follows half a cosine from the learning rate down to ``minimum`` over all the
  planned batches (updated every batch, the smoothest of the four);
* ``plateau`` - multiplied by ``factor`` when the monitored loss has not improved for
  ``patience`` epochs (``val_loss`` when there is validation data, else ``loss``).

Unless it is constant, the learning rate each epoch started with is recorded as
``learning_rate`` in the epoch's metrics, so the monitor and the learner's history show it.
The choice tuples are plain data; the functions import Keras only when called.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "step", "cosine", "plateau")
#: Short, so the editor's drop-down shows them whole; the setting's help explains each.
SCHEDULE_LABELS = ("constant", "step decay", "cosine decay", "reduce on plateau")


@dataclass(frozen=True)
class Schedule:
    """One learner's schedule settings; ``minimum`` is a floor for every non-constant kind."""

    kind: str = "constant"
    factor: float = 0.5
    every: int = 5
    patience: int = 2
    minimum: float = 0.0


def learning_rate(schedule: Schedule, base: float, total_batches: int) -> Any:
    """What to pass as the optimizer's ``learning_rate``: a number, or a per-batch schedule."""
    if schedule.kind != "cosine":
        return base
    import keras

    alpha = min(schedule.minimum / base, 1.0) if base > 0 else 0.0
    return keras.optimizers.schedules.CosineDecay(base, decay_steps=max(total_batches, 1), alpha=alpha)


def schedule_callbacks(schedule: Schedule, base: float, monitor: str) -> list[Any]:
    """Keras callbacks that apply ``schedule`` epoch by epoch and log the learning rate.

    They must come before any callback that reads the epoch's logs, because they add
    ``learning_rate`` to them.
    """
    if schedule.kind == "constant":
        return []
    import keras

    callbacks: list[Any] = []
    if schedule.kind == "step":
        def step(epoch: int, _current: float) -> float:
            return max(base * schedule.factor ** (epoch // schedule.every), schedule.minimum)

        callbacks.append(keras.callbacks.LearningRateScheduler(step))
    elif schedule.kind == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=schedule.factor, patience=schedule.patience,
            min_lr=schedule.minimum, mode="min",
        ))
    callbacks.append(_log_class()())
    return callbacks


@functools.cache
def _log_class() -> type:
    import keras

    class LogLearningRate(keras.callbacks.Callback):
        """Records the learning rate each epoch started with as ``learning_rate``.

        ``ReduceLROnPlateau`` logs the rate it sets for the *next* epoch; the rate that
        produced this epoch's metrics is what a user reads next to them.
        """

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._rate = float(self.model.optimizer.learning_rate)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if logs is not None:
                logs["learning_rate"] = self._rate

    return LogLearningRate
