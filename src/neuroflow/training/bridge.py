"""The Keras callback that connects ``model.fit`` to NeuroFlow's events, progress and cancel.

Per batch it emits :class:`~neuroflow.core.events.BatchEnded` with Keras's running epoch
averages and checks the cancel token: a stop request (``token.request_stop()``) or a cancel
sets ``model.stop_training``, which Keras honours right after the current batch, so both take
effect within one batch. Per epoch it emits :class:`~neuroflow.core.events.EpochEnded` with the
validation metrics and the epoch's wall time.

An epoch stopped part-way is not an epoch: Keras still ends it with ``on_epoch_end`` (logs that
average only the batches it ran, then a validation pass), but the bridge emits no EpochEnded for
it, does not count it in :attr:`epochs_run`, cuts its validation pass short and describes it in
:meth:`partial_text` ("during epoch 7, after 40 of 563 batches"), which the learner adds to the
stop reason and uses to leave it out of the history. Progress is reported at most every
``PROGRESS_INTERVAL`` seconds. The work per batch is a dict of ``float`` and one event, so the
bridge adds next to nothing to the cost of training.

Keras is imported when the callback is first created, never when this module is imported.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from neuroflow.core.errors import Cancelled
from neuroflow.core.events import BatchEnded, EpochEnded, NodeProgress, TrainingStarted
from neuroflow.core.node import ExecutionContext

#: Seconds between two progress reports (batch events are not throttled).
PROGRESS_INTERVAL = 0.1


def training_callback(
    ctx: ExecutionContext, *, epochs: int, batches_per_epoch: int, samples: int, devices: str = "",
    precision: str = "float32",
) -> Any:
    """A ``keras.callbacks.Callback`` reporting to ``ctx``; see the module docstring."""
    bridge = _bridge_class()(ctx, epochs, batches_per_epoch, samples)
    bridge.devices, bridge.precision = devices, precision
    return bridge


def _numbers(logs: dict[str, Any] | None) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items() if isinstance(value, (int, float))}


@functools.cache
def _bridge_class() -> type:
    import keras

    class TrainingBridge(keras.callbacks.Callback):
        """Streams training to a NeuroFlow execution context; stops on request."""

        def __init__(self, ctx: ExecutionContext, epochs: int, batches: int, samples: int) -> None:
            super().__init__()
            self.ctx = ctx
            self.token = ctx.token
            self.epochs = epochs
            self.batches = max(batches, 1)
            self.samples = samples
            #: True when training ended because the user asked to stop (not cancel).
            self.stopped_by_user = False
            #: Epochs trained to their end (an epoch stopped or cancelled part-way does not count).
            self.epochs_run = 0
            #: (epoch, batches done) of the epoch that a stop or cancel cut short, if one did.
            self.partial: tuple[int, int] | None = None
            #: What the TrainingStarted event says about devices and precision.
            self.devices = ""
            self.precision = "float32"
            self._epoch = 1
            self._epoch_started = 0.0
            self._next_progress = 0.0

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.ctx.emit(TrainingStarted(self.ctx.node_id, self.epochs, self.batches, self.samples,
                                          self.devices, self.precision))

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._epoch = epoch + 1
            self._epoch_started = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            number = batch + 1
            self.ctx.emit(BatchEnded(self.ctx.node_id, self._epoch, number, self.batches, _numbers(logs)))
            if self.token.stop_requested:
                self._stop(number)
                return
            now = time.perf_counter()
            if now < self._next_progress:
                return
            self._next_progress = now + PROGRESS_INTERVAL
            done = (self._epoch - 1) * self.batches + number
            try:
                self.ctx.progress(
                    min(done / (self.epochs * self.batches), 1.0),
                    f"epoch {self._epoch}/{self.epochs}, batch {number}/{self.batches}",
                )
            except Cancelled:  # cancelled between the check above and now
                self._stop(number)

        def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            # No point validating a model that is thrown away, or an epoch that is not recorded.
            if self.token.cancelled or self.partial is not None:
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if self.token.cancelled or not self.is_whole_epoch(epoch + 1):
                return
            self.epochs_run = epoch + 1
            seconds = time.perf_counter() - self._epoch_started
            self.ctx.emit(EpochEnded(self.ctx.node_id, epoch + 1, self.epochs, _numbers(logs), seconds))
            if self.token.stop_requested and epoch + 1 < self.epochs:  # asked during validation
                self._stop(self.batches)

        def is_whole_epoch(self, epoch: int) -> bool:
            """False for the (1-based) epoch a stop or cancel cut short."""
            return self.partial is None or self.partial[0] != epoch

        def partial_text(self) -> str:
            """``"during epoch 7, after 40 of 563 batches"``, or "" when no epoch was cut short."""
            if self.partial is None:
                return ""
            epoch, done = self.partial
            return f"during epoch {epoch}, after {done} of {self.batches} batches"

        def _stop(self, batch: int) -> None:
            """Stop after batch number ``batch`` (1-based) of the current epoch."""
            self.model.stop_training = True
            if batch < self.batches and self.partial is None:
                self.partial = (self._epoch, batch)
            if not self.token.cancelled:
                self.stopped_by_user = True

    return TrainingBridge


def prediction_callback(ctx: ExecutionContext, total: int, batch_size: int | None) -> Any:
    """A callback for ``model.predict``: progress per batch, stop at the next batch on cancel."""
    return _prediction_class()(ctx, total, batch_size)


@functools.cache
def _prediction_class() -> type:
    import keras

    class PredictionProgress(keras.callbacks.Callback):
        def __init__(self, ctx: ExecutionContext, total: int, batch_size: int | None) -> None:
            super().__init__()
            self.ctx, self.total, self.batch_size = ctx, total, batch_size
            self._next = 0.0

        def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.ctx.emit(NodeProgress(self.ctx.node_id, 0.0, f"0 of {self.total:,} images"))
            self._next = time.perf_counter() + PROGRESS_INTERVAL

        def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if self.ctx.token.cancelled:
                self.model.stop_predicting = True
                return
            now = time.perf_counter()
            if now < self._next:
                return
            self._next = now + PROGRESS_INTERVAL
            done = min((batch + 1) * self.batch_size, self.total) if self.batch_size else None
            fraction = done / self.total if done is not None else None
            text = f"{done:,} of {self.total:,} images" if done is not None else f"batch {batch + 1}"
            self.ctx.emit(NodeProgress(self.ctx.node_id, fraction, text))

    return PredictionProgress
