"""The training monitor: plotted data, progress, numbers, Stop, reset and kept history."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neuroflow.core.events import (
    BatchEnded,
    EpochEnded,
    NodeProgress,
    NodeState,
    NodeStateChanged,
    RunFinished,
    TrainingEnded,
    TrainingStarted,
)
from neuroflow.gui.monitor import TrainingMonitor, accuracy_key, format_duration
from neuroflow.gui.monitor_charts import MAX_BATCH_POINTS, decimate, nice_ceiling

pytestmark = pytest.mark.gui


class FakeClock:
    """Seconds that advance only when the test says so, so time estimates are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def monitor(qtbot, clock: FakeClock) -> TrainingMonitor:
    widget = TrainingMonitor(clock=clock)
    qtbot.addWidget(widget)
    return widget


def batch(epoch: int, index: int, accuracy: float, loss: float, node: str = "n4") -> BatchEnded:
    return BatchEnded(node, epoch, index, 4, {"accuracy": accuracy, "loss": loss})


def feed_one_and_a_half_epochs(monitor: TrainingMonitor, clock: FakeClock) -> None:
    """3 planned epochs of 4 batches, one second per batch; epoch 2 stops after batch 2."""
    monitor.handle_event(TrainingStarted("n4", epochs=3, batches_per_epoch=4, samples=128))
    for i, (acc, loss) in enumerate([(0.5, 1.2), (0.6, 1.0), (0.65, 0.9), (0.7, 0.8)], start=1):
        clock.now += 1.0
        monitor.handle_event(batch(1, i, acc, loss))
    metrics = {"accuracy": 0.7, "loss": 0.8, "val_accuracy": 0.75, "val_loss": 0.7}
    monitor.handle_event(EpochEnded("n4", 1, 3, metrics, seconds=4.0))
    for i, (acc, loss) in enumerate([(0.8, 0.6), (0.82, 0.55)], start=1):
        clock.now += 1.0
        monitor.handle_event(batch(2, i, acc, loss))


def test_event_stream_is_plotted_with_progress_and_numbers(monitor, clock):
    feed_one_and_a_half_epochs(monitor, clock)
    monitor.flush()
    curves = monitor.curves()
    x, y = curves["batch_accuracy"]
    np.testing.assert_allclose(x, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    np.testing.assert_allclose(y, [0.5, 0.6, 0.65, 0.7, 0.8, 0.82])
    np.testing.assert_allclose(curves["batch_loss"][1], [1.2, 1.0, 0.9, 0.8, 0.6, 0.55])
    for name, value in (("accuracy", 0.7), ("loss", 0.8), ("val_accuracy", 0.75), ("val_loss", 0.7)):
        np.testing.assert_allclose(curves[name][0], [1.0])
        np.testing.assert_allclose(curves[name][1], [value])
    assert monitor.epoch_progress.text() == "Epoch 2 / 3"
    assert (monitor.epoch_progress.value(), monitor.epoch_progress.maximum()) == (1, 3)
    assert monitor.batch_progress.text() == "Batch 2 / 4"
    assert (monitor.batch_progress.value(), monitor.batch_progress.maximum()) == (2, 4)
    cards = {key: card.value.text() for key, card in monitor.readouts.items()}
    assert cards["accuracy"] == "82.00 %"  # the latest batch's running average
    assert cards["loss"] == "0.5500"
    assert cards["val_accuracy"] == "75.00 %"
    assert cards["val_loss"] == "0.7000"
    assert cards["elapsed"] == "0:06"
    # 5 batches in the 5 s after the first one: 1 batch/s, and 12 - 6 batches are left.
    assert monitor.remaining_seconds() == pytest.approx(6.0)
    assert cards["remaining"] == "0:06"
    assert "128 images" in monitor.status_label.text()


def test_redraws_are_throttled_to_the_timer(monitor, clock, qtbot):
    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=64))
    monitor.handle_event(batch(1, 1, 0.5, 1.0))
    assert monitor.curves()["batch_accuracy"][0].size == 0  # nothing drawn per event
    qtbot.waitUntil(lambda: monitor.curves()["batch_accuracy"][0].size == 1, timeout=2000)


