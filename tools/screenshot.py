"""Take the editor's screenshot: the flagship workflow trained on a sample, curves and scores shown.

Usage::

    python tools/screenshot.py [--out docs/screenshot.png] [--limit 3000] [--epochs 3] [--xvfb auto]

Starts the editor under Xvfb when there is no display and ``xvfb-run`` is installed (the real X11
platform plugin, as on a desktop), and offscreen otherwise; opens workflows/mnist_cnn.workflow,
trains it on a small sample, opens the Scorer's result view, selects the Network Learner so its
settings show, and saves a PNG of the whole window. The canvas fits the workflow, but not below
a readable zoom (``--min-zoom``): then it shows the workflow's right-hand end. It warns when nodes overlap on the canvas
(a layout to fix in the workflow file). Nothing is written to the workflow file or to the
user's editor settings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
#: Set in the child started under xvfb-run, so it does not start another one.
UNDER_XVFB_ENV = "NEUROFLOW_SCREENSHOT_XVFB"


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def rerun_under_xvfb(argv: list[str], size: str) -> int | None:
    """Run this script again under ``xvfb-run``; ``None`` when xvfb-run is not installed."""
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        return None
    width, height = size.lower().split("x")
    command = [xvfb_run, "-a", "-s", f"-screen 0 {width}x{height}x24",
               sys.executable, str(Path(__file__).resolve()), *argv]
    env = dict(os.environ, **{UNDER_XVFB_ENV: "1"})
    env.pop("QT_QPA_PLATFORM", None)  # the X11 (xcb) plugin, as on a desktop
    return subprocess.run(command, env=env, check=False).returncode


def overlapping_nodes(window: object) -> list[str]:
    """One line per pair of nodes whose boxes overlap on the canvas (a layout to fix)."""
    canvas = window.canvas  # type: ignore[attr-defined]
    nodes = window.document.workflow.nodes  # type: ignore[attr-defined]
    rects = {item.label: canvas.node_view(node_id).sceneBoundingRect() for node_id, item in nodes.items()}
    names = sorted(rects, key=lambda name: (rects[name].left(), rects[name].top()))
    return [
        f"'{a}' (x {rects[a].left():.0f} to {rects[a].right():.0f}) overlaps '{b}' (x {rects[b].left():.0f})"
        for i, a in enumerate(names) for b in names[i + 1:] if rects[a].intersects(rects[b])
    ]


def readable_zoom(window: object, minimum: float) -> None:
    """Zoom in to ``minimum`` when the fitted workflow is smaller, keeping its right-hand end in
    view: the flagship is one long row (Arrange), and fitted into the window its text is a few
    pixels high; the end of the network, the learner, executor and scorer are what the shot is
    about. Warns which nodes are then cut off."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QTransform

    canvas = window.canvas  # type: ignore[attr-defined]
    viewer = canvas.viewer
    if viewer.transform().m11() >= minimum:
        return
    nodes = window.document.workflow.nodes  # type: ignore[attr-defined]
    rects = {node_id: canvas.node_view(node_id).sceneBoundingRect() for node_id in nodes}
    whole = QRectF()
    for rect in rects.values():
        whole = whole.united(rect)
    viewport = viewer.viewport()
    width, height = viewport.width() / minimum, viewport.height() / minimum
    margin = 40.0
    viewer.setTransform(QTransform.fromScale(minimum, minimum))
    viewer.centerOn(whole.right() + margin - width / 2, whole.center().y())
    shown = viewer.mapToScene(viewport.rect()).boundingRect()
    cut = sorted(nodes[node_id].label for node_id, rect in rects.items() if not shown.contains(rect))
    if cut:
        print(f"zoomed to {minimum:g} (fitting needs {whole.width():.0f} x {whole.height():.0f} scene px, "
              f"the canvas shows {width:.0f} x {height:.0f}); cut off on the left: {', '.join(cut)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"), help="PNG to write")
    parser.add_argument("--workflow", default=str(FLAGSHIP), help="workflow to open")
    parser.add_argument("--limit", type=int, default=3000, help="training images (sample limit)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs")
    parser.add_argument("--size", default="1920x1200", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--xvfb", choices=("auto", "never"), default="auto",
                        help="auto: use xvfb-run when there is no display and it is installed")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE",
                        help="override a setting before training, as 'neuroflow run --set' does (repeatable)")
    parser.add_argument("--select", default="", help="the node whose settings show (default: the learner)")
    parser.add_argument("--view", default="", help="the node whose result view shows (default: the scorer)")
    parser.add_argument("--min-zoom", type=float, default=0.8,
                        help="when fitting the whole workflow needs less zoom than this, show its right-hand "
                             "part (network's end, learner, executor, scorer) at this zoom instead")
    options = parser.parse_args(argv)

    if not has_display() and options.xvfb == "auto" and not os.environ.get(UNDER_XVFB_ENV):
        code = rerun_under_xvfb(argv, options.size)
        if code is not None:
            return code
        print("xvfb-run not found: rendering offscreen", file=sys.stderr)
    if not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NEUROFLOW_NO_WARMUP", "1")

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

    from neuroflow.gui.app import application
    from neuroflow.gui.main_window import MainWindow

    app = application()
    print(f"Qt platform: {app.platformName()}" + (f" (display {os.environ['DISPLAY']})" if has_display() else ""))
    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-screenshot-"))
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    window.files.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
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
    from neuroflow.core.settings import PathSetting

    for text in options.overrides:  # through the document, so the canvas shows them
        target, _, value = text.partition("=")
        node_key, _, name = target.rpartition(".")
        item = doc.workflow.node(node_key)
        setting = item.node.setting(name)
        parsed = setting.parse(value)
        if isinstance(setting, PathSetting) and parsed:
            parsed = str(Path(parsed).expanduser().resolve())  # typed here: from the current folder
        doc.set_setting(item.id, name, parsed)
    window.show()
    window.ensure_monitor()
    # Room for the curves and the scores: taller bottom docks than the editor's default, and a
    # Nodes list just wide enough for its names, so the canvas keeps as much zoom as it can.
    window.resizeDocks([window.repository_dock, window.properties_dock], [int(width * 0.105), int(width * 0.19)],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([window.monitor_dock], [int(height * 0.38)], Qt.Orientation.Vertical)
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
    result = window.runs.last_run
    print(f"executed in {time.perf_counter() - started:.1f} s: {result}")
    scorer = options.view or next((i.id for i in nodes.values() if i.type_id == "neuroflow.learning.scorer"), None)
    learner = options.select or next((i.id for i in nodes.values() if i.type_id == "neuroflow.learning.learner"), None)
    if scorer:
        window.open_view(scorer)
    window.canvas.select([])
    window.canvas.fit()
    readable_zoom(window, options.min_zoom)
    if learner:
        window.canvas.select([learner])
    wait(600)
    for overlap in overlapping_nodes(window):
        print(f"warning: on the canvas, {overlap}", file=sys.stderr)
    print(f"canvas zoom {window.canvas.viewer.transform().m11():.2f}")
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
