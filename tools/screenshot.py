"""Take the editor's screenshot: the flagship workflow trained on a sample, curves and scores shown.

Usage::

    python tools/screenshot.py [--out docs/screenshot.png] [--limit 3000] [--epochs 3]

Runs offscreen when there is no display (or under ``xvfb-run``), opens
workflows/mnist_cnn.workflow, trains it on a small sample, opens the Scorer's result view,
selects the Network Learner so its settings show, and saves a PNG of the whole window. Nothing
is written to the workflow file or to the user's editor settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"), help="PNG to write")
    parser.add_argument("--workflow", default=str(FLAGSHIP), help="workflow to open")
    parser.add_argument("--limit", type=int, default=3000, help="training images (sample limit)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs")
    parser.add_argument("--size", default="1920x1200", help="window size, WIDTHxHEIGHT")
    options = parser.parse_args(argv)

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NEUROFLOW_NO_WARMUP", "1")

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

    from neuroflow.gui.app import application
    from neuroflow.gui.main_window import MainWindow

    application()
    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-screenshot-"))
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    window._ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    width, height = (int(v) for v in options.size.lower().split("x"))
    window.resize(width, height)
    if not window.open_file(options.workflow):
        print(f"cannot open {options.workflow}", file=sys.stderr)
        return 1
    doc = window.document
    nodes = doc.workflow.nodes
    for item in nodes.values():
        names = {s.name for s in item.node.settings_spec}
        if item.type_id == "neuroflow.data.mnist_reader" and "limit" in names:
            split = item.node["split"]
            doc.set_setting(item.id, "limit", options.limit if split == "train" else max(options.limit // 3, 200))
        if item.type_id == "neuroflow.learning.learner":
            doc.set_setting(item.id, "epochs", options.epochs)
            if "validation_split" in names and "validation" not in doc.workflow.incoming(item.id):
                doc.set_setting(item.id, "validation_split", 0.1)
        if item.type_id == "neuroflow.learning.writer":
            doc.set_setting(item.id, "path", str(scratch / "model.keras"))
    window.show()
    window.ensure_monitor()
    # Room for the curves and the scores: taller bottom docks than the editor's default.
    window.resizeDocks([window.monitor_dock], [int(height * 0.42)], Qt.Orientation.Vertical)
    window.resizeDocks([window.monitor_dock, window.results_dock], [int(width * 0.36), int(width * 0.5)],
                       Qt.Orientation.Horizontal)

    def wait(milliseconds: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(milliseconds, loop.quit)
        loop.exec()

    wait(300)
    window.canvas.fit()
    loop = QEventLoop()
    window.runner.finished.connect(lambda *_args: loop.quit())
    started = time.perf_counter()
    if not window.execute_all():
        print("execution did not start", file=sys.stderr)
        return 1
    loop.exec()
    result = window._last_run
    print(f"executed in {time.perf_counter() - started:.1f} s: {result}")
    scorer = next((i.id for i in nodes.values() if i.type_id == "neuroflow.learning.scorer"), None)
    learner = next((i.id for i in nodes.values() if i.type_id == "neuroflow.learning.learner"), None)
    if scorer:
        window.open_view(scorer)
    if learner:
        window.canvas.select([learner])
    window.canvas.select([])
    window.canvas.fit()
    if learner:
        window.canvas.select([learner])
    wait(600)
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    doc.undo_stack.setClean()
    window.close()
    return 0 if result is not None and result.ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
