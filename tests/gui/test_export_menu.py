"""File ▸ Export ▸ Python script… writes the open workflow's script, without TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import FLAGSHIP


def _export_action(window):
    file_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&File")
    export_menu = next(action.menu() for action in file_menu.actions() if action.text() == "&Export")
    return next(action for action in export_menu.actions() if action.text() == "&Python script…")


def test_the_menu_entry_writes_the_script_of_the_open_workflow(window, tmp_path: Path) -> None:
    assert window.open_file(FLAGSHIP)
    window.document.set_setting("learner", "epochs", 7)  # an unsaved edit: the script follows the editor
    out = tmp_path / "flagship.py"
    window.script_export.ask_path = lambda: str(out)
    _export_action(window).trigger()
    text = out.read_text(encoding="utf-8")
    assert "epochs = args.epochs or 7" in text
    assert f"Workflow: {FLAGSHIP}" in text and "def build_model(" in text
    compile(text, str(out), "exec")
    assert "Exported flagship.py" in window.statusBar().currentMessage()
    assert window.document.modified and window.document.path == FLAGSHIP  # exporting is not saving
    assert "tensorflow" not in sys.modules


def test_a_workflow_that_cannot_be_exported_says_why(window, tmp_path: Path) -> None:
    assert window.open_file(FLAGSHIP)
    window.document.set_setting("train_reader", "data_folder", str(tmp_path / "nowhere"))
    out = tmp_path / "never.py"
    window.script_export.ask_path = lambda: str(out)
    _export_action(window).trigger()
    assert not out.exists()
    assert window.statusBar().currentMessage().startswith("Cannot export: 'MNIST train' (train_reader): data folder")
