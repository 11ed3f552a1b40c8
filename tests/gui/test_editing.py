"""Editing as a new user does it: place nodes, wire them, change settings, undo, save, reopen.

Layer nodes need no TensorFlow (their execute is their configure), so everything here runs in
well under a second per test; training lives in test_flagship.py.
"""

from __future__ import annotations

import json

import canvas_probe as probe
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from neuroflow.core import fileformat
from neuroflow.core.events import NodeState
from neuroflow.gui.mime import encode_node_type
from neuroflow.gui.settings_form import IntField
from neuroflow.gui.spin_box import IntSpinBox

pytestmark = pytest.mark.gui

INPUT, FLATTEN, DENSE = "neuroflow.layers.input", "neuroflow.layers.flatten", "neuroflow.layers.dense"


def canvas_matches_core(window) -> None:
    """The invariant behind everything: the canvas shows exactly the core workflow."""
    workflow, snap = window.document.workflow, probe.snapshot(window.canvas)
    assert set(snap["nodes"]) == set(workflow.nodes)
    for node_id, shown in snap["nodes"].items():
        item = workflow.nodes[node_id]
        assert shown["type"] == item.type_id
        assert shown["label"] == item.label
        assert shown["position"] == tuple(round(v, 1) for v in item.position)
        assert shown["state"] == item.state.value
    wires = {(c.source, c.source_port, c.target, c.target_port) for c in workflow.connections}
    assert snap["connections"] == wires
    assert snap["model_connections"] == wires
    assert probe.native_undo_count(window.canvas) == 0


def build_chain(window) -> tuple[str, str, str]:
    """Input -> Flatten -> Dense, placed and wired through the canvas like a user would."""
    doc = window.document
    ids = []
    for index, type_id in enumerate((INPUT, FLATTEN, DENSE)):
        window.canvas._on_data_dropped(encode_node_type(type_id), QPoint(260 * index, 0))
        ids.append(window.canvas.selected_ids()[0])
    probe.simulate_connect(window.canvas, ids[0], "network", ids[1], "network")
    probe.simulate_connect(window.canvas, ids[1], "network", ids[2], "network")
    assert len(doc.workflow.connections) == 2
    return ids[0], ids[1], ids[2]


def spin(window, name: str) -> IntField:
    """An integer setting's field; ``setValue`` types a number and finishes editing."""
    return window.properties.form.fields[name]


def enter(widget, text: str) -> None:
    """Type ``text`` over what a line edit or spin box shows and finish editing."""
    edit = widget.lineEdit() if isinstance(widget, IntSpinBox) else widget
    edit.setText(text)
    widget.editingFinished.emit()


# -- repository -------------------------------------------------------------------------------------
def test_repository_lists_categories_and_searches_descriptions_and_keywords(window):
    repo = window.repository
    categories = [repo.tree.topLevelItem(i).text(0) for i in range(repo.tree.topLevelItemCount())]
    assert categories[:3] == ["Data", "Layers", "Learning"]
    repo.search.setText("fully connected")  # a Dense keyword, not its name
    assert repo.visible_types() == [DENSE]
    repo.search.setText("pool")
    assert set(repo.visible_types()) >= {"neuroflow.layers.max_pooling2d", "neuroflow.layers.average_pooling2d"}
    repo.search.setText("handwritten digits")  # words from the MNIST reader's description
    assert "neuroflow.data.mnist_reader" in repo.visible_types()
    repo.search.setText("")
    assert len(repo.visible_types()) == len(window.document.registry)


def test_double_click_and_drag_from_repository_add_nodes(window, qtbot):
    repo = window.repository
    repo.search.setText("input")
    assert repo.best_match() == INPUT  # the name beats descriptions that mention "input"
    items = [repo.tree.topLevelItem(i).child(j) for i in range(repo.tree.topLevelItemCount())
             for j in range(repo.tree.topLevelItem(i).childCount())]
    item = next(it for it in items if it.data(0, Qt.ItemDataRole.UserRole) == INPUT)
    repo.tree.itemActivated.emit(item, 0)  # double-click or Enter
    assert [n.type_id for n in window.document.workflow.nodes.values()] == [INPUT]
    assert window.properties.node_id == window.canvas.selected_ids()[0]
    # The drag payload the tree produces is what the canvas accepts on drop.
    mime = repo.tree.mimeData([item])
    window.canvas._on_data_dropped(mime, QPoint(400, 120))
    second = window.canvas.selected_ids()[0]
    assert window.document.workflow.nodes[second].position == (400.0, 120.0)
    assert window.document.workflow.nodes[second].label == "Input 2"
    canvas_matches_core(window)


