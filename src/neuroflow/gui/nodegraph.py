"""The one module that imports NodeGraphQt and knows its internals.

NodeGraphQt draws the canvas, but NeuroFlow uses it as a *view* only, which means working around
parts of it: its own undo stack and gesture handlers, its renaming of nodes to unique names,
the pipe items it draws between port items, its scene range. Everything that reaches below
NodeGraphQt's node and port API - private members, viewer slots, the graphics items of pipes -
lives here, behind small functions with NeuroFlow's names, so that an update of NodeGraphQt is
checked in one file. The canvas (:mod:`neuroflow.gui.canvas`) and the node item
(:mod:`neuroflow.gui.node_item`) use NodeGraphQt only through this module.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QColor, QUndoStack
from PySide6.QtWidgets import QGraphicsView, QMenu

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _quiet_fast_import() -> Iterator[None]:
    """Import NodeGraphQt quietly and without dragging in setuptools.

    NodeGraphQt imports ``distutils.version``; with setuptools' distutils shim active that
    import loads all of setuptools (a quarter of a second at start-up). Where the standard
    library still has distutils (Python < 3.12) the shim is bypassed for this one import.
    Qt.py, NodeGraphQt's binding shim, also prints a warning for every optional Qt module whose
    system library is absent (e.g. QtMultimedia without PulseAudio); none is used here.
    """
    os.environ.setdefault("QT_PREFERRED_BINDING", "PySide6")
    shims = [f for f in sys.meta_path if type(f).__name__ == "DistutilsMetaFinder"]
    bypass = bool(shims) and sys.version_info < (3, 12) and "distutils" not in sys.modules
    if bypass:
        sys.meta_path[:] = [f for f in sys.meta_path if f not in shims]
    noise = io.StringIO()
    try:
        with contextlib.redirect_stderr(noise), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        if bypass:
            sys.meta_path[:0] = shims
    if noise.getvalue().strip():
        log.debug("NodeGraphQt import messages: %s", noise.getvalue().strip())


with _quiet_fast_import():
    from NodeGraphQt import BaseNode, NodeGraph  # noqa: E402
    from NodeGraphQt.constants import PortTypeEnum  # noqa: E402
    from NodeGraphQt.qgraphics.node_base import NodeItem  # noqa: E402
    from NodeGraphQt.qgraphics.pipe import PipeItem  # noqa: E402

__all__ = [
    "BaseNode", "NodeGraph", "NodeItemBase", "Wire", "create_view", "draw_pipe", "emit_connection_changed",
    "erase_pipe", "erase_pipes", "fit_scene", "graph_menu", "new_graph", "pipe_source", "pipes_at", "place",
    "recolor", "set_label", "set_selected", "take_over_gestures", "wire_of",
]

#: (NodeGraphQt id of the output's node, output name, NodeGraphQt id of the input's node, input name)
Wire = tuple[str, str, str, str]


# -- the node item ---------------------------------------------------------------------------------
class NodeItemBase(NodeItem):
    """NodeGraphQt's node item with its private hooks turned into NeuroFlow's.

    NodeGraphQt hides a node's texts when it is narrower than 70 px on screen (a whole workflow
    fitted into a laptop screen is smaller than that, and nameless boxes teach nothing), and
    resets the tooltip at every layout. Subclasses get ``keep_tooltip`` called instead.
    """

    #: Texts stay visible down to this width on screen (pixels).
    TEXT_MIN_SCREEN_WIDTH = 25

    def __init__(self, name: str = "node", parent: Any = None) -> None:
        super().__init__(name, parent)
        self._proxy_mode_threshold = self.TEXT_MIN_SCREEN_WIDTH

    def keep_tooltip(self) -> None:
        """Called where NodeGraphQt would set its own tooltip (each layout)."""

    def _tooltip_disable(self, state: bool) -> None:
        self.keep_tooltip()


# -- the graph -------------------------------------------------------------------------------------
def new_graph(parent: QObject) -> NodeGraph:
    """A NodeGraphQt graph set up as a view: unused undo stack, labels as given, no own menu."""
    graph = NodeGraph(undo_stack=QUndoStack(parent))
    viewer = graph.viewer()
    graph_menu(graph).clear()  # drop NodeGraphQt's own undo/redo, which act on its (unused) stack
    # NeuroFlow labels need not be unique (ids are); NodeGraphQt's renaming compares each
    # new node's name with every other, which makes opening a large workflow quadratic.
    graph.get_unique_name = lambda name: name  # type: ignore[method-assign]
    # Pipes get their port type's colour before they enter the scene, not after.
    viewer.establish_connection = lambda start, end: _establish_connection(graph, start, end)  # type: ignore[method-assign]
    return graph


def graph_menu(graph: NodeGraph) -> QMenu:
    """The canvas's right-click menu."""
    menu: QMenu = graph.viewer().context_menus()["graph"]
    return menu


