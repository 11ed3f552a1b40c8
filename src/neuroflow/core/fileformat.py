"""The ``.workflow`` file format: versioned JSON, validated on load, written atomically.

Layout (format version 2)::

    {
      "format": "neuroflow.workflow",
      "format_version": 2,
      "nodes": [{"id": "n1", "type": "neuroflow.data.mnist_reader", "version": 1,
                 "label": "MNIST train", "settings": {...}}, ...,
                {"id": "n9", "type": "neuroflow.blocks.block", "version": 1, "label": "Stem",
                 "settings": {}, "block": {"nodes": [...], "connections": [...], "layout": {...}}}],
      "connections": [{"from": "n1.data", "to": "n2.data"}, ...],
      "layout": {"n1": [x, y], ...}
    }

A block node (:mod:`neuroflow.core.block`) keeps its inside under ``"block"``: nodes,
connections and layout exactly as at the top, with the block's boundary markers among the
nodes, and is loaded and checked by the same code (errors name paths such as
``nodes[9].block.nodes[2].settings.filters``). Version 1 is version 2 without blocks.

Semantics (nodes, connections) and editor layout are kept apart, so moving a node never
changes what runs. Node settings carry their node type's version and go through
``Node.migrate_settings`` when older. Problems are reported as :class:`WorkflowFileError` with
the JSON path (``nodes[3].settings.filters``) and the reason. Saving writes a temporary file in
the same folder and renames it over the target, so a crash never leaves a half-written file.
Output is canonical (sorted keys, fixed indentation), so save -> load -> save is byte-identical.

A file is untrusted input, so loading never raises anything but :class:`WorkflowFileError`:
files over :data:`MAX_FILE_BYTES` are refused before they are read, nesting deeper than
:data:`MAX_DEPTH` before it is parsed (Python's parser would recurse), and after parsing every
value is checked with its JSON path - integers of more than :data:`MAX_INTEGER_DIGITS` digits,
``NaN``/``Infinity``, text with a NUL character or a lone surrogate (not Unicode, unprintable and
unsavable), control characters in ids, labels, types and keys, keys given twice, layout
positions beyond :data:`MAX_POSITION`. Setting values then go through their declarations, which
bound numbers and paths (see :mod:`neuroflow.core.settings`). Nothing non-finite is written.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .block import BLOCK_TYPE, BlockNode, BlockOutput, block_registry, is_marker, layer_node_problem
from .errors import ConfigureError, ConnectionRefused, NeuroFlowError, SettingError, WorkflowFileError
from .node import MissingNode, Node
from .registry import Registry
from .workflow import MAX_NAME_LENGTH, Workflow, short_text
from .workflow import text_problem as _text_problem

FORMAT_NAME = "neuroflow.workflow"
FORMAT_VERSION = 2


def _from_version_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added blocks (a ``"block"`` entry in a block node); version 1 files have none,
    so they read as they are."""
    return data


#: Upgrades from an older format version to the next, keyed by the older version.
FORMAT_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_version_1}

#: Largest ``.workflow`` file read (bytes); real ones are a few kilobytes.
MAX_FILE_BYTES = 10_000_000
#: Deepest nesting of lists and objects; the format itself needs five levels.
MAX_DEPTH = 64
#: Longest integer (digits); Python refuses to convert more than 4,300 and no setting needs 20.
MAX_INTEGER_DIGITS = 20
#: Layout positions lie within this distance of the origin, in either direction.
MAX_POSITION = 1_000_000.0
#: Most nodes and connections in one workflow (their checks grow with the square of the count).
MAX_NODES = 1_000
MAX_CONNECTIONS = 4_000

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "MAX_FILE_BYTES", "MAX_DEPTH", "atomic_write_text",
    "dumps", "from_dict", "load", "loads", "save", "to_dict",
]


def to_dict(workflow: Workflow) -> dict[str, Any]:
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **graph_to_dict(workflow)}


def graph_to_dict(workflow: Workflow) -> dict[str, Any]:
    """Nodes, connections and layout of a workflow or of a block's inside."""
    nodes = []
    layout = {}
    for item in workflow.nodes.values():
        node = item.node
        x, y = (float(v) for v in item.position)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise NeuroFlowError(f"cannot save: the position of {item.title} is not finite ({x}, {y})")
        entry = {
            "id": item.id,
            "type": item.type_id,
            "version": node.missing_version if isinstance(node, MissingNode) else node.version,
            "label": item.label,
            "settings": node.settings_json(),
        }
        if isinstance(node, BlockNode):
            entry["block"] = graph_to_dict(node.graph)
        nodes.append(entry)
        layout[item.id] = [round(x, 1), round(y, 1)]
    connections = [
        {"from": f"{c.source}.{c.source_port}", "to": f"{c.target}.{c.target_port}"}
        for c in workflow.connections
    ]
    return {
        "nodes": nodes,
        "connections": connections,
        "layout": layout,
    }


