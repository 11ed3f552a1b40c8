"""GUI tests run offscreen, never touch the user's settings and never warm TensorFlow up."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NEUROFLOW_NO_WARMUP", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")

REPO = Path(__file__).resolve().parents[2]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


@pytest.fixture
def settings(tmp_path: Path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "neuroflow-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """The editor window, shown offscreen; answers "discard" to unsaved-changes questions."""
    from PySide6.QtWidgets import QApplication

    from neuroflow.gui import theme
    from neuroflow.gui.main_window import MainWindow

    theme.apply(QApplication.instance())
    win = MainWindow(settings=settings)
    win.files.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    win.files.alert = lambda title, text: None  # type: ignore[method-assign]
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.runner.running:
        win.runner.cancel()
        win.runner.wait(60_000)


@pytest.fixture
def flagship(window, tmp_path):
    """The flagship workflow opened in the window, cut down to a few seconds of training."""
    assert window.open_file(FLAGSHIP)
    doc = window.document
    doc.set_setting("train_reader", "limit", 300)
    doc.set_setting("test_reader", "limit", 200)
    doc.set_setting("learner", "epochs", 1)
    doc.set_setting("writer", "path", str(tmp_path / "model.keras"))
    doc.set_setting("writer", "overwrite", True)
    return window


@pytest.fixture
def run(qtbot, window):
    """``run(targets=None)``: execute and wait for the runner's ``finished``; the RunResult."""

    def run_and_wait(targets=None, timeout=120_000):
        with qtbot.waitSignal(window.runner.finished, timeout=timeout) as blocker:
            started = window.execute_all() if targets is None else window.runs.execute(list(targets))
            assert started
        result, error = blocker.args
        assert not error, error
        return result

    return run_and_wait


def pytest_sessionfinish(session, exitstatus) -> None:
    """Empty the clipboard while Qt is still alive.

    A copy test leaves NeuroFlow nodes on the clipboard; if the clipboard's data outlives the
    interpreter's teardown of Qt, the offscreen platform crashes on exit.
    """
    import sys

    if "PySide6.QtGui" not in sys.modules:
        return
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()
