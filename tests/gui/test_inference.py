"""Trying the flagship in the editor: the Inference panel asks the model in the execution process.

One training on 1,500 MNIST digits for the module's tests (a few seconds); each test opens the
learner's view and talks to the same execution process.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from neuroflow.gui.views.model_input import from_array, mnist_like

pytestmark = [pytest.mark.gui, pytest.mark.slow]
WAIT = 60_000


@pytest.fixture
def panel(flagship, run, qtbot):
    """The learner's "Try the model" tab after a short training."""
    flagship.document.set_setting("train_reader", "limit", 1500)
    result = run(["learner"])
    assert "learner" in result.executed
    view = flagship.open_view("learner")
    assert view is not None
    inference = view.panel.show_inference()
    qtbot.waitUntil(lambda: inference.cam_layer.count() > 0, timeout=WAIT)  # the model described itself
    return inference


def digit_png(path, strokes) -> str:
    """A white-on-black digit drawn with ``strokes`` (lists of points on a 280 pad), saved at 56x56."""
    from neuroflow.gui.views.draw_pad import DrawPad

    pad = DrawPad()
    for points in strokes:
        pad.stroke(points)
    pixels = np.repeat(np.repeat(mnist_like(pad.canvas), 2, axis=0), 2, axis=1)  # a larger file than the model's input
    assert from_array(pixels).save(str(path))
    return str(path)


ONE = [[(140, 40), (140, 240)]]
ZERO = [[(140, 40), (80, 80), (70, 160), (100, 230), (160, 235), (205, 170), (200, 80), (140, 40)]]


def test_dropping_an_image_file_shows_five_bars(panel, qtbot, tmp_path):
    path = digit_png(tmp_path / "zero.png", ZERO)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(path)])
    where, buttons, keys = QPoint(10, 10), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, data, buttons, keys)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, data, buttons, keys)
    with qtbot.waitSignal(panel.predicted, timeout=WAIT) as answer:
        QApplication.sendEvent(panel, drop)
    probabilities = answer.args[0]
    bars = panel.chart.bar_values()
    assert bars.size == 5 and np.all(np.diff(bars) <= 0)  # most probable first
    assert 0 < bars.sum() <= 1 + 1e-5
    np.testing.assert_allclose(bars[0], probabilities.max(), rtol=1e-5)
    assert panel.current.shape == (28, 28, 1)  # the 56x56 file was brought to the model's size
    assert panel.answer_label.text().startswith(panel.chart.bar_names()[0])


def test_grad_cam_map_has_the_images_size_and_is_drawn_over_it(panel, qtbot, tmp_path):
    path = digit_png(tmp_path / "one.png", ONE)
    with qtbot.waitSignal(panel.explained, timeout=WAIT) as answer:
        panel.open_files([str(tmp_path)])
    heat = answer.args[0]
    assert heat.shape == (28, 28)
    assert 0 <= heat.min() and heat.max() <= 1 and heat.max() > 0
    assert panel.files == [path]
    shown = panel.picture.pixmap().toImage()
    panel.opacity.setValue(0)  # without the overlay the picture is the gray digit again
    plain = panel.picture.pixmap().toImage()
    assert shown != plain
    # another layer: Grad-CAM at the pooling layer's 13x13 maps, still at the image's size
    panel.opacity.setValue(60)
    assert panel.cam_layer.count() == 1 and panel.maps_layer.count() == 2


def test_activation_maps_have_the_chosen_layers_shape(panel, qtbot, tmp_path):
    panel.open_files([digit_png(tmp_path / "zero.png", ZERO)])
    expected = {0: (26, 26, 32), 1: (13, 13, 32)}  # the flagship's 3x3 conv of 32 filters, then 2x2 pooling
    for index, shape in expected.items():
        with qtbot.waitSignal(panel.maps_shown, timeout=WAIT) as answer:
            panel.maps_layer.setCurrentIndex(index)
            panel.show_maps()
        assert answer.args[0].shape == shape
    assert panel.maps_grid.count() == 32
    assert "13x13" in panel.maps_info.text()


def test_drawing_on_the_pad_changes_the_prediction(panel, qtbot):
    assert panel.source_combo.currentData() == "draw" and panel.pad.isVisible()
    with qtbot.waitSignal(panel.predicted, timeout=WAIT) as zero:
        panel.pad.stroke(ZERO[0])
    panel.pad.clear()
    qtbot.waitUntil(lambda: panel.current is None)  # after the drawing throttle
    with qtbot.waitSignal(panel.predicted, timeout=WAIT) as one:
        panel.pad.stroke(ONE[0])
    first, second = zero.args[0], one.args[0]
    assert not np.allclose(first, second)
    top = int(np.argmax(second))
    assert panel.chart.bar_names()[0] == panel.class_names[top]
    assert panel.answer_label.text().startswith(panel.class_names[top])
    assert panel.class_names[top] == "1"  # a vertical stroke is a one


def test_pasted_image_is_predicted(panel, qtbot):
    pixels = np.zeros((40, 40, 1), np.uint8)
    pixels[5:35, 18:23] = 255
    QApplication.clipboard().setImage(QImage(from_array(pixels)))
    panel.pad.setFocus()
    with qtbot.waitSignal(panel.predicted, timeout=WAIT):
        qtbot.keyClick(panel.pad, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # not the canvas's Paste
    assert panel.source_combo.currentData() == "image"
    QApplication.clipboard().clear()


def test_executor_gallery_lays_grad_cam_over_the_thumbnails(flagship, run, qtbot):
    run(["executor"])
    view = flagship.open_view("executor")
    assert view is not None
    panel, model = view.panel, view.panel.gallery.model
    first = model.dataset_index(0)  # the most confident mistake comes first
    plain = model.pixmap(first).toImage()
    panel.heat_check.setChecked(True)
    model.pixmap(first)  # painting a card asks for its map
    qtbot.waitUntil(lambda: panel.heat_maps.get(first) is not None, timeout=WAIT)
    assert panel.heat_maps.get(first).shape == (28, 28)
    heated = model.pixmap(first).toImage()
    assert heated.size() == plain.size() and heated != plain
    enlarged = panel.enlarge(first)  # what a double-click shows: the image large, its map over it
    assert enlarged.heat is not None and enlarged.picture.pixmap().width() == 336
    panel.heat_check.setChecked(False)
    assert model.pixmap(first).toImage() == plain
    assert panel.enlarge(first).heat is None
    panel.gallery.view.doubleClicked.emit(model.index(0))
    assert panel.enlarged.index == first