def _establish_connection(graph: NodeGraph, start_port: Any, end_port: Any) -> None:
    """NodeGraphQt's ``establish_connection`` (a pipe item between two port items), with the
    pipe styled before it is added to the scene, where each restyling costs an update."""
    pipe = PipeItem()
    out_port = end_port if start_port.port_type == PortTypeEnum.IN.value else start_port
    pipe.color = tuple(out_port.color[:3]) + (255,)
    pipe.reset()
    graph.scene().addItem(pipe)
    pipe.set_connections(start_port, end_port)
    pipe.draw_path(pipe.input_port, pipe.output_port)
    if start_port.node.selected or end_port.node.selected:
        pipe.highlight()
    if not start_port.node.visible or not end_port.node.visible:
        pipe.hide()


def take_over_gestures(graph: NodeGraph, handlers: Mapping[str, Callable[..., Any]]) -> None:
    """Route the viewer's gesture signals to ``handlers`` instead of NodeGraphQt's own slots.

    NodeGraphQt's slots would edit its own model and push onto its own undo stack; the canvas
    turns the same gestures into document edits. ``handlers`` maps each viewer signal name
    (``connection_changed``, ``connection_sliced``, ``moved_nodes``, ``node_name_changed``,
    ``search_triggered``, ``data_dropped``, ``node_double_clicked``) to its handler.
    """
    viewer = graph.viewer()
    for signal, slot in (
        (viewer.search_triggered, graph._on_search_triggered),
        (viewer.connection_sliced, graph._on_connection_sliced),
        (viewer.connection_changed, graph._on_connection_changed),
        (viewer.moved_nodes, graph._on_nodes_moved),
        (viewer.node_name_changed, graph._on_node_name_changed),
        (viewer.insert_node, graph._on_insert_node),
        (viewer.data_dropped, graph._on_node_data_dropped),
        (viewer.node_double_clicked, graph._on_node_double_clicked),
    ):
        signal.disconnect(slot)
    for name, handler in handlers.items():
        getattr(viewer, name).connect(handler)


def fit_scene(viewer: QGraphicsView, rect: QRectF, min_scale: float = 0.0) -> None:
    """Make ``rect`` the scene's range and zoom to show it, never closer than 1:1 and, when
    ``min_scale`` is given, never farther than that: then the left end of ``rect`` shows, where
    a network starts, at a size that can be read."""
    viewer._scene_range = rect  # type: ignore[attr-defined]
    viewer._update_scene()  # type: ignore[attr-defined]
    if viewer.get_zoom() > 0.0:  # type: ignore[attr-defined]
        viewer.reset_zoom(rect.center())  # type: ignore[attr-defined]
    elif min_scale and viewer.transform().m11() < min_scale:
        size = viewer.viewport().size()
        width, height = size.width() / min_scale, size.height() / min_scale
        viewer._scene_range = QRectF(rect.left(), rect.center().y() - height / 2, width, height)  # type: ignore[attr-defined]
        viewer._update_scene()  # type: ignore[attr-defined]


