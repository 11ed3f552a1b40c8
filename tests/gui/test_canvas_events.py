"""The canvas follows the workflow one item at a time, and stays equal to it.

The canvas applies each edit event to the one node view or pipe it concerns; these tests check
that after any sequence of edits, undos and redos it shows exactly what the core holds (nodes,
labels, positions, states, footer lines, tooltips, wires in NodeGraphQt's model and on screen),
that an edit touches only what it changed, and that undoing a settings change in the editor
brings the execution process's results back with it.
"""

from __future__ import annotations

import json
import random

import canvas_probe as probe
import pytest

from neuroflow.core.events import NodeState
from neuroflow.core.workflow import Connection
from neuroflow.gui.canvas import Canvas, NeuroNodeItem
from neuroflow.gui.node_info import footer_lines, tooltip_html

pytestmark = pytest.mark.gui

LAYER = "neuroflow.layers."
KINDS = ("input", "flatten", "dense", "dropout", "add", "activation")


def assert_canvas_shows_model(window) -> None:
    """Everything the canvas shows, item by item, equals what the core workflow holds."""
    workflow, canvas = window.document.workflow, window.canvas
    snap = probe.snapshot(canvas)
    assert set(snap["nodes"]) == set(workflow.nodes)
    for node_id, shown in snap["nodes"].items():
        item = workflow.nodes[node_id]
        assert shown["type"] == ("missing" if item.type_id.startswith("acme.") else item.type_id)
        assert shown["label"] == item.label
        assert shown["position"] == tuple(round(v, 1) for v in item.position)
        assert shown["state"] == item.state.value, node_id
        assert shown["lines"] == footer_lines(item), node_id
        assert canvas.node_view(node_id).toolTip() == tooltip_html(item), node_id
    wires = {(c.source, c.source_port, c.target, c.target_port) for c in workflow.connections}
    assert snap["connections"] == wires
    assert snap["model_connections"] == wires
    pipes = [p for p in canvas.graph.scene().items() if type(p).__name__ == "PipeItem" and p.isVisible()
             and p.input_port is not None and p.output_port is not None]
    assert len(pipes) == len(wires)  # no stray pipe items left on screen
    assert probe.native_undo_count(canvas) == 0


def open_with_missing_node(window, tmp_path) -> None:
    data = {
        "format": "neuroflow.workflow", "format_version": 1,
        "nodes": [
            {"id": "in", "type": LAYER + "input", "version": 1, "label": "Input", "settings": {"shape": [8, 8, 1]}},
            {"id": "q", "type": "acme.layers.quantum", "version": 3, "label": "Quantum", "settings": {"qubits": 5}},
            {"id": "flat", "type": LAYER + "flatten", "version": 1, "label": "Flatten", "settings": {}},
        ],
        "connections": [{"from": "in.network", "to": "q.network"}, {"from": "q.out", "to": "flat.network"}],
        "layout": {"in": [0, 0], "q": [250, 0], "flat": [500, 0]},
    }
    path = tmp_path / "start.workflow"
    path.write_text(json.dumps(data))
    assert window.open_file(path)


def random_edit(doc, rng: random.Random) -> None:
    workflow = doc.workflow
    ids = list(workflow.nodes)
    roll = rng.random()
    if roll < 0.18 or not ids:
        doc.add_node(LAYER + rng.choice(KINDS), (rng.randrange(0, 2000), rng.randrange(0, 800)))
    elif roll < 0.26:
        doc.remove_nodes(rng.sample(ids, min(len(ids), rng.choice((1, 2)))))
    elif roll < 0.46:
        target = workflow.nodes[rng.choice(ids)]
        ports = [p.name for p in target.node.inputs] or ["network"]
        doc.connect_ports(rng.choice(ids), "network", target.id, rng.choice(ports))
    elif roll < 0.54 and workflow.connections:
        doc.disconnect_wires([rng.choice(list(workflow.connections))])
    elif roll < 0.66:
        item = workflow.nodes[rng.choice(ids)]
        if item.type_id == LAYER + "dense":
            doc.set_setting(item.id, "units", rng.randint(1, 64))
        elif item.type_id == LAYER + "input":
            doc.set_setting(item.id, "shape", [rng.randint(2, 9), rng.randint(2, 9), 1])
        elif item.type_id == LAYER + "dropout":
            doc.set_setting(item.id, "rate", rng.choice((0.1, 0.2, 0.5)))
    elif roll < 0.70:
        doc.set_label(rng.choice(ids), rng.choice(("a", "b", "Dense", "x y")))
    elif roll < 0.74:
        doc.move_nodes({rng.choice(ids): (rng.randrange(0, 2000), rng.randrange(0, 800))})
    elif roll < 0.77:
        doc.paste(doc.copy(rng.sample(ids, min(len(ids), 2))))
    elif roll < 0.90:
        doc.undo()
    else:
        doc.redo()


def test_random_edits_undos_and_redos_keep_the_canvas_equal_to_the_model(window, tmp_path, monkeypatch):
    open_with_missing_node(window, tmp_path)
    doc = window.document
    synced = []
    full_sync = Canvas.sync
    monkeypatch.setattr(Canvas, "sync", lambda self: synced.append(1) or full_sync(self))
    rng = random.Random(20)
    for _ in range(160):
        random_edit(doc, rng)
        assert_canvas_shows_model(window)
    while doc.undo_stack.canUndo():  # all the way back, then forward again
        doc.undo()
        assert_canvas_shows_model(window)
    while doc.undo_stack.canRedo():
        doc.redo()
        assert_canvas_shows_model(window)
    assert not synced  # every edit, undo and redo was applied item by item (no refused gesture here)


