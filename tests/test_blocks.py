"""Blocks: collapse and expand, configure like the expanded layers, the file format, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neuroflow.core import fileformat
from neuroflow.core.block import BlockNode
from neuroflow.core.block_edits import collapse, expand
from neuroflow.core.errors import ConfigureError, WorkflowFileError
from neuroflow.core.network import NetworkSpec
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
BEST = REPO / "workflows" / "best_mnist_cnn.workflow"
STEM = ["conv1", "bn1", "conv2", "bn2", "pool1"]


def without_blocks(path: Path) -> Workflow:
    """A shipped workflow with its blocks expanded: the plain layer nodes these tests select."""
    workflow = fileformat.load(path)
    for node_id in [nid for nid, item in workflow.nodes.items() if isinstance(item.node, BlockNode)]:
        expand(workflow, node_id)
    return workflow


def graph_of(workflow: Workflow) -> tuple[Any, ...]:
    """What a workflow is, order aside: nodes (type, label, settings, position) and wires."""
    data = fileformat.to_dict(workflow)
    nodes = sorted(json.dumps({**n, "at": data["layout"][n["id"]]}, sort_keys=True) for n in data["nodes"])
    wires = sorted((c["from"], c["to"]) for c in data["connections"])
    return tuple(nodes), tuple(wires)


def network(workflow: Workflow, node_id: str = "output") -> NetworkSpec:
    assert workflow.configure() == {}
    spec = workflow.nodes[node_id].specs["network"]
    assert isinstance(spec, NetworkSpec)
    return spec


def layer_signature(spec: NetworkSpec) -> list[tuple[Any, ...]]:
    """The layers as Keras will build them, names aside: class, config, shape, parameters, and
    the positions of their inputs."""
    index = {layer.id: i for i, layer in enumerate(spec.layers)}
    return [(layer.class_name, layer.config, layer.output_shape, layer.params,
             tuple(index[source] for source in layer.inputs)) for layer in spec.layers]


def residual_workflow() -> Workflow:
    """Input -> conv -> [conv -> bn] + skip -> Add -> flatten -> dense: a branching network."""
    workflow = Workflow()
    add = workflow.add_node
    add("neuroflow.layers.input", node_id="input", settings={"shape": [12, 12, 3]}, position=(0, 0))
    add("neuroflow.layers.conv2d", node_id="stem", settings={"filters": 8, "padding": "same"}, position=(200, 0))
    add("neuroflow.layers.conv2d", node_id="c1", settings={"filters": 8, "padding": "same"}, position=(400, -80))
    add("neuroflow.layers.batch_normalization", node_id="b1", position=(600, -80))
    add("neuroflow.layers.add", node_id="sum", position=(800, 0))
    add("neuroflow.layers.flatten", node_id="flat", position=(1000, 0))
    add("neuroflow.layers.dense", node_id="output", settings={"units": 10, "activation": "softmax"},
        position=(1200, 0))
    for source, target, port in (("input", "stem", "network"), ("stem", "c1", "network"), ("c1", "b1", "network"),
                                 ("b1", "sum", "network_1"), ("stem", "sum", "network_2"),
                                 ("sum", "flat", "network"), ("flat", "output", "network")):
        workflow.connect(source, "network", target, port)
    return workflow


# -- collapse and expand ----------------------------------------------------------------------------
def test_collapse_then_expand_gives_the_same_graph_back() -> None:
    workflow = without_blocks(BEST)
    before = graph_of(workflow)
    block = collapse(workflow, STEM, label="Stem")
    assert set(STEM).isdisjoint(workflow.nodes)
    item = workflow.nodes[block]
    assert isinstance(item.node, BlockNode) and item.label == "Stem"
    assert [p.name for p in item.node.inputs] == ["in1"]
    assert workflow.incoming(block)["in1"].source == "input"
    assert [c.target for c in workflow.outgoing(block)] == ["dropout1"]
    assert expand(workflow, block) == STEM
    assert graph_of(workflow) == before


def test_a_block_configures_exactly_as_its_layers() -> None:
    expanded = without_blocks(BEST)
    blocked = without_blocks(BEST)
    block = collapse(blocked, STEM)
    a, b = network(expanded), network(blocked)
    assert a.shape == b.shape == (10,)
    assert a.total_params == b.total_params == 331_754
    assert layer_signature(a) == layer_signature(b)
    # the block's own facts: its output shape, and its layers' parameters
    item = blocked.nodes[block]
    assert item.specs["network"].shape == expanded.nodes["pool1"].specs["network"].shape == (12, 12, 32)
    stem_params = sum(expanded.nodes[n].specs["network"].by_id[n].params for n in STEM)
    assert item.node.layer_params() == stem_params == 320 + 128 + 9248 + 128


def test_a_branching_block_has_one_input_for_a_shared_source() -> None:
    expanded, blocked = residual_workflow(), residual_workflow()
    block = collapse(blocked, ["c1", "b1", "sum"], label="Residual")
    node = blocked.nodes[block].node
    assert [p.name for p in node.inputs] == ["in1"]  # stem feeds both the conv and the skip: one input
    assert layer_signature(network(expanded)) == layer_signature(network(blocked))
    expand(blocked, block)
    assert graph_of(blocked) == graph_of(residual_workflow())


def test_the_same_block_twice_keeps_layer_names_unique() -> None:
    workflow = residual_workflow()
    block = collapse(workflow, ["c1", "b1", "sum"])
    text = fileformat.dumps(workflow)
    data = json.loads(text)
    entry = next(n for n in data["nodes"] if n["id"] == block)
    second = {**entry, "id": "again"}
    data["nodes"].append(second)
    data["layout"]["again"] = [1000, 200]
    data["connections"] = [c for c in data["connections"] if c["from"] != f"{block}.network"]
    data["connections"] += [{"from": f"{block}.network", "to": "again.in1"},
                            {"from": "again.network", "to": "flat.network"}]
    twice = fileformat.from_dict(data)
    spec = network(twice)
    ids = [layer.id for layer in spec.layers]
    assert len(ids) == len(set(ids))
    assert f"{block}.c1" in ids and "again.c1" in ids


def test_collapse_refuses_what_cannot_be_a_block() -> None:
    workflow = without_blocks(BEST)
    with pytest.raises(ConfigureError, match=r"only layer nodes can go in a block: 'Network Learner' \(learner\)"):
        collapse(workflow, ["output", "learner"])
    workflow = residual_workflow()
    with pytest.raises(ConfigureError, match="a block has one output, but several selected layers feed"):
        collapse(workflow, ["stem", "c1"])
    with pytest.raises(ConfigureError, match=r"outside it between its own \('Conv2D' \(c1\), 'BatchNormalization' "
                                             r"\(b1\)\): select them too"):
        collapse(workflow, ["stem", "sum"])
    with pytest.raises(ConfigureError, match="select the layer nodes"):
        collapse(workflow, [])
    assert graph_of(workflow) == graph_of(residual_workflow())


def test_a_broken_inside_makes_the_block_not_configured_with_the_reason() -> None:
    workflow = without_blocks(BEST)
    block = collapse(workflow, STEM)
    inner = workflow.nodes[block].node.graph
    inner.set_setting("conv2", "kernel_size", [40, 40])
    problem = workflow.configure()[block]
    assert problem.startswith("inside the block, 'Conv2D 32 3x3' (conv2): Conv2D window 40x40 is larger than")
    assert workflow.first_problem().startswith(f"'Block' ({block}): inside the block")


# -- the file format --------------------------------------------------------------------------------
def test_blocks_round_trip_through_save_and_load(tmp_path: Path) -> None:
    workflow = residual_workflow()
    outer = collapse(workflow, ["c1", "b1", "sum"], label="Residual")
    # a block inside a block
    collapse(workflow, ["stem", outer], label="Stage")
    spec = network(workflow)
    path = tmp_path / "blocks.workflow"
    fileformat.save(workflow, path)
    first = path.read_text()
    again = fileformat.load(path)
    fileformat.save(again, path)
    assert path.read_text() == first
    assert layer_signature(network(again)) == layer_signature(spec)
    assert json.loads(first)["format_version"] == fileformat.FORMAT_VERSION == 2


def test_version_1_files_migrate() -> None:
    data = fileformat.to_dict(without_blocks(BEST))
    data["format_version"] = 1
    workflow = fileformat.from_dict(data)
    assert fileformat.to_dict(workflow)["format_version"] == 2
    assert network(workflow).total_params == 331_754
    assert fileformat.FORMAT_MIGRATIONS[1](data) == data  # version 1 has no blocks: nothing to change


def _blocked_data() -> tuple[dict[str, Any], int]:
    workflow = without_blocks(BEST)
    block = collapse(workflow, STEM, block_id="blk")
    data = fileformat.to_dict(workflow)
    index = next(i for i, n in enumerate(data["nodes"]) if n["id"] == block)
    return data, index


def _refusal(mutate: Any) -> str:
    data, index = _blocked_data()
    mutate(data["nodes"][index])
    with pytest.raises(WorkflowFileError) as caught:
        fileformat.from_dict(data, file="x.workflow")
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(f"nodes[{index}]", "nodes[B]")


def test_malformed_blocks_are_refused_in_one_line_naming_the_place() -> None:
    def inner(node: dict[str, Any], position: int) -> dict[str, Any]:
        return next(n for n in node["block"]["nodes"] if n["id"] == STEM[position])

    assert _refusal(lambda n: n.pop("block")) == "x.workflow: nodes[B].block: is missing"
    assert _refusal(lambda n: n.update(block=[])) == "x.workflow: nodes[B].block: expected an object, got a list"
    assert _refusal(lambda n: inner(n, 0)["settings"].update(filters="32")).startswith(
        "x.workflow: nodes[B].block.nodes[1].settings.filters: setting 'filters': expected an integer")
    second_output = {"id": "out2", "type": "neuroflow.block.output", "version": 1, "label": "x", "settings": {}}
    assert _refusal(lambda n: n["block"]["nodes"].append(second_output)) == (
        "x.workflow: nodes[B].block.nodes: a block needs exactly one Block output node, found 2")
    assert _refusal(lambda n: n["block"]["connections"].append({"from": "conv1.network", "to": "nowhere.network"})
                    ) == "x.workflow: nodes[B].block.connections[6].to: no node with id 'nowhere'"
    assert _refusal(lambda n: inner(n, 1).update(type="neuroflow.learning.scorer", settings={})) == (
        "x.workflow: nodes[B].block.nodes[2].type: a block holds only layer nodes, and 'BatchNorm' (bn1) "
        "is not a layer node")
    data, index = _blocked_data()
    data["nodes"][0]["block"] = {"nodes": [], "connections": []}
    with pytest.raises(WorkflowFileError, match=r"^nodes\[0\]\.block: only a block node has a block inside"):
        fileformat.from_dict(data)


# -- the block library ------------------------------------------------------------------------------
def place(block: BlockNode, shape: list[int]) -> tuple[Workflow, str]:
    """An Input of ``shape`` feeding ``block``; returns the workflow and the block's id."""
    workflow = Workflow()
    workflow.add_node("neuroflow.layers.input", node_id="input", settings={"shape": shape})
    workflow.add_node(block, node_id="b", label="block")
    workflow.connect("input", "network", "b", "in1")
    return workflow, "b"


