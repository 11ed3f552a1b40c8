"""Mutants of the shipped workflows, and what NeuroFlow must do with each.

A hostile or broken ``.workflow`` file must be refused with NeuroFlow's own one-line error, or
else accepted, validated, printed and saved so that save -> load -> save is byte-identical. This
module makes the mutants and judges one; ``tools/fuzz_workflows.py`` (``make fuzz``) runs ten
thousand of them in worker processes with a time limit, and ``tests/test_fuzz_sample.py`` runs a
seeded sample in the test suite.

Every case is made from ``(seed, index)`` alone, so any case can be made again by its number:
``python tools/fuzz_workflows.py --seed S --case N`` shows what it is and what happens.

Mutations:

* bytes: bit flips, random bytes, truncation, spans deleted or repeated, bytes inserted (NUL,
  invalid UTF-8, a BOM), the file re-encoded as UTF-16 or in CESU-8 surrogates, an 11 MB file;
* text: a key given twice, garbage or a comment after the JSON, a trailing comma;
* JSON values: types swapped; numbers huge, negative, fractional, 5,000 digits, beyond a double,
  ``NaN``/``Infinity``, numbers as text; strings empty, NUL, lone surrogates, 100,000 characters,
  control characters, right-to-left and other Unicode; nesting of lists and objects up to a
  million deep;
* structure: keys removed or added, format and versions changed, node types replaced (by another
  registered type with its default settings, or by an unknown one), settings removed or added;
* ids: duplicated, removed, renamed (with and without their wiring), odd ids, hundreds of copies;
* wiring: dangling, self-connections, cycles, wrong and missing ports, duplicates, reversed,
  malformed ``node.port`` text;
* path settings: long paths and names, NUL, control characters, relative, absolute, home,
  nonexistent, a file where a folder is expected and the reverse;
* layout: positions non-finite, huge, of the wrong shape.
"""

from __future__ import annotations

import copy
import io
import json
import random
import struct
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"


# -- the cases ---------------------------------------------------------------------------------
@dataclass
class Case:
    seed: int
    index: int
    source: str  # the shipped workflow it came from
    mutations: list[str]  # what was done, in words
    data: bytes


@dataclass
class Outcome:
    #: "refused" (NeuroFlow's own error), "accepted" (validated, printed and round-tripped), or a
    #: failure: "uncaught", "bad message", "configure bug", "round trip", "hang".
    kind: str
    detail: str = ""  # the error type, message or difference
    error: str = ""  # for refused files: the error class
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.kind not in ("refused", "accepted")


FAILURE_KINDS = ("uncaught", "bad message", "configure bug", "round trip", "hang")


def shipped_workflows() -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(WORKFLOWS.glob("*.workflow"))]


def make_case(seed: int, index: int, sources: list[tuple[str, bytes]] | None = None) -> Case:
    """The mutant number ``index`` of run ``seed``: the same bytes on every machine."""
    sources = sources if sources is not None else shipped_workflows()
    rng = random.Random(f"neuroflow-fuzz/{seed}/{index}")
    name, original = sources[rng.randrange(len(sources))]
    roll = rng.random()
    if roll < 0.18:
        data, done = _mutate_bytes(rng, original)
    elif roll < 0.23:
        data, done = _mutate_text(rng, original)
    else:
        data, done = _mutate_json(rng, json.loads(original))
    return Case(seed, index, name, done, data)


