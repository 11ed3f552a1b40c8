"""Typed settings fields: a number applies when editing finishes, and a refused one says why.

Keys are typed with qtbot as a user types them (they pass through the window's shortcuts
first, as real key presses do).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from neuroflow.core.events import NodeState, NodeStateChanged

pytestmark = pytest.mark.gui

CONV = "neuroflow.layers.conv2d"


def retype(qtbot, widget, text: str, finish=Qt.Key.Key_Return) -> None:
    """Select what the field shows, type ``text`` and press Enter (or ``finish``)."""
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    if finish is not None:
        qtbot.keyClick(widget, finish)


def test_a_refused_number_shows_the_settings_message_and_stays_as_typed(window, qtbot):
    doc = window.document
    node_id = doc.add_node(CONV, (0, 0))
    window.canvas.select([node_id])
    form = window.properties.form
    box = form.fields["filters"].box
    error = form._errors["filters"]
    for typed, message in (
        ("-5", "setting 'filters': -5 is out of range"),
        ("abc", "setting 'filters': expected an integer, got 'abc'"),
        ("0", "setting 'filters': 0 is out of range"),
    ):
        retype(qtbot, box, typed)
        assert box.text() == typed  # not 5, not ignored, not put back to 1
        assert form.error_text("filters").startswith(message)
        assert error.isVisible() and box.property("invalid") is True
        assert doc.workflow.nodes[node_id].node["filters"] == 32
    # Leaving the field keeps the text and the message: nothing is applied behind the user's back.
    window.canvas.viewer.setFocus()
    box.editingFinished.emit()
    assert box.text() == "0" and form.error_text("filters")
    # Esc puts the applied value back (and does not reach the window's Cancel).
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == "32" and form.error_text("filters") == "" and not error.isVisible()
    assert box.property("invalid") is False
    # A wrong value fixed by typing a right one applies it.
    retype(qtbot, box, "-5")
    retype(qtbot, box, "64")
    assert form.error_text("filters") == ""
    assert doc.workflow.nodes[node_id].node["filters"] == 64
    assert doc.undo_stack.count() == 2  # the node, then one change of filters


def test_a_refused_tuple_and_float_are_kept_as_typed(window, qtbot):
    doc = window.document
    node_id = doc.add_node(CONV, (0, 0))
    window.canvas.select([node_id])
    form = window.properties.form
    second = form.fields["kernel_size"].boxes[1]
    retype(qtbot, second, "0")
    assert second.text() == "0" and "outside" in form.error_text("kernel_size")
    assert doc.workflow.nodes[node_id].node["kernel_size"] == (3, 3)
    retype(qtbot, second, "5")
    assert doc.workflow.nodes[node_id].node["kernel_size"] == (3, 5) and form.error_text("kernel_size") == ""

    learner = doc.add_node("neuroflow.learning.learner", (300, 0))
    window.canvas.select([learner])
    rate = window.properties.form.fields["learning_rate"].edit
    retype(qtbot, rate, "-1")
    assert rate.text() == "-1" and window.properties.form.error_text("learning_rate")
    qtbot.keyClick(rate, Qt.Key.Key_Escape)
    assert rate.text() == "0.001" and window.properties.form.error_text("learning_rate") == ""


def test_an_arrow_step_applies_at_once(window, qtbot):
    doc = window.document
    node_id = doc.add_node(CONV, (0, 0))
    window.canvas.select([node_id])
    box = window.properties.form.fields["filters"].box
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert box.text() == "33" and doc.workflow.nodes[node_id].node["filters"] == 33
    box.stepBy(-100)  # the arrows stop at the minimum
    assert box.text() == "1" and doc.workflow.nodes[node_id].node["filters"] == 1


def test_typing_a_batch_size_into_a_trained_learner_is_one_edit_and_one_reset(flagship, run, qtbot):
    window = flagship
    doc = window.document
    doc.set_setting("learner", "batch_size", 32)
    assert run().ok
    assert doc.workflow.nodes["learner"].state is NodeState.EXECUTED
    resets: list[NodeStateChanged] = []
    doc.core_event.connect(lambda e: resets.append(e) if isinstance(e, NodeStateChanged)
                           and e.node_id == "learner" and e.state is not NodeState.EXECUTED else None)
    window.canvas.select(["learner"])
    box = window.properties.form.fields["batch_size"].box
    steps = doc.undo_stack.count()
    retype(qtbot, box, "128", finish=None)
    assert doc.workflow.nodes["learner"].state is NodeState.EXECUTED  # nothing applied while typing
    assert doc.undo_stack.count() == steps
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert doc.undo_stack.count() == steps + 1
    assert doc.undo_stack.undoText() == "Set Network Learner: Batch size"
    assert doc.workflow.nodes["learner"].node["batch_size"] == 128
    assert [e.state for e in resets] == [NodeState.CONFIGURED]
    box.editingFinished.emit()  # leaving the field afterwards changes nothing more
    assert doc.undo_stack.count() == steps + 1 and len(resets) == 1


def _fully_shown(combo) -> bool:
    """The closed combo box has room for its whole current text (plus its arrow)."""
    return combo.width() - 36 >= combo.fontMetrics().horizontalAdvance(combo.currentText())


def test_the_network_learner_fits_the_default_panel_and_tabbing_never_scrolls_sideways(window, qtbot):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QComboBox

    doc = window.document
    node_id = doc.add_node("neuroflow.learning.learner", (0, 0))
    window.canvas.select([node_id])
    panel, form = window.properties, window.properties.form
    qtbot.waitUntil(lambda: form.fields["loss"].widget.isVisible())
    assert window.properties_dock.width() >= 420
    for name in ("loss", "optimizer", "class_weights", "devices", "precision", "monitor", "lr_schedule"):
        combo = form.fields[name].widget
        assert isinstance(combo, QComboBox)
        assert _fully_shown(combo), f"{name}: {combo.currentText()!r} is cut off at {combo.width()} px"
    viewport = panel.viewport().rect()
    for name, label in form._labels.items():
        if label.isHidden():
            continue
        shown = label.geometry().translated(form.mapTo(panel.viewport(), form.rect().topLeft()))
        assert viewport.left() <= shown.left() and shown.right() <= viewport.right(), name
        assert label.width() >= label.minimumSizeHint().width(), f"{name}: label cut off"
    # Tab through every field: the panel never scrolls sideways, so the labels stay in view.
    first = form.fields["loss"].focus_widget()
    first.setFocus()
    qtbot.waitUntil(first.hasFocus)
    for _ in range(len(form.fields) + 2):
        QTest.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
        assert panel.horizontalScrollBar().maximum() == 0
        assert panel.widget().x() == 0
    # Settings that appear later (SGD's momentum, a schedule's factor) fit as well.
    optimizer = form.fields["optimizer"].widget
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    schedule = form.fields["lr_schedule"].widget
    schedule.setCurrentIndex(schedule.findData("plateau"))
    qtbot.waitUntil(lambda: form.is_shown("momentum") and form.is_shown("lr_patience"))
    assert panel.horizontalScrollBar().maximum() == 0
    assert _fully_shown(schedule)