@pytest.mark.parametrize(("key", "shape", "out", "params"), [
    ("builtin:conv_bn_relu", [28, 28, 1], (28, 28, 32), 3 * 3 * 1 * 32 + 4 * 32),
    ("builtin:residual", [14, 14, 32], (14, 14, 32), 2 * (3 * 3 * 32 * 32 + 4 * 32)),
    ("builtin:residual_projection", [14, 14, 3], (14, 14, 32),
     3 * 3 * 3 * 32 + 3 * 3 * 32 * 32 + 2 * 4 * 32 + 1 * 1 * 3 * 32 + 4 * 32),
    ("builtin:inception", [14, 14, 8], (14, 14, 56),
     (8 * 16 + 16) + (8 * 16 + 16) + (9 * 16 * 24 + 24) + (8 * 8 + 8) + (25 * 8 * 8 + 8) + (8 * 8 + 8)),
])
def test_library_blocks_configure(key: str, shape: list[int], out: tuple[int, ...], params: int) -> None:
    from neuroflow.core.block_library import make_block

    name, block = make_block(key, Workflow().registry)
    workflow, block_id = place(block, shape)
    assert workflow.configure() == {}
    assert workflow.nodes[block_id].specs["network"].shape == out
    assert block.layer_params() == params


def test_the_identity_residual_block_says_when_channels_differ() -> None:
    from neuroflow.core.block_library import make_block

    workflow, block_id = place(make_block("builtin:residual", Workflow().registry)[1], [14, 14, 3])
    assert "Add needs two inputs of the same shape" in workflow.configure()[block_id]


