"""Graph invariants, configure states and reset cascades of the core Workflow."""

from __future__ import annotations

import pytest
from toy_nodes import toy_registry

from neuroflow.core.errors import ConnectionRefused, SettingError
from neuroflow.core.events import NodeState
from neuroflow.core.workflow import Workflow


@pytest.fixture
def chain() -> Workflow:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src", label="Reader")
    workflow.add_node("test.double", node_id="d1", label="First")
    workflow.add_node("test.double", node_id="d2", label="Second")
    workflow.connect("src", "data", "d1", "data")
    workflow.connect("d1", "data", "d2", "data")
    return workflow


def test_configure_propagates_specs_down_the_chain(chain: Workflow) -> None:
    assert chain.nodes["d2"].specs["data"].count == 40
    assert all(item.state is NodeState.CONFIGURED for item in chain.nodes.values())


def test_unconnected_required_input_is_not_configured_with_reason() -> None:
    workflow = Workflow(toy_registry())
    item = workflow.add_node("test.double", label="Lonely")
    assert item.state is NodeState.NOT_CONFIGURED
    assert item.message == "input 'data' is not connected"
    assert workflow.first_problem() == f"'Lonely' ({item.id}): input 'data' is not connected"


def test_incompatible_ports_are_refused_naming_both_ends() -> None:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src", label="Reader")
    workflow.add_node("test.netsink", node_id="sink", label="Learner")
    with pytest.raises(ConnectionRefused) as info:
        workflow.connect("src", "data", "sink", "network")
    message = str(info.value)
    assert "'Reader' (src)" in message and "'Learner' (sink)" in message
    assert "image dataset does not fit network" in message
    assert workflow.connections == []


def test_second_connection_into_an_input_is_refused(chain: Workflow) -> None:
    chain.add_node("test.source", node_id="other", label="Other reader")
    with pytest.raises(ConnectionRefused, match="already connected") as info:
        chain.connect("other", "data", "d1", "data")
    assert "'Other reader' (other)" in str(info.value) and "'First' (d1)" in str(info.value)


def test_cycle_is_refused(chain: Workflow) -> None:
    chain.add_node("test.sum", node_id="sum")
    chain.connect("d2", "data", "sum", "a")
    with pytest.raises(ConnectionRefused, match="cycle"):
        chain.connect("sum", "data", "d1", "data")
    chain.disconnect(chain.incoming("d1")["data"])
    with pytest.raises(ConnectionRefused, match="cycle"):
        chain.connect("sum", "data", "d1", "data")
    with pytest.raises(ConnectionRefused, match="cycle"):
        chain.connect("d1", "data", "d1", "data")


def test_setting_change_resets_node_and_downstream_only(chain: Workflow) -> None:
    for item in chain.nodes.values():
        item.outputs = {"data": 1}
        chain.set_state(item.id, NodeState.EXECUTED)
    chain.set_setting("d1", "fail_above", 500)
    assert chain.nodes["src"].state is NodeState.EXECUTED
    assert chain.nodes["src"].outputs is not None
    for nid in ("d1", "d2"):
        assert chain.nodes[nid].state is NodeState.CONFIGURED
        assert chain.nodes[nid].outputs is None


def test_invalid_setting_names_node_setting_and_value(chain: Workflow) -> None:
    with pytest.raises(SettingError) as info:
        chain.set_setting("src", "count", 0)
    assert str(info.value) == "'Reader' (src): setting 'count': 0 is out of range (1 to 1000)"
    with pytest.raises(SettingError, match="expected an integer, got 'ten'"):
        chain.set_setting("src", "count", "ten")
    with pytest.raises(SettingError, match="has no setting 'colour'"):
        chain.set_setting("src", "colour", 1)
    assert chain.nodes["src"].node["count"] == 10


def test_removing_a_node_drops_its_connections(chain: Workflow) -> None:
    chain.remove_node("d1")
    assert chain.connections == []
    assert chain.nodes["d2"].state is NodeState.NOT_CONFIGURED


def test_lookup_by_label_or_id(chain: Workflow) -> None:
    assert chain.node("First").id == "d1"
    assert chain.node("d2").label == "Second"
    chain.set_label("d2", "First")
    with pytest.raises(Exception, match="ambiguous"):
        chain.node("First")


def test_topological_order_respects_edges(chain: Workflow) -> None:
    chain.add_node("test.sum", node_id="sum")
    chain.connect("d2", "data", "sum", "a")
    chain.connect("src", "data", "sum", "b")
    order = chain.topological_order()
    for connection in chain.connections:
        assert order.index(connection.source) < order.index(connection.target)