# -- shapes, settings, forms ---------------------------------------------------------------------------
def test_shapes_and_parameters_update_on_the_node_while_editing(window):
    inp, flat, dense = build_chain(window)
    canvas = window.canvas
    assert canvas.node_view(flat).lines == ("out (784)", "0 params")
    assert canvas.node_view(dense).lines == ("out (100)", "78,500 params")
    window.canvas.select([dense])
    spin(window, "units").setValue(10)  # typed, then Enter
    assert canvas.node_view(dense).lines == ("out (10)", "7,850 params")
    window.canvas.select([inp])
    boxes = window.properties.form.fields["shape"].boxes
    enter(boxes[0], "32")  # 32x28x1
    assert canvas.node_view(flat).lines[0] == "out (896)"
    assert canvas.node_view(dense).lines == ("out (10)", "8,970 params")
    canvas_matches_core(window)


def test_every_setting_kind_gets_its_editor_and_invalid_values_show_inline(window):
    node_id = window.document.add_node("neuroflow.learning.learner", (0, 0))
    window.canvas.select([node_id])
    form = window.properties.form
    assert isinstance(form.fields["epochs"].widget, IntSpinBox)
    assert form.fields["epochs"].widget.maximum() == 100_000
    assert isinstance(form.fields["optimizer"].widget, QComboBox)
    assert isinstance(form.fields["shuffle"].widget, QCheckBox)
    assert isinstance(form.fields["learning_rate"].widget, QLineEdit)
    assert "Epochs" in form.fields["epochs"].widget.toolTip()  # help text as tooltip
    # visible_when: momentum only for SGD
    assert not form.is_shown("momentum")
    combo = form.fields["optimizer"].widget
    combo.setCurrentIndex(combo.findData("sgd"))
    assert form.is_shown("momentum")
    assert window.document.workflow.nodes[node_id].node["optimizer"] == "sgd"
    # An invalid learning rate is shown in red and not applied.
    edit = form.fields["learning_rate"].widget
    enter(edit, "0")
    assert "greater than 0" in form.error_text("learning_rate")
    assert window.document.workflow.nodes[node_id].node["learning_rate"] == 0.001
    enter(edit, "0.01")
    assert form.error_text("learning_rate") == ""
    assert window.document.workflow.nodes[node_id].node["learning_rate"] == 0.01
    enter(edit, "fast")
    assert "expected a number" in form.error_text("learning_rate")


def test_path_and_text_settings_apply_when_editing_finishes(window, tmp_path):
    node_id = window.document.add_node("neuroflow.learning.writer", (0, 0))
    window.canvas.select([node_id])
    field = window.properties.form.fields["path"]
    field.edit.setText(str(tmp_path / "model.keras"))
    field.edit.editingFinished.emit()
    assert window.document.workflow.nodes[node_id].node["path"] == str(tmp_path / "model.keras")


