"""Executing in the editor records each training in the workflow's run history."""

from __future__ import annotations

import pytest

from neuroflow.gui.history_place import choose_folder
from neuroflow.history import open_store

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_a_training_in_the_editor_becomes_a_run_in_the_chosen_folder(flagship, run, qtbot, settings, tmp_path):
    window = flagship
    saved = tmp_path / "project" / "digits.workflow"
    saved.parent.mkdir()
    assert window.files.save_to(saved)
    choose_folder(settings, str(tmp_path / "histories"))
    with qtbot.waitSignal(window.runner.runs_recorded, timeout=120_000) as recorded:
        assert run().ok
    store_file, run_ids = recorded.args
    assert store_file == str(tmp_path / "histories" / "digits.runs.sqlite") and len(run_ids) == 1
    with open_store(store_file) as store:
        recorded_run = store.get_run(run_ids[0])
    assert recorded_run.workflow == str(saved.resolve()) and recorded_run.stop_reason == "completed"
    assert recorded_run.settings["learner"]["settings"]["epochs"] == 1
    assert recorded_run.scores is not None and 0.0 <= recorded_run.scores["accuracy"] <= 1.0
    assert recorded_run.model_path == str(tmp_path / "model.keras")
    assert recorded_run.data_fingerprint.startswith("training: 300 images")
    assert [epoch for epoch, _ in recorded_run.curves["loss"]] == [1]


def test_a_history_that_cannot_be_opened_is_a_warning_and_the_run_goes_on(flagship, run, settings, tmp_path):
    window = flagship
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    choose_folder(settings, str(blocker / "histories"))
    assert run().ok
    warnings = [m.text for m in window.messages.messages() if m.level == "warning"]
    assert any("not recorded" in text for text in warnings), warnings