def dumps(workflow: Workflow) -> str:
    """The canonical text of ``workflow``; never writes ``NaN`` or ``Infinity`` (not JSON)."""
    try:
        return json.dumps(to_dict(workflow), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:  # only non-finite numbers get here: settings refuse them
        raise NeuroFlowError(f"cannot save: a value is not a finite number ({exc})") from None


def save(workflow: Workflow, path: str | os.PathLike[str]) -> None:
    """Write ``workflow`` to ``path`` atomically; relative paths in its settings now resolve
    against the file's folder."""
    atomic_write_text(Path(path), dumps(workflow))
    if workflow.folder != Path(path).parent.resolve():
        workflow.set_folder(Path(path).parent)


def load(path: str | os.PathLike[str], registry: Registry | None = None, *, strict: bool = True) -> Workflow:
    """Read a ``.workflow`` file. ``strict`` refuses unknown node types; otherwise they load
    as :class:`MissingNode` placeholders that keep their settings."""
    path = Path(path)
    text = _read_text(path, str(path))
    return loads(text, registry, strict=strict, file=str(path), folder=path.parent)


def _read_text(path: Path, file: str) -> str:
    """The file's text; a regular file of at most :data:`MAX_FILE_BYTES`, UTF-8 (BOM allowed)."""
    def fail(reason: str) -> WorkflowFileError:
        return WorkflowFileError(reason, file=file)

    if "\0" in file:
        raise fail("the file name contains a NUL character")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > MAX_FILE_BYTES:
            raise fail(_too_big(info.st_size))
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("file not found") from None
    except OSError as exc:
        raise fail(f"cannot read the file: {_os_reason(exc)}") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while we read it
        raise fail(_too_big(len(data)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise fail(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} cannot be decoded") from None


def _too_big(size: int) -> str:
    return f"the file is {size:,} bytes; a workflow file may have at most {MAX_FILE_BYTES:,}"


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a file"


def _os_reason(exc: OSError) -> str:
    from .atomic import describe_os_error

    if isinstance(exc, PermissionError):
        return "permission denied"
    return describe_os_error(exc)


def loads(
    text: str,
    registry: Registry | None = None,
    *,
    strict: bool = True,
    file: str | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Workflow:
    """A workflow from ``.workflow`` text (see :func:`from_dict`)."""
    return from_dict(parse(text, file=file), registry, strict=strict, file=file, folder=folder)


def parse(text: str, *, file: str | None = None) -> Any:
    """JSON text to Python values, within the limits above; a :class:`WorkflowFileError` otherwise.

    Values the checks after parsing refuse (too many digits, NaN, duplicate keys) come back as
    markers so that the error can name their JSON path, which the parser itself does not know.
    """
    if len(text) > MAX_FILE_BYTES:
        raise WorkflowFileError(_too_big(len(text.encode("utf-8", "surrogatepass"))), file=file)
    deep = _too_deep_at(text)
    if deep is not None:
        line, column = deep
        raise WorkflowFileError(
            f"lists and objects are nested more than {MAX_DEPTH} deep (at line {line}, column {column})",
            file=file,
        )
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise WorkflowFileError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=file
        ) from None
    except RecursionError:  # the depth check above should make this unreachable
        raise WorkflowFileError(f"lists and objects are nested more than {MAX_DEPTH} deep", file=file) from None


class _Refused:
    """A parsed value that is not acceptable, with the reason; reported with its JSON path."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Object(dict):  # type: ignore[type-arg]
    """A JSON object that had a key twice (JSON leaves the meaning open: refuse it)."""

    duplicate: str = ""


def _parse_int(text: str) -> int | _Refused:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]}"
        return _Refused(f"the number {shown} has {digits:,} digits; at most {MAX_INTEGER_DIGITS} are allowed")
    return int(text)


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]}"
        return _Refused(f"the number {shown} is beyond the largest number there is (about 1.8e308)")
    return value


def _parse_constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a number JSON allows; expected a finite number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
    marked = _Object(result)
    marked.duplicate = duplicate
    return marked


# A JSON string, or one bracket: what the nesting check must tell apart.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep_at(text: str) -> tuple[int, int] | None:
    """(line, column) where nesting first goes deeper than :data:`MAX_DEPTH`, else ``None``."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) <= MAX_DEPTH:
        return None
    depth = 0
    for match in _TOKENS.finditer(text):  # only now find where, for the message
        step = _DEPTH_STEP.get(match.group())
        if step is None:
            continue
        depth += step
        if depth > MAX_DEPTH:
            start = match.start()
            line = text.count("\n", 0, start) + 1
            return line, start - (text.rfind("\n", 0, start) + 1) + 1
    return None  # only inside a broken string; the parser will say so


def _join(where: str, key: str) -> str:
    """The JSON path of ``key`` inside ``where``: ``a.b``, or ``a['odd key']`` for other keys."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{where}.{key}" if where else key
    return f"{where or '$'}[{key!r}]"


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def _check_values(data: Any, fail: Callable[[str, str], WorkflowFileError]) -> None:
    """Refuse, with its JSON path, the first value in the file that the parser marked or that
    holds text NeuroFlow cannot keep (see :func:`_text_problem`)."""
    stack: list[tuple[Any, str, int]] = [(data, "$", 0)]
    while stack:
        value, where, structural = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value, structural=structural)
            if problem:
                raise fail(where, problem)
        elif isinstance(value, _Refused):
            raise fail(where, value.reason)
        elif isinstance(value, float) and not math.isfinite(value):
            raise fail(where, f"expected a finite number, got {value}")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise fail(where, f"the number has more than {MAX_INTEGER_DIGITS} digits")
        elif isinstance(value, dict):
            if isinstance(value, _Object):
                raise fail(_join(_root(where), value.duplicate), "this key appears twice in its object")
            children = []
            for key, item in value.items():
                problem = _text_problem(key, structural=MAX_NAME_LENGTH)
                if problem:
                    raise fail(where, f"a key: {problem}")
                path = _join(_root(where), key)
                children.append((item, path, _name_limit(path)))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{where}[{index}]", 0) for index, item in enumerate(value)]))


def _root(where: str) -> str:
    return "" if where == "$" else where


_NAMES = re.compile(r"(?:nodes\[\d+\]\.block\.)*nodes\[\d+\]\.(id|type|label)")
_ENDS = re.compile(r"(?:nodes\[\d+\]\.block\.)*connections\[\d+\]\.(from|to)")


def _name_limit(path: str) -> int:
    """How long the text at ``path`` may be if it is a name (``0``: not a name)."""
    if _NAMES.fullmatch(path):
        return MAX_NAME_LENGTH
    if _ENDS.fullmatch(path):  # "node.port"
        return 2 * MAX_NAME_LENGTH + 1
    return 0


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

    _check_values(data, fail)
    if not isinstance(data, dict):
        raise fail("$", f"expected a JSON object, got {_json_type(data)}")
    if data.get("format") != FORMAT_NAME:
        raise fail("format", f"expected \"{FORMAT_NAME}\", got {_compact(data.get('format'))}")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail("format_version", f"expected an integer, got {_compact(version)}")
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
    _load_graph(workflow, data, "", strict, fail)
    return workflow


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _load_graph(
    workflow: Workflow, data: dict[str, Any], where: str, strict: bool,
    fail: Callable[[str, str], WorkflowFileError],
) -> None:
    """Nodes, connections and layout of ``data`` (the file, or a block's ``"block"`` entry at
    ``where``) into ``workflow``."""
    nodes = _expect(data, "nodes", list, fail, where)
    layout = data.get("layout", {})
    if not isinstance(layout, dict):
        raise fail(_at(where, "layout"), f"expected an object, got {_json_type(layout)}")
    connections = _expect(data, "connections", list, fail, where)
    if len(nodes) > MAX_NODES:
        raise fail(_at(where, "nodes"), f"{len(nodes):,} nodes; a workflow may have at most {MAX_NODES:,}")
    if len(connections) > MAX_CONNECTIONS:
        raise fail(_at(where, "connections"),
                   f"{len(connections):,} connections; a workflow may have at most {MAX_CONNECTIONS:,}")
    with workflow.bulk_edit():
        for index, raw in enumerate(nodes):
            _load_node(workflow, raw, _at(where, f"nodes[{index}]"), layout, strict, fail, where)
        for index, raw in enumerate(connections):
            _load_connection(workflow, raw, _at(where, f"connections[{index}]"), fail)


def _load_block(
    workflow: Workflow, raw: dict[str, Any], where: str, strict: bool,
    fail: Callable[[str, str], WorkflowFileError],
) -> BlockNode:
    """A block node's inside, held to the rules of a file plus a block's own: layer nodes
    only, and exactly one output marker."""
    where = f"{where}.block"
    content = raw.get("block")
    if not isinstance(content, dict):
        raise fail(where, "is missing" if content is None else f"expected an object, got {_json_type(content)}")
    graph = Workflow(block_registry(workflow.registry))
    graph.folder = workflow.folder
    _load_graph(graph, content, where, strict, fail)
    outputs = [item.id for item in graph.nodes.values() if isinstance(item.node, BlockOutput)]
    if len(outputs) != 1:
        raise fail(f"{where}.nodes", f"a block needs exactly one {BlockOutput.name} node, found {len(outputs)}")
    return BlockNode(graph=graph)


def _load_node(
    workflow: Workflow,
    raw: Any,
    where: str,
    layout: dict[str, Any],
    strict: bool,
    fail: Callable[[str, str], WorkflowFileError],
    graph_where: str = "",
) -> None:
    if not isinstance(raw, dict):
        raise fail(where, f"expected an object, got {_json_type(raw)}")
    node_id = _expect(raw, "id", str, fail, where)
    if not node_id or node_id in workflow.nodes:
        raise fail(f"{where}.id", f"node id {short_text(node_id)} is empty or used twice")
    type_id = _expect(raw, "type", str, fail, where)
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"{where}.version", f"expected an integer, got {_compact(version)}")
    if version < 1:
        raise fail(f"{where}.version", f"expected a settings version of 1 or more, got {version}")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise fail(f"{where}.settings", f"expected an object, got {_json_type(settings)}")
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise fail(f"{where}.label", f"expected text, got {_compact(label)}")
    position = _position(layout.get(node_id), _join(_at(graph_where, "layout"), node_id), fail)
    if "block" in raw and type_id != BLOCK_TYPE:
        raise fail(f"{where}.block", f"only a block node has a block inside; this is a {short_text(type_id)} node")

    node_type = workflow.registry.get(type_id)
    if node_type is None:
        if strict:
            raise fail(f"{where}.type", f"unknown node type {short_text(type_id)} (is its plugin installed?)")
        workflow.add_node(MissingNode(type_id, version, settings), label=label or type_id,
                          node_id=node_id, position=position)
        return
    if version > node_type.version:
        raise fail(
            f"{where}.version",
            f"{node_type.name} settings version {version} is newer than the installed node ({node_type.version})",
        )
    if version < node_type.version:
        settings = _migrate(node_type, version, settings, f"{where}.settings", fail)
    node = _load_block(workflow, raw, where, strict, fail) if node_type is BlockNode else node_type()
    if version == node_type.version:
        for declared in node_type.settings_spec:
            if declared.name not in settings:
                raise fail(f"{where}.settings.{declared.name}", f"is missing ({node_type.name})")
    for key, value in settings.items():
        try:
            node.set(key, value)
        except SettingError as exc:
            raise fail(_join(f"{where}.settings", key), exc.bare_message) from None
    workflow.add_node(node, label=label or node_type.name, node_id=node_id, position=position)
    if graph_where and not is_marker(node):  # inside a block
        problem = layer_node_problem(workflow.nodes[node_id])
        if problem:
            raise fail(f"{where}.type", f"a block holds only layer nodes, and {problem}")


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
            raise fail(f"{where}.{key}", f"expected \"node.port\", got {short_text(value)}")
        if node_id not in workflow.nodes:
            raise fail(f"{where}.{key}", f"no node with id {short_text(node_id)}")
        ends.append((node_id, port))
    (source, source_port), (target, target_port) = ends
    try:
        # A missing node has no declared ports; its wiring is kept so that saving loses nothing.
        workflow.connect_any(source, source_port, target, target_port)
    except ConnectionRefused as exc:
        raise fail(where, str(exc)) from None


def _migrate(
    node_type: type[Node], version: int, settings: dict[str, Any], where: str,
    fail: Callable[[str, str], WorkflowFileError],
) -> dict[str, Any]:
    """Settings of an older node version, upgraded; a migration meets whatever the file holds,
    so its failures are the file's problem, reported as such."""
    try:
        migrated = node_type.migrate_settings(version, dict(settings))
    except (SettingError, ConfigureError) as exc:
        raise fail(where, f"cannot upgrade {node_type.name} settings from version {version}: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError) as exc:
        raise fail(
            where, f"cannot upgrade {node_type.name} settings from version {version}: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(migrated, dict):
        raise fail(where, f"cannot upgrade {node_type.name} settings from version {version}")
    return migrated


def _position(raw: Any, where: str, fail: Callable[[str, str], WorkflowFileError]) -> tuple[float, float]:
    if raw is None:
        return (0.0, 0.0)
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    ):
        raise fail(where, f"expected [x, y], got {_compact(raw)}")
    x, y = float(raw[0]), float(raw[1])
    if not (abs(x) <= MAX_POSITION and abs(y) <= MAX_POSITION):
        raise fail(where, f"position [{x:g}, {y:g}] is beyond {MAX_POSITION:,.0f} from the origin")
    return (x, y)


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
        return f"the text {short_text(value)}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _compact(value: Any) -> str:
    """``repr`` of a value from the file, cut short: a message stays one readable line."""
    if isinstance(value, str):
        return short_text(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:50] + f"... ({len(text):,} characters)"