def test_a_path_chosen_inside_the_workflow_folder_is_stored_relative(window, tmp_path):
    photos = tmp_path / "project" / "photos"
    (photos / "cats").mkdir(parents=True)
    window.document.save(tmp_path / "project" / "study.workflow")
    node_id = window.document.add_node("neuroflow.data.image_folder_reader", (0, 0))
    window.canvas.select([node_id])
    field = window.properties.form.fields["folder"]
    assert field.stored_form(str(photos)) == "photos"
    assert field.stored_form(str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
    assert window.document.workflow.nodes[node_id].node.resolve_path("photos") == photos.resolve()


def test_changing_a_setting_resets_the_node_and_everything_downstream(window, run):
    inp, flat, dense = build_chain(window)
    result = run()
    assert result.ok and set(result.executed) == {inp, flat, dense}
    canvas = window.canvas
    assert all(canvas.node_view(n).state is NodeState.EXECUTED for n in (inp, flat, dense))
    window.canvas.select([dense])
    spin(window, "units").setValue(64)
    assert canvas.node_view(inp).state is NodeState.EXECUTED
    assert canvas.node_view(dense).state is NodeState.CONFIGURED
    window.canvas.select([inp])
    enter(window.properties.form.fields["shape"].boxes[1], "14")
    assert all(canvas.node_view(n).state is NodeState.CONFIGURED for n in (inp, flat, dense))
    canvas_matches_core(window)


# -- connections ------------------------------------------------------------------------------------------
def test_incompatible_connection_is_refused_with_its_reason(window):
    doc = window.document
    reader = doc.add_node("neuroflow.data.mnist_reader", (0, 0))
    dense = doc.add_node(DENSE, (300, 0))
    before = probe.snapshot(window.canvas)
    probe.simulate_connect(window.canvas, reader, "data", dense, "network")
    assert doc.workflow.connections == []
    assert probe.snapshot(window.canvas)["connections"] == before["connections"] == set()
    reason = window.statusBar().currentMessage()
    assert "image dataset does not fit network" in reason
    assert any("does not fit" in m.text for m in window.messages.messages())
    canvas_matches_core(window)


def test_cycle_is_refused_and_the_previous_wire_comes_back(window):
    inp, flat, dense = build_chain(window)
    second = window.document.add_node(DENSE, (800, 0))
    probe.simulate_connect(window.canvas, dense, "network", second, "network")
    # Dragging second's output into flatten's input would replace input->flatten and make a cycle.
    probe.simulate_connect(window.canvas, second, "network", flat, "network")
    assert "cycle" in window.statusBar().currentMessage()
    wires = {(c.source, c.target) for c in window.document.workflow.connections}
    assert (inp, flat) in wires and (second, flat) not in wires
    canvas_matches_core(window)  # the pipe the viewer had removed is drawn again


def test_dragging_into_a_connected_input_replaces_the_wire_in_one_undo_step(window):
    doc = window.document
    a = doc.add_node(INPUT, (0, 0))
    b = doc.add_node(INPUT, (0, 200))
    dense = doc.add_node(FLATTEN, (300, 0))
    probe.simulate_connect(window.canvas, a, "network", dense, "network")
    probe.simulate_connect(window.canvas, b, "network", dense, "network")
    assert [(c.source, c.target) for c in doc.workflow.connections] == [(b, dense)]
    doc.undo()
    assert [(c.source, c.target) for c in doc.workflow.connections] == [(a, dense)]
    canvas_matches_core(window)


# -- undo / redo ------------------------------------------------------------------------------------------
def test_undo_redo_of_add_connect_and_settings_keep_canvas_and_core_identical(window, qtbot):
    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([dense])
    spin(window, "units").setValue(10)
    steps = doc.undo_stack.count()
    assert steps == 3 + 2 + 1
    snapshots = [probe.snapshot(window.canvas)]
    for _ in range(steps):
        doc.undo()
        canvas_matches_core(window)
        snapshots.append(probe.snapshot(window.canvas))
    assert doc.workflow.nodes == {}
    for expected in reversed(snapshots[:-1]):
        doc.redo()
        canvas_matches_core(window)
        assert probe.snapshot(window.canvas)["nodes"].keys() == expected["nodes"].keys()
        assert probe.snapshot(window.canvas)["connections"] == expected["connections"]
    assert window.canvas.node_view(dense).lines == ("out (10)", "7,850 params")
    # The properties form follows undo too.
    doc.undo()
    assert spin(window, "units").box.value() == 100


def test_what_executes_after_undo_is_the_undone_state(window, run):
    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([dense])
    spin(window, "units").setValue(10)
    extra = doc.add_node(DENSE, (800, 0))
    probe.simulate_connect(window.canvas, dense, "network", extra, "network")
    doc.undo()  # connect
    doc.undo()  # add
    doc.undo()  # units 10 -> 100
    canvas_matches_core(window)
    result = run()
    assert set(result.executed) == {inp, flat, dense}
    network = doc.workflow.nodes[dense].outputs["network"]
    assert network.shape == (100,)
    assert [layer.class_name for layer in network.layers] == ["InputLayer", "Flatten", "Dense"]
    doc.redo()  # units back to 10: the result is dropped and the node shows it
    assert doc.workflow.nodes[dense].outputs is None
    assert window.canvas.node_view(dense).state is NodeState.CONFIGURED


def test_delete_and_undo_restore_ids_settings_wires_and_file(window, tmp_path):
    doc = window.document
    inp, flat, dense = build_chain(window)
    doc.set_setting(dense, "units", 12)
    path = tmp_path / "chain.workflow"
    window.files.save_to(path)
    before = path.read_text()
    window.canvas.select([flat])
    window.act["delete"].trigger()
    assert flat not in doc.workflow.nodes and doc.workflow.connections == []
    doc.undo()
    canvas_matches_core(window)
    window.files.save_to(path)
    assert path.read_text() == before


def test_moves_are_undoable_and_saved_in_the_layout(window, tmp_path):
    doc = window.document
    node_id = doc.add_node(INPUT, (0, 0))
    view = window.canvas.node_view(node_id)
    view.xy_pos = [120.0, 80.0]  # the user drags the node ...
    window.canvas.graph.viewer().moved_nodes.emit({view: [0.0, 0.0]})  # ... and releases it
    assert doc.workflow.nodes[node_id].position == (120.0, 80.0)
    window.files.save_to(tmp_path / "moved.workflow")
    layout = json.loads((tmp_path / "moved.workflow").read_text())["layout"]
    assert layout[node_id] == [120.0, 80.0]
    doc.undo()
    assert doc.workflow.nodes[node_id].position == (0.0, 0.0)
    canvas_matches_core(window)


def test_copy_paste_and_cut(window):
    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([inp, flat])
    window.act["copy"].trigger()
    window.act["paste"].trigger()
    pasted = window.canvas.selected_ids()
    assert len(pasted) == 2 and not set(pasted) & {inp, flat, dense}
    labels = sorted(doc.workflow.nodes[n].label for n in pasted)
    assert labels == ["Flatten 2", "Input 2"]
    assert any(c.source in pasted and c.target in pasted for c in doc.workflow.connections)
    window.act["cut"].trigger()
    assert not set(pasted) & set(doc.workflow.nodes)
    window.act["paste"].trigger()
    assert len(doc.workflow.nodes) == 5
    assert QGuiApplication.clipboard().text().lstrip().startswith("{")
    canvas_matches_core(window)


def test_editing_is_refused_while_executing(window):
    doc = window.document
    node_id = doc.add_node(INPUT, (0, 0))
    doc.set_locked(True)
    try:
        assert doc.add_node(DENSE, (0, 0)) is None
        assert not window.act["undo"].isEnabled()
        assert not window.properties.form.isEnabled()
        assert "executing" in window.statusBar().currentMessage()
        assert len(doc.workflow.nodes) == 1 and node_id in doc.workflow.nodes
    finally:
        doc.set_locked(False)
    assert window.act["undo"].isEnabled()


# -- files ------------------------------------------------------------------------------------------------
def test_title_shows_file_and_modified_mark_and_new_asks_first(window, tmp_path):
    assert window.windowTitle().startswith("Untitled")
    window.document.add_node(INPUT, (0, 0))
    assert window.isWindowModified()
    asked = []
    window.files.ask_unsaved = lambda: asked.append(1) or "cancel"
    window.new_file()
    assert asked and len(window.document.workflow.nodes) == 1  # cancelled: nothing lost
    window.files.save_to(tmp_path / "mine.workflow")
    assert window.windowTitle().startswith("mine.workflow") and not window.isWindowModified()
    window.new_file()  # unchanged: no question
    assert len(asked) == 1 and window.document.workflow.nodes == {}
    assert window.recent_files()[0].endswith("mine.workflow")


def test_save_and_reopen_gives_the_same_canvas_and_settings(window, tmp_path):
    doc = window.document
    inp, flat, dense = build_chain(window)
    doc.set_setting(dense, "units", 33)
    doc.set_label(dense, "Hidden layer")
    path = tmp_path / "roundtrip.workflow"
    window.files.save_to(path)
    before = probe.snapshot(window.canvas)
    window.new_file()
    assert window.open_file(path)
    after = probe.snapshot(window.canvas)
    assert after["nodes"] == before["nodes"]
    assert after["connections"] == before["connections"]
    settings = doc.workflow.nodes[dense].node.settings
    assert (settings["units"], settings["activation"]) == (33, "relu")
    assert fileformat.dumps(doc.workflow) == path.read_text()


def test_unknown_node_types_open_as_visible_missing_nodes_and_survive_saving(window, tmp_path):
    data = {
        "format": "neuroflow.workflow", "format_version": 1,
        "nodes": [
            {"id": "a", "type": INPUT, "version": 1, "label": "Input", "settings": {"shape": [28, 28, 1]}},
            {"id": "b", "type": "acme.layers.quantum", "version": 3, "label": "Quantum", "settings": {"qubits": 5}},
        ],
        "connections": [{"from": "a.network", "to": "b.network"}],
        "layout": {"a": [0, 0], "b": [300, 0]},
    }
    path = tmp_path / "plugin.workflow"
    path.write_text(json.dumps(data))
    assert window.open_file(path)
    shown = probe.snapshot(window.canvas)
    assert shown["nodes"]["b"]["type"] == "missing"
    assert window.canvas.node_view("b").missing
    assert ("a", "network", "b", "network") in shown["connections"]
    assert any(m.level == "error" and "acme.layers.quantum" in m.text for m in window.messages.messages())
    out = tmp_path / "plugin-saved.workflow"
    window.files.save_to(out)
    saved = json.loads(out.read_text())
    assert saved["nodes"][1]["settings"] == {"qubits": 5} and saved["nodes"][1]["version"] == 3
    assert saved["connections"] == data["connections"]


def test_dropping_a_workflow_file_on_the_canvas_opens_it(window, tmp_path, qtbot):
    doc = window.document
    build_chain(window)
    path = tmp_path / "dropped.workflow"
    window.files.save_to(path)
    window.new_file()
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.canvas._on_data_dropped(mime, QPoint(0, 0))
    assert doc.path == path and len(doc.workflow.nodes) == 3


def test_a_workflow_file_dropped_on_the_window_opens_it_and_other_files_are_refused(window, tmp_path, qtbot):
    """Drops on the docks and the toolbar reach the window, whose file flow opens them."""
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    doc = window.document
    build_chain(window)
    path = tmp_path / "dropped.workflow"
    window.files.save_to(path)
    window.new_file()

    def drag(file, kind):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(file))])
        args = (QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)
        event = QDragEnterEvent(*args) if kind == "enter" else QDropEvent(QPointF(10, 10), *args[1:])
        QApplication.sendEvent(window, event)
        return event.isAccepted()

    other = tmp_path / "notes.txt"
    other.write_text("not a workflow")
    assert not drag(other, "enter")
    assert drag(path, "enter")
    assert drag(path, "drop")
    qtbot.waitUntil(lambda: doc.path == path, timeout=3000)
    assert len(doc.workflow.nodes) == 3


