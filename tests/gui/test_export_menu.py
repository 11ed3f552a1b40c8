"""File ▸ Export ▸ Python script… writes the open workflow's script, without TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
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


def test_exporting_from_the_editor_imports_no_tensorflow(tmp_path: Path) -> None:
    """In a fresh editor process: other tests of this session may have imported TensorFlow."""
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtWidgets import QApplication
        from neuroflow.gui.main_window import MainWindow
        from PySide6.QtCore import QSettings
        app = QApplication([])
        window = MainWindow(settings=QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        assert window.open_file({str(FLAGSHIP)!r})
        window.script_export.ask_path = lambda: {str(tmp_path / "out.py")!r}
        window.script_export.export()
        assert "def build_model(" in open({str(tmp_path / "out.py")!r}).read()
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy
        """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NEUROFLOW_NO_WARMUP="1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_workflow_that_cannot_be_exported_says_why(window, tmp_path: Path) -> None:
    assert window.open_file(FLAGSHIP)
    window.document.set_setting("train_reader", "data_folder", str(tmp_path / "nowhere"))
    out = tmp_path / "never.py"
    window.script_export.ask_path = lambda: str(out)
    _export_action(window).trigger()
    assert not out.exists()
    assert window.statusBar().currentMessage().startswith("Cannot export: 'MNIST train' (train_reader): data folder")