def test_thousands_of_batch_events_stay_cheap(monitor, clock):
    monitor.handle_event(TrainingStarted("n4", epochs=10, batches_per_epoch=1000, samples=32000))
    rng = np.random.default_rng(0)
    loss = 2.0 * np.exp(-np.arange(10_000) / 3000) + 0.2 * rng.random(10_000)
    events = [
        BatchEnded("n4", 1 + i // 1000, 1 + i % 1000, 1000, {"accuracy": 0.9, "loss": float(loss[i])})
        for i in range(10_000)
    ]
    started = time.perf_counter()
    for event in events:
        monitor.handle_event(event)
    monitor.flush()
    seconds = time.perf_counter() - started
    x, y = monitor.curves()["batch_loss"]
    # A chart is a few hundred pixels wide: it draws a decimated line with the same envelope.
    assert 100 < x.size <= MAX_BATCH_POINTS + 1
    assert np.all(np.diff(x) > 0)
    assert (x[-1], y[-1]) == (10.0, loss[-1])  # the live end matches the readout
    assert (y.min(), y.max()) == (loss.min(), loss.max())
    assert monitor.readouts["loss"].value.text() == f"{loss[-1]:.4f}"
    assert seconds < 1.0, f"10,000 batch events took {seconds:.2f} s"


def test_decimation_keeps_each_buckets_extremes_in_order():
    x = np.arange(10.0)
    np.testing.assert_array_equal(decimate(x, x * 2, max_points=10)[1], x * 2)  # short: unchanged
    y = np.array([5.0, 1.0, 9.0, 3.0, 4.0, 4.0, 0.0, 8.0, 7.0, 6.0, 2.0])
    dx, dy = decimate(np.arange(11.0), y, max_points=6)  # buckets of 4: [5 1 9 3] [4 4 0 8] [7 6 2]
    np.testing.assert_array_equal(dx, [1, 2, 6, 7, 8, 10])
    np.testing.assert_array_equal(dy, [1, 9, 0, 8, 7, 2])
    nan = np.nan
    gaps = np.array([nan, nan, nan, nan, 1.0, nan, 3.0, 2.0, 5.0, 4.0, 6.0, 0.0])
    dx, dy = decimate(np.arange(12.0), gaps, max_points=6)  # NaNs are skipped; an all-NaN bucket
    np.testing.assert_array_equal(dx, [0, 4, 6, 10, 11])  # stays a gap in the drawn line
    assert np.isnan(dy[0]) and list(dy[1:]) == [1.0, 3.0, 6.0, 0.0]


def test_y_axes_fit_the_values_in_round_steps_and_never_autorange(monitor, clock):
    assert nice_ceiling(2.31) == 2.5 and nice_ceiling(0.07) == pytest.approx(0.08) and nice_ceiling(3) == 3
    accuracy, loss = monitor.accuracy_chart, monitor.loss_chart
    for chart in (accuracy, loss):
        assert chart.getPlotItem().getViewBox().autoRangeEnabled() == [False, False]
        assert chart.y_range() is None
    monitor.handle_event(TrainingStarted("n4", epochs=3, batches_per_epoch=4, samples=128))
    monitor.handle_event(batch(1, 1, 0.43, 2.31))
    monitor.handle_event(batch(1, 2, 0.62, 1.4))
    monitor.flush()
    assert accuracy.y_range() == (0.4, 1.0)
    assert loss.y_range() == (0.0, 2.5)
    shown = loss.getPlotItem().viewRange()
    assert shown[1][0] < 0.0 and 2.5 < shown[1][1] < 2.7  # a little padding, no autorange
    assert shown[0][0] < 0.0 and 3.0 < shown[0][1] < 3.1  # x: the whole planned run
    monitor.handle_event(batch(1, 3, 0.8, 0.3))  # lower values: the axes stay put
    monitor.flush()
    assert (accuracy.y_range(), loss.y_range()) == ((0.4, 1.0), (0.0, 2.5))
    metrics = {"accuracy": 0.8, "loss": 0.3, "val_accuracy": 0.35, "val_loss": 3.1}
    monitor.handle_event(EpochEnded("n4", 1, 3, metrics))  # outside: they grow
    monitor.flush()
    assert (accuracy.y_range(), loss.y_range()) == ((0.3, 1.0), (0.0, 4.0))
    monitor.reset()
    assert accuracy.y_range() is None and loss.y_range() is None


def test_keras_metric_names_are_recognised(monitor):
    assert accuracy_key({"loss": 1, "sparse_categorical_accuracy": 0.5}) == "sparse_categorical_accuracy"
    assert accuracy_key({"val_acc": 0.5, "acc": 0.4}, "val_") == "val_acc"
    assert accuracy_key({"loss": 1.0}) is None
    monitor.handle_event(TrainingStarted("n4", epochs=1, batches_per_epoch=2, samples=10))
    monitor.handle_event(BatchEnded("n4", 1, 1, 2, {"categorical_accuracy": 0.4, "loss": 2.0}))
    monitor.handle_event(
        EpochEnded("n4", 1, 1, {"acc": 0.5, "loss": 1.5, "val_sparse_categorical_accuracy": 0.45})
    )
    monitor.flush()
    curves = monitor.curves()
    np.testing.assert_allclose(curves["batch_accuracy"][1], [0.4])
    np.testing.assert_allclose(curves["accuracy"][1], [0.5])
    np.testing.assert_allclose(curves["val_accuracy"][1], [0.45])
    assert curves["val_loss"][0].size == 0


def test_other_nodes_and_unrelated_events_are_ignored(monitor):
    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=64))
    monitor.handle_event(batch(1, 1, 0.5, 1.0, node="n9"))
    monitor.handle_event(NodeProgress("n4", 0.5, "working"))
    monitor.handle_event(NodeStateChanged("n9", NodeState.FAILED, "boom"))
    monitor.handle_event("not an event")
    monitor.flush()
    assert monitor.curves()["batch_accuracy"][0].size == 0
    assert monitor.is_training