def test_broken_file_is_reported_not_raised(window, tmp_path):
    path = tmp_path / "broken.workflow"
    path.write_text("{ not json")
    assert not window.open_file(path)
    assert any("not valid JSON" in m.text for m in window.messages.messages())


HOSTILE_FILES = {
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "lists and objects are nested more than 64 deep"),
    "5,000-digit number": ('{"format": "neuroflow.workflow", "format_version": 1' + "0" * 5000 + "}",
                           "format_version: the number 100000000000...000000 has 5,001 digits"),
    "lone surrogate in a label": (
        '{"format": "neuroflow.workflow", "format_version": 1, "connections": [], "nodes": '
        '[{"id": "a", "type": "neuroflow.layers.flatten", "label": "\\ud800", "settings": {}}]}',
        "nodes[0].label: the text '\\ud800' is not valid Unicode"),
    "NaN position": (
        '{"format": "neuroflow.workflow", "format_version": 1, "connections": [], "layout": {"a": [NaN, 0]}, '
        '"nodes": [{"id": "a", "type": "neuroflow.layers.flatten", "settings": {}}]}',
        "layout.a[0]: NaN is not a number JSON allows"),
}


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_a_hostile_file_shows_one_line_and_keeps_the_current_workflow(window, tmp_path, case):
    doc = window.document
    build_chain(window)
    good = tmp_path / "good.workflow"
    window.files.save_to(good)
    workflow, text = doc.workflow, fileformat.dumps(doc.workflow)
    text_of_file, expected = HOSTILE_FILES[case]
    bad = tmp_path / "bad.workflow"
    bad.write_text(text_of_file, encoding="utf-8")
    alerts = []
    window.files.alert = lambda title, message: alerts.append(message)

    assert not window.open_file(bad)  # from the menu or the command line
    window.open_file_checked(str(bad))  # from a drop or the recent-files list
    message = window.messages.messages()[-1].text
    assert message.startswith(f"{bad}: ") and expected in message and "\n" not in message
    assert alerts == [message, message]
    assert expected in window.statusBar().currentMessage()
    assert doc.workflow is workflow and doc.path == good and fileformat.dumps(doc.workflow) == text
    canvas_matches_core(window)


