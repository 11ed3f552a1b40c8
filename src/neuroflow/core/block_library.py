"""The block library: ready-made blocks and the ones the user saved.

Built-in blocks are the standard building units of image classifiers - conv-BN-ReLU, the
residual block (with an identity skip, or a 1x1 projection when the number of channels
changes), the Inception module - written here as small layer graphs. The user's own blocks are
small JSON files in ``$NEUROFLOW_BLOCKS_DIR`` or ``~/.neuroflow/blocks``, each holding one
block's inside in the ``.workflow`` format's own terms, written atomically; a broken file is
reported in one line and skipped, like a broken plugin.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .block import MARKER_GAP, BlockInput, BlockNode, BlockOutput, block_registry
from .errors import NeuroFlowError, WorkflowFileError
from .registry import Registry
from .workflow import Workflow

BLOCK_FILE_FORMAT = "neuroflow.block"
BLOCK_FILE_VERSION = 1
BLOCK_SUFFIX = ".block.json"
#: A saved block is small; anything larger is not one.
MAX_BLOCK_FILE_BYTES = 1_000_000


def user_blocks_dir() -> Path:
    configured = os.environ.get("NEUROFLOW_BLOCKS_DIR")
    return Path(configured) if configured else Path.home() / ".neuroflow" / "blocks"


@dataclass(frozen=True)
class LibraryBlock:
    """One entry of the library: ``key`` is ``builtin:NAME`` or ``user:FILE``."""

    key: str
    name: str
    description: str
    make: Callable[[Registry], BlockNode]


# -- built-in blocks ------------------------------------------------------------------------------
Layer = tuple[str, str, dict[str, Any], tuple[float, float]]  # id, type, settings, position
Wire = tuple[str, str, str]  # source, target, target port


def _graph(registry: Registry, layers: list[Layer], wires: list[Wire], labels: dict[str, str]) -> BlockNode:
    graph = Workflow(block_registry(registry))
    right = max(x for _, _, _, (x, _) in layers)
    with graph.bulk_edit():
        graph.add_node(BlockInput(), label="network", node_id="in1", position=(-MARKER_GAP, 0.0))
        for node_id, type_id, settings, position in layers:
            node_type = graph.registry.get(f"neuroflow.layers.{type_id}")
            assert node_type is not None, type_id
            graph.add_node(node_type(settings), label=labels.get(node_id, node_type.name), node_id=node_id,
                           position=position)
        graph.add_node(BlockOutput(), label="output", node_id="out", position=(right + MARKER_GAP, 0.0))
        for source, target, port in wires:
            graph.connect(source, "network", target, port)
    return BlockNode(graph=graph)


def conv_bn_relu(registry: Registry) -> BlockNode:
    return _graph(registry, [
        ("conv", "conv2d", {"filters": 32, "padding": "same", "activation": "linear", "use_bias": False}, (0, 0)),
        ("bn", "batch_normalization", {}, (220, 0)),
        ("relu", "activation", {"activation": "relu"}, (440, 0)),
    ], [("in1", "conv", "network"), ("conv", "bn", "network"), ("bn", "relu", "network"),
        ("relu", "out", "network")], {"conv": "Conv 3x3", "bn": "BatchNorm", "relu": "ReLU"})


def _residual(registry: Registry, projection: bool) -> BlockNode:
    conv = {"filters": 32, "padding": "same", "activation": "linear", "use_bias": False}
    layers: list[Layer] = [
        ("conv1", "conv2d", conv, (0, -90)), ("bn1", "batch_normalization", {}, (220, -90)),
        ("relu1", "activation", {"activation": "relu"}, (440, -90)),
        ("conv2", "conv2d", conv, (660, -90)), ("bn2", "batch_normalization", {}, (880, -90)),
        ("add", "add", {}, (1100, 0)), ("relu", "activation", {"activation": "relu"}, (1320, 0)),
    ]
    wires: list[Wire] = [("in1", "conv1", "network"), ("conv1", "bn1", "network"), ("bn1", "relu1", "network"),
                         ("relu1", "conv2", "network"), ("conv2", "bn2", "network"), ("bn2", "add", "network_1"),
                         ("add", "relu", "network"), ("relu", "out", "network")]
    labels = {"conv1": "Conv 3x3", "conv2": "Conv 3x3 (2)", "bn1": "BatchNorm", "bn2": "BatchNorm (2)",
              "relu1": "ReLU", "relu": "ReLU (out)", "add": "Skip add"}
    if projection:
        layers += [("proj", "conv2d", {**conv, "kernel_size": [1, 1]}, (440, 90)),
                   ("proj_bn", "batch_normalization", {}, (660, 90))]
        wires += [("in1", "proj", "network"), ("proj", "proj_bn", "network"), ("proj_bn", "add", "network_2")]
        labels.update(proj="Projection 1x1", proj_bn="BatchNorm (skip)")
    else:
        wires.append(("in1", "add", "network_2"))
    return _graph(registry, layers, wires, labels)


def inception(registry: Registry) -> BlockNode:
    def conv(filters: int, size: int) -> dict[str, Any]:
        return {"filters": filters, "kernel_size": [size, size], "padding": "same", "activation": "relu"}

    return _graph(registry, [
        ("b1", "conv2d", conv(16, 1), (220, -270)),
        ("b2_reduce", "conv2d", conv(16, 1), (0, -90)), ("b2", "conv2d", conv(24, 3), (220, -90)),
        ("b3_reduce", "conv2d", conv(8, 1), (0, 90)), ("b3", "conv2d", conv(8, 5), (220, 90)),
        ("pool", "max_pooling2d", {"pool_size": [3, 3], "strides": [1, 1], "padding": "same"}, (0, 270)),
        ("b4", "conv2d", conv(8, 1), (220, 270)),
        ("cat1", "concatenate", {}, (440, -180)), ("cat2", "concatenate", {}, (660, -45)),
        ("cat3", "concatenate", {}, (880, 0)),
    ], [("in1", "b1", "network"), ("in1", "b2_reduce", "network"), ("b2_reduce", "b2", "network"),
        ("in1", "b3_reduce", "network"), ("b3_reduce", "b3", "network"), ("in1", "pool", "network"),
        ("pool", "b4", "network"), ("b1", "cat1", "network_1"), ("b2", "cat1", "network_2"),
        ("cat1", "cat2", "network_1"), ("b3", "cat2", "network_2"), ("cat2", "cat3", "network_1"),
        ("b4", "cat3", "network_2"), ("cat3", "out", "network")],
        {"b1": "1x1", "b2_reduce": "1x1 reduce", "b2": "3x3", "b3_reduce": "1x1 reduce (2)", "b3": "5x5",
         "pool": "Max pool 3x3", "b4": "Pool 1x1", "cat1": "Concat", "cat2": "Concat (2)", "cat3": "Concat (3)"})


BUILTINS: tuple[LibraryBlock, ...] = (
    LibraryBlock("builtin:conv_bn_relu", "Conv-BN-ReLU",
                 "A 3x3 convolution (32 filters, 'same' padding, no bias), batch normalisation and ReLU: "
                 "the basic unit of modern CNNs.", conv_bn_relu),
    LibraryBlock("builtin:residual", "Residual block",
                 "Two conv-BN units with the block's input added back before the last ReLU (ResNet). The "
                 "input must already have 32 channels; otherwise use the projection variant.",
                 lambda registry: _residual(registry, projection=False)),
    LibraryBlock("builtin:residual_projection", "Residual block (projection)",
                 "A residual block whose skip path is a 1x1 convolution with batch normalisation, so the "
                 "number of channels may change (32 out).", lambda registry: _residual(registry, projection=True)),
    LibraryBlock("builtin:inception", "Inception module",
                 "Parallel 1x1, 3x3 and 5x5 convolutions (with 1x1 reductions) and a 3x3 max pooling "
                 "branch, concatenated along the channels (GoogLeNet): 56 channels out.", inception),
)


# -- the user's blocks ----------------------------------------------------------------------------
def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return slug[:60] or "block"


def save_user_block(block: BlockNode, name: str, folder: Path | None = None) -> Path:
    """Write ``block`` as a library file named after ``name`` (a new file if one is taken)."""
    from .fileformat import graph_to_dict

    folder = folder if folder is not None else user_blocks_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NeuroFlowError(f"cannot create the block library folder {folder}: {exc.strerror or exc}") from None
    stem, number = _slug(name), 1
    path = folder / f"{stem}{BLOCK_SUFFIX}"
    while path.exists():
        number += 1
        path = folder / f"{stem}_{number}{BLOCK_SUFFIX}"
    data = {"format": BLOCK_FILE_FORMAT, "format_version": BLOCK_FILE_VERSION, "name": name,
            "block": graph_to_dict(block.graph)}
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def load_user_block(path: Path, registry: Registry) -> tuple[str, BlockNode]:
    """The name and block in a library file; :class:`WorkflowFileError` (one line) if broken."""
    from . import fileformat

    file = path.name
    try:
        if path.stat().st_size > MAX_BLOCK_FILE_BYTES:
            raise WorkflowFileError(f"larger than {MAX_BLOCK_FILE_BYTES:,} bytes: not a saved block", file=file)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFileError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    except UnicodeDecodeError:
        raise WorkflowFileError("not UTF-8 text", file=file) from None
    data = fileformat.parse(text, file=file)
    if not isinstance(data, dict) or data.get("format") != BLOCK_FILE_FORMAT:
        raise WorkflowFileError(f"format: expected \"{BLOCK_FILE_FORMAT}\"", file=file)
    if data.get("format_version") != BLOCK_FILE_VERSION:
        raise WorkflowFileError(f"format_version: expected {BLOCK_FILE_VERSION}", file=file)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise WorkflowFileError("name: expected the block's name", file=file)
    # the block is read as a one-node workflow: every check of a workflow file applies
    wrapper = {"format": fileformat.FORMAT_NAME, "format_version": fileformat.FORMAT_VERSION,
               "nodes": [{"id": "block", "type": BlockNode.type_id, "version": BlockNode.version,
                          "label": name, "settings": {}, "block": data.get("block")}],
               "connections": [], "layout": {}}
    try:
        workflow = fileformat.from_dict(wrapper, registry, file=file)
    except WorkflowFileError as exc:
        raise WorkflowFileError(str(exc).removeprefix(f"{file}: ").replace("nodes[0].block", "block"),
                                file=file) from None
    node = workflow.nodes["block"].node
    assert isinstance(node, BlockNode)
    return name.strip(), node


def library(registry: Registry, folder: Path | None = None) -> tuple[list[LibraryBlock], list[str]]:
    """The built-in blocks and the user's (sorted by name), and a line per broken file."""
    folder = folder if folder is not None else user_blocks_dir()
    entries = list(BUILTINS)
    problems = []
    found: list[LibraryBlock] = []
    if folder.is_dir():
        for path in sorted(folder.glob(f"*{BLOCK_SUFFIX}")):
            try:
                name, _ = load_user_block(path, registry)
            except NeuroFlowError as exc:
                problems.append(f"block library: {exc}; skipped")
                continue

            def make(registry: Registry, path: Path = path) -> BlockNode:
                return load_user_block(path, registry)[1]

            found.append(LibraryBlock(f"user:{path.name}", name, f"Your block, saved in {path.name}.", make))
    return entries + sorted(found, key=lambda e: e.name.lower()), problems


def make_block(key: str, registry: Registry, folder: Path | None = None) -> tuple[str, BlockNode]:
    """The name and a fresh block for a library ``key``."""
    for entry in BUILTINS:
        if entry.key == key:
            return entry.name, entry.make(registry)
    if key.startswith("user:"):
        folder = folder if folder is not None else user_blocks_dir()
        file_name = key.removeprefix("user:")
        if "/" in file_name or "\\" in file_name or not file_name.endswith(BLOCK_SUFFIX):
            raise NeuroFlowError(f"no library block {key!r}")
        return load_user_block(folder / file_name, registry)
    raise NeuroFlowError(f"no library block {key!r}")
