"""The automatic layout: left to right along the wires, straight chains, no overlaps, repeatable."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from toy_nodes import toy_registry

from neuroflow.core import fileformat
from neuroflow.core.layout import (
    SPACING,
    Link,
    arrange_workflow,
    default_size,
    layered_layout,
    workflow_links,
)
from neuroflow.core.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
Box = tuple[float, float, float, float]


def random_dag(count: int, extra: int, seed: int) -> tuple[list[str], list[Link], dict[str, tuple[float, float]]]:
    """A connected random DAG with ports 0-2 and node sizes between 120x60 and 280x160."""
    rng = random.Random(seed)
    nodes = [f"v{i}" for i in range(count)]
    links = [Link(nodes[rng.randrange(i)], rng.randrange(2), nodes[i], rng.randrange(3)) for i in range(1, count)]
    for _ in range(extra):
        a, b = sorted(rng.sample(range(count), 2))
        links.append(Link(nodes[a], rng.randrange(3), nodes[b], rng.randrange(3)))
    sizes = {node: (rng.uniform(120, 280), rng.uniform(60, 160)) for node in nodes}
    return nodes, links, sizes


def boxes(positions: dict[str, tuple[float, float]], sizes: dict[str, tuple[float, float]]) -> dict[str, Box]:
    return {n: (x, y, x + sizes[n][0], y + sizes[n][1]) for n, (x, y) in positions.items()}


def overlapping(placed: dict[str, Box]) -> list[tuple[str, str]]:
    items = sorted(placed.items(), key=lambda kv: kv[1][0])
    found = []
    for i, (a, (_, ay1, ax2, ay2)) in enumerate(items):
        for b, (bx1, by1, _, by2) in items[i + 1:]:
            if bx1 >= ax2:
                break
            if by1 < ay2 and ay1 < by2:
                found.append((a, b))
    return found


@pytest.mark.parametrize("seed", range(12))
def test_random_dags_have_no_overlaps_and_every_wire_runs_left_to_right(seed: int) -> None:
    nodes, links, sizes = random_dag(60 + 10 * seed, 15 + 5 * seed, seed)
    positions = layered_layout(nodes, links, sizes)
    assert set(positions) == set(nodes)
    placed = boxes(positions, sizes)
    assert overlapping(placed) == []
    for link in links:
        assert placed[link.target][0] >= placed[link.source][2] + SPACING.column_gap - 0.1, link


def test_the_same_input_gives_the_same_positions() -> None:
    nodes, links, sizes = random_dag(120, 60, 7)
    first = layered_layout(nodes, links, sizes)
    assert layered_layout(list(nodes), list(links), dict(sizes)) == first
    assert layered_layout(nodes, list(reversed(links)), sizes) == first  # wires are a set


def test_a_chain_is_one_straight_row_in_order() -> None:
    nodes = [f"layer{i}" for i in range(15)]
    links = [Link(a, 0, b, 0) for a, b in zip(nodes, nodes[1:], strict=False)]
    positions = layered_layout(nodes, links, origin=(100.0, -40.0))
    assert {y for _, y in positions.values()} == {-40.0}
    xs = [positions[n][0] for n in nodes]
    assert xs[0] == 100.0 and xs == sorted(xs) and len(set(xs)) == len(xs)
    assert xs[1] - xs[0] == SPACING.default_width + SPACING.column_gap


def test_disconnected_components_are_stacked_without_overlap() -> None:
    nodes, links, sizes = [], [], {}
    for part, count in enumerate((9, 5, 5, 1, 1, 1)):
        chain = [f"c{part}.{i}" for i in range(count)]
        nodes += chain
        links += [Link(a, 0, b, 0) for a, b in zip(chain, chain[1:], strict=False)]
        sizes.update({n: (180.0 + 10 * part, 100.0) for n in chain})
    positions = layered_layout(nodes, links, sizes)
    placed = boxes(positions, sizes)
    assert overlapping(placed) == []
    rows = {part: {positions[n][1] for n in nodes if n.startswith(f"c{part}.")} for part in range(3)}
    assert all(len(ys) == 1 for ys in rows.values())  # each chain stays straight
    (y0,), (y1,), (y2,) = rows[0], rows[1], rows[2]
    assert y0 < y1 < y2  # the largest first, then in node order
    assert min(x for x, _ in positions.values()) == 0.0
    bottom_of_chains = max(placed[n][3] for n in nodes if not n.startswith(("c3", "c4", "c5")))
    assert all(positions[f"c{p}.0"][1] > bottom_of_chains for p in (3, 4, 5))


def test_the_port_a_wire_uses_decides_above_and_below() -> None:
    # two sources into a two-input node: the one on the first port goes above
    nodes = ["b_source", "a_source", "sum"]
    links = [Link("b_source", 0, "sum", 1), Link("a_source", 0, "sum", 0)]
    positions = layered_layout(nodes, links)
    assert positions["a_source"][1] < positions["b_source"][1]


def flagship_like() -> tuple[list[str], list[Link]]:
    """Readers, a chain of layers, learner, executor, scorer and writer, as the examples wire them."""
    chain = ["input"] + [f"layer{i}" for i in range(8)]
    nodes = ["train_reader", "train_norm", "test_reader", "test_norm", *chain, "learner", "executor", "scorer",
             "writer"]
    links = [Link("train_reader", 0, "train_norm", 0), Link("test_reader", 0, "test_norm", 0)]
    links += [Link(a, 0, b, 0) for a, b in zip(chain, chain[1:], strict=False)]
    links += [Link(chain[-1], 0, "learner", 0), Link("train_norm", 0, "learner", 1),
              Link("learner", 0, "executor", 0), Link("test_norm", 0, "executor", 1),
              Link("executor", 0, "scorer", 0), Link("learner", 0, "writer", 0)]
    return nodes, links


def test_readers_on_the_left_the_chain_straight_and_long_wires_straight() -> None:
    nodes, links = flagship_like()
    sizes = {n: default_size(3 if n == "learner" else 2 if n == "executor" else 1) for n in nodes}
    positions = layered_layout(nodes, links, sizes)
    x = {n: p[0] for n, p in positions.items()}
    assert x["train_reader"] == x["test_reader"] == x["input"] == 0.0
    assert x["learner"] > max(x[f"layer{i}"] for i in range(8))
    assert x["scorer"] > x["executor"] > x["learner"] and x["writer"] > x["learner"]
    assert len({positions[n][1] for n in ["input"] + [f"layer{i}" for i in range(8)]}) == 1

    def port(node: str, index: int) -> float:
        return positions[node][1] + SPACING.port_top + SPACING.port_pitch * index

    # the wires crossing the picture are horizontal: training data into the learner, test data
    # into the executor (the editor draws a wire as one curve, so only a straight one is tidy)
    assert port("train_norm", 0) == port("learner", 1)
    assert port("test_norm", 0) == port("executor", 1)
    assert positions["train_reader"][1] == positions["train_norm"][1]
    assert overlapping(boxes(positions, sizes)) == []


def test_a_skip_connection_is_drawn_without_overlap_and_keeps_its_ends_in_line() -> None:
    nodes = ["input", "conv1", "conv2", "conv3", "add", "dense"]
    links = [Link("input", 0, "conv1", 0), Link("conv1", 0, "conv2", 0), Link("conv2", 0, "conv3", 0),
             Link("conv3", 0, "add", 0), Link("input", 0, "add", 1), Link("add", 0, "dense", 0)]
    positions = layered_layout(nodes, links)
    sizes = dict.fromkeys(nodes, default_size(1))
    assert overlapping(boxes(positions, sizes)) == []
    assert positions["input"][1] + SPACING.port_top == positions["add"][1] + SPACING.port_top + SPACING.port_pitch
    assert positions["dense"][1] == positions["add"][1]


def test_a_cycle_and_stray_links_do_not_stop_the_layout() -> None:
    nodes = ["a", "b", "c"]
    links = [Link("a", 0, "b", 0), Link("b", 0, "c", 0), Link("c", 0, "a", 0), Link("a", 0, "ghost", 0),
             Link("b", 0, "b", 0)]
    positions = layered_layout(nodes, links)
    assert overlapping(boxes(positions, dict.fromkeys(nodes, default_size(1)))) == []
    assert layered_layout([], []) == {}


def toy_workflow() -> Workflow:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="s1", position=(500, 300))
    workflow.add_node("test.source", node_id="s2", position=(20, 900))
    workflow.add_node("test.double", node_id="d", position=(900, 10))
    workflow.add_node("test.sum", node_id="sum", position=(-50, 400))
    workflow.connect("s1", "data", "d", "data")
    workflow.connect("d", "data", "sum", "a")
    workflow.connect("s2", "data", "sum", "b")
    return workflow


def test_workflow_links_number_ports_by_declaration() -> None:
    assert set(workflow_links(toy_workflow())) == {Link("s1", 0, "d", 0), Link("d", 0, "sum", 0),
                                                    Link("s2", 0, "sum", 1)}
    assert workflow_links(toy_workflow(), ["s1", "d"]) == [Link("s1", 0, "d", 0)]


def test_arranging_keeps_the_top_left_corner_and_changes_nothing_itself() -> None:
    workflow = toy_workflow()
    before = {nid: item.position for nid, item in workflow.nodes.items()}
    positions = arrange_workflow(workflow)
    assert {nid: item.position for nid, item in workflow.nodes.items()} == before
    assert min(x for x, _ in positions.values()) == -50.0 and min(y for _, y in positions.values()) == 10.0
    assert positions["s1"][0] < positions["d"][0] < positions["sum"][0]
    assert positions["s2"][0] < positions["sum"][0] and positions["s1"][1] < positions["s2"][1]
    only = arrange_workflow(workflow, iter(["s1", "d"]))
    assert set(only) == {"s1", "d"} and only["s1"] == (500.0, 10.0) and only["d"][1] == 10.0


def test_arranging_near_the_edge_of_the_canvas_keeps_positions_a_file_can_hold(tmp_path: Path) -> None:
    workflow = toy_workflow()
    workflow.nodes["sum"].position = (999_990.0, -999_999.0)
    positions = arrange_workflow(workflow, origin=(999_990.0, -1_000_000.0))
    for node_id, position in positions.items():
        workflow.nodes[node_id].position = position
    assert max(x for x, _ in positions.values()) == 1_000_000.0
    assert min(y for _, y in positions.values()) == -1_000_000.0
    fileformat.save(workflow, tmp_path / "edge.workflow")
    assert fileformat.load(tmp_path / "edge.workflow", toy_registry()).nodes["sum"].position == positions["sum"]


#: Workflows with the flagship's node ids are laid out in rows of Arrange by
#: tools/arrange_workflows.py and tools/make_reference_workflows.py, to read at a larger zoom
#: (tests/test_reference_workflows.py checks those rows); any other by Arrange itself.
FLAGSHIP_IDS = {"input", "learner", "executor", "scorer", "writer", "train_reader", "test_reader",
                "train_norm", "test_norm"}


def _in_rows(path: Path) -> bool:
    return FLAGSHIP_IDS <= {node["id"] for node in json.loads(path.read_text())["nodes"]}


@pytest.mark.parametrize("path", [path for path in sorted(WORKFLOWS.glob("*.workflow")) if not _in_rows(path)],
                         ids=lambda p: p.stem)
def test_the_shipped_workflows_are_laid_out_by_arrange(path: Path) -> None:
    workflow = fileformat.load(path, strict=False)
    expected = arrange_workflow(workflow, origin=(0.0, 0.0))
    assert {nid: item.position for nid, item in workflow.nodes.items()} == expected


def test_every_shipped_workflow_is_laid_out_as_the_tool_does() -> None:
    tool = subprocess.run([sys.executable, str(WORKFLOWS.parent / "tools" / "arrange_workflows.py"), "--check"],
                          capture_output=True, text=True)
    assert tool.returncode == 0, tool.stderr