def test_a_name_the_file_could_not_keep_is_refused(window, tmp_path):
    doc = window.document
    first, _, _ = build_chain(window)
    refused = []
    doc.refused.connect(lambda message, node_id: refused.append(message))
    for name in ("tab\there", "x" * 201, "lone \ud800"):
        assert not doc.set_label(first, name)
    assert doc.workflow.nodes[first].label == "Input"
    assert refused[0] == f"'Input' ({first}): the name 'tab\\there' contains a control character"
    path = tmp_path / "named.workflow"
    window.files.save_to(path)
    assert fileformat.load(path).nodes[first].label == "Input"
    canvas_matches_core(window)


def test_an_unexpected_error_while_opening_is_shown_not_raised(window, tmp_path, monkeypatch):
    """Whatever goes wrong inside the loader (a bug), the editor shows one line and keeps going."""
    doc = window.document
    build_chain(window)
    workflow = doc.workflow
    path = tmp_path / "any.workflow"
    path.write_text("{}")

    def bug(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded\nwhile decoding")

    monkeypatch.setattr(fileformat, "load", bug)
    assert not window.open_file(path)
    message = window.messages.messages()[-1].text
    assert message == f"{path}: cannot open: RecursionError: maximum recursion depth exceeded while decoding"
    assert doc.workflow is workflow
    canvas_matches_core(window)


def test_a_failed_save_names_the_file_once(window, tmp_path, monkeypatch):
    import errno
    import os

    from neuroflow.core import atomic

    build_chain(window)
    path = tmp_path / "study.workflow"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "replace", full)
    assert not window.files.save_to(path)
    assert window.messages.messages()[-1].text == f"cannot save {path}: the disk is full"
    assert window.document.modified and not path.exists()


