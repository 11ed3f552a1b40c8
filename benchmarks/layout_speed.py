"""How fast is Arrange (Ctrl+L)? The layered layout of 400-node graphs, and the editor's whole step.

Usage::

    python benchmarks/layout_speed.py [--nodes 400] [--runs 7] [--editor]

Times :func:`neuroflow.core.layout.layered_layout` (layers, crossing reduction, straight blocks,
heights) on four kinds of graph with ``--nodes`` nodes each, built with a fixed seed:

* **pipelines**: workflows shaped like the examples (2 readers, 2 normalizers, a chain of 12
  layers, learner, executor, scorer, writer: 20 nodes) side by side on one canvas - 20 components;
* **network**: one connected network - a chain with a residual skip over every 3 layers and a
  two-branch block every 10 - feeding one learner;
* **random**: a connected random DAG with 1.5 wires per node on ports 0-2, one per node reaching
  back up to 10 nodes, the rest reaching anywhere back: many long wires, hence thousands of
  dummy nodes and many crossings - the hard case;
* **chain**: one straight chain.

Prints the median and slowest of ``--runs`` runs (target: well under a second). ``--editor`` also
times the editor's Arrange on the random graph built from real layer nodes (Add and Concatenate),
offscreen: layout with the drawn node sizes, the undoable move of every node, the canvas redraw
and the fit.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from neuroflow.core.layout import Link, layered_layout

Graph = tuple[list[str], list[Link]]


def pipelines(count: int) -> Graph:
    nodes: list[str] = []
    links: list[Link] = []
    for k in range(max(count // 20, 1)):
        p = f"p{k}."
        chain = [p + "input"] + [f"{p}layer{i}" for i in range(11)]
        nodes += [p + n for n in ("train_reader", "train_norm", "test_reader", "test_norm")] + chain
        nodes += [p + n for n in ("learner", "executor", "scorer", "writer")]
        links += [Link(p + "train_reader", 0, p + "train_norm", 0), Link(p + "test_reader", 0, p + "test_norm", 0)]
        links += [Link(a, 0, b, 0) for a, b in zip(chain, chain[1:], strict=False)]
        links += [Link(chain[-1], 0, p + "learner", 0), Link(p + "train_norm", 0, p + "learner", 1),
                  Link(p + "learner", 0, p + "executor", 0), Link(p + "test_norm", 0, p + "executor", 1),
                  Link(p + "executor", 0, p + "scorer", 0), Link(p + "learner", 0, p + "writer", 0)]
    return nodes, links


def network(count: int) -> Graph:
    nodes = [f"n{i}" for i in range(count - 1)] + ["learner"]
    links = [Link(a, 0, b, 0) for a, b in zip(nodes, nodes[1:], strict=False)]
    for i in range(3, count - 1, 3):
        links.append(Link(nodes[i - 3], 0, nodes[i], 1))  # residual skip
    for i in range(10, count - 2, 10):
        links.append(Link(nodes[i - 2], 0, nodes[i], 2))  # a parallel branch joining
    return nodes, links


def random_dag(count: int, seed: int = 1) -> Graph:
    rng = random.Random(seed)
    nodes = [f"v{i}" for i in range(count)]
    links = [Link(nodes[rng.randrange(max(0, i - 10), i)], rng.randrange(2), nodes[i], rng.randrange(3))
             for i in range(1, count)]
    for _ in range(count // 2):
        a, b = sorted(rng.sample(range(count), 2))
        links.append(Link(nodes[a], rng.randrange(2), nodes[b], rng.randrange(3)))
    return nodes, links


def chain(count: int) -> Graph:
    nodes = [f"c{i}" for i in range(count)]
    return nodes, [Link(a, 0, b, 0) for a, b in zip(nodes, nodes[1:], strict=False)]


def timed(action: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def editor_arrange(count: int, runs: int) -> list[float]:
    """The editor's Arrange on a random DAG of Add/Concatenate layer nodes, offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("NEUROFLOW_NO_WARMUP", "1")
    from PySide6.QtWidgets import QApplication

    from neuroflow.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.show()
    workflow = window.document.workflow
    rng = random.Random(2)
    with workflow.bulk_edit():
        for i in range(count):
            kind = "add" if i % 2 else "concatenate"
            workflow.add_node(f"neuroflow.layers.{kind}", node_id=f"v{i}", position=(rng.random() * 900, 0.0))
        free = {f"v{i}": ["network_1", "network_2"] for i in range(count)}
        for i in range(1, count):
            for _ in range(2):
                source = f"v{rng.randrange(max(0, i - 10), i)}"
                if free[f"v{i}"] and rng.random() < 0.75:
                    workflow.connect(source, "network", f"v{i}", free[f"v{i}"].pop(0))
    window.document.changed.emit()
    app.processEvents()
    times = []
    for _ in range(runs):
        window.document.move_nodes({nid: (rng.random() * 900, rng.random() * 900) for nid in workflow.nodes})
        app.processEvents()
        start = time.perf_counter()
        window.arrange()
        app.processEvents()
        times.append(time.perf_counter() - start)
    window.runner.shutdown()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=400)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--editor", action="store_true", help="also time Arrange in the editor (offscreen)")
    options = parser.parse_args(argv)
    print(f"layered layout of {options.nodes} nodes, {options.runs} runs each (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for name, build in (("pipelines", pipelines), ("network", network), ("random", random_dag), ("chain", chain)):
        nodes, links = build(options.nodes)
        times = timed(lambda n=nodes, li=links: layered_layout(n, li), options.runs)
        print(f"  {name:10s} {len(nodes):4d} nodes {len(links):4d} wires: median {statistics.median(times) * 1000:6.1f} ms,"
              f" slowest {max(times) * 1000:6.1f} ms")
    if options.editor:
        times = editor_arrange(options.nodes, options.runs)
        print(f"  editor Arrange, {options.nodes} layer nodes: median {statistics.median(times) * 1000:.0f} ms, "
              f"slowest {max(times) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
