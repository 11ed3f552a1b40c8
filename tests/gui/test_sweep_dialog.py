"""The Sweep dialog against the sweep contract, driven by a fake ``neuroflow sweep`` script.

The real command lives elsewhere; ``fake_sweep.py`` takes the same arguments and prints the
contract's ``--json`` lines (or an error, a traceback, a hang), so these tests cover what the
editor does with them: the form's command line, the live table and charts, Stop, failures
shown in one line, and applying the best trial as one undo step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from neuroflow.gui import sweep_params as sp
from neuroflow.gui.document import Document
from neuroflow.gui.sweep_dialog import SweepDialog
from neuroflow.gui.sweep_process import DONE, FAILED, STOPPED

pytestmark = pytest.mark.gui

FAKE = Path(__file__).with_name("fake_sweep.py")
FLAGSHIP = Path(__file__).resolve().parents[2] / "workflows" / "mnist_cnn.workflow"


def fake(mode: str) -> list[str]:
    return [sys.executable, str(FAKE), "--mode", mode]


@pytest.fixture
def document(qtbot, tmp_path) -> Document:
    path = tmp_path / "mnist_cnn.workflow"
    shutil.copy(FLAGSHIP, path)
    doc = Document()
    doc.open(path)
    return doc


def make_dialog(qtbot, document: Document, mode: str = "ok", **options) -> SweepDialog:
    dialog = SweepDialog(document, "learner", command=fake(mode), **options)
    dialog.confirm_stop = lambda: True  # type: ignore[method-assign]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def run_to_end(qtbot, dialog: SweepDialog, timeout: int = 20_000) -> tuple[str, str]:
    with qtbot.waitSignal(dialog.process.ended, timeout=timeout) as blocker:
        assert dialog.start()
    return tuple(blocker.args)  # type: ignore[return-value]


def add(dialog: SweepDialog, name: str, kind: str | None = None, values: str | None = None):
    """Add a row for ``node.setting`` and optionally switch its kind and type its values."""
    candidate = next(c for c in dialog.params.choices if c.name == name)
    row = dialog.params.add_row(candidate)
    assert row is not None
    if kind is not None:
        row.kind.setCurrentIndex(row.kind.findData(kind))
    if values is not None:
        row.values.setText(values)
    return row


def test_the_form_becomes_the_exact_command_line(qtbot, document):
    dialog = make_dialog(qtbot, document)
    first = dialog.params.param_rows[0]
    assert (first.candidate.name, first.kind.currentData()) == ("learner.learning_rate", sp.LOG)
    assert (first.low.text(), first.high.text()) == ("0.0001", "0.01")  # current 0.001 / 10 .. * 10
    first.low.setText("1e-5")
    add(dialog, "dense.units", sp.VALUES, "64, 128,256")
    add(dialog, "learner.optimizer", values="adam,sgd")
    epochs = add(dialog, "learner.epochs")
    epochs.low.setText("1")
    epochs.high.setText("3")
    dialog.options.trials.setValue(4)
    dialog.options.sampler.setCurrentIndex(dialog.options.sampler.findData("random"))
    dialog.options.prune.setChecked(True)
    dialog.options.metric_box.setCurrentIndex(dialog.options.metric_box.findData("val_loss"))
    dialog.options.study.setText("lr study")
    dialog.options.study.setModified(True)
    assert dialog.start_button.isEnabled()
    assert dialog.arguments() == [
        "sweep", str(document.path), "--json",
        "--param", "learner.learning_rate=log:1e-05..0.01",
        "--param", "dense.units=64,128,256",
        "--param", "learner.optimizer=adam,sgd",
        "--param", "learner.epochs=1..3",
        "--trials", "4", "--sampler", "random", "--prune", "--metric", "val_loss",
        "--study", "lr study",
    ]
    # The flagship validates (10 % split) and has a Scorer: the contract's default comes first.
    assert dialog.options.metric_box.itemData(0) == "val_accuracy"
    assert "test_accuracy" in [dialog.options.metric_box.itemData(i) for i in range(dialog.options.metric_box.count())]
    # An RDB URL the user types goes out as typed; the default one is left to the command.
    assert dialog.options.storage.text() == sp.default_storage(document.path)
    dialog.options.storage.setText("postgresql://db.example/sweeps")
    assert dialog.arguments()[-4:] == ["--storage", "postgresql://db.example/sweeps", "--study", "lr study"]


def test_a_bad_row_turns_red_says_why_and_disables_start(qtbot, document):
    dialog = make_dialog(qtbot, document)
    row = dialog.params.param_rows[0]
    assert dialog.start_button.isEnabled()
    row.low.setText("fast")
    assert not dialog.start_button.isEnabled()
    assert row.low.property("invalid") is True and row.high.property("invalid") is False
    assert row.error.isVisibleTo(dialog) and "fast" in row.error.text()
    row.low.setText("0.1")  # above the highest value
    assert not dialog.start_button.isEnabled()
    assert row.high.property("invalid") is True and "below the highest" in row.error.text()
    row.low.setText("0.0005")
    assert dialog.start_button.isEnabled() and not row.error.isVisibleTo(dialog)
    units = add(dialog, "dense.units", sp.VALUES, "64,0")  # 0 units is out of the setting's range
    assert not dialog.start_button.isEnabled() and units.values.property("invalid") is True
    units.values.setText("64,128")
    assert dialog.start_button.isEnabled()
    add(dialog, "dense.units")  # the same setting twice
    assert not dialog.start_button.isEnabled()
    dialog.options.storage.setText("not a url")
    assert dialog.options.storage.property("invalid") is True


def test_trials_fill_the_table_and_both_charts_and_the_best_is_marked(qtbot, document):
    dialog = make_dialog(qtbot, document, mode="mixed")
    add(dialog, "dense.units", sp.VALUES, "64,128,256")
    add(dialog, "learner.optimizer", values="adam,sgd")
    dialog.options.trials.setValue(6)
    outcome, message = run_to_end(qtbot, dialog)
    assert (outcome, message) == (DONE, "")
    table = dialog.table
    assert table.rowCount() == 6
    states = [table.item(r, 1).text() for r in range(6)]
    assert states == ["complete", "complete", "pruned", "failed", "complete", "complete"]
    # fake values: 0.8 + (37 n mod 10) / 100 -> 0.80 0.87 (0.84 pruned) (failed) 0.88 0.85
    trials = dialog.state.trials
    best = max((t for t in trials.values() if t.state == "complete"), key=lambda t: t.value)
    assert dialog.state.best == best.number == 4
    row = dialog.best_row()
    assert table.item(row, 0).text().startswith("★") and table.item(row, 0).font().bold()
    assert sum(table.item(r, 0).text().startswith("★") for r in range(6)) == 1
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:5] == ["#", "state", "Learning rate", "Dense 100: Units", "Optimizer"]
    assert table.item(row, 4).text() == trials[4].params["learner.optimizer"]
    assert table.item(row, 5).text() == "0.88" and table.item(row, 6).text() == "2"
    values = dialog.charts.values
    assert values.point_count() == 6
    assert (values.point_count("complete"), values.point_count("pruned"), values.point_count("failed")) == (4, 1, 1)
    assert dialog.charts.parallel.line_count() == 6
    assert "6 complete" not in dialog.status.text() and "4 complete, 1 pruned, 1 failed" in dialog.status.text()
    assert dialog.apply_button.isEnabled()


def test_parallel_axes_are_normalised_to_each_range_with_log_params_on_a_log_axis():
    from neuroflow.gui.sweep_plots import position, ticks

    log = {"name": "lr", "kind": "log", "low": 1e-4, "high": 1e-2}
    assert position(log, 1e-3, []) == pytest.approx(0.5)
    assert ticks(log, []) == [1e-4, 1e-3, 1e-2]
    linear = {"name": "rate", "kind": "float", "low": 0.1, "high": 0.5}
    assert position(linear, 0.2, []) == pytest.approx(0.25)
    choice = {"name": "units", "kind": "choice", "choices": [64, 128, 256]}
    assert [position(choice, v, []) for v in (64, 128, 256)] == [0.0, 0.5, 1.0]


def test_apply_best_is_one_undo_step_and_undo_restores_the_old_values(qtbot, document):
    dialog = make_dialog(qtbot, document)
    add(dialog, "dense.units", sp.VALUES, "64,128,256")
    add(dialog, "learner.optimizer", values="adam,sgd")
    dialog.options.trials.setValue(3)
    assert run_to_end(qtbot, dialog)[0] == DONE
    workflow = document.workflow
    before = {k: workflow.nodes[n].node.settings[s] for k, (n, s) in
              {"lr": ("learner", "learning_rate"), "units": ("dense", "units"),
               "opt": ("learner", "optimizer")}.items()}
    steps = document.undo_stack.count()
    best = dialog.state.best_params
    assert dialog.apply_best()
    assert document.undo_stack.count() == steps + 1
    assert document.undo_stack.undoText() == f"Apply sweep trial #{dialog.state.best}"
    assert workflow.nodes["learner"].node.settings["learning_rate"] == pytest.approx(best["learner.learning_rate"])
    assert workflow.nodes["dense"].node.settings["units"] == best["dense.units"]
    assert workflow.nodes["learner"].node.settings["optimizer"] == best["learner.optimizer"]
    assert before["units"] != best["dense.units"]  # the step really changed something
    document.undo()
    after = {"lr": workflow.nodes["learner"].node.settings["learning_rate"],
             "units": workflow.nodes["dense"].node.settings["units"],
             "opt": workflow.nodes["learner"].node.settings["optimizer"]}
    assert after == before
    assert document.undo_stack.count() == steps + 1 and document.undo_stack.index() == steps


def test_set_settings_refuses_a_bad_value_whole(qtbot, document):
    refused = []
    document.refused.connect(lambda text, node: refused.append(text))
    workflow = document.workflow
    assert not document.set_settings([("dense", "units", 32), ("learner", "epochs", -1)], "Restore run 3")
    assert workflow.nodes["dense"].node.settings["units"] == 100 and document.undo_stack.count() == 0
    assert refused and "Restore run 3" in refused[0] and "epochs" in refused[0]
    assert document.set_settings([("dense", "units", 32.0), ("learner", "epochs", 2)], "Restore run 3")
    assert workflow.nodes["dense"].node.settings["units"] == 32 and document.undo_stack.count() == 1
    document.undo()
    assert workflow.nodes["dense"].node.settings["units"] == 100
    assert workflow.nodes["learner"].node.settings["epochs"] == 3


def test_stop_ends_the_process_and_says_so(qtbot, document):
    dialog = make_dialog(qtbot, document, mode="hang")
    dialog.process.grace_ms = 2_000
    with qtbot.waitSignal(dialog.process.received, timeout=10_000,
                          check_params_cb=lambda e: e.get("event") == "trial"):
        assert dialog.start()
    pid = dialog.process.pid
    assert dialog.stop_button.isEnabled() and not dialog.start_button.isEnabled()
    assert not dialog.params.param_rows[0].low.isEnabled()  # the form is frozen while it runs
    with qtbot.waitSignal(dialog.process.ended, timeout=10_000) as blocker:
        dialog.stop_button.click()
    assert blocker.args[0] == STOPPED
    assert not dialog.running and "Stopped" in dialog.status.text()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert dialog.table.item(0, 1).text() == "ended"
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()


def test_a_sweep_deaf_to_terminate_is_killed_after_the_grace_period(qtbot, document):
    dialog = make_dialog(qtbot, document, mode="stubborn")
    dialog.process.grace_ms = 300
    with qtbot.waitSignal(dialog.process.received, timeout=10_000,
                          check_params_cb=lambda e: e.get("event") == "trial"):
        assert dialog.start()
    started = time.monotonic()
    with qtbot.waitSignal(dialog.process.ended, timeout=10_000) as blocker:
        dialog.stop()
    assert blocker.args[0] == STOPPED and not dialog.running
    assert time.monotonic() - started >= 0.25  # it took the kill, not the terminate


def test_the_dialog_imports_neither_tensorflow_nor_optuna():
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtWidgets import QApplication
        from neuroflow.gui.document import Document
        from neuroflow.gui.sweep_dialog import SweepDialog
        app = QApplication([])
        doc = Document()
        doc.open({str(FLAGSHIP)!r})
        dialog = SweepDialog(doc, "learner")
        dialog.show()
        app.processEvents()
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "optuna"))
        assert not heavy, heavy
        """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("mode", "expected"), [
    ("error", "dense.units: 5000 is out of range (1 to 4096)"),
    ("die", "RuntimeError: the sweep broke"),
])
def test_a_failed_sweep_shows_one_clear_line(qtbot, document, mode, expected):
    dialog = make_dialog(qtbot, document, mode=mode)
    outcome, message = run_to_end(qtbot, dialog)
    assert (outcome, message) == (FAILED, expected)
    assert dialog.status.text() == expected
    assert "Traceback" not in dialog.status.text() and "\n" not in dialog.status.text()
    assert dialog.status.objectName() == "failure"


