"""The Sweep dialog with the real ``neuroflow sweep``: trials run, land in the Runs panel of
the history folder the editor chose, and the best trial's settings come back as one undo step."""

from __future__ import annotations

import pytest

from neuroflow.gui.history_place import choose_folder
from neuroflow.gui.sweep_process import DONE
from neuroflow.history import open_store

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_a_sweep_from_the_editor_fills_the_runs_panel(flagship, qtbot, settings, tmp_path):
    window = flagship
    saved = tmp_path / "project" / "digits.workflow"
    saved.parent.mkdir()
    assert window.files.save_to(saved)
    choose_folder(settings, str(tmp_path / "histories"))
    dialog = window.open_sweep("learner")
    dialog.confirm_stop = lambda: True
    assert [row.candidate.name for row in dialog.params.param_rows] == ["learner.learning_rate"]
    dialog.options.trials.setValue(2)
    assert "--runs-dir" in dialog.arguments()
    with qtbot.waitSignal(dialog.process.ended, timeout=300_000) as ended:
        assert dialog.start()
    assert tuple(ended.args) == (DONE, ""), ended.args
    assert [t.state for t in dialog.state.trials.values()] == ["complete", "complete"]

    with open_store(tmp_path / "histories" / "digits.runs.sqlite") as store:
        runs = store.list_runs()
    assert sorted(run.label for run in runs) == ["sweep digits #0", "sweep digits #1"]
    assert (tmp_path / "histories" / "digits.sweeps.sqlite").exists()
    panel = window.runs_panel
    panel.refresh()
    assert sorted(panel.shown_ids()) == sorted(run.id for run in runs)

    best = dialog.state.trials[dialog.state.best]
    before = window.document.workflow.nodes["learner"].node["learning_rate"]
    assert dialog.apply_best()
    assert window.document.workflow.nodes["learner"].node["learning_rate"] == pytest.approx(
        best.params["learner.learning_rate"])
    window.document.undo()
    assert window.document.workflow.nodes["learner"].node["learning_rate"] == before
