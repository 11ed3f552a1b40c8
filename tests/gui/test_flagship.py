"""The flagship workflow in the editor: train on a small sample, watch, score, cancel, stop, reopen.

Each run trains on a few hundred MNIST images for one epoch, so a test takes seconds; the first
one also pays for importing TensorFlow (in the execution thread, never the GUI's).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from neuroflow.core.events import BatchEnded, NodeState

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_flagship_executes_with_live_monitor_scores_view_and_round_trips(flagship, run, qtbot, tmp_path):
    window = flagship
    doc = window.document
    window.ensure_monitor()
    # An edit that is undone before executing must not reach the model.
    doc.set_setting("conv", "filters", 8)
    doc.undo()
    assert doc.workflow.nodes["conv"].node["filters"] == 32

    result = run()
    assert result.ok, (result.failed, result.not_configured)
    assert set(result.executed) == set(doc.workflow.nodes)
    for node_id in doc.workflow.nodes:
        assert window.canvas.node_view(node_id).state is NodeState.EXECUTED
    trained = doc.workflow.nodes["learner"].outputs["model"]
    assert trained.model.get_layer(index=1).filters == 32  # index 0 is the Input

    # The monitor received the batch and epoch points of the run.
    monitor = window.monitor
    monitor.flush()
    curves = monitor.curves()
    assert any(len(x) > 0 for x, _ in curves.values())
    assert monitor.node_id == "learner"
    # The scorer shows its accuracy on the node and its matrix in a result view.
    scores = doc.workflow.nodes["scorer"].outputs["scores"]
    assert window.canvas.node_view("scorer").lines[0] == f"accuracy {scores.accuracy * 100:.1f} %"
    view = window.open_view("scorer")
    assert view is not None and window.results.node_ids() == ["scorer"]
    matrix = view.panel.scores.confusion
    assert np.asarray(matrix).sum() == 200
    assert window.results_dock.isVisible()
    # Changing an upstream setting resets the scorer; its open view says it is outdated.
    doc.set_setting("test_reader", "limit", 150)
    assert window.results.tabs.tabText(0).endswith("(outdated)")
    assert window.canvas.node_view("scorer").state is NodeState.CONFIGURED
    # Double-clicking a node that has not executed says so instead of opening a view.
    doc.set_setting("writer", "overwrite", False)
    assert window.open_view("writer") is None
    assert "Execute" in window.statusBar().currentMessage()

    # Save, reopen, find everything identical (results are not saved: nodes come back configured).
    path = tmp_path / "flagship.workflow"
    assert window._save_to(path)
    before = window.canvas.snapshot()
    settings = {nid: dict(item.node.settings) for nid, item in doc.workflow.nodes.items()}
    window.new_file()
    assert window.open_file(path)
    after = window.canvas.snapshot()
    assert {k: {**v, "state": None, "lines": None} for k, v in after["nodes"].items()} == \
        {k: {**v, "state": None, "lines": None} for k, v in before["nodes"].items()}
    assert after["connections"] == before["connections"]
    assert {nid: dict(item.node.settings) for nid, item in doc.workflow.nodes.items()} == settings
    assert window.results.node_ids() == []


def slow_training(doc, *, limit: int, epochs: int) -> list[BatchEnded]:
    """Make the flagship train long enough to interrupt; returns the list its batch events land in."""
    doc.set_setting("train_reader", "limit", limit)
    doc.set_setting("learner", "epochs", epochs)
    doc.set_setting("learner", "batch_size", 16)
    batches: list[BatchEnded] = []
    doc.core_event.connect(lambda e: batches.append(e) if isinstance(e, BatchEnded) else None)
    return batches


def test_cancel_mid_training_then_execute_again(flagship, run, qtbot):
    window = flagship
    doc = window.document
    batches = slow_training(doc, limit=6000, epochs=20)
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        assert window.execute_all()
        qtbot.waitUntil(lambda: len(batches) >= 3, timeout=90_000)
        assert window.document.locked and window.act["cancel"].isEnabled()
        asked = time.perf_counter()
        window.act["cancel"].trigger()
    stopped_after = time.perf_counter() - asked
    result, _error = finished.args
    assert result.cancelled
    assert stopped_after < 2.0, stopped_after
    learner = doc.workflow.nodes["learner"]
    assert learner.state is NodeState.CONFIGURED and learner.outputs is None
    assert doc.workflow.nodes["train_norm"].state is NodeState.EXECUTED  # finished work is kept
    assert not doc.locked and window.act["execute_all"].isEnabled()
    assert any("cancelled" in m.text for m in window.messages.messages())

    doc.set_setting("train_reader", "limit", 300)
    doc.set_setting("learner", "epochs", 1)
    result = run()
    assert result.ok
    assert doc.workflow.nodes["scorer"].state is NodeState.EXECUTED


def test_stop_button_ends_training_and_keeps_the_model(flagship, run, qtbot):
    window = flagship
    doc = window.document
    monitor = window.ensure_monitor()
    batches = slow_training(doc, limit=4000, epochs=50)
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        assert window.execute_all()
        qtbot.waitUntil(lambda: len(batches) >= 3, timeout=90_000)
        monitor.stop_requested.emit()  # what the monitor's Stop button does
    result, _error = finished.args
    assert result.ok and not result.cancelled
    trained = doc.workflow.nodes["learner"].outputs["model"]
    assert trained.stop_reason == "stopped by user"
    assert doc.workflow.nodes["scorer"].state is NodeState.EXECUTED


def test_a_failing_node_turns_red_and_the_editor_carries_on(flagship, run, tmp_path):
    window = flagship
    doc = window.document
    target = tmp_path / "exists.keras"
    target.write_text("not a model")
    doc.set_setting("writer", "path", str(target))
    doc.set_setting("writer", "overwrite", False)
    result = run(["writer"])
    assert "writer" in result.failed
    view = window.canvas.node_view("writer")
    assert view.state is NodeState.FAILED and "exists" in view.toolTip()
    errors = [m for m in window.messages.messages() if m.level == "error" and m.node_id == "writer"]
    assert errors
    assert doc.workflow.nodes["learner"].state is NodeState.EXECUTED
    doc.set_setting("writer", "overwrite", True)  # fix it and go on
    assert view.state is NodeState.CONFIGURED
    assert run(["writer"]).ok


def test_closing_the_window_during_training_cancels_and_waits(flagship, qtbot):
    window = flagship
    doc = window.document
    doc.set_setting("train_reader", "limit", 6000)
    doc.set_setting("learner", "epochs", 20)
    batches: list[BatchEnded] = []
    doc.core_event.connect(lambda e: batches.append(e) if isinstance(e, BatchEnded) else None)
    assert window.execute_all()
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=90_000)
    started = time.perf_counter()
    window.close()
    assert not window.runner.running
    assert time.perf_counter() - started < 5.0
    assert doc.workflow.nodes["learner"].state is NodeState.CONFIGURED


def test_qt_garbage_is_collected_on_the_gui_thread_before_a_run_starts(flagship, run, qtbot):
    """Unreachable Qt wrappers must not be left for the worker thread's garbage collections."""
    import gc
    import threading

    from PySide6.QtCore import QObject

    collected_on: list[str] = []

    class Cycle(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.me = self

        def __del__(self) -> None:
            collected_on.append(threading.current_thread().name)

    gc.collect()
    gc.disable()  # only the runner may collect the cycle below
    try:
        Cycle()
        flagship.document.set_setting("learner", "epochs", 1)
        assert run(targets=["train_norm"]).ok
    finally:
        gc.enable()
    assert collected_on == [threading.main_thread().name]