# -- byte mutations ----------------------------------------------------------------------------
def _mutate_bytes(rng: random.Random, original: bytes) -> tuple[bytes, list[str]]:
    data = bytearray(original)
    kind = rng.choice(("flip", "flip", "bytes", "truncate", "truncate", "delete", "repeat", "insert",
                       "utf16", "cesu", "huge"))
    if kind == "flip":
        count = rng.randint(1, 8)
        for _ in range(count):
            position = rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
        return bytes(data), [f"bytes: {count} bit(s) flipped"]
    if kind == "bytes":
        count = rng.randint(1, 16)
        for _ in range(count):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), [f"bytes: {count} random byte(s)"]
    if kind == "truncate":
        cut = rng.randrange(len(data))
        return bytes(data[:cut]), [f"bytes: truncated at {cut}"]
    if kind == "delete":
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 200))
        del data[start:end]
        return bytes(data), [f"bytes: {end - start} deleted at {start}"]
    if kind == "repeat":
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 400))
        data[end:end] = data[start:end]
        return bytes(data), [f"bytes: {end - start} repeated at {start}"]
    if kind == "insert":
        insert = rng.choice((b"\x00", b"\xff", b"\xc0\x80", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\x80\x80",
                             bytes(rng.randrange(256) for _ in range(8))))
        position = rng.randrange(len(data) + 1)
        data[position:position] = insert
        return bytes(data), [f"bytes: {insert!r} inserted at {position}"]
    if kind == "utf16":
        return original.decode("utf-8").encode("utf-16"), ["bytes: re-encoded as UTF-16"]
    if kind == "cesu":  # a surrogate pair written as two 3-byte sequences: invalid UTF-8
        text = original.decode("utf-8").replace('"label": "', '"label": "\ud83d\ude00', 1)
        return text.encode("utf-8", "surrogatepass"), ["bytes: a label in CESU-8"]
    return original + b" " * 11_000_000, ["bytes: 11 MB of trailing spaces"]


# -- text mutations ----------------------------------------------------------------------------
def _mutate_text(rng: random.Random, original: bytes) -> tuple[bytes, list[str]]:
    text = original.decode("utf-8")
    kind = rng.choice(("duplicate key", "garbage", "comment", "trailing comma", "two documents", "bom"))
    if kind == "duplicate key":
        text = text.replace("{", '{\n  "format": "neuroflow.workflow",', 1)
    elif kind == "garbage":
        text += rng.choice(("x", "}", "]", "\x00", "{}", "null"))
    elif kind == "comment":
        text = "// a comment\n" + text
    elif kind == "trailing comma":
        text = text.replace('"\n  }', '",\n  }', 1)
    elif kind == "two documents":
        text = text + text
    else:
        text = "\ufeff" + text
    return text.encode("utf-8"), [f"text: {kind}"]


