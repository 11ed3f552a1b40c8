"""The flagship workflow in the editor: train on a small sample, watch, score, cancel, stop, reopen.

Each run trains on a few hundred MNIST images for one epoch, so a test takes seconds; each test
also pays for starting the execution process, which imports TensorFlow (the editor never does).
"""

from __future__ import annotations

import time
from pathlib import Path

import canvas_probe as probe
import numpy as np
import pytest

from neuroflow.core.events import BatchEnded, NodeState

FLAGSHIP = Path(__file__).resolve().parents[2] / "workflows" / "mnist_cnn.workflow"

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
    assert trained.model.layers[1][1] == "Conv2D" and trained.model.count_params() == 542_230
    import keras  # the model itself lives in the execution process; its file shows what trained

    saved = keras.saving.load_model(str(tmp_path / "model.keras"))
    assert saved.get_layer(index=1).filters == 32  # index 0 is the Input

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
    assert window.files.save_to(path)
    before = probe.snapshot(window.canvas)
    settings = {nid: dict(item.node.settings) for nid, item in doc.workflow.nodes.items()}
    window.new_file()
    assert window.open_file(path)
    after = probe.snapshot(window.canvas)
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
    # Stopped a few batches into epoch 1: that part-epoch is said, not recorded as an epoch.
    assert trained.stop_reason.startswith("stopped by user during epoch 1, after ")
    assert trained.stop_reason.endswith("batches (not counted as an epoch)")
    assert all(values == [] for values in trained.history.values())
    assert monitor.status_label.text() == f"Training ended after 0 epochs: {trained.stop_reason} · CPU, float32"
    assert 3 <= monitor.batch_progress.value() < monitor.batch_progress.maximum()
    assert monitor.epoch_progress.text().endswith("(part)")
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


def test_a_killed_execution_process_fails_the_learner_and_the_next_run_starts_a_new_one(flagship, run, qtbot):
    import os
    import signal

    window = flagship
    doc = window.document
    batches = slow_training(doc, limit=6000, epochs=20)
    with qtbot.waitSignal(window.runner.finished, timeout=120_000) as finished:
        assert window.execute_all()
        qtbot.waitUntil(lambda: len(batches) >= 3, timeout=90_000)
        first_worker = window.runner.worker_pid
        assert first_worker is not None and first_worker != os.getpid()
        os.kill(first_worker, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    result, _error = finished.args
    learner = doc.workflow.nodes["learner"]
    assert learner.state is NodeState.FAILED and "learner" in result.failed
    assert "the execution process was killed (SIGKILL; out of memory?)" in learner.message
    assert doc.workflow.nodes["train_norm"].state is NodeState.CONFIGURED  # its results died with it
    assert not doc.locked and window.act["execute_all"].isEnabled()
    clock = time.perf_counter()
    qtbot.wait(50)  # the editor still answers: events are processed at once
    assert time.perf_counter() - clock < 1.0

    doc.set_setting("train_reader", "limit", 300)
    doc.set_setting("learner", "epochs", 1)
    assert run().ok
    assert window.runner.worker_pid not in (None, first_worker)
    assert doc.workflow.nodes["scorer"].state is NodeState.EXECUTED


def test_an_execution_process_that_ignores_cancel_is_ended_after_five_seconds(flagship, run, qtbot):
    import os
    import signal

    window = flagship
    doc = window.document
    batches = slow_training(doc, limit=6000, epochs=20)
    with qtbot.waitSignal(window.runner.finished, timeout=60_000) as finished:
        assert window.execute_all()
        qtbot.waitUntil(lambda: len(batches) >= 3, timeout=90_000)
        frozen = window.runner.worker_pid
        os.kill(frozen, signal.SIGSTOP)  # hung: it can no longer answer
        asked = time.perf_counter()
        window.cancel_run()
    waited = time.perf_counter() - asked
    result, _error = finished.args
    assert result.cancelled and 4.5 <= waited < 8.0, waited
    assert doc.workflow.nodes["learner"].state is NodeState.CONFIGURED
    assert not doc.locked
    doc.set_setting("train_reader", "limit", 300)
    doc.set_setting("learner", "epochs", 1)
    assert run().ok and window.runner.worker_pid != frozen


def test_an_execution_process_lost_between_runs_is_reported_and_replaced(flagship, run, qtbot):
    import os
    import signal

    window = flagship
    doc = window.document
    assert run().ok
    with qtbot.waitSignal(window.runner.worker_lost, timeout=30_000) as lost:
        os.kill(window.runner.worker_pid, signal.SIGKILL)
    assert "The execution process was killed" in lost.args[0]
    assert all(item.state is NodeState.CONFIGURED for item in doc.workflow.nodes.values())
    assert any("was killed" in m.text for m in window.messages.messages())
    assert run().ok


def test_the_editor_process_never_imports_tensorflow(tmp_path):
    """Training, scoring and opening result views happen with TensorFlow only in the worker."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["NEUROFLOW_NO_WARMUP"] = "1"
        from PySide6.QtCore import QSettings
        from neuroflow.gui.app import application
        from neuroflow.gui.main_window import MainWindow
        app = application()
        window = MainWindow(settings=QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        window.files.ask_unsaved = lambda: "discard"
        assert window.open_file({str(FLAGSHIP)!r})
        doc = window.document
        for node, name, value in (("train_reader", "limit", 300), ("test_reader", "limit", 100),
                                  ("learner", "epochs", 1), ("writer", "path", {str(tmp_path / "m.keras")!r})):
            doc.set_setting(node, name, value)
        window.show()
        assert window.execute_all()
        assert window.runner.wait(120_000)
        assert window.runs.last_run.ok, window.runs.last_run
        for node in ("scorer", "executor", "learner", "train_reader"):
            assert window.open_view(node) is not None, node
        view = window.results.view_for("train_reader")
        view.panel.panels["images"].gallery.model.pixmap(0)  # pixels fetched from the worker
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print("HEAVY", heavy)
        window.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout, done.stdout