def test_a_command_that_cannot_start_is_one_line(qtbot, document, tmp_path):
    dialog = SweepDialog(document, "learner", command=[str(tmp_path / "no-such-program")])
    qtbot.addWidget(dialog)
    outcome, message = run_to_end(qtbot, dialog)
    assert outcome == FAILED and message.startswith("Cannot start the sweep") and "\n" not in message


def test_unsaved_changes_are_said_and_start_offers_to_save(qtbot, document):
    dialog = make_dialog(qtbot, document)
    assert not dialog.unsaved.isVisibleTo(dialog)
    document.set_setting("learner", "epochs", 1)
    assert dialog.unsaved.isVisibleTo(dialog) and "unsaved" in dialog.unsaved.text()
    dialog.ask_save = lambda: False  # type: ignore[method-assign]  # Cancel
    assert not dialog.start() and not dialog.running and "not saved" in dialog.status.text()
    dialog.ask_save = lambda: True  # type: ignore[method-assign]  # Save
    with qtbot.waitSignal(dialog.process.ended, timeout=20_000):
        assert dialog.start()
    assert not document.modified and not dialog.unsaved.isVisibleTo(dialog)
    assert '"epochs": 1' in document.path.read_text()


def test_the_run_menu_and_the_canvas_menu_open_the_sweep_of_the_learner(qtbot, window, tmp_path):
    path = tmp_path / "mnist_cnn.workflow"
    shutil.copy(FLAGSHIP, path)
    assert window.open_file(path)
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    assert window.act["sweep"] in run_menu.actions()
    from neuroflow.gui import nodegraph

    assert window.act["sweep"] in nodegraph.graph_menu(window.canvas.graph).actions()
    window.canvas.select(["learner"])
    window.act["sweep"].trigger()
    dialog = window.sweep_dialogs["learner"]
    assert dialog.isVisible() and dialog.params.param_rows[0].candidate.name == "learner.learning_rate"
    window.act["sweep"].trigger()  # the same dialog comes back
    assert list(window.sweep_dialogs.values()) == [dialog]


def test_closing_the_editor_ends_a_running_sweep(qtbot, window, tmp_path):
    path = tmp_path / "mnist_cnn.workflow"
    shutil.copy(FLAGSHIP, path)
    assert window.open_file(path)
    dialog = window.open_sweep("learner", command=fake("hang"))
    with qtbot.waitSignal(dialog.process.received, timeout=10_000,
                          check_params_cb=lambda e: e.get("event") == "trial"):
        assert dialog.start()
    pid = dialog.process.pid
    window.close()
    assert not dialog.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
