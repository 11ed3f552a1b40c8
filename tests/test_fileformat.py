"""The .workflow format: round trips, validation messages with JSON paths, atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from toy_nodes import toy_registry

from neuroflow.core import fileformat
from neuroflow.core.errors import WorkflowFileError
from neuroflow.core.node import MissingNode
from neuroflow.core.workflow import Workflow


def sample() -> Workflow:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src", label="Reader", position=(10, 20), settings={"count": 7})
    workflow.add_node("test.double", node_id="d1", position=(200.5, 20))
    workflow.add_node("test.sum", node_id="sum", label="Sum ü", position=(400, 20))
    workflow.connect("src", "data", "d1", "data")
    workflow.connect("d1", "data", "sum", "a")
    workflow.connect("src", "data", "sum", "b")
    return workflow


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "w.workflow"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_save_load_save_is_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "a.workflow"
    fileformat.save(sample(), path)
    first = path.read_bytes()
    again = fileformat.load(path, toy_registry())
    fileformat.save(again, path)
    assert path.read_bytes() == first
    assert again.nodes["src"].node["count"] == 7
    assert again.nodes["sum"].label == "Sum ü"
    assert again.nodes["d1"].position == (200.5, 20.0)
    assert [c.describe() for c in again.connections] == [c.describe() for c in sample().connections]


def test_layout_is_kept_apart_from_semantics() -> None:
    data = fileformat.to_dict(sample())
    assert set(data) == {"format", "format_version", "nodes", "connections", "layout"}
    assert data["layout"]["src"] == [10.0, 20.0]
    assert "position" not in json.dumps(data["nodes"])


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: "{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        (lambda d: [], "$: expected a JSON object, got a list"),
        (lambda d: d.update(format_version=99), "format_version: file format 99 is newer"),
        (lambda d: d.pop("nodes") and None, "nodes: is missing"),
        (lambda d: d["nodes"][1].update(type="acme.quantum"), "nodes[1].type: unknown node type 'acme.quantum'"),
        (lambda d: d["nodes"][0]["settings"].pop("count"), "nodes[0].settings.count: is missing (Source)"),
        (lambda d: d["nodes"][0]["settings"].update(count="seven"),
         "nodes[0].settings.count: setting 'count': expected an integer, got 'seven'"),
        (lambda d: d["nodes"][0]["settings"].update(count=5000),
         "nodes[0].settings.count: setting 'count': 5000 is out of range (1 to 1000)"),
        (lambda d: d["nodes"][0]["settings"].update(colour=1), "nodes[0].settings.colour: Source has no setting 'colour'"),
        (lambda d: d["connections"].__setitem__(0, {"from": "sum.data", "to": "d1.data"}),
         "connections[1]: cannot connect 'Double' (d1) output 'data' -> 'Sum ü' (sum) input 'a': it would make a cycle"),
        (lambda d: d["connections"].append({"from": "d1.data", "to": "sum.a"}), "that input is already connected"),
        (lambda d: d["connections"].append({"from": "ghost.data", "to": "sum.a"}), "connections[3].from: no node with id 'ghost'"),
        (lambda d: d["nodes"].append(dict(d["nodes"][0])), "nodes[3].id: node id 'src' is empty or used twice"),
        (lambda d: d["layout"].update(src="left"), "layout.src: expected [x, y], got 'left'"),
    ],
)
def test_broken_files_get_one_line_with_json_path(tmp_path: Path, mutate, expected: str) -> None:
    data = fileformat.to_dict(sample())
    replaced = mutate(data)
    path = write(tmp_path, replaced if isinstance(replaced, (str, list)) else data)
    with pytest.raises(WorkflowFileError) as info:
        fileformat.load(path, toy_registry())
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    assert expected in message


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError, match="nope.workflow: file not found"):
        fileformat.load(tmp_path / "nope.workflow", toy_registry())


def test_unknown_type_loads_as_missing_node_when_not_strict(tmp_path: Path) -> None:
    data = fileformat.to_dict(sample())
    data["nodes"][1]["type"] = "acme.quantum"
    data["nodes"][1]["settings"] = {"qubits": 3}
    path = write(tmp_path, data)
    workflow = fileformat.load(path, toy_registry(), strict=False)
    missing = workflow.nodes["d1"]
    assert isinstance(missing.node, MissingNode)
    assert "unknown node type 'acme.quantum'" in missing.message
    out = tmp_path / "again.workflow"
    fileformat.save(workflow, out)
    saved = json.loads(out.read_text())
    assert saved["nodes"][1]["type"] == "acme.quantum"
    assert saved["nodes"][1]["settings"] == {"qubits": 3}
    assert len(saved["connections"]) == 3


def test_failed_save_leaves_existing_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.workflow"
    fileformat.save(sample(), path)
    before = path.read_bytes()

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileformat.os, "fsync", explode)
    with pytest.raises(OSError):
        fileformat.save(Workflow(toy_registry()), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.workflow"]


def test_older_node_settings_are_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = toy_registry()
    source = registry.get("test.source")
    monkeypatch.setattr(source, "version", 2)
    monkeypatch.setattr(
        source, "migrate_settings",
        classmethod(lambda cls, version, s: {"count": s.pop("n") * 10, "sleep": 0.0}),
    )
    data = fileformat.to_dict(sample())
    data["nodes"][0]["version"] = 1
    data["nodes"][0]["settings"] = {"n": 3}
    workflow = fileformat.load(write(tmp_path, data), registry)
    assert workflow.nodes["src"].node["count"] == 30
    assert fileformat.to_dict(workflow)["nodes"][0]["version"] == 2
