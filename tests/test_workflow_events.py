"""The workflow as the only mutator: typed edit events, read-only containers, indexes kept in
step, incremental configure equal to a full one, and results a settings edit keeps for its undo."""

from __future__ import annotations

import random

import pytest
from toy_nodes import toy_registry

from neuroflow.core.errors import ConnectionRefused
from neuroflow.core.events import (
    ConnectionAdded,
    ConnectionRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeState,
    NodeStateChanged,
    SettingChanged,
    SpecsChanged,
    WorkflowEdit,
)
from neuroflow.core.executor import Executor
from neuroflow.core.node import MissingNode
from neuroflow.core.workflow import Connection, Workflow


def chain_of(length: int) -> Workflow:
    """src -> d1 -> d2 -> ... -> d<length>."""
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src")
    previous = "src"
    for index in range(1, length + 1):
        workflow.add_node("test.double", node_id=f"d{index}")
        workflow.connect(previous, "data", f"d{index}", "data")
        previous = f"d{index}"
    return workflow


def recorded(workflow: Workflow) -> list[object]:
    events: list[object] = []
    workflow.subscribe(events.append)
    return events


def edits(events: list[object]) -> list[object]:
    return [e for e in events if isinstance(e, WorkflowEdit)]


# -- events -----------------------------------------------------------------------------------------
def test_each_edit_reports_the_items_it_changed() -> None:
    workflow = Workflow(toy_registry())
    events = recorded(workflow)
    workflow.add_node("test.source", node_id="src")
    workflow.add_node("test.double", node_id="d1")
    assert edits(events) == [NodeAdded("src"), SpecsChanged("src"), NodeAdded("d1"), SpecsChanged("d1")]
    assert workflow.nodes["d1"].problem == "input 'data' is not connected"

    events.clear()
    connection = workflow.connect("src", "data", "d1", "data")
    assert edits(events) == [ConnectionAdded(connection), SpecsChanged("d1")]
    assert NodeStateChanged("d1", NodeState.CONFIGURED, "") in events

    events.clear()
    workflow.set_setting("src", "count", 7)
    assert edits(events) == [SettingChanged("src", "count", 7), SpecsChanged("src"), SpecsChanged("d1")]
    assert workflow.nodes["d1"].specs["data"].count == 14

    events.clear()
    workflow.set_label("d1", "Twice")
    workflow.move_node("d1", (40, 50))
    workflow.move_node("d1", (40, 50))  # no change, no event
    assert edits(events) == [LabelChanged("d1", "Twice"), NodeMoved("d1", (40.0, 50.0))]

    events.clear()
    workflow.disconnect(connection)
    assert edits(events) == [ConnectionRemoved(connection), SpecsChanged("d1")]
    workflow.connect("src", "data", "d1", "data")

    events.clear()
    workflow.remove_node("src")
    assert edits(events) == [ConnectionRemoved(connection), NodeRemoved("src"), SpecsChanged("d1")]


def test_specs_changed_only_when_specs_or_problem_differ() -> None:
    workflow = chain_of(3)
    events = recorded(workflow)
    workflow.set_setting("d1", "fail_above", 5)  # execution only: every spec stays the same
    assert edits(events) == [SettingChanged("d1", "fail_above", 5)]
    workflow.set_setting("src", "count", 11)
    assert [e for e in edits(events) if isinstance(e, SpecsChanged)] == [
        SpecsChanged(n) for n in ("src", "d1", "d2", "d3")
    ]


def test_an_edit_configures_only_what_follows_it() -> None:
    workflow = chain_of(2)
    workflow.add_node("test.source", node_id="other")
    workflow.add_node("test.double", node_id="after_other")
    workflow.connect("other", "data", "after_other", "data")
    configured: list[str] = []
    for item in workflow.nodes.values():
        original = item.node.configure

        def counting(specs, _original=original, _id=item.id):
            configured.append(_id)
            return _original(specs)

        item.node.configure = counting  # type: ignore[method-assign]
    workflow.set_setting("d1", "fail_above", 5)
    assert configured == ["d1"]  # its specs did not change: nothing after it needs configuring
    configured.clear()
    workflow.set_setting("src", "count", 3)
    assert configured == ["src", "d1", "d2"]  # never the other branch


