"""The .workflow format: round trips, validation messages with JSON paths, atomic saves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from toy_nodes import toy_registry

from neuroflow.core import fileformat
from neuroflow.core.errors import NeuroFlowError, WorkflowFileError
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
    with pytest.raises(NeuroFlowError, match=f"^cannot save {path}: disk full$"):
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


# -- hostile files: only NeuroFlow's own one-line errors, with the JSON path -------------------
def _text_with(replacements: dict[str, str]) -> str:
    """The sample's file text with JSON values replaced by raw text (what json.dumps cannot write)."""
    data = fileformat.to_dict(sample())
    marks = {}
    for number, (where, raw) in enumerate(replacements.items()):
        mark = f"@@{number}@@"
        marks[mark] = raw
        *parents, last = where.split("/")
        holder: Any = data
        for part in parents:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        holder[int(last) if isinstance(holder, list) else last] = mark
    text = json.dumps(data)
    for mark, raw in marks.items():
        text = text.replace(f'"{mark}"', raw)
    return text


HOSTILE = {
    "deep nesting": ('{"format": ' + "[" * 100_000 + "]" * 100_000 + "}",
                     ": lists and objects are nested more than 64 deep (at line 1, column 75)"),
    "5,000-digit number": (_text_with({"nodes/0/settings/count": "1" + "0" * 4999}),
                           "nodes[0].settings.count: the number 100000000000...000000 has 5,000 digits; "
                           "at most 20 are allowed"),
    "number beyond a double": (_text_with({"nodes/0/settings/sleep": "1e999"}),
                               "nodes[0].settings.sleep: the number 1e999 is beyond the largest number"),
    "NaN": (_text_with({"nodes/0/settings/sleep": "NaN"}),
            "nodes[0].settings.sleep: NaN is not a number JSON allows; expected a finite number"),
    "Infinity in the layout": (_text_with({"layout/d1/0": "-Infinity"}),
                               "layout.d1[0]: -Infinity is not a number JSON allows"),
    "position too far": (_text_with({"layout/d1/0": "1e300"}),
                         "layout.d1: position [1e+300, 20] is beyond 1,000,000 from the origin"),
    "lone surrogate in a label": (_text_with({"nodes/2/label": '"Sum \\ud800"'}),
                                  "nodes[2].label: the text 'Sum \\ud800' is not valid Unicode "
                                  "(it holds the lone surrogate '\\ud800')"),
    "NUL in a label": (_text_with({"nodes/2/label": '"a\\u0000b"'}),
                       "nodes[2].label: the text 'a\\x00b' contains a NUL character"),
    "line break in an id": (_text_with({"nodes/1/id": '"d\\n1"'}),
                            "nodes[1].id: the text 'd\\n1' contains a control character"),
    "a 100,000-character type": (_text_with({"nodes/1/type": '"' + "A" * 100_000 + '"'}),
                                 "nodes[1].type: the text 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'... (100,000 characters) "
                                 "is too long (at most 200 characters)"),
    "a key twice": (_text_with({"nodes/0/settings": '{"count": 1, "count": 2, "sleep": 0}'}),
                    "nodes[0].settings.count: this key appears twice in its object"),
    "settings version 0": (_text_with({"nodes/0/version": "0"}),
                           "nodes[0].version: expected a settings version of 1 or more, got 0"),
    "an odd setting name": (_text_with({"nodes/0/settings": '{"count": 1, "sleep": 0, "a b": 1}'}),
                            "nodes[0].settings['a b']: Source has no setting 'a b'"),
    "too many nodes": (json.dumps({"format": "neuroflow.workflow", "format_version": 1, "connections": [],
                                   "nodes": [{"id": f"n{k}", "type": "test.sum"} for k in range(1001)]}),
                       "nodes: 1,001 nodes; a workflow may have at most 1,000"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_get_one_line_with_json_path(tmp_path: Path, case: str) -> None:
    text, expected = HOSTILE[case]
    path = write(tmp_path, text)
    for strict in (True, False):
        with pytest.raises(WorkflowFileError) as info:
            fileformat.load(path, toy_registry(), strict=strict)
        message = str(info.value)
        assert "\n" not in message and len(message) < 400
        message.encode("utf-8")  # printable on any UTF-8 terminal
        assert message.startswith(f"{path}: ")
        assert expected in message


def test_paths_in_settings_are_checked_for_length_nul_and_unicode(tmp_path: Path) -> None:
    flagship = json.loads((Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow").read_text())
    reader = next(index for index, node in enumerate(flagship["nodes"]) if node["id"] == "train_reader")
    cases = {
        "a" * 300: "setting 'data_folder': the name '" + "a" * 59 + "... (302 characters) in the path is "
                   "300 bytes long; the most a file or folder name may have is 255",
        "x/" * 2100: "setting 'data_folder': the path is 4,200 bytes long; the most a path may have is 4,096",
        "da\x00ta": "the text 'da\\x00ta' contains a NUL character",  # any text in the file
        "da\ud800ta": "the text 'da\\ud800ta' is not valid Unicode (it holds the lone surrogate '\\ud800')",
        "line\nbreak": "setting 'data_folder': the path 'line\\nbreak' contains a control character",
    }
    for value, expected in cases.items():
        flagship["nodes"][reader]["settings"]["data_folder"] = value
        path = write(tmp_path, json.dumps(flagship))
        with pytest.raises(WorkflowFileError) as info:
            fileformat.load(path)
        assert str(info.value) == f"{path}: nodes[{reader}].settings.data_folder: {expected}"


def test_files_that_are_not_workflow_text_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    def refused(path: Path | str) -> str:
        with pytest.raises(WorkflowFileError) as info:
            fileformat.load(path, toy_registry())
        return str(info.value)

    folder = tmp_path / "folder.workflow"
    folder.mkdir()
    assert refused(folder) == f"{folder}: not a regular file (a folder)"
    pipe = tmp_path / "pipe.workflow"
    os.mkfifo(pipe)
    answer: list[str] = []
    reader = threading.Thread(target=lambda: answer.append(refused(pipe)), daemon=True)
    reader.start()
    reader.join(5)
    assert answer == [f"{pipe}: not a regular file (a named pipe)"]  # at once, not waiting for a writer
    assert refused(tmp_path / ("a" * 300 + ".workflow")).endswith(": cannot read the file: the file name is too long")
    assert refused(str(tmp_path / "a\x00b.workflow")).endswith(": the file name contains a NUL character")
    latin1 = tmp_path / "latin1.workflow"
    latin1.write_bytes('{"label": "caf\xe9"}'.encode("latin-1"))
    assert refused(latin1) == f"{latin1}: not UTF-8 text: byte 0xe9 at line 1 cannot be decoded"
    monkeypatch.setattr(fileformat, "MAX_FILE_BYTES", 1_000)
    big = write(tmp_path, json.dumps(fileformat.to_dict(sample())) + " " * 1_000)
    assert refused(big) == f"{big}: the file is {big.stat().st_size:,} bytes; a workflow file may have at most 1,000"


def test_a_bom_is_accepted_and_not_written_back(tmp_path: Path) -> None:
    path = tmp_path / "bom.workflow"
    path.write_bytes(b"\xef\xbb\xbf" + fileformat.dumps(sample()).encode("utf-8"))
    workflow = fileformat.load(path, toy_registry())
    fileformat.save(workflow, path)
    assert path.read_bytes() == fileformat.dumps(sample()).encode("utf-8")


def test_wires_of_missing_nodes_keep_the_graph_a_graph(tmp_path: Path) -> None:
    data = fileformat.to_dict(sample())
    data["nodes"][1]["type"] = "acme.quantum"
    data["connections"].append({"from": "d1.out", "to": "d1.in"})
    with pytest.raises(WorkflowFileError, match=r"connections\[3\]: cannot connect 'd1.out -> d1.in': it would make a cycle"):
        fileformat.load(write(tmp_path, data), toy_registry(), strict=False)
    data["connections"][3] = {"from": "src.data", "to": "d1.data"}
    with pytest.raises(WorkflowFileError, match="that input is already connected"):
        fileformat.load(write(tmp_path, data), toy_registry(), strict=False)


def test_python_values_get_the_same_checks() -> None:
    data = fileformat.to_dict(sample())
    data["layout"]["d1"] = [float("nan"), 0.0]
    with pytest.raises(WorkflowFileError, match=r"layout.d1\[0\]: expected a finite number, got nan"):
        fileformat.from_dict(data, toy_registry())
    data = fileformat.to_dict(sample())
    data["nodes"][0]["settings"]["count"] = 10**5000
    with pytest.raises(WorkflowFileError, match=r"nodes\[0\].settings.count: the number has more than 20 digits"):
        fileformat.from_dict(data, toy_registry())


def test_settings_refuse_what_files_refuse_for_the_editor_and_the_command_line() -> None:
    """``--set`` and the editor's form go through the same declarations as files do."""
    from neuroflow.core.errors import SettingError
    from neuroflow.core.settings import FloatSetting, IntSetting, IntTupleSetting, PathSetting, StringSetting

    def refused(setting: Any, value: Any) -> str:
        with pytest.raises(SettingError) as info:
            setting.validate(value)
        return str(info.value)

    unbounded_int = IntSetting("limit", "Limit", 0, minimum=0)
    unbounded_float = FloatSetting("scale", "Scale", 1.0)
    path = PathSetting("folder", "Folder", "")
    assert refused(unbounded_int, 10**16) == "setting 'limit': 10000000000000000 is out of range (0 to 1e+15)"
    assert refused(unbounded_int, 1e300) == "setting 'limit': a number of about 301 digits is out of range (0 to 1e+15)"
    assert refused(unbounded_float, 10**400) == "setting 'scale': expected a finite number, got a number of about 401 digits"
    assert refused(unbounded_float, float("nan")) == "setting 'scale': expected a finite number, got nan"
    assert refused(unbounded_float, -1e16) == "setting 'scale': -1e+16 is out of range (-1e+15 to 1e+15)"
    assert refused(IntTupleSetting("shape", "Shape", (1,)), [2, 10**16]) == (
        "setting 'shape': [2, 10000000000000000] has a value outside 1 to 1e+15")
    assert refused(path, "a\x00b") == "setting 'folder': the text 'a\\x00b' contains a NUL character"
    assert refused(path, "\udcff.keras") == (
        "setting 'folder': the text '\\udcff.keras' is not valid Unicode (it holds the lone surrogate '\\udcff')")
    assert refused(StringSetting("name", "Name", ""), "\ud800") .startswith("setting 'name': the text '\\ud800'")
    assert refused(path, "a\tb") == "setting 'folder': the path 'a\\tb' contains a control character"
    assert "is 4,097 bytes long" in refused(path, "/" * 4097)
    assert refused(unbounded_int.__class__("n", "N", 1), "9" * 5000).startswith("setting 'n': expected an integer, got '9999")
    assert len(refused(unbounded_int, "9" * 5000)) < 200
    with pytest.raises(SettingError, match="expected an integer, got '9999"):
        unbounded_int.parse("9" * 5000)  # Python itself refuses to convert 4,300+ digits
    assert unbounded_int.validate(10**15) == 10**15 and path.validate("ünï/😀.keras") == "ünï/😀.keras"