# -- JSON mutations ----------------------------------------------------------------------------
class Raw:
    """JSON text written as is (NaN, 5,000 digits, deep nesting: what json.dumps cannot write)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


NUMBERS: tuple[Any, ...] = (
    0, -1, 1, 2, 3, 7, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**15, 10**15 + 1, 10**19,
    10**20, Raw("1" + "0" * 4999), Raw("-" + "9" * 5000), Raw("1" + "0" * 25), 1e15, 1e16, 1e308, -1e308,
    Raw("1e309"), Raw("-1e400"), 5e-324, -0.0, 0.5, 3.5, -2.5, 1e-7, Raw("NaN"), Raw("Infinity"),
    Raw("-Infinity"), "NaN", "inf", "1e5", "12", Raw("1.0"), Raw("1E2"), Raw("0." + "1" * 5000),
    Raw("1" + "0" * 400 + ".0"), Raw("-0"), Raw("0.000000000000000000001"),
)
STRINGS: tuple[Any, ...] = (
    "", " ", "\x00", "a\x00b", Raw('"\\ud800"'), Raw('"x\\udc80"'), Raw('"\\ud83d\\ude00"'),
    Raw('"\\udbff\\udbff"'), "A" * 100_000, "é", "😀", "\u202e evil", "\n", "line1\nline2", "\t", "\u2028",
    "\x7f", "\x85", "\\", "'", '"', "null", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "e\u0301", "\ufeff", "  padded  ", "%s%n{0}",
    "ünïcödé ñame", "\u0000\u0000", "中文标签",
)
OTHER_VALUES: tuple[Any, ...] = (None, True, False, 0, 1.5, "text", [], {}, [1, 2], {"a": 1}, [None], [[]])
PATHS: tuple[Any, ...] = (
    "", ".", "..", "/", "/tmp", "/nonexistent/folder/model.keras", "relative/sub/dir", "../../..", "~",
    "~/nope/model.keras", "a" * 300, "x/" * 3000, "/" + "a" * 255, "/" + "a" * 256, "a\x00b",
    Raw('"\\ud800.keras"'), "C:\\Windows\\model.keras", " spaced .keras ", "file:///etc/passwd",
    "data/clothes", "data/clothes/class0", "out/model.h5", "out/model.keras", "out", "case.workflow",
    "ünïcödé/😀.keras", "line\nbreak.keras", "tab\there", "nonexistent.keras", "model.txt", "/etc/passwd",
    "/proc/self", "data", "data/clothes/class0/1.png", "../data/clothes", "models/cnn.h5",
    "models/sequential.h5", "models/broken.keras", "models/empty.h5", "models/notazip.keras", "models",
    "data/clothes/labels.csv", "data/clothes/labels.csv", "data/odd.csv",
)
WEIRD_IDS: tuple[Any, ...] = (
    "x", "a.b", "with space", "ü", "n99999999999", "n" + "9" * 30, "", "..", "node.data", "x" * 1000,
    "n0", "n-1", "$", "layout", "\t", "😀", "a[0]", "'quoted'", Raw('"\\ud800"'), "a\x00",
)
DEPTHS = (5, 20, 63, 64, 65, 100, 1_000, 100_000, 1_000_000)


def _mutate_json(rng: random.Random, doc: dict[str, Any]) -> tuple[bytes, list[str]]:
    done: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        mutation = rng.choices(_JSON_MUTATIONS, weights=[w for w, _ in _JSON_MUTATIONS_W])[0]
        described = mutation(rng, doc)
        if described:
            done.append(described)
    return _serialize(rng, doc), done


def _serialize(rng: random.Random, doc: Any) -> bytes:
    """JSON text of ``doc`` with its :class:`Raw` parts written verbatim."""
    raws: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    canonical = rng.random() < 0.6
    text = json.dumps(swap(doc), indent=2 if canonical else None, sort_keys=canonical,
                      ensure_ascii=rng.random() < 0.5, allow_nan=True)
    for number, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{number}@@"', raw, 1)
    return text.encode("utf-8", "surrogatepass")


# Places in the document ------------------------------------------------------------------------
def _places(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, Any, tuple[Any, ...]]]:
    """(container, key, path) of every value below ``doc``."""
    if isinstance(doc, dict):
        for key in list(doc):
            yield doc, key, (*path, key)
            yield from _places(doc[key], (*path, key))
    elif isinstance(doc, list):
        for index in range(len(doc)):
            yield doc, index, (*path, index)
            yield from _places(doc[index], (*path, index))


def _nodes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = doc.get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _connections(doc: dict[str, Any]) -> list[Any]:
    connections = doc.get("connections")
    if not isinstance(connections, list):
        connections = doc["connections"] = []
    return connections


def _setting_places(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return [(node["settings"], key) for node in _nodes(doc) if isinstance(node.get("settings"), dict)
            for key in node["settings"]]


def _pick_place(rng: random.Random, doc: dict[str, Any]) -> tuple[Any, Any, tuple[Any, ...]]:
    places = list(_places(doc))
    return rng.choice(places) if places else (doc, "nodes", ("nodes",))


def _path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "$"


# The mutations ---------------------------------------------------------------------------------
def _type_swap(rng: random.Random, doc: dict[str, Any]) -> str:
    container, key, path = _pick_place(rng, doc)
    value = rng.choice(OTHER_VALUES)
    container[key] = copy.deepcopy(value)
    return f"{_path_text(path)} = {value!r}"


def _number(rng: random.Random, doc: dict[str, Any]) -> str:
    numeric = [(c, k, p) for c, k, p in _places(doc) if isinstance(c[k], (int, float)) and not isinstance(c[k], bool)]
    settings = _setting_places(doc)
    if numeric and (not settings or rng.random() < 0.7):
        container, key, path = rng.choice(numeric)
        where = _path_text(path)
    elif settings:
        container, key = rng.choice(settings)
        where = f"setting {key}"
    else:
        return ""
    value = rng.choice(NUMBERS)
    container[key] = value
    return f"{where} = {value!r}"


def _string(rng: random.Random, doc: dict[str, Any]) -> str:
    texts = [(c, k, p) for c, k, p in _places(doc) if isinstance(c[k], str)]
    if not texts:
        return ""
    container, key, path = rng.choice(texts)
    value = rng.choice(STRINGS)
    if rng.random() < 0.3 and isinstance(value, str):
        value = container[key] + value  # appended to what is there
    container[key] = value
    return f"{_path_text(path)} = {value!r:.60}"


def _key(rng: random.Random, doc: dict[str, Any]) -> str:
    objects = [doc] + [c[k] for c, k, _ in _places(doc) if isinstance(c[k], dict)]
    target = rng.choice(objects)
    if target and rng.random() < 0.5:
        name = rng.choice(list(target))
        value = target.pop(name)
        if rng.random() < 0.5:
            new = rng.choice([s for s in STRINGS if isinstance(s, str)] + ["x", name.upper()])
            target[new] = value
            return f"key {name!r} renamed to {new!r:.40}"
        return f"key {name!r} removed"
    name = rng.choice(("extra", "settings", "id", "version", "x" * 300, "", "\u00e9", "format"))
    target[name] = rng.choice(OTHER_VALUES)
    return f"key {name!r:.40} added"


def _nesting(rng: random.Random, doc: dict[str, Any]) -> str:
    container, key, path = _pick_place(rng, doc)
    depth = rng.choice(DEPTHS)
    if rng.random() < 0.5:
        raw = "[" * depth + "1" + "]" * depth
    else:
        raw = '{"a": ' * depth + "1" + "}" * depth
    container[key] = Raw(raw)
    return f"{_path_text(path)} nested {depth} deep"


def _structure(rng: random.Random, doc: dict[str, Any]) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        key = rng.choice(("format", "format_version", "nodes", "connections", "layout"))
        doc.pop(key, None)
        return f"{key} removed"
    if kind == 1:
        value = rng.choice(("neuroflow.workflow2", None, "", "NEUROFLOW.WORKFLOW", 1))
        doc["format"] = value
        return f"format = {value!r}"
    if kind == 2:
        value = rng.choice((0, 2, -1, "1", 1.0, True, Raw("1" + "0" * 30), 1.5, None))
        doc["format_version"] = value
        return f"format_version = {value!r}"
    if kind == 3:
        key = rng.choice(("nodes", "connections", "layout"))
        value = rng.choice(({}, [], None, "x", 0, [[]], [{}], {"a": []}))
        doc[key] = copy.deepcopy(value)
        return f"{key} = {value!r}"
    nodes = _nodes(doc)
    if not nodes:
        return ""
    node = rng.choice(nodes)
    if kind == 4:
        value = rng.choice((0, -1, 1, 2, 3, 99, Raw("1" + "0" * 19), None, "2", 2.0))
        node["version"] = value
        return f"node {node.get('id')!r} version = {value!r}"
    field_name = rng.choice(("settings", "type", "version", "label", "id"))
    node.pop(field_name, None)
    return f"node {node.get('id')!r}: {field_name} removed"


def _node_type(rng: random.Random, doc: dict[str, Any]) -> str:
    from neuroflow.core.registry import default_registry

    nodes = _nodes(doc)
    if not nodes:
        return ""
    node = rng.choice(nodes)
    registry = default_registry()
    types = sorted(t.type_id for t in registry)
    roll = rng.random()
    if roll < 0.5:  # another registered type with its own defaults: accepted, wired oddly
        new = rng.choice(types)
        node_type = registry.get(new)
        assert node_type is not None
        node["type"] = new
        node["version"] = node_type.version
        node["settings"] = node_type().settings_json()
        paths = {}
        if rng.random() < 0.5:
            for declared in node_type.settings_spec:  # give its path settings odd values
                if type(declared).__name__ == "PathSetting":
                    paths[declared.name] = node["settings"][declared.name] = rng.choice(PATHS)
        odd = f" but {', '.join(f'{k} = {v!r:.40}' for k, v in paths.items())}" if paths else ""
        return f"node {node.get('id')!r} became {new} with default settings{odd}"
    if roll < 0.8:
        new = rng.choice(types)
        node["type"] = new
        return f"node {node.get('id')!r} type = {new} (settings kept)"
    new = rng.choice(("acme.unknown", "", "neuroflow.layers.conv2d ", "neuroflow", "x" * 500))
    node["type"] = new
    return f"node {node.get('id')!r} type = {new!r:.40}"


def _settings(rng: random.Random, doc: dict[str, Any]) -> str:
    places = _setting_places(doc)
    if not places:
        return ""
    settings, key = rng.choice(places)
    kind = rng.randrange(4)
    if kind == 0:
        del settings[key]
        return f"setting {key} removed"
    if kind == 1:
        settings["unknown_setting"] = 1
        return "an unknown setting added"
    if kind == 2:
        value = rng.choice(OTHER_VALUES + NUMBERS + STRINGS)
        settings[key] = copy.deepcopy(value)
        return f"setting {key} = {value!r:.60}"
    value = settings[key]
    if isinstance(value, list):
        settings[key] = value + value if rng.random() < 0.5 else value[:1]
        return f"setting {key} list length changed"
    settings[key] = [value, value]
    return f"setting {key} = a list"


def _path(rng: random.Random, doc: dict[str, Any]) -> str:
    from neuroflow.core.registry import default_registry
    from neuroflow.core.settings import PathSetting

    registry = default_registry()
    found = []
    for node in _nodes(doc):
        node_type = registry.get(node.get("type")) if isinstance(node.get("type"), str) else None
        if node_type is None or not isinstance(node.get("settings"), dict):
            continue
        for declared in node_type.settings_spec:
            if isinstance(declared, PathSetting) and declared.name in node["settings"]:
                found.append((node["settings"], declared.name))
    if not found:
        return ""
    settings, key = rng.choice(found)
    value = rng.choice(PATHS)
    settings[key] = value
    return f"path setting {key} = {value!r:.60}"


def _ids(rng: random.Random, doc: dict[str, Any]) -> str:
    nodes = [n for n in _nodes(doc) if isinstance(n.get("id"), str)]
    if len(nodes) < 2:
        return ""
    node, other = rng.sample(nodes, 2)
    old = node["id"]
    kind = rng.randrange(7)
    if kind == 0:
        node["id"] = other["id"]
        return f"id {old!r} duplicated as {other['id']!r}"
    if kind == 1:
        del node["id"]
        return f"id {old!r} removed"
    if kind == 2:
        node["id"] = "renamed"
        return f"id {old!r} renamed alone"
    if kind == 3:  # renamed with its wiring and layout: should be accepted
        new = rng.choice(WEIRD_IDS)
        new_text = json.loads(new.text) if isinstance(new, Raw) else new
        node["id"] = new
        for connection in _connections(doc):
            if isinstance(connection, dict):
                for end in ("from", "to"):
                    text = connection.get(end)
                    if isinstance(text, str) and text.rpartition(".")[0] == old:
                        connection[end] = Raw(json.dumps(new_text + "." + text.rpartition(".")[2]))
        layout = doc.get("layout")
        if isinstance(layout, dict) and old in layout:
            layout[new_text] = layout.pop(old)
        return f"id {old!r} renamed to {new!r:.40} everywhere"
    if kind == 4:  # the node removed, wires left dangling
        doc["nodes"].remove(node)
        return f"node {old!r} removed"
    if kind == 5:  # the node removed with its wires: accepted, with unconnected inputs
        doc["nodes"].remove(node)
        doc["connections"] = [c for c in _connections(doc)
                              if not (isinstance(c, dict) and old in (str(c.get("from", "")).rpartition(".")[0],
                                                                     str(c.get("to", "")).rpartition(".")[0]))]
        return f"node {old!r} removed with its connections"
    count = rng.choice((20, 200, 1_001))
    for number in range(count):  # many copies: the node-count limit and the speed of checks
        clone = copy.deepcopy(node)
        clone["id"] = f"{old}_copy{number}"
        doc["nodes"].append(clone)
    return f"node {old!r} copied {count} times"


def _wiring(rng: random.Random, doc: dict[str, Any]) -> str:
    connections = _connections(doc)
    ids = [n["id"] for n in _nodes(doc) if isinstance(n.get("id"), str)]
    valid = [c for c in connections if isinstance(c, dict) and isinstance(c.get("from"), str)
             and isinstance(c.get("to"), str)]
    kind = rng.randrange(9)
    if kind == 0 or not valid or not ids:
        connections.append({"from": "ghost.data", "to": f"{rng.choice(ids) if ids else 'x'}.data"})
        return "a dangling connection"
    connection = rng.choice(valid)
    source, _, source_port = connection["from"].rpartition(".")
    target, _, target_port = connection["to"].rpartition(".")
    if kind == 1:
        connections.append({"from": connection["from"], "to": f"{source}.{target_port}"})
        return f"{source} connected to itself"
    if kind == 2:
        connections.append({"from": connection["to"].replace(f".{target_port}", f".{source_port}"),
                            "to": connection["from"].replace(f".{source_port}", f".{target_port}")})
        return f"a cycle {source} <-> {target}"
    if kind == 3:
        connection["to"] = f"{target}.{rng.choice(('nope', 'data', 'network', 'model', 'training', ''))}"
        return f"connection into {connection['to']!r}"
    if kind == 4:
        connections.append(dict(connection))
        return "a connection twice"
    if kind == 5:
        connections.remove(connection)
        return "a connection removed"
    if kind == 6:
        connection["from"], connection["to"] = connection["to"], connection["from"]
        return "a connection reversed"
    if kind == 7:
        end = rng.choice(("from", "to"))
        connection[end] = rng.choice(("nodeport", ".port", "node.", "", ".", "a.b.c", source + target))
        return f"connection {end} = {connection[end]!r}"
    other = rng.choice(ids)  # a random output into a random input: mostly the wrong type
    connections.append({"from": f"{other}.{rng.choice(('data', 'network', 'model', 'predictions'))}",
                        "to": f"{rng.choice(ids)}.{rng.choice(('data', 'network', 'model', 'images', 'training'))}"})
    return "a random connection"


def _boundary(rng: random.Random, doc: dict[str, Any]) -> str:
    """A declared setting at, just inside or just outside its limits: mostly accepted values
    that configure and printing must cope with (huge shapes, every choice, the longest tuples)."""
    from neuroflow.core import settings as kinds
    from neuroflow.core.registry import default_registry

    registry = default_registry()
    candidates = []
    for node in _nodes(doc):
        node_type = registry.get(node.get("type")) if isinstance(node.get("type"), str) else None
        if node_type is not None and isinstance(node.get("settings"), dict):
            candidates.extend((node, declared) for declared in node_type.settings_spec)
    if not candidates:
        return ""
    node, declared = rng.choice(candidates)
    limit = getattr(kinds, "UNBOUNDED_LIMIT", 10**15)  # also runs against older code
    if isinstance(declared, (kinds.IntSetting, kinds.FloatSetting)):
        low = declared.minimum if declared.minimum is not None else -limit
        high = declared.maximum if declared.maximum is not None else limit
        step = 1 if isinstance(declared, kinds.IntSetting) else 1e-9
        value: Any = rng.choice((low, high, low - step, high + step, (low + high) / 2, low + step, high - step))
        if isinstance(declared, kinds.IntSetting) and rng.random() < 0.7:
            value = int(value)
    elif isinstance(declared, kinds.ChoiceSetting):
        choice = rng.choice(declared.choices)
        value = rng.choice((choice, choice, choice.upper(), f" {choice}", ""))
    elif isinstance(declared, kinds.BoolSetting):
        value = rng.choice((True, False, 0, 1, "true"))
    elif isinstance(declared, kinds.IntTupleSetting):
        low = declared.minimum if declared.minimum is not None else -limit
        high = declared.maximum if declared.maximum is not None else limit
        length = rng.choice((declared.min_length, declared.max_length, declared.max_length + 1, 0))
        value = [rng.choice((low, high, high, low - 1, high + 1)) for _ in range(length)]
    elif isinstance(declared, kinds.PathSetting):
        value = rng.choice(PATHS)
    else:
        value = rng.choice(STRINGS)
    node["settings"][declared.name] = value
    return f"node {node.get('id')!r} setting {declared.name} = {value!r:.60}"


def _layout(rng: random.Random, doc: dict[str, Any]) -> str:
    layout = doc.get("layout")
    if not isinstance(layout, dict) or not layout:
        doc["layout"] = {"x": [0, 0]}
        return "layout for an unknown node"
    key = rng.choice(list(layout))
    value = rng.choice((
        [Raw("NaN"), 0], [0, Raw("Infinity")], [1e308, 0], [1e7, 0], [-1e6, 1e6], [1], [1, 2, 3], ["a", "b"],
        None, {}, "x", [True, False], [Raw("1" + "0" * 5000), 0], [1e-300, -0.0], [0.05, 0.15], [12.25, 7.75],
    ))
    layout[key] = value
    return f"layout {key!r} = {value!r}"


_JSON_MUTATIONS_W: list[tuple[int, Callable[[random.Random, dict[str, Any]], str]]] = [
    (10, _type_swap), (12, _number), (10, _string), (5, _key), (6, _nesting), (8, _structure),
    (8, _node_type), (10, _settings), (12, _path), (10, _ids), (12, _wiring), (6, _layout), (16, _boundary),
]
_JSON_MUTATIONS = [m for _, m in _JSON_MUTATIONS_W]


# -- judging one case --------------------------------------------------------------------------
def workspace(folder: Path) -> Path:
    """A folder to put mutants in, with what the shipped workflows' relative paths point at
    (``data/clothes`` with ten tiny class folders, ``out/``), so that they validate."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(10):
        image = folder / "data" / "clothes" / f"class{k}" / "1.png"
        if not image.exists():
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(_png(20 * k))
    rows = "".join(f"class{k}/1.png,class{k},{'train' if k % 2 else 'test'}\n" for k in range(10))
    (folder / "data" / "clothes" / "labels.csv").write_text("path,label,split\n" + rows, encoding="utf-8")
    (folder / "data" / "odd.csv").write_bytes(b"path;label\n\xff\xfe;x\n\"unclosed,\n;;;;\n")
    (folder / "out").mkdir(exist_ok=True)
    models = folder / "models"  # Keras 2 files made by tools/make_keras2_models.py, and broken ones
    models.mkdir(exist_ok=True)
    for name in ("cnn", "sequential"):
        source = REPO / "tests" / "data" / f"keras2_{name}.h5"
        if source.is_file() and not (models / f"{name}.h5").exists():
            (models / f"{name}.h5").write_bytes(source.read_bytes())
    (models / "broken.keras").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    (models / "empty.h5").write_bytes(b"")
    (models / "notazip.keras").write_bytes(b"not a zip archive\n")
    return folder