def test_stop_emits_only_while_training(monitor, qtbot):
    emitted: list[bool] = []
    monitor.stop_requested.connect(lambda: emitted.append(True))
    assert not monitor.stop_button.isEnabled()
    monitor.stop_button.click()
    assert emitted == []

    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=64))
    assert monitor.stop_button.isEnabled()
    with qtbot.waitSignal(monitor.stop_requested, timeout=1000):
        monitor.stop_button.click()
    assert emitted == [True]
    assert not monitor.stop_button.isEnabled()  # no second request while stopping
    monitor.stop_button.click()
    assert emitted == [True]

    monitor.handle_event(TrainingEnded("n4", epochs_run=1, reason="stopped by user"))
    assert not monitor.is_training
    assert not monitor.stop_button.isEnabled()
    assert "stopped by user" in monitor.status_label.text()


@pytest.mark.parametrize(
    "ending, status",
    [
        (NodeStateChanged("n4", NodeState.FAILED, "ran out of memory"), "failed: ran out of memory"),
        (NodeStateChanged("n4", NodeState.CONFIGURED, "cancelled"), "cancelled"),
        (RunFinished(("n1",), (), cancelled=True, seconds=3.0), "cancelled"),
    ],
)
def test_failure_or_cancel_ends_training(monitor, ending, status):
    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=64))
    monitor.handle_event(ending)
    assert not monitor.is_training
    assert not monitor.stop_button.isEnabled()
    assert status in monitor.status_label.text()


def test_reset_clears_everything(monitor, clock):
    feed_one_and_a_half_epochs(monitor, clock)
    monitor.flush()
    monitor.reset()
    assert all(x.size == 0 and y.size == 0 for x, y in monitor.curves().values())
    assert monitor.history_snapshot() == {}
    assert monitor.epoch_progress.text() == "Epoch — / —"
    assert monitor.batch_progress.text() == "Batch — / —"
    assert {card.value.text() for card in monitor.readouts.values()} == {"—"}
    assert not monitor.is_training and not monitor.stop_button.isEnabled()


def test_history_snapshot_round_trips_through_from_history(monitor, clock, qtbot):
    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=64))
    for epoch, (acc, val) in enumerate([(0.6, 0.55), (0.8, 0.7)], start=1):
        metrics = {"accuracy": acc, "loss": 1 - acc, "val_accuracy": val, "val_loss": 1 - val}
        monitor.handle_event(EpochEnded("n4", epoch, 2, metrics))
    monitor.handle_event(TrainingEnded("n4", 2, "completed"))
    snapshot = monitor.history_snapshot()
    expected = {
        "accuracy": [0.6, 0.8],
        "loss": [0.4, 0.2],
        "val_accuracy": [0.55, 0.7],
        "val_loss": [0.45, 0.3],
    }
    assert snapshot.keys() == expected.keys()
    for key, values in expected.items():
        np.testing.assert_allclose(snapshot[key], values)

    kept = TrainingMonitor.from_history(snapshot, stop_reason="completed", seconds=75)
    qtbot.addWidget(kept)
    curves = kept.curves()
    np.testing.assert_allclose(curves["accuracy"][0], [1, 2])
    np.testing.assert_allclose(curves["accuracy"][1], [0.6, 0.8])
    np.testing.assert_allclose(curves["val_loss"][1], [0.45, 0.3])
    assert curves["batch_loss"][0].size == 0
    assert kept.epoch_progress.text() == "Epoch 2 / 2"
    assert kept.readouts["elapsed"].value.text() == "1:15"
    assert "completed" in kept.status_label.text()
    assert not kept.stop_button.isEnabled()


