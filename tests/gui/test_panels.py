"""The dock panels around the canvas: messages, the node repository and the results dock."""

from __future__ import annotations

import canvas_probe as probe
import pytest
from PySide6.QtCore import Qt

from neuroflow.core.events import NodeState

pytestmark = pytest.mark.gui


def test_a_refused_connection_names_its_target_node_and_shows_its_whole_text(window, qtbot):
    doc = window.document
    reader = doc.add_node("neuroflow.data.mnist_reader", (0, 0))
    dense = doc.add_node("neuroflow.layers.dense", (300, 0))
    window.messages_dock.raise_()
    probe.simulate_connect(window.canvas, reader, "data", dense, "network")
    table = window.messages.table
    row = next(table.topLevelItem(i) for i in range(table.topLevelItemCount())
               if table.topLevelItem(i).text(2).startswith("cannot connect"))
    text = row.text(2)
    assert row.text(1) == "Dense"  # the node the wire was dropped on
    assert row.data(0, Qt.ItemDataRole.UserRole) == dense  # a click selects it
    assert row.toolTip(2) == text
    # The message wraps onto as many lines as it needs in the column it has.
    qtbot.waitUntil(lambda: table.isVisible())
    column = table.columnWidth(2)
    needed = table.fontMetrics().boundingRect(0, 0, column - 8, 10_000, Qt.TextFlag.TextWordWrap, text).height()
    assert needed > table.fontMetrics().height()  # the text is longer than one line here
    qtbot.waitUntil(lambda: table.visualItemRect(row).height() >= needed, timeout=2000)


def test_the_node_list_keeps_its_height_whatever_description_shows_under_it(window, qtbot):
    repository = window.repository
    tree = repository.tree
    heights = []
    for name in ("Flatten", "Network Learner", "Pretrained Network", "Add"):
        item = tree.findItems(name, Qt.MatchFlag.MatchRecursive)[0]
        tree.setCurrentItem(item)
        qtbot.wait(20)
        heights.append(tree.height())
        assert name in repository.info.text()
    assert len(set(heights)) == 1, heights


def test_the_results_dock_shows_whole_images_of_a_confusion_cell(flagship, run, qtbot):
    from neuroflow.gui.views.scorer import ConfusionMatrixView

    window = flagship
    assert run().ok
    assert window.document.workflow.nodes["scorer"].state is NodeState.EXECUTED
    view = window.open_view("scorer")
    assert view is not None
    matrix = view.findChild(ConfusionMatrixView)
    page = matrix.parentWidget()
    while page is not None and not hasattr(page, "show_cell"):
        page = page.parentWidget()
    assert page is not None
    shown = page.show_cell(3, 3)
    assert len(shown) > 0
    gallery = page.cell_gallery
    qtbot.waitUntil(lambda: gallery.view.isVisible())
    qtbot.wait(50)
    first = gallery.view.visualRect(gallery.model.index(0))
    viewport = gallery.view.viewport().rect()
    assert viewport.contains(first), f"the first image is cut: {first} in {viewport}"
    assert window.results_dock.height() >= 400