# -- nodes -----------------------------------------------------------------------------------------
def create_view(graph: NodeGraph, node: Any, type_id: str, label: str, position: tuple[float, float],
                text_color: str) -> Any:
    """Add a node to the graph without undo: ``node`` when given (a stand-in), else one of
    ``type_id``; titles in ``text_color``."""
    if node is not None:
        graph.add_node(node, pos=list(position), selected=False, push_undo=False)
    else:
        node = graph.create_node(type_id, name=label, selected=False, pos=list(position), push_undo=False,
                                 text_color=text_color)
    rgba = QColor(text_color).getRgb()
    node.view.text_color = rgba
    node.model.text_color = rgba
    return node


def set_label(ng_node: Any, label: str) -> None:
    """Title a node. Straight to model and view: NodeGraphQt's ``set_name`` would make names
    unique, but two nodes may share a label in NeuroFlow (their ids differ)."""
    if ng_node.model.name != label or ng_node.view.name != label:
        ng_node.model.name = label
        ng_node.NODE_NAME = label
        ng_node.view.name = label
        ng_node.view.draw_node()


def place(ng_node: Any, position: tuple[float, float]) -> None:
    """Move a node without undo (model and view)."""
    xy = [float(position[0]), float(position[1])]
    if ng_node.view.xy_pos != xy:
        ng_node.view.xy_pos = xy
    ng_node.model.pos = xy


def set_selected(ng_node: Any, selected: bool) -> None:
    ng_node.view.setSelected(selected)
    ng_node.model.selected = selected


# -- wires and the pipe items that draw them ---------------------------------------------------------
def wire_of(port_a: Any, port_b: Any) -> Wire | None:
    """The wire two port items of a gesture make, output first; None for two of a kind."""
    ports = {port_a.port_type: port_a, port_b.port_type: port_b}
    out_view = ports.get(PortTypeEnum.OUT.value)
    in_view = ports.get(PortTypeEnum.IN.value)
    if out_view is None or in_view is None:
        return None
    return (out_view.node.id, out_view.name, in_view.node.id, in_view.name)


def pipes_at(in_port: Any) -> list[tuple[Any, Any]]:
    """The pipe items on screen ending at an input port: (pipe, output port item or None)."""
    return [(pipe, pipe.output_port) for pipe in list(in_port.view.connected_pipes)]


def pipe_source(out_port_item: Any) -> tuple[str, str]:
    """(NodeGraphQt node id, port name) of an output port item."""
    return out_port_item.node.id, out_port_item.name


def draw_pipe(graph: NodeGraph, out_port: Any, in_port: Any) -> None:
    """Exactly one pipe item on screen between two ports, in the output's colour."""
    out_view, in_view = out_port.view, in_port.view
    pipes = [p for p in in_view.connected_pipes if p.output_port is out_view]
    if not pipes:
        graph.viewer().establish_connection(in_view, out_view)
    for extra in pipes[1:]:
        extra.delete()
    for pipe in pipes[:1]:
        recolor(pipe)
    in_view.update()
    out_view.update()


def recolor(pipe: Any) -> None:
    """Give a pipe its output port's colour (a missing node's port may change type)."""
    color = tuple(pipe.output_port.color[:3]) + (255,)
    if pipe.color != color:
        pipe.color = color
        pipe.reset()


def erase_pipes(out_port: Any, in_port: Any) -> None:
    """Remove the pipe items between two ports from the screen."""
    for pipe in list(in_port.view.connected_pipes):
        if pipe.output_port is out_port.view:
            pipe.delete()
    in_port.view.update()
    out_port.view.update()


def erase_pipe(pipe: Any) -> None:
    pipe.delete()


def emit_connection_changed(graph: NodeGraph, out_port: Any, in_port: Any) -> None:
    """Report a wire dragged from an output to an input exactly as the viewer does: the
    input's old pipes removed first, then ``connection_changed`` (tests and tools)."""
    out_view, in_view = out_port.view, in_port.view
    disconnected = [(in_view, p) for p in in_view.connected_ports]
    for pipe in list(in_view.connected_pipes):
        pipe.delete()
    graph.viewer().connection_changed.emit(disconnected, [(out_view, in_view)])