def _png(gray: int, size: int = 8) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes([gray] * size * 3) for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def run_case(case: Case, folder: Path) -> Outcome:
    """Load the mutant as the command line does (strict) and as the editor does (unknown node
    types kept); what loads must validate, print and round-trip."""
    started = time.perf_counter()
    try:
        outcome = _judge(case, folder)
    except Exception as exc:  # noqa: BLE001 - that is the point: nothing else may escape
        outcome = Outcome("uncaught", f"{type(exc).__name__}: {_first_line(exc)}\n{_where(exc)}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _judge(case: Case, folder: Path) -> Outcome:
    from neuroflow.core import fileformat
    from neuroflow.core.errors import NeuroFlowError

    path = folder / "case.workflow"
    path.write_bytes(case.data)
    results = []
    for strict in (True, False):
        try:
            workflow = fileformat.load(path, strict=strict)
        except NeuroFlowError as exc:
            bad = _bad_message(str(exc))
            if bad:
                return Outcome("bad message", f"{type(exc).__name__} {bad}: {str(exc)[:300]!r}")
            results.append(Outcome("refused", error=type(exc).__name__, detail=str(exc)[:300]))
            continue
        problem = _check_accepted(workflow, folder)
        if problem is not None:
            return problem
        results.append(Outcome("accepted"))
    return results[0] if results[0].kind == "accepted" else results[1] if results[1].kind == "accepted" else results[0]


def _check_accepted(workflow: Any, folder: Path) -> Outcome | None:
    from neuroflow.core import fileformat
    from neuroflow.core.errors import NeuroFlowError
    from neuroflow.reporting import print_network_summaries

    problem = workflow.first_problem()
    for item in workflow.nodes.values():
        if item.message.startswith("internal error"):
            return Outcome("configure bug", f"{item.type_id}: {item.message[:300]}")
    if problem is not None and _bad_message(problem):
        return Outcome("bad message", f"validate {_bad_message(problem)}: {problem[:300]!r}")
    out = io.StringIO()
    print_network_summaries(workflow, out)
    out.getvalue().encode("utf-8")  # what a UTF-8 terminal receives; raises on lone surrogates
    first, second = folder / "first.workflow", folder / "second.workflow"
    try:
        fileformat.save(workflow, first)
    except NeuroFlowError as exc:
        return Outcome("round trip", f"an accepted file does not save: {exc}")
    try:
        again = fileformat.load(first, strict=False)
    except NeuroFlowError as exc:
        return Outcome("round trip", f"a saved file does not load: {exc}")
    fileformat.save(again, second)
    if first.read_bytes() != second.read_bytes():
        return Outcome("round trip", _difference(first.read_bytes(), second.read_bytes()))
    return None


def _bad_message(message: str) -> str:
    if "\n" in message or "\r" in message:
        return "is more than one line"
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:
        return "cannot be printed (a lone surrogate)"
    if len(message) > 2_000:
        return f"is {len(message):,} characters long"
    return ""


def _difference(a: bytes, b: bytes) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"save -> load -> save differs at byte {at}: {a[max(at - 40, 0):at + 40]!r} vs {b[max(at - 40, 0):at + 40]!r}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "neuroflow" in f.filename or "/nodes/" in f.filename] or frames
    frame = inside[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


# -- a summary of many outcomes ----------------------------------------------------------------
@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=dict)
    refused_by: dict[str, int] = field(default_factory=dict)
    #: failure kind and first line -> (count, first case index, its mutations)
    failures: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def add(self, case: Case, outcome: Outcome) -> None:
        self.counts[outcome.kind] = self.counts.get(outcome.kind, 0) + 1
        if outcome.kind == "refused":
            self.refused_by[outcome.error] = self.refused_by.get(outcome.error, 0) + 1
        if outcome.failed:
            key = (outcome.kind, outcome.detail.splitlines()[0][:120] if outcome.detail else "")
            entry = self.failures.setdefault(key, [0, case.index, case.source, case.mutations, outcome.detail])
            entry[0] += 1

    @property
    def failed(self) -> int:
        return sum(self.counts.get(kind, 0) for kind in FAILURE_KINDS)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
