"""Blocks in the editor: collapse, expand, undo, the library, and editing a block's inside."""

from __future__ import annotations

import json
from pathlib import Path

import canvas_probe as probe
import pytest
from PySide6.QtCore import QPoint

from neuroflow.core import fileformat
from neuroflow.core.block import BlockNode
from neuroflow.core.block_edits import expand
from neuroflow.core.workflow import Workflow
from neuroflow.gui import blocks
from neuroflow.gui.mime import encode_library_block

BEST = Path(__file__).resolve().parents[2] / "workflows" / "best_mnist_cnn.workflow"
STEM = ["conv1", "bn1", "conv2", "bn2", "pool1"]


def without_blocks(path: Path) -> Workflow:
    """A shipped workflow with its blocks expanded: the plain layer nodes these tests select."""
    workflow = fileformat.load(path)
    for node_id in [nid for nid, item in workflow.nodes.items() if isinstance(item.node, BlockNode)]:
        expand(workflow, node_id)
    return workflow


@pytest.fixture
def best(tmp_path: Path) -> Path:
    """The best MNIST CNN with its blocks expanded, as a file to open."""
    path = tmp_path / "best_expanded.workflow"
    fileformat.save(without_blocks(BEST), path)
    return path


@pytest.fixture(autouse=True)
def user_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "blocks"
    monkeypatch.setenv("NEUROFLOW_BLOCKS_DIR", str(folder))
    return folder


def text_of(window) -> str:
    return fileformat.dumps(window.document.workflow)


def test_collapse_draws_one_block_with_its_facts_and_undo_restores_the_layers(window, best):
    assert window.open_file(best)
    before = text_of(window)
    window.canvas.select(STEM)
    window.act["collapse_block"].trigger()
    doc, canvas = window.document, window.canvas
    block_id = canvas.selected_ids()[0]
    assert isinstance(doc.workflow.nodes[block_id].node, BlockNode)
    shown = probe.snapshot(canvas)
    assert set(STEM).isdisjoint(shown["nodes"])
    assert shown["nodes"][block_id]["label"] == "Block"
    assert shown["nodes"][block_id]["lines"] == ("out (12, 12, 32)", "9,824 params · 5 layers")
    assert ("input", "network", block_id, "in1") in shown["connections"]
    assert (block_id, "network", "dropout1", "network") in shown["connections"]
    assert shown["connections"] == shown["model_connections"]
    # the network after the block is unchanged: same output shape and total downstream
    assert "331,754" in canvas.node_view("output").toolTip()
    assert doc.undo_stack.undoText() == "Collapse 5 nodes to a block"
    window.act["undo"].trigger()
    assert text_of(window) == before
    assert set(STEM) <= set(probe.snapshot(canvas)["nodes"])
    window.act["redo"].trigger()
    assert block_id in probe.snapshot(canvas)["nodes"]
    assert probe.native_undo_count(canvas) == 0


def test_expand_puts_the_layers_back_in_one_undoable_step(window, best):
    assert window.open_file(best)
    original = {nid: item.position for nid, item in window.document.workflow.nodes.items()}
    window.canvas.select(STEM)
    block_id = window.collapse_selection()
    collapsed = text_of(window)
    placed = window.document.workflow.nodes[block_id].position
    window.document.move_nodes({block_id: (placed[0] + 100, placed[1] + 50)})
    window.canvas.select([block_id])
    window.act["expand_block"].trigger()
    nodes = window.document.workflow.nodes
    assert block_id not in nodes and set(STEM) <= set(nodes)
    # positions are the inner ones, relative to where the block was moved
    for nid in STEM:
        assert nodes[nid].position == (original[nid][0] + 100, original[nid][1] + 50)
    assert window.document.workflow.incoming("dropout1")["network"].source == "pool1"
    assert sorted(window.canvas.selected_ids()) == sorted(STEM)
    window.act["undo"].trigger()
    window.act["undo"].trigger()  # the move
    assert text_of(window) == collapsed


def test_collapse_refuses_non_layer_nodes_in_one_line(window, best):
    assert window.open_file(best)
    before = text_of(window)
    refused = []
    window.document.refused.connect(lambda text, _node: refused.append(text))
    window.canvas.select(["output", "learner"])
    window.act["collapse_block"].trigger()
    assert refused == ["cannot collapse: only layer nodes can go in a block: 'Network Learner' (learner) "
                       "is not a layer node"]
    assert text_of(window) == before


