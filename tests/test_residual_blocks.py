"""The generated ResNet-sized network drawn with blocks (tools/make_residual_workflow.py --blocks):
blocks in blocks configure to exactly the network of the plain layers, and survive the file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.block import BlockNode
from neuroflow.core.network import NetworkSpec
from neuroflow.core.workflow import Workflow

TOOL = Path(__file__).resolve().parents[1] / "tools" / "make_residual_workflow.py"


@pytest.fixture(scope="module")
def tool() -> Any:
    spec = importlib.util.spec_from_file_location("make_residual_workflow", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def learner_network(workflow: Workflow) -> NetworkSpec:
    assert workflow.configure() == {}
    feeding = workflow.incoming("learner")["network"]
    spec = workflow.nodes[feeding.source].specs[feeding.source_port]
    assert isinstance(spec, NetworkSpec)
    return spec


def test_the_180_node_network_with_blocks_is_the_same_network(tool: Any) -> None:
    flat = tool.residual_workflow(180)
    blocked = tool.with_blocks(tool.residual_workflow(180))
    assert len(flat.nodes) == 183
    # the top level: 8 data and learning nodes, Input, stem, four stages, head
    assert len(blocked.nodes) == 15
    assert tool.count_nodes(blocked) == (183, 30)  # every layer is still there, in 30 blocks
    stages = [blocked.nodes[f"stage{n}"] for n in range(1, 5)]
    assert [stage.label for stage in stages] == ["Stage 1: blocks 1-6", "Stage 2: blocks 7-12",
                                                 "Stage 3: blocks 13-18", "Stage 4: blocks 19-24"]
    inner = stages[0].node.graph
    assert [item.label for item in stages[0].node.layers()] == [f"Residual block {n}" for n in range(1, 7)]
    assert all(isinstance(item.node, BlockNode) for item in stages[0].node.layers())
    residual = inner.nodes["block1"].node
    assert len(residual.layers()) == 7 and len(residual.inputs) == 1  # the skip shares the block's input
    a, b = learner_network(flat), learner_network(blocked)
    assert a.total_params == b.total_params > 100_000
    assert [(x.class_name, x.config, x.output_shape, x.params) for x in a.layers] == \
           [(x.class_name, x.config, x.output_shape, x.params) for x in b.layers]
    # the nested blocks' footers count what they hold
    assert stages[0].node.layer_count() == 42
    assert sum(stage.node.layer_params() for stage in stages) + blocked.nodes["stem"].node.layer_params() + \
        blocked.nodes["head"].node.layer_params() == b.total_params
    # each level laid out left to right: the stages in one row at the top
    assert len({blocked.nodes[nid].position[1] for nid in ("input", "stem", "stage1", "stage4", "head")}) == 1
    xs = [item.position[0] for item in stages[0].node.layers()]
    assert xs == sorted(xs) and len(set(xs)) == 6


def test_the_cli_writes_it_and_validate_counts_the_same_parameters(
    tool: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked, flat = tmp_path / "blocks.workflow", tmp_path / "flat.workflow"
    assert tool.main([str(blocked), "--nodes", "180", "--blocks"]) == 0
    assert tool.main([str(flat), "--nodes", "180"]) == 0
    assert "183 nodes in 30 blocks" in capsys.readouterr().out
    totals = []
    for path in (blocked, flat):
        assert main(["validate", str(path)]) == 0
        out = capsys.readouterr().out
        totals.append(next(line for line in out.splitlines() if "Total params" in line))
    assert totals[0] == totals[1]
    copy = tmp_path / "copy.workflow"
    fileformat.save(fileformat.load(blocked), copy)  # blocks in blocks survive the file format
    assert copy.read_bytes() == blocked.read_bytes()
