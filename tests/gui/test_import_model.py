"""File > Import Model…: a Keras model file becomes an opened workflow of layer nodes, in the
editor's process and without TensorFlow; an unsupported model is one line in Messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from keras2_files import write_small_keras2_cnn  # noqa: E402

from neuroflow.gui.model_import import ImportRequest  # noqa: E402


def test_import_model_opens_the_imported_workflow(window, tmp_path: Path) -> None:
    model = tmp_path / "small.h5"
    write_small_keras2_cnn(model)
    out = tmp_path / "small.workflow"
    window.model_import.ask = lambda: ImportRequest(model, out, True)  # type: ignore[method-assign]
    assert window.act["import_model"].isEnabled()
    window.act["import_model"].trigger()
    doc = window.document
    assert doc.path is not None and doc.path.resolve() == out.resolve() and out.is_file()
    nodes = doc.workflow.nodes
    assert set(nodes) == {"conv2d_1_input", "conv2d_1", "flatten_1", "dense_1", "learner"}
    assert nodes["conv2d_1"].node["filters"] == 4 and nodes["dense_1"].node["units"] == 3
    assert nodes["learner"].node["initial_weights"] == "small.h5"
    assert nodes["dense_1"].specs["network"].total_params == 40 + 1203
    assert not doc.modified
    assert "Imported 4 layers" in window.statusBar().currentMessage()


def test_an_unsupported_layer_is_one_line_in_messages(window, tmp_path: Path) -> None:
    model = tmp_path / "noisy.h5"
    write_small_keras2_cnn(model, extra_layer={"class_name": "GaussianNoise",
                                               "config": {"name": "noise", "stddev": 0.1}})
    window.model_import.ask = lambda: ImportRequest(model, tmp_path / "noisy.workflow", False)  # type: ignore[method-assign]
    before = set(window.document.workflow.nodes)
    window.act["import_model"].trigger()
    assert set(window.document.workflow.nodes) == before
    assert not (tmp_path / "noisy.workflow").exists()
    text = window.messages.log[0].text
    assert window.messages.log[0].level == "error"
    assert "'noise' (GaussianNoise)" in text and "\n" not in text


def test_the_editor_imports_without_tensorflow(tmp_path: Path) -> None:
    model = tmp_path / "small.h5"
    write_small_keras2_cnn(model)
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["NEUROFLOW_NO_WARMUP"] = "1"
        from pathlib import Path
        from PySide6.QtCore import QSettings
        from neuroflow.gui.app import application
        from neuroflow.gui.main_window import MainWindow
        from neuroflow.gui.model_import import ImportRequest
        app = application()
        window = MainWindow(settings=QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        request = ImportRequest(Path({str(model)!r}), Path({str(tmp_path / "small.workflow")!r}), True)
        window.model_import.ask = lambda: request
        window.act["import_model"].trigger()
        print("NODES", len(window.document.workflow.nodes))
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print("HEAVY", heavy)
        window.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "NODES 5" in done.stdout and "HEAVY []" in done.stdout, done.stdout


def test_the_dialog_proposes_the_workflow_beside_the_model(qtbot, tmp_path: Path) -> None:
    from neuroflow.gui.model_import import ImportModelDialog

    dialog = ImportModelDialog(None, tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.request() is None  # nothing chosen yet
    dialog.model.setText(str(tmp_path / "net.h5"))
    assert dialog.request() == ImportRequest(tmp_path / "net.h5", tmp_path / "net.workflow", True)
    dialog.weights.setChecked(False)
    assert dialog.request().weights is False