def test_library_blocks_can_be_dropped_and_saved(window, best, user_blocks):
    assert window.open_file(best)
    names = [window.repository.library[key].name for key in window.repository.library]
    assert names == ["Conv-BN-ReLU", "Residual block", "Residual block (projection)", "Inception module"]
    window.canvas._on_data_dropped(encode_library_block("builtin:inception"), QPoint(300, 500))
    block_id = window.canvas.selected_ids()[0]
    item = window.document.workflow.nodes[block_id]
    assert item.label == "Inception module" and item.position == (300.0, 500.0)
    assert window.document.undo_stack.undoText() == "Add Inception module"
    probe.simulate_connect(window.canvas, "pool1", "network", block_id, "in1")
    assert probe.snapshot(window.canvas)["nodes"][block_id]["lines"][0] == "out (12, 12, 56)"
    # save it to the library: it is listed, and adds the same block again
    window.document.set_label(block_id, "My inception")
    window.canvas.select([block_id])
    window.act["save_block"].trigger()
    assert [p.name for p in user_blocks.iterdir()] == ["my_inception.block.json"]
    assert json.loads((user_blocks / "my_inception.block.json").read_text())["name"] == "My inception"
    assert "user:my_inception.block.json" in window.repository.library
    again = window.add_library_block("user:my_inception.block.json", (0.0, 900.0))
    assert window.document.workflow.nodes[again].label == "My inception 2"
    window.act["undo"].trigger()
    assert again not in window.document.workflow.nodes


def test_a_block_opens_to_edit_its_inside_as_one_step(window, best, qtbot):
    assert window.open_file(best)
    window.canvas.select(STEM)
    block_id = window.collapse_selection()
    before = text_of(window)
    editor = window.open_block(block_id)
    assert editor is not None
    qtbot.addWidget(editor)
    inside = probe.snapshot(editor.canvas)["nodes"]
    assert set(STEM) <= set(inside)
    assert inside["pool1"]["lines"][0] == "out (12, 12, 32)"  # shapes follow the network entering
    editor.inner.set_setting("conv2", "filters", 16)
    assert probe.snapshot(editor.canvas)["nodes"]["pool1"]["lines"][0] == "out (12, 12, 16)"
    assert text_of(window) == before  # nothing changes outside until OK
    editor.accept()
    assert window.document.undo_stack.undoText() == "Edit block Block"
    assert probe.snapshot(window.canvas)["nodes"][block_id]["lines"][0] == "out (12, 12, 16)"
    assert window.document.workflow.nodes[block_id].node.graph.nodes["conv2"].node["filters"] == 16
    window.act["undo"].trigger()
    assert text_of(window) == before


def test_double_click_opens_a_block(window, best, qtbot):
    assert window.open_file(best)
    window.canvas.select(STEM)
    block_id = window.collapse_selection()
    opened = []
    window.open_block = lambda node_id: opened.append(node_id)  # type: ignore[method-assign]
    window._node_activated(block_id)
    assert opened == [block_id]
    assert blocks.single_block(window.document, ["conv3"]) is None


def test_a_workflow_with_a_block_runs_in_the_execution_process(flagship, run, tmp_path):
    from neuroflow.core.block import clone_graph
    from neuroflow.core.events import NodeState

    window = flagship
    doc = window.document
    window.canvas.select(["conv", "pool"])
    block_id = window.collapse_selection()
    result = run()
    assert result.ok, (result.failed, result.not_configured)
    assert window.canvas.node_view(block_id).state is NodeState.EXECUTED
    trained = doc.workflow.nodes["learner"].outputs["model"]
    assert trained.model.count_params() == 542_230  # as the flagship without the block
    assert [layer[1] for layer in trained.model.layers[:3]] == ["InputLayer", "Conv2D", "MaxPooling2D"]
    import keras

    saved = keras.saving.load_model(str(tmp_path / "model.keras"))
    assert saved.get_layer(index=1).filters == 32

    # a new inside resets the block and what follows, and the next run trains the new network
    inside = clone_graph(doc.workflow.nodes[block_id].node.graph)
    inside.set_setting("conv", "filters", 8)
    assert blocks.set_block_inside(doc, block_id, inside)
    assert doc.workflow.nodes["learner"].state is NodeState.CONFIGURED
    assert doc.workflow.nodes["input"].state is NodeState.EXECUTED
    result = run()
    assert result.ok and block_id in result.executed and "input" not in result.executed
    assert doc.workflow.nodes["learner"].outputs["model"].model.count_params() == 8 * 10 + 1352 * 100 + 100 + 1010