def test_the_learning_rate_shows_only_when_a_schedule_reports_it(monitor, clock, qtbot):
    feed_one_and_a_half_epochs(monitor, clock)
    monitor.flush()
    assert monitor.rate.isHidden()
    monitor.handle_event(EpochEnded("n4", 2, 3, {"accuracy": 0.8, "loss": 0.5, "learning_rate": 0.001}))
    monitor.handle_event(EpochEnded("n4", 3, 3, {"accuracy": 0.9, "loss": 0.4, "learning_rate": 0.00025}))
    monitor.flush()
    assert not monitor.rate.isHidden() and monitor.rate.value.text() == "0.00025"
    kept = TrainingMonitor.from_history(monitor.history_snapshot())
    qtbot.addWidget(kept)
    assert not kept.rate.isHidden() and kept.rate.value.text() == "0.00025"
    monitor.reset()
    assert monitor.rate.isHidden()


def test_format_duration():
    assert format_duration(0) == "0:00"
    assert format_duration(75.4) == "1:15"
    assert format_duration(3725) == "1:02:05"


def test_fits_the_editor_dock(monitor, clock):
    """The editor docks the monitor about 560 px wide: nothing may force it wider."""
    feed_one_and_a_half_epochs(monitor, clock)
    monitor.flush()
    monitor.resize(560, 340)
    monitor.show()
    assert monitor.minimumSizeHint().width() <= 560
    assert monitor.width() == 560


def test_an_epoch_stopped_part_way_stays_partial(monitor, clock):
    """Stop during epoch 2 of 3: the bars stay where training stopped, no epoch 2 is recorded."""
    feed_one_and_a_half_epochs(monitor, clock)
    reason = "stopped by user during epoch 2, after 2 of 4 batches (not counted as an epoch)"
    monitor.handle_event(TrainingEnded("n4", epochs_run=1, reason=reason))
    assert monitor.batch_progress.text() == "Batch 2 / 4"
    assert monitor.batch_progress.value() == 2
    assert (monitor.epoch_progress.value(), monitor.epoch_progress.text()) == (1, "Epoch 2 / 3 (part)")
    assert monitor.history_snapshot()["loss"] == [0.8]
    assert monitor.status_label.text() == f"Training ended after 1 epoch: {reason}"


def test_time_left_counts_the_validation_passes(monitor, clock):
    """2 epochs of 4 one-second batches, each followed by a 2 s validation pass."""
    monitor.handle_event(TrainingStarted("n4", epochs=2, batches_per_epoch=4, samples=128))
    metrics = {"accuracy": 0.7, "loss": 0.8, "val_accuracy": 0.75, "val_loss": 0.7}
    for i in range(1, 5):
        clock.now += 1.0
        monitor.handle_event(batch(1, i, 0.5, 1.0))
    clock.now += 2.0
    monitor.handle_event(EpochEnded("n4", 1, 2, metrics, seconds=6.0))
    clock.now += 1.0
    monitor.handle_event(batch(2, 1, 0.5, 1.0))
    # 1 batch/s once the validation pass is taken out; 3 batches and one validation pass left.
    assert monitor.remaining_seconds() == pytest.approx(5.0)
    for i in range(2, 5):
        clock.now += 1.0
        monitor.handle_event(batch(2, i, 0.5, 1.0))
    assert monitor.remaining_seconds() == pytest.approx(2.0)  # the final validation pass
    clock.now += 1.0
    assert monitor.remaining_seconds() == pytest.approx(1.0)
    monitor.flush()
    assert monitor.readouts["remaining"].value.text() == "0:01"


def test_time_left_is_unknown_while_validating_before_any_pass_was_timed(monitor, clock):
    monitor.handle_event(TrainingStarted("n4", epochs=1, batches_per_epoch=4, samples=128))
    for i in range(1, 5):
        clock.now += 1.0
        monitor.handle_event(batch(1, i, 0.5, 1.0))
    clock.now += 1.0
    assert monitor.remaining_seconds() is None
    monitor.flush()
    assert monitor.readouts["remaining"].value.text() == "…"