def test_user_blocks_are_saved_and_listed(tmp_path: Path) -> None:
    from neuroflow.core.block_library import library, make_block, save_user_block

    workflow = without_blocks(BEST)
    block = collapse(workflow, STEM)
    registry = workflow.registry
    path = save_user_block(workflow.nodes[block].node, "My stem", tmp_path)
    assert path.name == "my_stem.block.json"
    assert save_user_block(workflow.nodes[block].node, "My stem", tmp_path).name == "my_stem_2.block.json"
    (tmp_path / "broken.block.json").write_text('{"format": "neuroflow.block", "format_version": 1, '
                                                 '"name": "x", "block": {"nodes": [], "connections": []}}')
    entries, problems = library(registry, tmp_path)
    assert [e.name for e in entries][:4] == ["Conv-BN-ReLU", "Residual block", "Residual block (projection)",
                                             "Inception module"]
    assert [e.key for e in entries][4:] == ["user:my_stem.block.json", "user:my_stem_2.block.json"]
    assert problems == ["block library: broken.block.json: block.nodes: a block needs exactly one Block output "
                        "node, found 0; skipped"]
    name, again = make_block("user:my_stem.block.json", registry, tmp_path)
    assert name == "My stem"
    placed, block_id = place(again, [28, 28, 1])
    assert placed.configure() == {}
    assert placed.nodes[block_id].specs["network"].shape == (12, 12, 32)


def test_layers_inside_blocks_are_named_after_the_block_in_summaries() -> None:
    from neuroflow.core.block import layer_label

    workflow = residual_workflow()
    inner = collapse(workflow, ["c1", "b1"], label="Body", block_id="body")
    collapse(workflow, [inner, "sum"], label="Residual", block_id="res")
    assert layer_label(workflow, "res.body.c1") == "Residual / Body / Conv2D"
    assert layer_label(workflow, "stem") == "Conv2D"
    assert layer_label(workflow, "res.nothing") is None
    assert "res.body.c1" in network(workflow).by_id
