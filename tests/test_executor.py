"""Executor: order, caching, failure isolation, partial runs, cancel, events."""

from __future__ import annotations

import threading
import time

import pytest
import toy_nodes
from toy_nodes import toy_registry

from neuroflow.core.events import NodeState, NodeStateChanged, RunFinished
from neuroflow.core.executor import Executor
from neuroflow.core.workflow import Workflow


@pytest.fixture(autouse=True)
def clear_log() -> None:
    toy_nodes.EXECUTIONS.clear()


@pytest.fixture
def branches() -> Workflow:
    """src -> bad (fails) -> after_bad ; src -> good -> sum(a)"""
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src", settings={"count": 10})
    workflow.add_node("test.double", node_id="bad", settings={"fail_above": 5})
    workflow.add_node("test.double", node_id="after_bad")
    workflow.add_node("test.double", node_id="good")
    workflow.add_node("test.sum", node_id="sum")
    workflow.connect("src", "data", "bad", "data")
    workflow.connect("bad", "data", "after_bad", "data")
    workflow.connect("src", "data", "good", "data")
    workflow.connect("good", "data", "sum", "a")
    return workflow


def test_failure_is_isolated_and_independent_branch_runs(branches: Workflow) -> None:
    result = Executor(branches).run()
    assert result.failed == {"bad": "count 20 is above 5"}
    assert branches.nodes["bad"].state is NodeState.FAILED
    assert branches.nodes["bad"].message == "count 20 is above 5"
    assert result.skipped == ["after_bad"]
    assert branches.nodes["after_bad"].state is NodeState.CONFIGURED
    assert branches.nodes["sum"].outputs == {"data": 20}
    assert not result.ok


def test_outputs_are_cached_and_edits_reexecute_only_downstream(branches: Workflow) -> None:
    branches.set_setting("bad", "fail_above", 100)
    Executor(branches).run()
    assert sorted(toy_nodes.EXECUTIONS) == sorted(["src", "bad", "after_bad", "good", "sum"])
    toy_nodes.EXECUTIONS.clear()
    Executor(branches).run()
    assert toy_nodes.EXECUTIONS == []
    branches.set_setting("good", "fail_above", 999)
    Executor(branches).run()
    assert toy_nodes.EXECUTIONS == ["good", "sum"]


def test_run_up_to_one_node_executes_only_what_it_needs(branches: Workflow) -> None:
    result = Executor(branches).run(targets=["sum"])
    assert result.ok
    assert toy_nodes.EXECUTIONS == ["src", "good", "sum"]
    assert branches.nodes["bad"].state is NodeState.CONFIGURED


def test_events_report_state_changes_in_order(branches: Workflow) -> None:
    events: list[object] = []
    Executor(branches, listener=events.append).run(targets=["good"])
    states = [(e.node_id, e.state) for e in events if isinstance(e, NodeStateChanged)]
    assert states == [
        ("src", NodeState.EXECUTING), ("src", NodeState.EXECUTED),
        ("good", NodeState.EXECUTING), ("good", NodeState.EXECUTED),
    ]
    assert isinstance(events[-1], RunFinished) and events[-1].executed == ("src", "good")


def test_not_configured_nodes_are_reported_not_executed() -> None:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.double", node_id="orphan")
    result = Executor(workflow).run()
    assert result.not_configured == {"orphan": "input 'data' is not connected"}
    assert not result.ok


def test_cancel_stops_quickly_and_workflow_runs_again() -> None:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="slow", settings={"sleep": 5.0})
    workflow.add_node("test.double", node_id="next")
    workflow.connect("slow", "data", "next", "data")
    executor = Executor(workflow)
    timer = threading.Timer(0.3, executor.cancel)
    started = time.perf_counter()
    timer.start()
    result = executor.run()
    elapsed = time.perf_counter() - started
    assert result.cancelled
    assert elapsed < 1.5
    assert workflow.nodes["slow"].state is NodeState.CONFIGURED
    assert workflow.nodes["next"].state is NodeState.CONFIGURED
    workflow.set_setting("slow", "sleep", 0.0)
    assert Executor(workflow).run().ok
    assert workflow.nodes["next"].outputs == {"data": 20}