# -- messages --------------------------------------------------------------------------------------------
def test_messages_list_problems_and_clicking_one_selects_its_node(window):
    doc = window.document
    dense = doc.add_node(DENSE, (0, 0))
    rows = [m for m in window.messages.messages() if m.node_id == dense]
    assert rows and "not connected" in rows[0].text and rows[0].level == "warning"
    window.canvas.select([])
    table = window.messages.table
    row = next(table.topLevelItem(i) for i in range(table.topLevelItemCount())
               if table.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == dense)
    table.itemClicked.emit(row, 1)
    assert window.canvas.selected_ids() == [dense]
    assert window.properties.node_id == dense


def test_node_tooltip_and_lines_explain_problems(window):
    dense = window.document.add_node(DENSE, (0, 0))
    view = window.canvas.node_view(dense)
    assert view.state is NodeState.NOT_CONFIGURED
    assert "not connected" in view.lines[0] and "not connected" in view.toolTip()


def test_a_long_message_is_elided_on_the_node_and_whole_in_its_tooltip(window):
    reader = window.document.add_node("neuroflow.data.mnist_reader", (0, 0))
    window.document.set_setting(reader, "data_folder", "/nowhere/" + "deep/" * 30)
    view = window.canvas.node_view(reader)
    assert view.state is NodeState.NOT_CONFIGURED and len(view.lines[0]) > 60
    assert view.boundingRect().width() <= 200.5, "nodes must fit the 220-pixel layout grid"
    assert "deep/deep/" in view.toolTip()


def test_nodegraph_search_names_every_node_type(window):
    names = window.canvas.graph.node_factory.names
    assert "Dense" in names and names["Dense"] == [DENSE]
    window.canvas._on_search_triggered(DENSE, (10.0, 20.0))
    node_id = window.canvas.selected_ids()[0]
    assert window.document.workflow.nodes[node_id].position == (10.0, 20.0)



