"""Screenshots of the Inference panel: a drawn digit, and a Grad-CAM overlay with activation maps.

Usage (needs a display, e.g. ``Xvfb :99 -screen 0 1600x1000x24 &`` and ``DISPLAY=:99``)::

    python tools/screenshot_inference.py [--out-dir docs] [--limit 3000] [--epochs 2]

Trains the flagship on a sample in the editor, opens the Network Learner's "Try the model" tab
in a window of its own, draws a digit on the pad, and has a second Python process grab the
screen (what a user would see, window decorations aside) once the model has answered; then the
same for a dropped digit image with its Grad-CAM overlay and the convolution's activation maps.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
GRAB = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
x, y, w, h = (int(v) for v in sys.argv[2:6])
shot = QApplication.primaryScreen().grabWindow(0, x, y, w, h)
sys.exit(0 if shot.save(sys.argv[1]) else 1)
"""
#: A seven drawn on the 280-pixel pad: a top bar and a slanted stem.
SEVEN = [[(70, 60), (210, 60), (200, 90), (150, 170), (120, 240)]]


def grab(widget, path: Path) -> None:
    """Have another process grab ``widget``'s screen rectangle into ``path``."""
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    subprocess.run([sys.executable, "-c", GRAB, str(path), str(top_left.x()), str(top_left.y()),
                    str(widget.width()), str(widget.height())], check=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out-dir", default=str(REPO / "docs"))
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    options = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("no DISPLAY: start Xvfb and set DISPLAY", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from neuroflow.gui import theme
    from neuroflow.gui.main_window import MainWindow
    from neuroflow.gui.views import open_result_view
    from neuroflow.gui.views.draw_pad import DrawPad
    from neuroflow.gui.views.model_input import from_array, mnist_like

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-shot-"))
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    window.open_file(FLAGSHIP)
    doc = window.document
    doc.set_setting("train_reader", "limit", options.limit)
    doc.set_setting("learner", "epochs", options.epochs)
    window.show()

    def wait_for(signal, seconds: float = 180) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        signal.disconnect(loop.quit)

    def settle(milliseconds: int = 400) -> None:
        loop = QEventLoop()
        QTimer.singleShot(milliseconds, loop.quit)
        loop.exec()

    window.runs.execute(["learner"])
    wait_for(window.runner.finished)
    item = doc.workflow.nodes["learner"]
    view = open_result_view(item, None, doc.workflow)
    if view is None:
        print("the learner did not execute", file=sys.stderr)
        return 1
    panel = view.panel.show_inference()
    view.resize(1180, 800)
    view.move(40, 40)
    view.show()
    window.hide()
    wait_for(panel.cam_layer.model().rowsInserted, 60)
    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # 1. a digit drawn on the pad: its top 5, Grad-CAM and the pooling layer's maps
    panel.pad.stroke(SEVEN[0])
    wait_for(panel.explained)
    panel.maps_layer.setCurrentIndex(panel.maps_layer.count() - 1)
    panel.show_maps()
    wait_for(panel.maps_shown)
    settle()
    grab(view, out / "inference-panel.png")
    # 2. a dropped digit image with Grad-CAM and the convolution's feature maps
    pad = DrawPad()
    pad.stroke([(95, 70), (150, 50), (190, 80), (170, 140), (120, 150), (175, 165), (185, 215), (140, 240),
                (90, 220)])  # a three
    image = scratch / "three.png"
    from_array(mnist_like(pad.canvas)).save(str(image))
    panel.open_files([str(image)])
    wait_for(panel.explained)
    panel.maps_layer.setCurrentIndex(0)
    panel.show_maps()
    wait_for(panel.maps_shown)
    settle()
    grab(view, out / "grad-cam.png")
    view.close()
    window.runner.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
