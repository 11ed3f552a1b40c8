"""Arrange (Ctrl+L): the editor lays out a scrambled workflow tidily, as one undoable step."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from neuroflow.core import fileformat
from neuroflow.core.block import BlockNode
from neuroflow.core.block_edits import expand

pytestmark = pytest.mark.gui

EXAMPLE = Path(__file__).resolve().parents[2] / "workflows" / "keras_example_cnn.workflow"
CHAIN = ["input", "shift", "conv1", "conv2", "pool", "dropout1", "flatten", "dense", "dropout2", "output"]


def scrambled(tmp_path: Path) -> Path:
    """The Keras example CNN with every node thrown somewhere in a small square, overlapping."""
    workflow = fileformat.load(EXAMPLE)  # its blocks expanded: the layers one by one
    for node_id in [nid for nid, item in workflow.nodes.items() if isinstance(item.node, BlockNode)]:
        expand(workflow, node_id)
    data = fileformat.to_dict(workflow)
    rng = random.Random(3)
    data["layout"] = {nid: [float(rng.randrange(0, 400)), float(rng.randrange(0, 300))] for nid in sorted(data["layout"])}
    path = tmp_path / "scrambled.workflow"
    path.write_text(json.dumps(data))
    return path


def positions(window) -> dict[str, tuple[float, float]]:
    return {nid: item.position for nid, item in window.document.workflow.nodes.items()}


def drawn_boxes(window) -> dict[str, tuple[float, float, float, float]]:
    boxes = {}
    for nid in window.document.workflow.nodes:
        rect = window.canvas.node_view(nid).sceneBoundingRect()
        boxes[nid] = (rect.left(), rect.top(), rect.right(), rect.bottom())
    return boxes


def overlaps(boxes: dict[str, tuple[float, float, float, float]]) -> list[tuple[str, str]]:
    items = list(boxes.items())
    return [(a, b) for i, (a, (ax1, ay1, ax2, ay2)) in enumerate(items) for b, (bx1, by1, bx2, by2) in items[i + 1:]
            if ax1 < bx2 and bx1 < ax2 and ay1 < by2 and by1 < ay2]


def test_ctrl_l_arranges_the_whole_workflow_and_one_undo_restores_every_position(window, tmp_path, qtbot):
    assert window.open_file(scrambled(tmp_path))
    doc, canvas = window.document, window.canvas
    before = positions(window)
    assert overlaps(drawn_boxes(window))  # the scrambled nodes sit on each other
    assert QKeySequence("Ctrl+L") in window.act["arrange"].shortcuts()

    canvas.viewer.setFocus()
    QTest.keyClick(canvas.viewer, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    after = positions(window)
    assert after != before and doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == f"Arrange {len(after)} nodes"
    boxes = drawn_boxes(window)
    assert overlaps(boxes) == []
    assert len({after[nid][1] for nid in CHAIN}) == 1  # the network is one straight row ...
    xs = [after[nid][0] for nid in CHAIN]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # ... read left to right
    for connection in doc.workflow.connections:  # every wire runs left to right
        assert boxes[connection.target][0] > boxes[connection.source][2]
    assert after["train_reader"][0] == after["test_reader"][0] == after["input"][0]  # readers on the left
    assert after["learner"][0] > after["output"][0] and after["scorer"][0] > after["executor"][0]
    shown = canvas.viewer.mapToScene(canvas.viewer.viewport().rect()).boundingRect()
    assert all(shown.contains(canvas.node_view(nid).sceneBoundingRect()) for nid in after)  # fitted
    assert doc.workflow.nodes["learner"].state.value != "not configured"  # moving resets nothing

    doc.undo()
    assert positions(window) == before
    assert {nid: tuple(round(v, 1) for v in canvas.node_view(nid).xy_pos) for nid in before} == before
    doc.redo()
    assert positions(window) == after


def test_arranging_two_or_more_selected_nodes_moves_only_them(window, tmp_path):
    assert window.open_file(scrambled(tmp_path))
    before = positions(window)
    chosen = ["conv1", "conv2", "pool"]
    window.canvas.select(chosen)
    assert window.arrange()
    after = positions(window)
    assert {nid for nid in after if after[nid] != before[nid]} <= set(chosen)
    assert after["conv1"][1] == after["conv2"][1] == after["pool"][1]
    assert after["conv1"][0] < after["conv2"][0] < after["pool"][0]
    assert min(after[nid][0] for nid in chosen) == min(before[nid][0] for nid in chosen)  # stays in place
    assert window.document.undo_stack.undoText() == "Arrange 3 nodes"

    window.canvas.select(["conv1"])  # one node selected: the whole workflow is arranged
    window.arrange()
    assert window.document.undo_stack.undoText() == f"Arrange {len(after)} nodes"


def test_arrange_is_in_the_edit_menu_the_toolbar_and_the_canvas_menu(window):
    action = window.act["arrange"]
    menus = {m.title().replace("&", ""): m for m in (a.menu() for a in window.menuBar().actions()) if m}
    assert action in menus["Edit"].actions()
    assert action in window.toolbar.actions()
    assert action in window.canvas.viewer.context_menus()["graph"].actions()
    window.document.new()
    assert not window.arrange()  # an empty workflow: nothing to do, nothing recorded
    assert window.document.undo_stack.count() == 0
