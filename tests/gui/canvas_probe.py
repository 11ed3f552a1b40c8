"""What the tests read from the canvas and the gestures they perform on it, outside the product.

The editor never needs these: they read what the canvas has drawn (to compare it with the core
workflow) and report gestures to the canvas exactly as NodeGraphQt's viewer does, through the
same adapter (:mod:`neuroflow.gui.nodegraph`) the canvas uses.
"""

from __future__ import annotations

from typing import Any

from neuroflow.gui import nodegraph
from neuroflow.gui.canvas import Canvas
from neuroflow.gui.node_item import MissingNodeView


def snapshot(canvas: Canvas) -> dict[str, Any]:
    """What the canvas shows, in core terms (ids, types, labels, positions, wires, facts):
    ``connections`` are the pipe items on screen, ``model_connections`` NodeGraphQt's ports."""
    nodes = {}
    for core_id, ng_node in canvas.drawn.items():
        view = ng_node.view
        nodes[core_id] = {
            "type": "missing" if isinstance(ng_node, MissingNodeView) else ng_node.type_,
            "label": view.name,
            "position": tuple(round(v, 1) for v in view.xy_pos),
            "state": view.state.value,
            "lines": view.lines,
        }
    pipes = set()
    for core_id, ng_node in canvas.drawn.items():
        for name, in_port in ng_node.inputs().items():
            for _pipe, out_item in nodegraph.pipes_at(in_port):
                ng_id, out_name = nodegraph.pipe_source(out_item)
                pipes.add((canvas.core_id_of(ng_id), out_name, core_id, name))
    return {"nodes": nodes, "connections": pipes, "model_connections": canvas.model_pairs()}


def native_undo_count(canvas: Canvas) -> int:
    """Commands on NodeGraphQt's own undo stack: always 0 (all history is the document's)."""
    return int(canvas.graph.undo_stack().count())


def port_items(canvas: Canvas, core_id: str, port: str, direction: str) -> Any:
    """The graphics item of a port (``direction`` "in" or "out")."""
    return canvas.port_item(core_id, port, direction)


def simulate_connect(canvas: Canvas, source: str, source_port: str, target: str, target_port: str) -> None:
    """Emit the viewer's ``connection_changed`` exactly as a drag from output to input does."""
    nodegraph.emit_connection_changed(canvas.graph, canvas.port(source, source_port, "out"),
                                      canvas.port(target, target_port, "in"))