def test_an_edit_redraws_only_the_nodes_it_changed(window, monkeypatch):
    doc = window.document
    ids = [doc.add_node(LAYER + "input", (0, 0)), doc.add_node(LAYER + "flatten", (220, 0))]
    assert doc.connect_ports(ids[0], "network", ids[1], "network")
    for index in range(2, 30):
        ids.append(doc.add_node(LAYER + "dense", (220 * index, 0)))
        assert doc.connect_ports(ids[-2], "network", ids[-1], "network")
    shown: list[str] = []
    original = NeuroNodeItem.set_facts

    def spy(view, state, lines, tooltip):
        before = (view.state, view.lines)
        original(view, state, lines, tooltip)
        if (view.state, view.lines) != before:
            shown.append(view.name)

    monkeypatch.setattr(NeuroNodeItem, "set_facts", spy)
    monkeypatch.setattr(Canvas, "sync", lambda self: pytest.fail("an edit re-synced the whole canvas"))
    doc.set_setting(ids[-1], "units", 3)  # the last layer: its own lines change, nothing else
    assert shown == [doc.workflow.nodes[ids[-1]].label]
    shown.clear()
    doc.set_setting(ids[5], "units", 7)  # shape and parameters of it and of the layer after it
    assert shown == [doc.workflow.nodes[i].label for i in ids[5:7]]
    shown.clear()
    doc.undo()
    doc.redo()
    assert len(shown) == 4
    assert_canvas_shows_model(window)


def test_a_refused_gesture_is_undone_on_the_canvas(window):
    doc = window.document
    a = doc.add_node(LAYER + "input", (0, 0))
    flat = doc.add_node(LAYER + "flatten", (300, 0))
    probe.simulate_connect(window.canvas, a, "network", flat, "network")
    probe.simulate_connect(window.canvas, flat, "network", flat, "network")  # a cycle: refused
    assert list(doc.workflow.connections) == [Connection(a, "network", flat, "network")]
    assert_canvas_shows_model(window)


@pytest.mark.slow
def test_undoing_a_settings_change_in_the_editor_brings_the_results_back(flagship, run):
    window = flagship
    doc, canvas = window.document, window.canvas
    assert run().ok
    after = ("learner", "executor", "scorer", "writer")
    before = {nid: doc.workflow.nodes[nid].outputs for nid in after}
    doc.set_setting("learner", "epochs", 2)
    assert all(canvas.node_view(nid).state is NodeState.CONFIGURED for nid in after)
    doc.undo()
    for nid in after:
        assert doc.workflow.nodes[nid].state is NodeState.EXECUTED, nid
        assert doc.workflow.nodes[nid].outputs is before[nid], nid
        assert canvas.node_view(nid).state is NodeState.EXECUTED
    assert "trained 1 epoch" in canvas.node_view("learner").lines[0]
    assert_canvas_shows_model(window)
    assert run().executed == []  # the execution process still held them: nothing ran again

    doc.redo()  # epochs 2 again; this time it runs, and the execution process lets 1 epoch go
    trained = run()
    assert "learner" in trained.executed
    doc.undo()
    assert doc.workflow.nodes["learner"].state is NodeState.CONFIGURED
    assert "learner" in run().executed  # so the editor did not pretend to have it


def test_a_node_tooltip_is_built_when_the_pointer_rests_on_it(window):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QGraphicsItem

    doc, canvas = window.document, window.canvas
    node_id = doc.add_node(LAYER + "dense", (0, 0))
    view = canvas.node_view(node_id)
    assert "is not connected" not in QGraphicsItem.toolTip(view)  # not built yet: nobody asked
    viewer = canvas.viewer
    canvas.select([node_id], center=True)
    QApplication.processEvents()
    point = viewer.mapFromScene(view.sceneBoundingRect().center())
    QApplication.sendEvent(viewer.viewport(), QHelpEvent(QEvent.Type.ToolTip, point, viewer.viewport().mapToGlobal(point)))
    assert QGraphicsItem.toolTip(view) == tooltip_html(doc.workflow.nodes[node_id])
    assert "is not connected" in QGraphicsItem.toolTip(view)


def test_a_nodes_progress_bar_follows_its_progress_events_alone(window):
    """NodeProgress drives the bar on the node (training reports it too, throttled, from the
    learner's Keras callback); batch events feed the training monitor, not a second bar."""
    from neuroflow.core.events import BatchEnded, NodeProgress, TrainingStarted

    doc = window.document
    learner = doc.add_node("neuroflow.learning.learner", (0, 0))
    view = window.canvas.node_view(learner)
    assert view.progress is None
    doc.core_event.emit(TrainingStarted(learner, 3, 10, 1000))
    doc.core_event.emit(NodeProgress(learner, 0.25, "epoch 1/3, batch 7/10"))
    assert view.progress == pytest.approx(0.25)
    for batch in range(1, 11):
        doc.core_event.emit(BatchEnded(learner, 2, batch, 10, {"loss": 1.0}))
    assert view.progress == pytest.approx(0.25)
    doc.core_event.emit(NodeProgress(learner, 0.7, "epoch 3/3, batch 1/10"))
    assert view.progress == pytest.approx(0.7)
    doc.core_event.emit(NodeProgress(learner, None, "preparing"))
    assert view.progress is None
