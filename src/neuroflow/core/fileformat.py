"""The ``.workflow`` file format: versioned JSON, validated on load, written atomically.

Layout (format version 1)::

    {
      "format": "neuroflow.workflow",
      "format_version": 1,
      "nodes": [{"id": "n1", "type": "neuroflow.data.mnist_reader", "version": 1,
                 "label": "MNIST train", "settings": {...}}, ...],
      "connections": [{"from": "n1.data", "to": "n2.data"}, ...],
      "layout": {"n1": [x, y], ...}
    }

Semantics (nodes, connections) and editor layout are kept apart, so moving a node never
changes what runs. Node settings carry their node type's version and go through
``Node.migrate_settings`` when older. Problems are reported as :class:`WorkflowFileError` with
the JSON path (``nodes[3].settings.filters``) and the reason. Saving writes a temporary file in
the same folder and renames it over the target, so a crash never leaves a half-written file.
Output is canonical (sorted keys, fixed indentation), so save -> load -> save is byte-identical.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConnectionRefused, NeuroFlowError, SettingError, WorkflowFileError
from .node import MissingNode
from .registry import Registry
from .workflow import Workflow

FORMAT_NAME = "neuroflow.workflow"
FORMAT_VERSION = 1
#: Upgrades from an older format version to the next, keyed by the older version.
FORMAT_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def to_dict(workflow: Workflow) -> dict[str, Any]:
    nodes = []
    layout = {}
    for item in workflow.nodes.values():
        node = item.node
        nodes.append(
            {
                "id": item.id,
                "type": item.type_id,
                "version": node.missing_version if isinstance(node, MissingNode) else node.version,
                "label": item.label,
                "settings": node.settings_json(),
            }
        )
        layout[item.id] = [round(float(item.position[0]), 1), round(float(item.position[1]), 1)]
    connections = [
        {"from": f"{c.source}.{c.source_port}", "to": f"{c.target}.{c.target_port}"}
        for c in workflow.connections
    ]
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "nodes": nodes,
        "connections": connections,
        "layout": layout,
    }


def dumps(workflow: Workflow) -> str:
    return json.dumps(to_dict(workflow), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save(workflow: Workflow, path: str | os.PathLike[str]) -> None:
    """Write ``workflow`` to ``path`` atomically; relative paths in its settings now resolve
    against the file's folder."""
    atomic_write_text(Path(path), dumps(workflow))
    if workflow.folder != Path(path).parent.resolve():
        workflow.set_folder(Path(path).parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise NeuroFlowError(f"cannot save to {path}: folder {path.parent} does not exist")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str], registry: Registry | None = None, *, strict: bool = True) -> Workflow:
    """Read a ``.workflow`` file. ``strict`` refuses unknown node types; otherwise they load
    as :class:`MissingNode` placeholders that keep their settings."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowFileError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowFileError(f"cannot read the file ({exc})", file=str(path)) from None
    return loads(text, registry, strict=strict, file=str(path), folder=path.parent)


def loads(
    text: str,
    registry: Registry | None = None,
    *,
    strict: bool = True,
    file: str | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Workflow:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowFileError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=file
        ) from None
    return from_dict(data, registry, strict=strict, file=file, folder=folder)


def from_dict(
    data: Any,
    registry: Registry | None = None,
    *,
    strict: bool = True,
    file: str | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Workflow:
    """A workflow from parsed JSON; relative paths in its settings resolve against ``folder``."""
    def fail(json_path: str, reason: str) -> WorkflowFileError:
        return WorkflowFileError(reason, file=file, json_path=json_path)

    if not isinstance(data, dict):
        raise fail("$", f"expected a JSON object, got {_json_type(data)}")
    if data.get("format") != FORMAT_NAME:
        raise fail("format", f"expected \"{FORMAT_NAME}\", got {data.get('format')!r}")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail("format_version", f"expected an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise fail(
            "format_version",
            f"file format {version} is newer than this NeuroFlow understands ({FORMAT_VERSION}); please update",
        )
    while version < FORMAT_VERSION:
        if version not in FORMAT_MIGRATIONS:
            raise fail("format_version", f"no migration from format version {version}")
        data = FORMAT_MIGRATIONS[version](data)
        version += 1

    workflow = Workflow(registry)
    workflow.folder = Path(folder).resolve() if folder is not None else None
    nodes = _expect(data, "nodes", list, fail)
    layout = data.get("layout", {})
    if not isinstance(layout, dict):
        raise fail("layout", f"expected an object, got {_json_type(layout)}")
    connections = _expect(data, "connections", list, fail)
    with workflow.bulk_edit():
        for index, raw in enumerate(nodes):
            _load_node(workflow, raw, f"nodes[{index}]", layout, strict, fail)
        for index, raw in enumerate(connections):
            _load_connection(workflow, raw, f"connections[{index}]", fail)
    return workflow


def _load_node(
    workflow: Workflow,
    raw: Any,
    where: str,
    layout: dict[str, Any],
    strict: bool,
    fail: Callable[[str, str], WorkflowFileError],
) -> None:
    if not isinstance(raw, dict):
        raise fail(where, f"expected an object, got {_json_type(raw)}")
    node_id = _expect(raw, "id", str, fail, where)
    if not node_id or node_id in workflow.nodes:
        raise fail(f"{where}.id", f"node id {node_id!r} is empty or used twice")
    type_id = _expect(raw, "type", str, fail, where)
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"{where}.version", f"expected an integer, got {version!r}")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise fail(f"{where}.settings", f"expected an object, got {_json_type(settings)}")
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise fail(f"{where}.label", f"expected text, got {label!r}")
    position = _position(layout.get(node_id), f"layout.{node_id}", fail)

    node_type = workflow.registry.get(type_id)
    if node_type is None:
        if strict:
            raise fail(f"{where}.type", f"unknown node type '{type_id}' (is its plugin installed?)")
        workflow.add_node(MissingNode(type_id, version, settings), label=label or type_id,
                          node_id=node_id, position=position)
        return
    if version > node_type.version:
        raise fail(
            f"{where}.version",
            f"{node_type.name} settings version {version} is newer than the installed node ({node_type.version})",
        )
    if version < node_type.version:
        settings = node_type.migrate_settings(version, dict(settings))
    node = node_type()
    if version == node_type.version:
        for declared in node_type.settings_spec:
            if declared.name not in settings:
                raise fail(f"{where}.settings.{declared.name}", f"is missing ({node_type.name})")
    for key, value in settings.items():
        try:
            node.set(key, value)
        except SettingError as exc:
            raise fail(f"{where}.settings.{key}", exc.bare_message) from None
    workflow.add_node(node, label=label or node_type.name, node_id=node_id, position=position)


def _load_connection(
    workflow: Workflow, raw: Any, where: str, fail: Callable[[str, str], WorkflowFileError]
) -> None:
    if not isinstance(raw, dict):
        raise fail(where, f"expected an object, got {_json_type(raw)}")
    ends = []
    for key in ("from", "to"):
        value = _expect(raw, key, str, fail, where)
        node_id, dot, port = value.rpartition(".")
        if not dot or not node_id or not port:
            raise fail(f"{where}.{key}", f"expected \"node.port\", got {value!r}")
        if node_id not in workflow.nodes:
            raise fail(f"{where}.{key}", f"no node with id '{node_id}'")
        ends.append((node_id, port))
    (source, source_port), (target, target_port) = ends
    try:
        workflow.connect(source, source_port, target, target_port)
    except ConnectionRefused as exc:
        # A missing node has no declared ports; keep its wiring so saving loses nothing.
        if any(isinstance(workflow.nodes[n].node, MissingNode) for n in (source, target)):
            from .workflow import Connection

            workflow.connections.append(Connection(source, source_port, target, target_port))
            return
        raise fail(where, str(exc)) from None


def _position(raw: Any, where: str, fail: Callable[[str, str], WorkflowFileError]) -> tuple[float, float]:
    if raw is None:
        return (0.0, 0.0)
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    ):
        raise fail(where, f"expected [x, y], got {raw!r}")
    return (float(raw[0]), float(raw[1]))


def _expect(
    data: dict[str, Any],
    key: str,
    kind: type,
    fail: Callable[[str, str], WorkflowFileError],
    where: str = "",
) -> Any:
    path = f"{where}.{key}" if where else key
    if key not in data:
        raise fail(path, "is missing")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise fail(path, f"expected {_KIND_NAMES.get(kind, kind.__name__)}, got {_json_type(value)}")
    return value


_KIND_NAMES = {list: "a list", dict: "an object", str: "text", int: "an integer"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"
