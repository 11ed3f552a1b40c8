"""The Runs panel: the workflow's run history listed, compared, restored, overlaid and exported."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from neuroflow.gui.history_place import choose_folder
from neuroflow.history import default_store_path, open_store

pytestmark = pytest.mark.gui


def _settings_of(window, **changes):
    """The runs' settings record of the open workflow's learner and dense layer, as the
    recorder writes it, with ``changes`` ({"learner.epochs": 5}) applied."""
    record = {}
    for node_id in ("learner", "dense"):
        item = window.document.workflow.nodes[node_id]
        record[node_id] = {"type": item.type_id, "version": item.node.version,
                           "settings": item.node.settings_json(), "title": item.label}
    for key, value in changes.items():
        node_id, _, name = key.partition(".")
        record[node_id]["settings"][name] = value
    return record


def _record(store, window, *, started, curves, scores=None, fingerprint="training: 300 images", **changes):
    run_id = store.record_run(workflow=str(window.document.path), seed=42, settings=_settings_of(window, **changes),
                              data_fingerprint=fingerprint, started=started)
    for epoch in range(1, 1 + max(len(values) for values in curves.values())):
        store.add_epoch(run_id, epoch, {k: v[epoch - 1] for k, v in curves.items() if len(v) >= epoch})
    store.finish_run(run_id, stop_reason="completed", scores=scores, duration=10.0 * len(curves["loss"]),
                     ended=started + 60)
    return run_id


@pytest.fixture
def history(window, settings, tmp_path):
    """The flagship saved in a project folder, with three runs in its history: ``(window, ids)``.

    Run A: 2 epochs, 100 units, val. accuracy 0.9; run B: 3 epochs, 64 units, 0.85 (so sorting
    the units column as text would put 100 first); run C: 100 units, 0.95, another data set."""
    from tests.gui.conftest import FLAGSHIP

    assert window.open_file(FLAGSHIP)
    saved = tmp_path / "project" / "digits.workflow"
    saved.parent.mkdir()
    assert window.files.save_to(saved)
    choose_folder(settings, str(tmp_path / "histories"))
    with open_store(window.runs_panel.store_file) as store:
        a = _record(store, window, started=1000.0, scores={"accuracy": 0.88},
                    curves={"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8],
                            "val_accuracy": [0.7, 0.9]},
                    **{"learner.epochs": 2, "dense.units": 100})
        b = _record(store, window, started=2000.0, scores={"accuracy": 0.83},
                    curves={"loss": [0.9, 0.3, 0.1], "val_loss": [1.0, 0.5, 0.45], "accuracy": [0.7, 0.85, 0.9],
                            "val_accuracy": [0.75, 0.8, 0.85]},
                    **{"learner.epochs": 3, "dense.units": 64})
        c = _record(store, window, started=3000.0, scores={"accuracy": 0.93}, fingerprint="training: 600 images",
                    curves={"loss": [0.8, 0.2], "val_loss": [0.9, 0.3], "accuracy": [0.8, 0.95],
                            "val_accuracy": [0.85, 0.95]},
                    **{"learner.epochs": 2, "dense.units": 100})
    window.runs_panel.refresh()
    return window, (a, b, c)


def _column(panel, key):
    model, proxy = panel.model, panel.proxy
    column = model.column_of(key)
    return [proxy.index(row, column).data() for row in range(proxy.rowCount())]


def test_the_table_lists_runs_with_the_settings_that_differ_and_sorts_numbers_as_numbers(history):
    window, (a, b, c) = history
    panel = window.runs_panel
    assert panel.stack.currentWidget() is panel.table
    assert _column(panel, "id") == [str(c), str(b), str(a)]  # newest first
    assert panel.model.differing_keys() == ["dense.units", "learner.epochs"]
    headers = [panel.proxy.headerData(i, Qt.Orientation.Horizontal).replace("\n", ".")
               for i in range(panel.proxy.columnCount())]
    dense = window.document.workflow.nodes["dense"].label
    learner = window.document.workflow.nodes["learner"].label
    assert f"{dense}.units" in headers and f"{learner}.epochs" in headers
    assert _column(panel, "dense.units") == ["100", "64", "100"]
    panel.table.sortByColumn(panel.model.column_of("dense.units"), Qt.SortOrder.AscendingOrder)
    assert _column(panel, "dense.units") == ["64", "100", "100"]  # as text, "100" < "64"
    panel.table.sortByColumn(panel.model.column_of("val_accuracy"), Qt.SortOrder.DescendingOrder)
    assert _column(panel, "val_accuracy") == ["95.00 %", "90.00 %", "85.00 %"]
    assert _column(panel, "epochs")[0] == "2"


def test_an_empty_history_says_how_to_fill_it_and_creates_no_file(window, settings, tmp_path):
    choose_folder(settings, str(tmp_path / "histories"))
    panel = window.runs_panel
    panel.refresh()
    assert panel.stack.currentWidget() is panel.empty
    assert "Network Learner" in panel.empty.text()
    assert not (tmp_path / "histories").exists()


def test_restoring_a_runs_settings_is_one_undo_step(history):
    window, (a, b, c) = history
    doc, panel = window.document, window.runs_panel
    nodes = doc.workflow.nodes
    before = (nodes["learner"].node.settings["epochs"], nodes["dense"].node.settings["units"])
    assert before == (3, 100)
    depth = doc.undo_stack.count()
    panel.select_ids([b])
    assert panel.restore_action.isEnabled()
    assert panel.restore_selected()  # run B: 3 epochs (as now), 64 units
    assert nodes["dense"].node.settings["units"] == 64
    panel.select_ids([a])
    assert panel.restore_selected()  # run A: 2 epochs, 100 units: two settings at once
    assert (nodes["learner"].node.settings["epochs"], nodes["dense"].node.settings["units"]) == (2, 100)
    assert doc.undo_stack.count() == depth + 2
    assert doc.undo_stack.undoText() == f"Restore settings from run {a}"
    doc.undo()
    assert (nodes["learner"].node.settings["epochs"], nodes["dense"].node.settings["units"]) == (3, 64)
    doc.undo()
    assert (nodes["learner"].node.settings["epochs"], nodes["dense"].node.settings["units"]) == before
    doc.redo()
    doc.redo()
    assert (nodes["learner"].node.settings["epochs"], nodes["dense"].node.settings["units"]) == (2, 100)


def test_restore_says_when_there_is_nothing_to_change_and_is_disabled_while_executing(history):
    window, (a, _b, _c) = history
    panel = window.runs_panel
    panel.select_ids([a])
    assert panel.restore_selected()
    depth = window.document.undo_stack.count()
    assert not panel.restore_selected()
    assert "already has the settings" in window.statusBar().currentMessage()
    assert window.document.undo_stack.count() == depth
    window.document.set_locked(True)
    try:
        assert not panel.restore_action.isEnabled()
    finally:
        window.document.set_locked(False)
    assert panel.restore_action.isEnabled()


def test_settings_that_cannot_be_restored_are_warnings(history):
    window, _ids = history
    with open_store(window.runs_panel.store_file) as store:
        record = _settings_of(window, **{"dense.units": 32})
        record["gone"] = {"type": "neuroflow.layers.dense", "version": 1, "settings": {"units": 5}, "title": "Old"}
        run_id = store.record_run(workflow=str(window.document.path), settings=record, started=4000.0)
        store.finish_run(run_id, stop_reason="completed", ended=4010.0)
    panel = window.runs_panel
    panel.refresh()
    panel.select_ids([run_id])
    assert panel.restore_selected()
    assert window.document.workflow.nodes["dense"].node.settings["units"] == 32
    warnings = [m.text for m in window.messages.messages() if m.level == "warning"]
    assert any("Old: not in the workflow any more" in text for text in warnings), warnings


def test_set_settings_refuses_an_invalid_value_and_changes_nothing(history):
    window, _ids = history
    doc = window.document
    depth = doc.undo_stack.count()
    refused = []
    doc.refused.connect(lambda text, _node: refused.append(text))
    assert not doc.set_settings([("dense", "units", 64), ("learner", "epochs", -5)], "Sweep point")
    assert doc.workflow.nodes["dense"].node.settings["units"] == 100
    assert doc.undo_stack.count() == depth and refused


def test_two_selected_runs_are_drawn_over_each_other_in_the_monitor(history):
    window, (a, b, _c) = history
    panel, monitor = window.runs_panel, window.ensure_monitor()
    panel.select_ids([a, b])
    assert monitor.showing_runs
    drawn = monitor.overlay_curves()
    name_a, name_b = f"#{a}", f"#{b}"
    np.testing.assert_allclose(drawn[(name_a, "val_loss")][1], [1.1, 0.6])
    np.testing.assert_allclose(drawn[(name_b, "val_loss")][1], [1.0, 0.5, 0.45])
    np.testing.assert_allclose(drawn[(name_b, "accuracy")][0], [1, 2, 3])
    np.testing.assert_allclose(drawn[(name_a, "val_accuracy")][1], [0.7, 0.9])
    pens = {item.run_name: item.opts["pen"].color().name() for item in monitor.loss_chart.overlay}
    assert pens[name_a] != pens[name_b]
    assert panel.diff_table.rowCount() == 3  # units, epochs, data
    assert "2 settings differ" in panel.diff_summary.text() and "same data" in panel.diff_summary.text()
    panel.select_ids([b])  # one run: its curves alone
    assert {run for run, _ in monitor.overlay_curves()} == {name_b}
    panel.select_ids([])
    assert not monitor.showing_runs


def test_the_data_fingerprint_difference_is_shown(history):
    window, (a, _b, c) = history
    panel = window.runs_panel
    panel.select_ids([a, c])
    assert "the data differs" in panel.diff_summary.text()
    last = panel.diff_table.rowCount() - 1
    assert panel.diff_table.item(last, 0).text() == "Data"
    assert {panel.diff_table.item(last, 1).text(), panel.diff_table.item(last, 2).text()} == {
        "training: 300 images", "training: 600 images"}


def test_the_loss_axis_switches_to_a_log_scale(history):
    window, (a, b, _c) = history
    monitor = window.ensure_monitor()
    window.runs_panel.select_ids([a, b])
    chart = monitor.loss_chart
    monitor.log_scale.setChecked(True)
    assert chart.getPlotItem().ctrl.logYCheck.isChecked()
    low, high = chart.getPlotItem().viewRange()[1]
    # Values 0.1 .. 1.1 on a log axis: the view spans about -1 .. 0.04 decades.
    assert low < math.log10(0.1) and math.log10(1.1) < high < 1
    x, y = chart.overlay[0].getData()
    assert np.all(y < 0.1)  # drawn in decades
    monitor.log_scale.setChecked(False)
    assert chart.getPlotItem().viewRange()[1][0] <= 0.0


def test_label_star_and_delete_are_kept_in_the_store(history, qtbot):
    from PySide6.QtWidgets import QLineEdit

    window, (a, b, c) = history
    panel = window.runs_panel
    window.runs_dock.show()
    window.runs_dock.raise_()
    panel.select_ids([a])
    panel.edit_label()  # as F2 does: an editor opens in the label cell
    editor = panel.table.findChild(QLineEdit)
    assert editor is not None
    editor.setText("  baseline ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "baseline" in _column(panel, "label"))
    panel.select_ids([a, b])
    panel.toggle_star()
    panel.confirm = lambda title, text: False
    panel.select_ids([c])
    panel.delete_selected()
    panel.confirm = lambda title, text: True
    panel.delete_selected()
    with open_store(panel.store_file) as store:
        runs = {run.id: run for run in store.list_runs()}
    assert set(runs) == {a, b}
    assert runs[a].label == "baseline" and runs[a].starred and runs[b].starred
    assert _column(panel, "label") == ["", "baseline"]
    assert _column(panel, "star") == ["★", "★"]


def test_the_runs_and_their_curves_export_to_csv(history, tmp_path):
    window, (a, b, c) = history
    panel = window.runs_panel
    panel.ask_save_path = lambda caption, name: str(tmp_path / name)
    path = panel.export_runs()
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(row["id"]) for row in rows] == [c, b, a]
    assert [row["dense.units"] for row in rows] == ["100", "64", "100"]
    assert float(rows[1]["best_val_accuracy"]) == pytest.approx(0.85)
    assert rows[0]["test_accuracy"] == "0.93" and rows[0]["state"] == "finished"
    panel.select_ids([a, b])
    path = panel.export_curves()
    with open(path, newline="", encoding="utf-8") as stream:
        points = list(csv.DictReader(stream))
    assert {int(p["run_id"]) for p in points} == {a, b}
    val_loss_b = [float(p["value"]) for p in points if p["metric"] == "val_loss" and int(p["run_id"]) == b]
    assert val_loss_b == [1.0, 0.5, 0.45]


@pytest.mark.slow
def test_the_panel_lists_a_run_made_in_the_editor(flagship, run, qtbot, settings, tmp_path):
    window = flagship
    saved = tmp_path / "project" / "digits.workflow"
    saved.parent.mkdir()
    assert window.files.save_to(saved)
    choose_folder(settings, str(tmp_path / "histories"))
    panel = window.runs_panel
    panel.refresh()
    assert panel.model.rowCount() == 0
    with qtbot.waitSignal(window.runner.runs_recorded, timeout=120_000) as recorded:
        assert run().ok
    run_id = recorded.args[1][0]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    assert _column(panel, "id") == [str(run_id)] and _column(panel, "state") == ["completed"]
    assert _column(panel, "epochs") == ["1"]
    panel.select_ids([run_id])
    drawn = window.ensure_monitor().overlay_curves()
    assert (f"#{run_id}", "loss") in drawn and drawn[(f"#{run_id}", "loss")][0].tolist() == [1.0]


def test_a_run_in_progress_appears_and_grows_while_it_trains(history, qtbot):
    from neuroflow.core.events import EpochEnded, TrainingStarted

    window, ids = history
    panel = window.runs_panel
    with open_store(panel.store_file) as store:  # as the execution process records a training
        running = store.record_run(workflow=str(window.document.path), settings=_settings_of(window),
                                   started=5000.0)
    window.document.core_event.emit(TrainingStarted("learner", 3, 10, 300))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4, timeout=5_000)
    row = panel.model.row_of(running)
    state = panel.model.index(row, panel.model.column_of("state"))
    assert state.data() == "running"  # this process recorded it and is alive
    epochs = panel.model.index(row, panel.model.column_of("epochs"))
    assert epochs.data() == "0"
    panel.select_ids([running, ids[0]])
    with open_store(panel.store_file) as store:
        store.add_epoch(running, 1, {"loss": 0.7, "val_loss": 0.8})
    window.document.core_event.emit(EpochEnded("learner", 1, 3, {"loss": 0.7, "val_loss": 0.8}))
    qtbot.waitUntil(lambda: panel.model.index(panel.model.row_of(running), panel.model.column_of("epochs"))
                    .data() == "1", timeout=5_000)
    drawn = window.ensure_monitor().overlay_curves()  # the compared running run's curve grew too
    np.testing.assert_allclose(drawn[(f"#{running}", "val_loss")][1], [0.8])
    panel.confirm = lambda title, text: True
    panel.select_ids([running])
    panel.delete_selected()  # still training: kept
    assert panel.model.row_of(running) is not None
    assert "still training" in window.statusBar().currentMessage()


def test_log_ticks_label_one_two_and_five_times_each_decade():
    from neuroflow.gui.monitor_charts import log_ticks

    major, minor = log_ticks(-1.5, 0.5)
    assert [label for _, label in major] == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    assert all(label == "" for _, label in minor) and len(minor) == 12


def test_a_training_goes_on_behind_compared_runs_and_comes_back(qtbot):
    from neuroflow.core.events import EpochEnded, TrainingStarted
    from neuroflow.gui.monitor import TrainingMonitor

    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.handle_event(TrainingStarted("learner", 3, 10, 300))
    monitor.handle_event(EpochEnded("learner", 1, 3, {"loss": 0.9, "val_loss": 1.0}))
    monitor.show_runs([("#1", {"loss": [(1, 0.5), (2, 0.4)]})])
    assert not monitor.loss_chart.train.isVisible() and monitor.live_button.isVisibleTo(monitor)
    monitor.handle_event(EpochEnded("learner", 2, 3, {"loss": 0.6, "val_loss": 0.7}))
    monitor.flush()
    assert monitor.status_label.text() == "Run #1"
    monitor.live_button.click()
    assert not monitor.showing_runs and monitor.loss_chart.train.isVisible()
    np.testing.assert_allclose(monitor.curves()["val_loss"][1], [1.0, 0.7])
    assert monitor.status_label.text().startswith("Training")


def test_the_history_folder_can_be_chosen_and_given_back(history, settings, tmp_path):
    window, _ids = history
    panel = window.runs_panel
    panel.ask_folder = lambda: str(tmp_path / "elsewhere")
    panel.choose_folder()
    assert panel.store_file == tmp_path / "elsewhere" / "digits.runs.sqlite"
    assert panel.stack.currentWidget() is panel.empty  # nothing recorded there yet
    panel.default_folder()  # the tests' $NEUROFLOW_RUNS_DIR, beside the workflow without it
    assert panel.store_file == default_store_path(tmp_path / "project" / "digits.workflow")
    assert not settings.value("history/folder")
