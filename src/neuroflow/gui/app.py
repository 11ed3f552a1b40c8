"""Starting the editor: ``neuroflow`` and ``neuroflow FILE.workflow`` end up in :func:`launch`.

Start-up stays light - Qt, NodeGraphQt, the node registry and the window, never TensorFlow - so
the canvas is usable in about a second. TensorFlow lives only in the execution process
(:mod:`neuroflow.worker`), which starts a moment after the window shows and imports it there. Setting ``NEUROFLOW_STARTUP_PROBE=1`` makes the editor print
``NEUROFLOW_READY`` once the canvas has painted, and quit: ``benchmarks/gui_latency.py`` times
that.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from . import theme

PROBE_ENV = "NEUROFLOW_STARTUP_PROBE"


class _FirstPaint(QObject):
    """Calls back once, after the watched widget has painted for the first time."""

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__()
        self._callback = callback
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Paint and not self._done:
            self._done = True
            QTimer.singleShot(0, self._callback)  # after this paint has finished
        return False


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created and themed on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("NeuroFlow")
        app.setOrganizationName("NeuroFlow")
        app.setApplicationDisplayName("NeuroFlow")
        theme.apply(app)
    assert isinstance(app, QApplication)
    return app


def launch(path: str | None = None) -> int:
    """Open the editor (with ``path`` loaded, if given) and run until it closes; the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = application()
    from .main_window import MainWindow  # after the QApplication exists

    window = MainWindow(defer_monitor=True)
    if path:
        window.open_file(path)
    probe = bool(os.environ.get(PROBE_ENV))
    if probe:
        def ready() -> None:
            heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
            print(f"NEUROFLOW_READY {time.perf_counter():.3f} heavy={','.join(heavy) or 'none'}", flush=True)
            window.document.undo_stack.setClean()
            window.close()

        watcher = _FirstPaint(ready)
        window.canvas.viewer.viewport().installEventFilter(watcher)
    available = app.primaryScreen().availableGeometry() if app.primaryScreen() else None
    if available is not None and (available.width() < 1700 or available.height() < 1080):
        window.showMaximized()  # laptops and projectors: use the whole screen
    else:
        window.show()
    QTimer.singleShot(0, window.canvas.fit)
    if not probe:
        QTimer.singleShot(1500, window.runner.prepare)  # the worker imports TensorFlow meanwhile
    code = app.exec()
    window.runner.shutdown()
    return int(code)
