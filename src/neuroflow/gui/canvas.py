"""The canvas: draws the document's workflow and turns gestures on it into document edits.

The core :class:`~neuroflow.core.workflow.Workflow` is the single source of truth; the canvas
only *draws* it (nodes as :class:`~neuroflow.gui.node_item.NeuroNodeItem`, with NodeGraphQt
reached only through :mod:`neuroflow.gui.nodegraph`). Two rules keep the picture and the model
provably equal:

* **Model to view, one item at a time.** The workflow reports every change as a typed event
  (:mod:`neuroflow.core.events`): a node or a connection added or removed, a label, position,
  setting, spec or state changed. The canvas applies each to the one node view or pipe it
  concerns (NodeGraphQt's own port model *and* the pipe item on screen), so an edit of a
  400-node network redraws what changed, not 400 nodes. Each handler applies the workflow's
  current truth for its item, so a late or repeated event does no harm. A full reconcile,
  :meth:`Canvas.sync`, remains for loading a workflow, for undoing what the viewer drew of a
  refused gesture, and as the consistency check of the tests. A node's progress bar follows
  its ``NodeProgress`` events alone (training reports them too, see ``training.bridge``).
* **View gestures become document edits.** The viewer's signals (a pipe dragged, a node moved,
  renamed, dropped, pipes sliced) are taken from NodeGraphQt's own handlers - which would push
  onto NodeGraphQt's undo stack - and turned into requests to the
  :class:`~neuroflow.gui.document.Document`. A refused request leaves the workflow untouched and
  the canvas re-syncs, undoing whatever the viewer had already drawn. NodeGraphQt's undo stack
  therefore stays empty (the tests check it) and there is exactly one history: the document's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QCursor, QHelpEvent, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QLabel, QWidget

from neuroflow.core.events import (
    ConnectionAdded,
    ConnectionRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeProgress,
    NodeRemoved,
    NodeStateChanged,
    SettingChanged,
    SpecsChanged,
)
from neuroflow.core.node import MissingNode
from neuroflow.core.workflow import Connection, WorkflowNode

from . import nodegraph, theme
from .document import Document
from .mime import decode_library_block, decode_node_types
from .node_info import footer_lines, tooltip_html
from .node_item import (
    NODE_MIN_WIDTH,
    MissingNodeView,
    NeuroNodeItem,
    add_instance_ports,
    node_class_for,
    paint_port,
    ports_changed,
)
from .node_search import NodeSearchPopup
from .wire_flash import flash_wire

log = logging.getLogger(__name__)

__all__ = ["Canvas", "NeuroNodeItem", "Pair"]

Pair = tuple[str, str, str, str]  # source id, source port, target id, target port
#: The colour of a missing node's ports (their type is unknown).
MISSING_PORT_COLOR = (148, 163, 184)


# -- drawing -------------------------------------------------------------------------------------
def _grid_brush(spacing: int = 24) -> QBrush:
    """A light dot grid as a tiled brush: drawn by Qt in C++, scales with the zoom."""
    tile = QPixmap(spacing, spacing)
    tile.fill(QColor(*theme.CANVAS_BACKGROUND))
    painter = QPainter(tile)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(*theme.CANVAS_GRID))
    painter.drawEllipse(QPointF(spacing / 2, spacing / 2), 1.3, 1.3)
    painter.end()
    return QBrush(tile)



class _EmptyHint(QLabel):
    """What to do on an empty canvas, centred in the view; clicks go through to the canvas."""

    TEXT = (
        "<div style='text-align:center'><span style='font-size:15pt; font-weight:600'>An empty workflow</span>"
        "<br/><br/>Drag nodes here from the <b>Nodes</b> panel, or press <b>Tab</b> on the canvas to search."
        "<br/>Wire an output to an input of the same colour, then press <b>F5</b> to execute."
        "<br/><br/>Or open an example: <b>File ▸ Open…</b> workflows/mnist_cnn.workflow</div>"
    )

    def __init__(self, viewer: QGraphicsView) -> None:
        super().__init__(viewer.viewport())
        self.setText(self.TEXT)
        self.setStyleSheet(f"color: {theme.MUTED}; background: transparent;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setWordWrap(True)
        viewer.viewport().installEventFilter(self)
        self._place()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect().adjusted(40, 40, -40, -40))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False



# -- the adapter ----------------------------------------------------------------------------------
class Canvas(QObject):
    """Draws a :class:`Document`'s workflow with NodeGraphQt and turns gestures into edits."""

    #: Core ids of the selected nodes, whenever the selection changes.
    selection_changed = Signal(list)
    #: A node was double-clicked (core id).
    node_activated = Signal(str)
    #: A ``.workflow`` file was dropped on the canvas.
    file_dropped = Signal(str)
    #: Something the status bar should say about a gesture (e.g. a wire it replaced).
    status_message = Signal(str)
    #: A block of the block library was dropped: (library key, x, y).
    library_block_dropped = Signal(str, float, float)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.graph = nodegraph.new_graph(self)
        self._views: dict[str, Any] = {}  # core id -> NodeGraphQt node
        self._core_ids: dict[str, str] = {}  # NodeGraphQt id -> core id
        self._syncing = False
        self._style_graph()
        self._register_types()
        self._rewire_viewer()
        self._hint = _EmptyHint(self.graph.viewer())
        self._search: NodeSearchPopup | None = None
        self._search_at = (0.0, 0.0)
        document.workflow_replaced.connect(self.rebuild)
        document.edited.connect(self._on_edit)
        document.core_event.connect(self._on_event)
        self.sync()

    # -- set-up ------------------------------------------------------------------------------
    @property
    def widget(self) -> QWidget:
        """The viewer widget to put in a layout."""
        return self.graph.viewer()

    @property
    def viewer(self) -> QGraphicsView:
        """The same widget, typed as the graphics view it is."""
        return self.graph.viewer()

    def _style_graph(self) -> None:
        graph = self.graph
        graph.set_background_color(*theme.CANVAS_BACKGROUND)
        graph.set_grid_color(*theme.CANVAS_GRID)
        graph.set_grid_mode(0)  # no NodeGraphQt grid: a light dotted brush instead (below)
        graph.scene().setBackgroundBrush(_grid_brush())
        graph.set_acyclic(False)  # cycles are refused by the core, with a message
        graph.set_pipe_collision(False)
        graph.set_pipe_slicing(True)
        viewer = graph.viewer()
        viewer.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        viewer.setToolTip("")

    def _register_types(self) -> None:
        for node_type in self.document.registry:
            try:
                self.graph.register_node(node_class_for(node_type))
            except Exception as exc:  # a plugin with an odd type id must not stop the editor
                log.warning("cannot show node type %s on the canvas: %s", node_type.type_id, exc)

    def _rewire_viewer(self) -> None:
        viewer, graph = self.graph.viewer(), self.graph
        nodegraph.take_over_gestures(graph, {
            "search_triggered": self._on_search_triggered,
            "connection_sliced": self._on_connection_sliced,
            "connection_changed": self._on_connection_changed,
            "moved_nodes": self._on_nodes_moved,
            "node_name_changed": self._on_node_renamed,
            "data_dropped": self._on_data_dropped,
            "node_double_clicked": self._on_double_clicked,
        })
        graph.node_selection_changed.connect(self._emit_selection)
        graph.node_selected.connect(self._emit_selection)
        viewer.installEventFilter(self)  # Tab opens the node search (see eventFilter)
        viewer.viewport().installEventFilter(self)  # tooltips are built when shown (see eventFilter)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Tab on the canvas opens the node search instead of moving the keyboard focus; a
        node's tooltip is built just before the scene shows it."""
        viewer = self.graph.viewer()
        if event.type() == QEvent.Type.ToolTip and watched is viewer.viewport() and isinstance(event, QHelpEvent):
            for item in viewer.items(event.pos()):
                while item is not None and not isinstance(item, NeuroNodeItem):
                    item = item.parentItem()
                if item is not None:
                    item.refresh_tooltip()
            return False
        if (
            watched is self.graph.viewer()
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.show_search()
            return True
        return super().eventFilter(watched, event)

    def set_context_actions(self, actions: Iterable[QAction | None]) -> None:
        """The right-click menu of the canvas (``None`` for a separator)."""
        menu = nodegraph.graph_menu(self.graph)
        menu.setStyleSheet("")  # NodeGraphQt styles its menus dark; use the editor's theme
        menu.clear()
        for action in actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)

    def show_search(self) -> None:
        """The Tab search: pick a node type by name; it is placed where the cursor is."""
        viewer = self.graph.viewer()
        local = viewer.mapFromGlobal(QCursor.pos())
        if not viewer.viewport().rect().contains(local):
            local = viewer.viewport().rect().center()
        scene = viewer.mapToScene(local)
        self._search_at = (round(scene.x(), 1), round(scene.y(), 1))
        if self._search is None:
            self._search = NodeSearchPopup(self.document.registry, viewer)
            self._search.chosen.connect(self._search_chosen)
        self._search.open_at(viewer.viewport().mapToGlobal(local))

    def _search_chosen(self, type_id: str) -> None:
        self._on_search_triggered(type_id, self._search_at)

    # -- model -> view -----------------------------------------------------------------------
    def rebuild(self) -> None:
        """Drop every view and draw the (new) workflow from scratch."""
        # Qt's spatial index would be updated item by item while hundreds of nodes and pipes
        # are created (most of the time of opening a large network); build it once at the end.
        scene = self.graph.scene()
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        try:
            for core_id in list(self._views):
                self._remove_view(core_id)
            self.sync()
        finally:
            scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.fit()

    def sync(self) -> None:
        """Reconcile the canvas with the workflow: nodes, pipes, labels, positions, facts."""
        if self._syncing:
            return
        self._syncing = True
        try:
            workflow = self.document.workflow
            for core_id in [cid for cid in self._views if cid not in workflow.nodes]:
                self._remove_view(core_id)
            for core_id, item in workflow.nodes.items():
                if core_id in self._views and ports_changed(self._views[core_id], item.node):
                    self._remove_view(core_id)
                if core_id not in self._views:
                    self._add_view(item)
            for item in workflow.nodes.values():
                self._sync_node(item)  # sizes first, so that each pipe is drawn once, in place
            self._sync_connections(workflow.connections)
            self._hint.setVisible(not workflow.nodes)
        finally:
            self._syncing = False

    def _add_view(self, item: WorkflowNode) -> None:
        stand_in = MissingNodeView() if isinstance(item.node, MissingNode) else None
        ng_node = nodegraph.create_view(self.graph, stand_in, item.node.type_id, item.label, item.position,
                                        theme.TEXT)
        add_instance_ports(ng_node, item.node)
        self._views[item.id] = ng_node
        self._core_ids[ng_node.id] = item.id
        nodegraph.set_label(ng_node, item.label)
        self._show_facts(item)  # before the first layout: the footer decides the node's size
        ng_node.view.release_drawing()

    def _remove_view(self, core_id: str) -> None:
        ng_node = self._views.pop(core_id)
        self._core_ids.pop(ng_node.id, None)
        self.graph.remove_node(ng_node, push_undo=False)

    def _sync_node(self, item: WorkflowNode) -> None:
        ng_node = self._views[item.id]
        nodegraph.set_label(ng_node, item.label)
        nodegraph.place(ng_node, item.position)
        self._show_facts(item)

    def _show_facts(self, item: WorkflowNode) -> None:
        """Status light, footer lines and tooltip of one node."""
        self._views[item.id].view.set_facts(item.state, footer_lines(item), lambda: tooltip_html(item))

    def _ensure_missing_ports(self, connections: Iterable[Connection]) -> None:
        """Missing nodes have no declared ports: give them the ones their wiring uses."""
        for c in connections:
            for core_id, port, direction in ((c.source, c.source_port, "out"), (c.target, c.target_port, "in")):
                ng_node = self._views.get(core_id)
                if not isinstance(ng_node, MissingNodeView):
                    continue
                existing = ng_node.inputs() if direction == "in" else ng_node.outputs()
                if port not in existing:
                    if direction == "in":
                        ng_node.add_input(port, color=MISSING_PORT_COLOR, painter_func=paint_port)
                    else:
                        ng_node.add_output(port, color=MISSING_PORT_COLOR, painter_func=paint_port)

    def _ports(self, pair: Pair) -> tuple[Any, Any] | None:
        source, source_port, target, target_port = pair
        out_node, in_node = self._views.get(source), self._views.get(target)
        if out_node is None or in_node is None:
            return None
        out_port = out_node.outputs().get(source_port)
        in_port = in_node.inputs().get(target_port)
        if out_port is None or in_port is None:
            return None
        return out_port, in_port

    def model_pairs(self) -> set[Pair]:
        """The wires in NodeGraphQt's port model, in core ids (what the pipes should draw)."""
        pairs: set[Pair] = set()
        for core_id, ng_node in self._views.items():
            for name, in_port in ng_node.inputs().items():
                for out_port in in_port.connected_ports():
                    source = self._core_ids.get(out_port.node().id)
                    if source is not None:
                        pairs.add((source, out_port.name(), core_id, name))
        return pairs

    def _sync_connections(self, connections: Iterable[Connection]) -> None:
        connections = list(connections)
        self._ensure_missing_ports(connections)
        wanted = {(c.source, c.source_port, c.target, c.target_port) for c in connections}
        current = self.model_pairs()
        for pair in current - wanted:
            ports = self._ports(pair)
            if ports:
                ports[1].disconnect_from(ports[0], push_undo=False, emit_signal=False)
        for pair in sorted(wanted - current):
            ports = self._ports(pair)
            if ports:
                ports[1].connect_to(ports[0], push_undo=False, emit_signal=False)
        self._sync_pipe_items(wanted)

    def _sync_pipe_items(self, wanted: set[Pair]) -> None:
        """Make the pipe items on screen match (the viewer deletes some while dragging)."""
        for pair in wanted:
            ports = self._ports(pair)
            if ports and not any(out is ports[0].view for _, out in nodegraph.pipes_at(ports[1])):
                nodegraph.draw_pipe(self.graph, *ports)
        for core_id, ng_node in self._views.items():
            for name, in_port in ng_node.inputs().items():
                for pipe, out_item in nodegraph.pipes_at(in_port):
                    if self._drawn_pair(core_id, name, out_item) not in wanted:
                        nodegraph.erase_pipe(pipe)
                    else:
                        nodegraph.recolor(pipe)
                in_port.view.update()
            for out_port in ng_node.outputs().values():
                out_port.view.update()

    def _drawn_pair(self, core_id: str, port: str, out_item: Any) -> Pair | None:
        """The wire a pipe item on screen draws into input ``port`` of ``core_id``, in core
        ids (None for a pipe from nowhere or from a node the canvas does not know)."""
        if out_item is None:
            return None
        ng_id, out_name = nodegraph.pipe_source(out_item)
        source = self._core_ids.get(ng_id)
        return (source, out_name, core_id, port) if source is not None else None

    def _show_connection(self, connection: Connection) -> None:
        """Draw one wire: NodeGraphQt's port model and exactly one pipe item on screen."""
        self._ensure_missing_ports([connection])
        c = connection
        ports = self._ports((c.source, c.source_port, c.target, c.target_port))
        if ports is None:
            return
        out_port, in_port = ports
        if out_port not in in_port.connected_ports():
            in_port.connect_to(out_port, push_undo=False, emit_signal=False)
        nodegraph.draw_pipe(self.graph, out_port, in_port)

    def _hide_connection(self, connection: Connection) -> None:
        """Remove one wire from NodeGraphQt's port model and its pipe items from the screen."""
        c = connection
        ports = self._ports((c.source, c.source_port, c.target, c.target_port))
        if ports is None:
            return
        out_port, in_port = ports
        if out_port in in_port.connected_ports():
            in_port.disconnect_from(out_port, push_undo=False, emit_signal=False)
        nodegraph.erase_pipes(out_port, in_port)

    def _apply_edit(self, event: object) -> None:
        """One edit event of the workflow -> the one node view or pipe it concerns."""
        workflow = self.document.workflow
        if isinstance(event, (SpecsChanged, SettingChanged)):
            item = workflow.nodes.get(event.node_id)
            if item is not None and item.id in self._views:
                self._show_facts(item)
        elif isinstance(event, ConnectionAdded):
            if event.connection in workflow.connections:
                self._show_connection(event.connection)
        elif isinstance(event, ConnectionRemoved):
            if event.connection not in workflow.connections:
                self._hide_connection(event.connection)
        elif isinstance(event, NodeAdded):
            item = workflow.nodes.get(event.node_id)
            if item is not None and item.id not in self._views:
                self._add_view(item)
                self._sync_node(item)
                self._hint.setVisible(False)
        elif isinstance(event, NodeRemoved):
            if event.node_id in self._views and event.node_id not in workflow.nodes:
                self._remove_view(event.node_id)
                self._hint.setVisible(not workflow.nodes)
        elif isinstance(event, LabelChanged):
            item = workflow.nodes.get(event.node_id)
            if item is not None and item.id in self._views:
                nodegraph.set_label(self._views[item.id], item.label)
                self._show_facts(item)  # the tooltip names it
        elif isinstance(event, NodeMoved):
            item = workflow.nodes.get(event.node_id)
            if item is not None and item.id in self._views:
                nodegraph.place(self._views[item.id], item.position)

    # -- core events (already on the GUI thread) ---------------------------------------------
    def _on_edit(self, event: object) -> None:
        if not self._syncing:
            self._apply_edit(event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, NodeStateChanged):
            item = self.document.workflow.nodes.get(event.node_id)
            if item is not None and event.node_id in self._views:
                self._show_facts(item)
        elif isinstance(event, NodeProgress):
            view = self._item(event.node_id)
            if view is not None:
                view.set_progress(event.fraction, event.message)

    def _item(self, core_id: str) -> NeuroNodeItem | None:
        ng_node = self._views.get(core_id)
        return ng_node.view if ng_node is not None else None

    # -- view gestures -> document edits -----------------------------------------------------
    def _pair_of(self, port_a: Any, port_b: Any) -> Pair | None:
        wire = nodegraph.wire_of(port_a, port_b)
        if wire is None:
            return None
        source, target = self._core_ids.get(wire[0]), self._core_ids.get(wire[2])
        if source is None or target is None:
            return None
        return (source, wire[1], target, wire[3])

    def _on_connection_changed(self, disconnected: list, connected: list) -> None:
        drop = [p for p in (self._pair_of(a, b) for a, b in disconnected) if p]
        add = [p for p in (self._pair_of(a, b) for a, b in connected) if p]
        replaced = self._replaced_by(add)
        if not self.document.rewire([Connection(*p) for p in drop], [Connection(*p) for p in add]):
            self.sync()
        elif replaced:
            self._tell_replaced(add[0], replaced)

    def _replaced_by(self, add: list[Pair]) -> Connection | None:
        """The wire that now feeds the input a new wire goes into (one wire per input)."""
        if not add:
            return None
        source, source_port, target, target_port = add[0]
        old = self.document.workflow.incoming(target).get(target_port)
        return old if old is not None and (old.source, old.source_port) != (source, source_port) else None

    def _tell_replaced(self, pair: Pair, old: Connection) -> None:
        """Say which wire a connection replaced, and flash where it was."""
        nodes = self.document.workflow.nodes
        names = [nodes[i].label if i in nodes else i for i in (pair[0], pair[2], old.source)]
        self.status_message.emit(f"Connected '{names[0]}' to '{names[1]}'; replaced the wire from '{names[2]}'")
        if old.source in self._views and old.target in self._views:
            start = self.port_item(old.source, old.source_port, "out").sceneBoundingRect().center()
            end = self.port_item(old.target, old.target_port, "in").sceneBoundingRect().center()
            flash_wire(self.graph.viewer().scene(), start, end)

    def _on_connection_sliced(self, ports: list) -> None:
        drop = [p for p in (self._pair_of(a, b) for a, b in ports) if p]
        if not self.document.rewire([Connection(*p) for p in drop], []):
            self.sync()

    def _on_nodes_moved(self, moved: dict) -> None:
        changes = {}
        for node_view, previous in moved.items():
            core_id = self._core_ids.get(node_view.id)
            if core_id is not None:
                changes[core_id] = (tuple(previous), tuple(node_view.xy_pos))
        if changes:
            self.document.move_nodes({k: v[1] for k, v in changes.items()},
                                     previous={k: v[0] for k, v in changes.items()})

    def _on_node_renamed(self, ng_id: str, name: str) -> None:
        core_id = self._core_ids.get(ng_id)
        if core_id is not None and not self.document.set_label(core_id, name):
            self.sync()

    def _on_search_triggered(self, node_type: str, pos: tuple[float, float]) -> None:
        added = self.document.add_node(node_type, (pos[0], pos[1]))
        if added:
            self.select([added])

    def _on_data_dropped(self, mime: QMimeData, pos: QPoint) -> None:
        key = decode_library_block(mime)
        if key is not None:
            self.library_block_dropped.emit(key, float(pos.x()), float(pos.y()))
            return
        for type_id in decode_node_types(mime):
            added = self.document.add_node(type_id, (float(pos.x()), float(pos.y())))
            if added:
                self.select([added])
            return
        if mime.hasUrls():
            for url in mime.urls():
                path = url.toLocalFile()
                if path.endswith(".workflow"):
                    self.file_dropped.emit(path)
                    return

    def _on_double_clicked(self, ng_id: str) -> None:
        core_id = self._core_ids.get(ng_id)
        if core_id is not None:
            self.node_activated.emit(core_id)

    def _emit_selection(self, *args: Any) -> None:
        self.selection_changed.emit(self.selected_ids())

    # -- queries and commands used by the window and tests -----------------------------------
    def selected_ids(self) -> list[str]:
        return [self._core_ids[n.id] for n in self.graph.selected_nodes() if n.id in self._core_ids]

    def select(self, ids: Iterable[str], *, center: bool = False) -> None:
        wanted = set(ids)
        for core_id, ng_node in self._views.items():
            nodegraph.set_selected(ng_node, core_id in wanted)
        if center and wanted:
            nodes = [self._views[i] for i in wanted if i in self._views]
            if nodes:
                self.graph.center_on(nodes)
        self._emit_selection()

    def select_all(self) -> None:
        self.select(self._views)

    def fit(self, min_scale: float = 0.0) -> None:
        """Zoom to show the whole workflow, never closer than 1:1 (nor farther than
        ``min_scale``, when given: then its left end shows)."""
        viewer = self.graph.viewer()
        views = [n.view for n in self._views.values()]
        if not views:
            viewer.reset_zoom()
            return
        rect = QRectF()
        for view in views:
            rect = rect.united(view.sceneBoundingRect())
        rect.adjust(-60.0, -60.0, 60.0, 60.0)
        nodegraph.fit_scene(viewer, rect, min_scale)

    def free_position(self) -> tuple[float, float]:
        """Where a node added without a drop position goes: the centre of the view, nudged."""
        viewer = self.graph.viewer()
        center = viewer.mapToScene(viewer.viewport().rect().center())
        x, y = center.x() - NODE_MIN_WIDTH / 2, center.y() - 40
        taken = {tuple(item.position) for item in self.document.workflow.nodes.values()}
        while (round(x, 1), round(y, 1)) in taken:
            x, y = x + 30, y + 30
        return round(x, 1), round(y, 1)

    def node_sizes(self, ids: Iterable[str]) -> dict[str, tuple[float, float]]:
        """The drawn (width, height) of the given nodes, for the automatic layout."""
        sizes = {}
        for core_id in ids:
            ng_node = self._views.get(core_id)
            if ng_node is not None:
                rect = ng_node.view.boundingRect()
                sizes[core_id] = (rect.width(), rect.height())
        return sizes

    def node_view(self, core_id: str) -> NeuroNodeItem:
        return self._views[core_id].view

    def port_item(self, core_id: str, port: str, direction: str) -> Any:
        """The graphics item of a port (``direction`` "in" or "out"), e.g. to flash a wire."""
        return self.port(core_id, port, direction).view

    def port(self, core_id: str, port: str, direction: str) -> Any:
        """NodeGraphQt's port object of a node's port."""
        ng_node = self._views[core_id]
        return (ng_node.inputs() if direction == "in" else ng_node.outputs())[port]

    @property
    def drawn(self) -> Mapping[str, Any]:
        """Core id -> the NodeGraphQt node drawn for it (read-only; for checks and tools)."""
        return MappingProxyType(self._views)

    def core_id_of(self, ng_id: str) -> str | None:
        """The core id of the node NodeGraphQt knows as ``ng_id``."""
        return self._core_ids.get(ng_id)