def test_nodes_and_connections_are_read_only_views() -> None:
    workflow = chain_of(1)
    with pytest.raises(TypeError):
        workflow.nodes["x"] = workflow.nodes["src"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        workflow.nodes = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        workflow.connections.append(Connection("a", "b", "c", "d"))  # type: ignore[attr-defined]
    assert workflow.connections == [Connection("src", "data", "d1", "data")]
    assert Connection("src", "data", "d1", "data") in workflow.connections
    assert list(workflow.nodes) == ["src", "d1"]


def test_nodes_and_wires_go_back_to_their_places() -> None:
    workflow = chain_of(3)
    node_order, wire_order = list(workflow.nodes), list(workflow.connections)
    removed = workflow.nodes["d2"]
    wires = [(i, c) for i, c in enumerate(workflow.connections) if "d2" in (c.source, c.target)]
    workflow.remove_node("d2")
    workflow.add_node(removed.node, node_id="d2", label=removed.label, index=2)
    for index, c in wires:
        workflow.connect(c.source, c.source_port, c.target, c.target_port, index=index)
    assert list(workflow.nodes) == node_order
    assert list(workflow.connections) == wire_order
    assert workflow.topological_order() == node_order
    assert workflow.outgoing("d2") == [wire_order[2]]


def test_missing_nodes_keep_their_wiring_but_never_a_cycle() -> None:
    workflow = chain_of(1)
    workflow.add_node(MissingNode("acme.gone", 1, {}), node_id="gone")
    kept = workflow.connect_any("d1", "data", "gone", "whatever")
    assert kept in workflow.connections
    with pytest.raises(ConnectionRefused, match="it would make a cycle"):
        workflow.connect_any("gone", "out", "src", "x")
    with pytest.raises(ConnectionRefused, match="already connected"):
        workflow.connect_any("src", "data", "gone", "whatever")
    with pytest.raises(ConnectionRefused, match="already connected"):  # no missing node: no leniency
        workflow.connect_any("src", "data", "d1", "data")


def test_random_edits_keep_indexes_and_incremental_configure_equal_to_full() -> None:
    rng = random.Random(11)
    workflow = chain_of(4)
    for step in range(300):
        ids = list(workflow.nodes)
        action = rng.random()
        try:
            if action < 0.2:
                kind = rng.choice(["test.source", "test.double", "test.sum"])
                workflow.add_node(kind, index=rng.randrange(len(ids) + 1))
            elif action < 0.3 and len(ids) > 2:
                workflow.remove_node(rng.choice(ids))
            elif action < 0.6:
                source, target = rng.choice(ids), rng.choice(ids)
                port = rng.choice(["data", "a", "b"])
                workflow.connect(source, "data", target, port, index=rng.randrange(len(workflow.connections) + 1))
            elif action < 0.75 and workflow.connections:
                workflow.disconnect(rng.choice(list(workflow.connections)))
            else:
                item = workflow.nodes[rng.choice(ids)]
                if item.type_id == "test.source":
                    workflow.set_setting(item.id, "count", rng.randint(1, 50))
                elif item.type_id == "test.double":
                    workflow.set_setting(item.id, "fail_above", rng.randint(0, 100))
        except ConnectionRefused:
            pass
        for nid in workflow.nodes:
            assert workflow.incoming(nid) == {c.target_port: c for c in workflow.connections if c.target == nid}
            assert workflow.outgoing(nid) == [c for c in workflow.connections if c.source == nid]
        if step % 10 == 0:
            seen = {nid: (dict(item.specs), item.problem, item.state) for nid, item in workflow.nodes.items()}
            workflow.configure()
            again = {nid: (dict(item.specs), item.problem, item.state) for nid, item in workflow.nodes.items()}
            assert again == seen, f"step {step}"


# -- results kept for undo ----------------------------------------------------------------------------
def executed_chain() -> Workflow:
    workflow = chain_of(2)
    workflow.add_node("test.source", node_id="other")
    result = Executor(workflow).run()
    assert result.ok
    return workflow


def test_undoing_a_setting_change_brings_the_same_results_back() -> None:
    workflow = executed_chain()
    outputs = {nid: item.outputs for nid, item in workflow.nodes.items()}
    workflow.set_setting("d1", "fail_above", 500)
    assert [workflow.nodes[n].state for n in ("d1", "d2")] == [NodeState.CONFIGURED] * 2
    assert workflow.nodes["src"].outputs is outputs["src"]
    events = recorded(workflow)
    workflow.set_setting("d1", "fail_above", 1000)  # the undo
    for nid in ("d1", "d2"):
        assert workflow.nodes[nid].state is NodeState.EXECUTED
        assert workflow.nodes[nid].outputs is outputs[nid]
    assert NodeStateChanged("d2", NodeState.EXECUTED, "") in events
    assert workflow.stashed == 0
    assert Executor(workflow).run().executed == []  # nothing to redo


def test_kept_results_come_back_only_for_the_same_settings() -> None:
    workflow = executed_chain()
    kept = workflow.nodes["d2"].outputs
    workflow.set_setting("src", "count", 20)
    workflow.set_setting("src", "count", 30)  # not executed at 20: the results from 10 stay kept
    assert workflow.nodes["d2"].outputs is None
    workflow.set_setting("src", "count", 10)
    assert workflow.nodes["d2"].outputs is kept
    assert workflow.nodes["other"].state is NodeState.EXECUTED  # never touched


def test_a_node_comes_back_only_after_its_inputs() -> None:
    workflow = executed_chain()
    workflow.set_setting("d1", "fail_above", 1)  # stashes d1 and d2
    workflow.set_setting("src", "count", 20)  # stashes src; d1, d2 already reset
    workflow.set_setting("d1", "fail_above", 1000)
    assert workflow.nodes["d1"].state is NodeState.CONFIGURED  # its input is not executed
    workflow.set_setting("src", "count", 10)
    assert [workflow.nodes[n].state for n in ("src", "d1", "d2")] == [NodeState.EXECUTED] * 3


@pytest.mark.parametrize("edit", ["connect", "add", "remove", "reset", "folder"])
def test_structural_edits_and_resets_drop_kept_results(edit: str, tmp_path) -> None:
    workflow = executed_chain()
    workflow.set_setting("d1", "fail_above", 500)
    assert workflow.stashed == 2
    if edit == "connect":
        workflow.add_node("test.sum", node_id="sum")
        workflow.connect("d2", "data", "sum", "a")
    elif edit == "add":
        workflow.add_node("test.source")
    elif edit == "remove":
        workflow.remove_node("other")
    elif edit == "reset":
        workflow.reset("d1")
    else:
        workflow.set_folder(tmp_path)
    assert workflow.stashed == 0
    workflow.set_setting("d1", "fail_above", 1000)
    assert workflow.nodes["d2"].state is NodeState.CONFIGURED