def test_keyboard_shortcuts_work_on_the_canvas(window, qtbot):
    from PySide6.QtTest import QTest

    doc = window.document
    inp, flat, dense = build_chain(window)
    viewer = window.canvas.viewer
    viewer.setFocus()
    qtbot.waitUntil(viewer.hasFocus)
    window.canvas.select([dense])
    QTest.keyClick(viewer, Qt.Key.Key_Delete)
    assert dense not in doc.workflow.nodes
    QTest.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dense in doc.workflow.nodes
    QTest.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert dense not in doc.workflow.nodes
    QTest.keyClick(viewer, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert set(window.canvas.selected_ids()) == {inp, flat}
    with qtbot.waitSignal(window.runner.finished, timeout=30_000):
        QTest.keyClick(viewer, Qt.Key.Key_F5)
    assert doc.workflow.nodes[flat].state is NodeState.EXECUTED


def test_typing_in_a_settings_field_does_not_trigger_canvas_shortcuts(window, qtbot):
    from PySide6.QtTest import QTest

    doc = window.document
    node_id = doc.add_node("neuroflow.learning.writer", (0, 0))
    window.canvas.select([node_id])
    edit = window.properties.form.fields["path"].edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    QTest.keyClicks(edit, "model.keras")
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert node_id in doc.workflow.nodes  # Backspace/Delete edited the text, not the canvas
    assert doc.workflow.nodes[node_id].node["path"] == "model.kera"


def test_tab_on_the_canvas_opens_the_node_search(window, qtbot):
    from PySide6.QtTest import QTest

    viewer = window.canvas.viewer
    viewer.setFocus()
    qtbot.waitUntil(viewer.hasFocus)
    QTest.keyClick(viewer, Qt.Key.Key_Tab)
    popup = window.canvas._search
    assert popup is not None and popup.isVisible()
    QTest.keyClicks(popup.edit, "fully connected")  # a keyword finds Dense
    assert popup.list.currentItem().data(Qt.ItemDataRole.UserRole) == DENSE
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert [n.type_id for n in window.document.workflow.nodes.values()] == [DENSE]


def test_execute_selected_runs_what_the_selection_needs_and_nothing_else(window, run):
    doc = window.document
    inp, flat, dense = build_chain(window)
    other = doc.add_node(INPUT, (0, 300))
    window.canvas.select([flat])
    with_selection = run([flat])
    assert set(with_selection.executed) == {inp, flat}
    assert doc.workflow.nodes[dense].state is NodeState.CONFIGURED
    assert doc.workflow.nodes[other].state is NodeState.CONFIGURED
    window.canvas.select([dense])
    assert set(run([dense]).executed) == {dense}  # upstream results are reused


def test_clicking_nodes_and_empty_canvas_updates_the_properties(window, qtbot):
    from PySide6.QtTest import QTest

    inp, flat, dense = build_chain(window)
    viewer = window.canvas.viewer
    window.canvas.fit()
    view = window.canvas.node_view(dense)
    point = viewer.mapFromScene(view.sceneBoundingRect().center() + QPointF(0, 12))
    QTest.mouseClick(viewer.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.canvas.selected_ids() == [dense]
    assert window.properties.node_id == dense
    empty = viewer.mapFromScene(view.sceneBoundingRect().bottomRight() + QPointF(150, 150))
    QTest.mouseClick(viewer.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert window.canvas.selected_ids() == []
    assert window.properties.node_id is None


def test_dragging_a_wire_with_the_mouse_connects_and_refuses_like_the_core(window, qtbot):
    from PySide6.QtTest import QTest

    doc = window.document
    inp = doc.add_node(INPUT, (0, 0))
    flat = doc.add_node(FLATTEN, (300, 0))
    reader = doc.add_node("neuroflow.data.mnist_reader", (0, 200))
    window.canvas.fit()
    viewer = window.canvas.viewer
    port = viewer.viewport()

    def drag(out_item, in_item):
        start = viewer.mapFromScene(out_item.sceneBoundingRect().center())
        end = viewer.mapFromScene(in_item.sceneBoundingRect().center())
        QTest.mousePress(port, Qt.MouseButton.LeftButton, pos=start)
        for step in range(1, 6):
            QTest.mouseMove(port, start + (end - start) * step / 5)
        QTest.mouseRelease(port, Qt.MouseButton.LeftButton, pos=end)

    drag(probe.port_items(window.canvas, reader, "data", "out"), probe.port_items(window.canvas, flat, "network", "in"))
    assert doc.workflow.connections == []
    assert "does not fit" in window.statusBar().currentMessage()
    drag(probe.port_items(window.canvas, inp, "network", "out"), probe.port_items(window.canvas, flat, "network", "in"))
    assert [(c.source, c.target) for c in doc.workflow.connections] == [(inp, flat)]
    canvas_matches_core(window)


@pytest.mark.parametrize("key, modifiers", [
    (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier),
])
def test_an_edit_key_while_executing_says_why_nothing_happens(window, qtbot, key, modifiers):
    from PySide6.QtTest import QTest

    from neuroflow.gui.document import LOCKED_MESSAGE

    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([dense])
    window.copy()
    doc.undo()  # the last wire: now there is something to undo and to redo
    viewer = window.canvas.viewer
    viewer.setFocus()
    qtbot.waitUntil(viewer.hasFocus)
    doc.set_locked(True)
    try:
        window.statusBar().clearMessage()
        QTest.keyClick(viewer, key, modifiers)
        assert window.statusBar().currentMessage() == LOCKED_MESSAGE
        assert set(doc.workflow.nodes) == {inp, flat, dense}
        assert not window.act["delete"].isEnabled()  # the menu still shows it cannot be done now
    finally:
        doc.set_locked(False)
    QTest.keyClick(viewer, Qt.Key.Key_Delete)  # and once the run is over it works again
    assert dense not in doc.workflow.nodes


def _rects(window, ids):
    return {n: window.canvas.node_view(n).sceneBoundingRect() for n in ids}


def test_paste_lands_at_the_mouse_pointer_over_the_canvas(window, qtbot):
    from PySide6.QtGui import QCursor

    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([flat, dense])
    window.copy()
    viewer = window.canvas.viewer
    spot = viewer.viewport().rect().center() + QPoint(40, 120)
    QCursor.setPos(viewer.viewport().mapToGlobal(spot))
    window.paste()
    pasted = window.canvas.selected_ids()
    assert len(pasted) == 2
    where = viewer.mapToScene(spot)
    first = tuple(min(doc.workflow.nodes[n].position[axis] for n in pasted) for axis in (0, 1))
    assert first == pytest.approx((where.x(), where.y()), abs=1.0)  # the group's top-left corner
    # the pair keeps its arrangement
    positions = sorted(doc.workflow.nodes[n].position for n in pasted)
    originals = sorted(doc.workflow.nodes[n].position for n in (flat, dense))
    assert positions[1][0] - positions[0][0] == pytest.approx(originals[1][0] - originals[0][0])


def test_paste_elsewhere_finds_a_free_place_next_to_the_original(window, qtbot):
    from PySide6.QtGui import QCursor

    doc = window.document
    inp, flat, dense = build_chain(window)
    window.canvas.select([flat])
    window.copy()
    QCursor.setPos(window.mapToGlobal(QPoint(5, 5)))  # over the menu bar, as when using Edit > Paste
    placed = []
    for _ in range(3):
        window.paste()
        placed += window.canvas.selected_ids()
    rects = _rects(window, doc.workflow.nodes)
    for node in placed:
        others = [r for n, r in rects.items() if n != node]
        assert not any(rects[node].intersects(r) for r in others), "pasted on top of another node"
        distance = rects[node].center() - rects[flat].center()
        assert abs(distance.x()) + abs(distance.y()) < 900  # near what was copied, not far away


def test_replacing_a_wire_says_so_and_flashes_the_old_one(window, qtbot):
    from neuroflow.gui.wire_flash import FlashedWire

    doc = window.document
    a = doc.add_node(INPUT, (0, 0))
    b = doc.add_node(INPUT, (0, 200))
    flat = doc.add_node(FLATTEN, (300, 0))
    scene = window.canvas.viewer.scene()
    probe.simulate_connect(window.canvas, a, "network", flat, "network")
    assert "replaced" not in window.statusBar().currentMessage()
    probe.simulate_connect(window.canvas, b, "network", flat, "network")
    assert window.statusBar().currentMessage() == (
        "Connected 'Input 2' to 'Flatten'; replaced the wire from 'Input'")
    flashes = [item for item in scene.items() if isinstance(item, FlashedWire)]
    assert len(flashes) == 1
    start = probe.port_items(window.canvas, a, "network", "out").sceneBoundingRect().center()
    end = probe.port_items(window.canvas, flat, "network", "in").sceneBoundingRect().center()
    path = flashes[0].path()
    assert (path.pointAtPercent(0) - start).manhattanLength() < 1
    assert (path.pointAtPercent(1) - end).manhattanLength() < 1
    qtbot.waitUntil(lambda: not any(isinstance(item, FlashedWire) for item in scene.items()), timeout=5000)
    canvas_matches_core(window)


def test_a_fading_wire_ends_quietly_when_its_scene_goes(qtbot):
    """A window closed while a replaced wire fades: the fading stops with the scene (it used to
    go on and fail on the deleted item, in whichever test ran next)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QGraphicsScene

    from neuroflow.gui.wire_flash import FLASH_MS, flash_wire

    scene = QGraphicsScene()
    flash_wire(scene, QPointF(0, 0), QPointF(200, 50))
    qtbot.wait(FLASH_MS // 4)
    scene.deleteLater()
    del scene
    qtbot.wait(FLASH_MS)  # an exception in the event loop would fail this test


def test_a_node_keeps_its_width_whatever_its_status_says(window):
    """Ports must not move under the mouse: a warning or a configured shape never resizes a node."""
    doc = window.document
    inp, flat, dense = build_chain(window)
    view = window.canvas.node_view(dense)
    port = probe.port_items(window.canvas, dense, "network", "out")
    width, port_x = view.boundingRect().width(), port.scenePos().x()
    assert view.state is NodeState.CONFIGURED
    doc.disconnect_wires(list(doc.workflow.connections))  # "input 'network' is not connected"
    assert view.state is NodeState.NOT_CONFIGURED
    assert view.boundingRect().width() == width and port.scenePos().x() == port_x
    doc.undo()
    doc.set_setting(dense, "units", 65_536)  # a long parameter count
    assert view.boundingRect().width() == width and port.scenePos().x() == port_x
    reader = doc.add_node("neuroflow.data.mnist_reader", (0, 400))
    shown = window.canvas.node_view(reader)
    reader_width = shown.boundingRect().width()
    doc.set_setting(reader, "data_folder", "/nowhere/" + "deep/" * 30)  # a long problem
    assert shown.boundingRect().width() == reader_width
    assert "deep/deep/" in shown.toolTip()