def test_a_block_with_two_inputs_draws_both_ports_and_keeps_them_when_edited(window, tmp_path):
    from neuroflow.core.workflow import Workflow

    workflow = Workflow()
    workflow.add_node("neuroflow.layers.input", node_id="input", settings={"shape": [8, 8, 3]})
    workflow.add_node("neuroflow.layers.conv2d", node_id="a", settings={"filters": 4}, position=(220, -80))
    workflow.add_node("neuroflow.layers.conv2d", node_id="b", settings={"filters": 4}, position=(220, 80))
    workflow.add_node("neuroflow.layers.add", node_id="sum", position=(440, 0))
    workflow.add_node("neuroflow.layers.flatten", node_id="flat", position=(660, 0))
    for source, target, port in (("input", "a", "network"), ("input", "b", "network"), ("a", "sum", "network_1"),
                                 ("b", "sum", "network_2"), ("sum", "flat", "network")):
        workflow.connect(source, "network", target, port)
    path = tmp_path / "merge.workflow"
    fileformat.save(workflow, path)
    assert window.open_file(path)
    window.canvas.select(["sum"])
    block_id = window.collapse_selection()
    shown = probe.snapshot(window.canvas)
    assert {("a", "network", block_id, "in1"), ("b", "network", block_id, "in2"),
            (block_id, "network", "flat", "network")} <= shown["connections"]
    assert shown["nodes"][block_id]["lines"] == ("out (6, 6, 4)", "0 params · 1 layer")
    # a new inside whose ports are the same keeps the wires; a port removed inside drops its wire
    graph = window.document.workflow.nodes[block_id].node.graph
    from neuroflow.core.block import clone_graph

    inside = clone_graph(graph)
    inside.remove_node("in2")
    assert blocks.set_block_inside(window.document, block_id, inside)
    shown = probe.snapshot(window.canvas)
    assert ("b", "network", block_id, "in2") not in shown["connections"]
    assert ("a", "network", block_id, "in1") in shown["connections"]
    assert shown["connections"] == shown["model_connections"]
    assert "not connected" in shown["nodes"][block_id]["lines"][0]
    window.act["undo"].trigger()
    assert ("b", "network", block_id, "in2") in probe.snapshot(window.canvas)["connections"]


def test_a_block_is_copied_and_pasted_with_its_inside(window, best):
    assert window.open_file(best)
    window.canvas.select(STEM)
    block_id = window.collapse_selection()
    text = window.document.copy([block_id])
    pasted = window.document.paste(text)
    assert len(pasted) == 1 and pasted[0] != block_id
    copy = window.document.workflow.nodes[pasted[0]].node
    original = window.document.workflow.nodes[block_id].node
    assert isinstance(copy, BlockNode) and copy is not original
    assert fileformat.graph_to_dict(copy.graph) == fileformat.graph_to_dict(original.graph)
    probe.simulate_connect(window.canvas, "dropout1", "network", pasted[0], "in1")
    assert probe.snapshot(window.canvas)["nodes"][pasted[0]]["lines"] == ("out (4, 4, 32)", "18,752 params · 5 layers")


def test_the_properties_of_a_block_list_its_layers(window, best):
    assert window.open_file(best)
    window.canvas.select(STEM)
    window.collapse_selection()
    text = window.properties.description.text()
    assert "Layers inside (5): Conv2D 32 3x3, BatchNorm, Conv2D 32 3x3, BatchNorm, MaxPooling 2x2." in text


def test_a_long_block_opens_at_a_readable_zoom_from_its_start(window, tmp_path, qtbot):
    """Stage 1 of the ResNet-sized network holds six residual blocks in a row: fitted whole into
    the dialog its text would be a few pixels high; it opens at 75% with its input in view."""
    import importlib.util
    import sys

    tool_path = Path(__file__).resolve().parents[2] / "tools" / "make_residual_workflow.py"
    spec = importlib.util.spec_from_file_location("make_residual_workflow_gui", tool_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        path = tmp_path / "resnet.workflow"
        fileformat.save(module.with_blocks(module.residual_workflow(180)), path)
    finally:
        sys.modules.pop(spec.name, None)
    assert window.open_file(path)
    editor = window.open_block("stage1")
    assert editor is not None
    qtbot.addWidget(editor)
    viewer = editor.canvas.viewer
    qtbot.waitUntil(lambda: abs(viewer.transform().m11() - blocks.BlockEditor.READABLE_SCALE) < 0.01, timeout=5_000)
    seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    graph = editor.inner.workflow
    first = min(graph.nodes.values(), key=lambda item: item.position[0])
    last = max(graph.nodes.values(), key=lambda item: item.position[0])
    assert seen.contains(editor.canvas.node_view(first.id).sceneBoundingRect())
    assert not seen.contains(editor.canvas.node_view(last.id).sceneBoundingRect())  # it scrolls
