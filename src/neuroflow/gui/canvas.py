"""The canvas: a NodeGraphQt view of the document's workflow (the one module importing NodeGraphQt).

The core :class:`~neuroflow.core.workflow.Workflow` is the single source of truth; this adapter
only *draws* it. Two rules keep the picture and the model provably equal:

* **Model to view, one item at a time.** The workflow reports every change as a typed event
  (:mod:`neuroflow.core.events`): a node or a connection added or removed, a label, position,
  setting, spec or state changed. The canvas applies each to the one node view or pipe it
  concerns (NodeGraphQt's own port model *and* the pipe item on screen), so an edit of a
  400-node network redraws what changed, not 400 nodes. Each handler applies the workflow's
  current truth for its item, so a late or repeated event does no harm. A full reconcile,
  :meth:`Canvas.sync`, remains for loading a workflow, for undoing what the viewer drew of a
  refused gesture, and as the consistency check of the tests.
* **View gestures become document edits.** The viewer's signals (a pipe dragged, a node moved,
  renamed, dropped, pipes sliced) are disconnected from NodeGraphQt's
  own handlers - which would push onto NodeGraphQt's undo stack - and turned into requests to the
  :class:`~neuroflow.gui.document.Document`. A refused request leaves the workflow untouched and
  the canvas re-syncs, undoing whatever the viewer had already drawn. NodeGraphQt's undo stack
  therefore stays empty (the tests check it) and there is exactly one history: the document's.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QCursor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QUndoStack,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QLabel, QMenu, QWidget

from neuroflow.core.events import (
    BatchEnded,
    ConnectionAdded,
    ConnectionRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeProgress,
    NodeRemoved,
    NodeState,
    NodeStateChanged,
    SettingChanged,
    SpecsChanged,
    TrainingStarted,
)
from neuroflow.core.node import MissingNode, Node
from neuroflow.core.ports import Port
from neuroflow.core.workflow import Connection, WorkflowNode

from . import theme
from .document import Document
from .mime import decode_library_block, decode_node_types
from .node_info import footer_lines, tooltip_html
from .node_search import NodeSearchPopup
from .wire_flash import flash_wire

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

MISSING_TYPE = "neuroflow.missing.MissingNode"

#: A node is this wide unless its title or ports need more; footer lines never widen it (a long
#: message, e.g. where a dataset was looked for, is elided; the tooltip has all of it).
NODE_MIN_WIDTH = 180.0
FOOTER_LINE_HEIGHT = 16.0
FOOTER_PADDING = 8.0
PROGRESS_HEIGHT = 7.0
LIGHT_RADIUS = 6.0
TITLE_INDENT = 28.0
Pair = tuple[str, str, str, str]  # source id, source port, target id, target port


# -- drawing -------------------------------------------------------------------------------------
def _paint_port(painter: QPainter, rect: QRectF, info: dict[str, Any]) -> None:
    """Ports keep their type colour: a ring when free, filled when wired, larger on hover."""
    painter.save()
    color = QColor(*info["color"][:3])
    if info["hovered"]:
        rect = rect.adjusted(-1.5, -1.5, 1.5, 1.5)
    painter.setPen(QPen(color.darker(135), 1.6))
    painter.setBrush(color if info["connected"] or info["hovered"] else QColor(theme.WHITE))
    painter.drawEllipse(rect)
    if not info["connected"] and not info["hovered"]:
        inner = rect.adjusted(rect.width() * 0.3, rect.height() * 0.3, -rect.width() * 0.3, -rect.height() * 0.3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(inner)
    painter.restore()


class NeuroNodeItem(NodeItem):
    """A node box: coloured header with a status light, ports, and a footer of live facts.

    The footer shows what :func:`~neuroflow.gui.node_info.footer_lines` computes (output shape and
    parameters for layers), a progress bar while executing, and a red badge when the node failed.
    Its width comes from the title and ports only, never from the footer's text (elided, whole in
    the tooltip): a node that widened with a warning moved its output ports under the mouse.
    """

    #: While True, ``draw_node`` (size and layout) waits: NodeGraphQt redraws a node for each
    #: port and property it sets while creating it; the canvas releases it once, complete.
    _drawing_held = False
    #: Below this zoom (screen pixels per scene pixel) the footer's text would be a few pixels
    #: high: a node is drawn as its box, header and status light only (a whole large network
    #: fitted into the window paints several times faster).
    DETAIL_ZOOM = 0.4

    def __init__(self, name: str = "node", parent: Any = None) -> None:
        super().__init__(name, parent)
        self._drawing_held = True
        self.category = "Other"
        self.missing = False
        self.state = NodeState.NOT_CONFIGURED
        self.lines: tuple[str, ...] = ()
        self.progress: float | None = None
        self.progress_text = ""
        self.tooltip_html = ""
        #: Builds the tooltip; called only when the tooltip is about to show (see ``toolTip``).
        self._tooltip_source: Callable[[], str] | None = None
        self._icon_item.setVisible(False)
        # NodeGraphQt hides texts when a node is narrower than 70 px on screen; a whole
        # workflow fitted into a laptop screen is smaller than that, and nameless boxes teach
        # nothing. Keep the texts down to 25 px.
        self._proxy_mode_threshold = 25
        font = QFont(self._text_item.font())
        font.setPointSizeF(theme.BASE_POINT_SIZE + 0.5)
        font.setBold(True)
        self._text_item.setFont(font)
        self._footer_font = QFont(font)
        self._footer_font.setBold(False)
        self._footer_font.setPointSizeF(theme.BASE_POINT_SIZE - 1)

    # -- facts shown -------------------------------------------------------------------------
    def set_facts(self, state: NodeState, lines: tuple[str, ...], tooltip: Callable[[], str]) -> None:
        """Show a state and footer lines; ``tooltip`` builds the tooltip text when it is shown.

        An edit high up a large network changes what every node after it says in its tooltip
        (the network's total parameters) but rarely its lines: building and setting hundreds of
        tooltips nobody reads would cost more than the edit itself, so it waits for a hover."""
        self._tooltip_source = tooltip
        self.tooltip_html = ""
        if (state, lines) == (self.state, self.lines) and (
            state is NodeState.EXECUTING or self.progress is None
        ):
            return  # nothing to redraw (an edit upstream often leaves a node's facts as they were)
        resize = len(lines) != len(self.lines)  # taller or shorter; never wider (see the class)
        self.state, self.lines = state, lines
        if state is not NodeState.EXECUTING:
            self.progress, self.progress_text = None, ""
        if resize and self.scene():
            self.draw_node()
            for port in self.inputs + self.outputs:
                port.redraw_connected_pipes()
        self.update()

    def set_progress(self, fraction: float | None, text: str = "") -> None:
        """Show progress; repaints only when the bar visibly moves (training reports every batch)."""
        value = fraction if fraction is None else max(0.0, min(1.0, fraction))
        moved = (value is None) != (self.progress is None) or (
            value is not None and self.progress is not None and abs(value - self.progress) >= 0.005
        )
        self.progress_text = text
        if moved or value == 1.0:
            self.progress = value
            self.update()

    # -- geometry ----------------------------------------------------------------------------
    def _footer_height(self) -> float:
        rows = max(len(self.lines), 1)
        return rows * FOOTER_LINE_HEIGHT + 2 * FOOTER_PADDING + PROGRESS_HEIGHT

    def calc_size(self, add_w: float = 0.0, add_h: float = 0.0) -> tuple[float, float]:
        width, height = super().calc_size(add_w, add_h)
        width = max(width + TITLE_INDENT, NODE_MIN_WIDTH)
        return width, height + self._footer_height()

    def align_label(self, h_offset: float = 0.0, v_offset: float = 0.0) -> None:
        rect = self.boundingRect()
        self._text_item.setPos(rect.left() + TITLE_INDENT + h_offset, rect.top() + 2 + v_offset)

    def align_icon(self, h_offset: float = 0.0, v_offset: float = 0.0) -> None:
        self._icon_item.setVisible(False)

    def refresh_tooltip(self) -> None:
        """Build the tooltip if the facts changed since it was last built."""
        if not self.tooltip_html and self._tooltip_source is not None:
            self.tooltip_html = self._tooltip_source()
            QGraphicsItem.setToolTip(self, self.tooltip_html)

    def toolTip(self) -> str:  # noqa: N802 (Qt API)
        self.refresh_tooltip()
        return super().toolTip()

    def draw_node(self) -> None:
        if not self._drawing_held:
            super().draw_node()

    def release_drawing(self) -> None:
        """The node is complete: size and lay it out now, once."""
        self._drawing_held = False
        self.draw_node()

    def _tooltip_disable(self, state: bool) -> None:
        # NodeGraphQt sets its own tooltip at each layout; keep ours (still to build, maybe).
        QGraphicsItem.setToolTip(self, self.tooltip_html or self.name)

    def _header_height(self) -> float:
        return self._text_item.boundingRect().height() + 6.0

    # -- painting ----------------------------------------------------------------------------
    def _paint_horizontal(self, painter: QPainter, option: Any, widget: Any) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
        radius = 8.0
        accent = theme.category_color("Missing" if self.missing else self.category)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < self.DETAIL_ZOOM:
            self._paint_overview(painter, rect, accent)
            painter.restore()
            return

        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(15, 23, 42, 26))
        painter.drawRoundedRect(rect.translated(0, 2.5), radius, radius)
        painter.setBrush(QColor(theme.WHITE))
        painter.drawRoundedRect(rect, radius, radius)

        header = QRectF(rect.left(), rect.top(), rect.width(), self._header_height())
        outline = QPainterPath()
        outline.addRoundedRect(rect, radius, radius)
        painter.save()
        painter.setClipPath(outline)
        tint = QColor(accent)
        tint.setAlpha(38)
        painter.fillRect(header, tint)
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), 4.0), accent)
        painter.restore()

        painter.setPen(QPen(QColor(theme.BORDER_LIGHT), 1.0))
        painter.drawLine(QPointF(rect.left(), header.bottom()), QPointF(rect.right(), header.bottom()))

        self._paint_light(painter, QPointF(rect.left() + 15.0, header.center().y() + 1.5))
        self._paint_footer(painter, rect)

        if self.selected:
            border = QPen(QColor(theme.ACCENT), 2.4)
        elif self.state is NodeState.FAILED:
            border = QPen(QColor(theme.ERROR), 1.8)
        else:
            border = QPen(QColor(theme.BORDER), 1.1)
        if self.missing:
            border.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, radius, radius)

        if self.category == "Blocks":
            self._paint_block_marks(painter, rect, header, accent)
        if self.state is NodeState.FAILED:
            self._paint_badge(painter, QPointF(rect.right() - 2.0, rect.top() + 2.0))
        painter.restore()

    def _paint_block_marks(self, painter: QPainter, rect: QRectF, header: QRectF, accent: QColor) -> None:
        """A block holds several nodes: a double frame, and a stack of cards in its header."""
        inner = QColor(accent)
        inner.setAlpha(110)
        painter.setPen(QPen(inner, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(3.0, 3.0, -3.0, -3.0), 6.0, 6.0)
        size, x, y = 9.0, rect.right() - 24.0, header.center().y() - 4.0
        for step in (4.0, 0.0):
            painter.setPen(QPen(accent, 1.2))
            painter.setBrush(QColor(theme.WHITE))
            painter.drawRoundedRect(QRectF(x + step, y - step + 4.0, size + 2.0, size - 1.0), 2.0, 2.0)

    def _paint_overview(self, painter: QPainter, rect: QRectF, accent: QColor) -> None:
        """The node seen from afar: its box with the category's colour, the status light and
        the failed or selected border - what can still be told apart at that size."""
        header = QRectF(rect.left(), rect.top(), rect.width(), self._header_height())
        if self.selected:
            border = QPen(QColor(theme.ACCENT), 2.4)
        elif self.state is NodeState.FAILED:
            border = QPen(QColor(theme.ERROR), 1.8)
        else:
            border = QPen(QColor(theme.BORDER), 1.1)
        if self.missing:
            border.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(border)
        painter.setBrush(QColor(theme.WHITE))
        painter.drawRect(rect)
        tint = QColor(accent)
        tint.setAlpha(90)
        painter.fillRect(header, tint)
        self._paint_light(painter, QPointF(rect.left() + 15.0, header.center().y() + 1.5))

    def _paint_light(self, painter: QPainter, center: QPointF) -> None:
        color = QColor(theme.STATE_COLORS[self.state])
        painter.setPen(QPen(color.darker(130), 1.4))
        if self.state is NodeState.NOT_CONFIGURED:
            painter.setBrush(QColor(theme.ERROR_SOFT))
        else:
            painter.setBrush(color)
        painter.drawEllipse(center, LIGHT_RADIUS, LIGHT_RADIUS)
        if self.state is NodeState.EXECUTED:
            painter.setPen(QPen(QColor(theme.WHITE), 1.6))
            painter.drawPolyline(
                [center + QPointF(-2.8, 0.2), center + QPointF(-0.8, 2.2), center + QPointF(2.9, -2.0)]
            )

    def _paint_footer(self, painter: QPainter, rect: QRectF) -> None:
        footer_top = rect.bottom() - self._footer_height()
        painter.setFont(self._footer_font)
        if self.state is NodeState.NOT_CONFIGURED or self.missing:
            color = QColor("#b45309")
        elif self.state is NodeState.FAILED:
            color = QColor(theme.ERROR)
        else:
            color = QColor(theme.MUTED)
        painter.setPen(color)
        metrics = QFontMetricsF(self._footer_font)
        y = footer_top + FOOTER_PADDING
        width = rect.width() - 2 * FOOTER_PADDING
        for line in self.lines:
            text = metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(rect.left() + FOOTER_PADDING, y, width, FOOTER_LINE_HEIGHT),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            y += FOOTER_LINE_HEIGHT
        if self.state is NodeState.EXECUTING:
            track = QRectF(rect.left() + FOOTER_PADDING, rect.bottom() - FOOTER_PADDING - PROGRESS_HEIGHT + 2,
                           width, PROGRESS_HEIGHT - 1)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.ACCENT_SOFT))
            painter.drawRoundedRect(track, 3, 3)
            painter.setBrush(QColor(theme.ACCENT))
            if self.progress is None:
                part = QRectF(track.left() + track.width() * 0.35, track.top(), track.width() * 0.3, track.height())
            else:
                part = QRectF(track.left(), track.top(), max(track.width() * self.progress, track.height()),
                              track.height())
            painter.drawRoundedRect(part, 3, 3)

    def _paint_badge(self, painter: QPainter, center: QPointF) -> None:
        painter.setPen(QPen(QColor(theme.WHITE), 2.0))
        painter.setBrush(QColor(theme.ERROR))
        painter.drawEllipse(center, 10.0, 10.0)
        font = QFont(self._footer_font)
        font.setBold(True)
        font.setPointSizeF(theme.BASE_POINT_SIZE)
        painter.setFont(font)
        painter.setPen(QColor(theme.WHITE))
        painter.drawText(QRectF(center.x() - 10, center.y() - 10, 20, 20), Qt.AlignmentFlag.AlignCenter, "!")


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


# -- node classes ---------------------------------------------------------------------------------
def _port_tooltip(port: Port, direction: str) -> str:
    text = f"<b>{port.title}</b> ({direction}): {port.type.label}"
    if port.optional:
        text += " · optional"
    if port.help:
        text += f"<br/>{port.help}"
    return f"<qt>{text}</qt>"


def _add_ports(ng_node: Any, node_type: type[Node]) -> None:
    for port in node_type.inputs:
        view_port = ng_node.add_input(port.name, multi_input=False, color=port.type.color, painter_func=_paint_port)
        _decorate_port(ng_node, view_port.view, port, "input")
    for port in node_type.outputs:
        view_port = ng_node.add_output(port.name, multi_output=True, color=port.type.color, painter_func=_paint_port)
        _decorate_port(ng_node, view_port.view, port, "output")


def _decorate_port(ng_node: Any, port_view: Any, port: Port, direction: str) -> None:
    port_view.setToolTip(_port_tooltip(port, direction))
    items = ng_node.view._input_items if direction == "input" else ng_node.view._output_items
    text_item = items.get(port_view)
    if text_item is not None:
        if port.title != port.name:
            text_item.setPlainText(port.title)
        text_item.setDefaultTextColor(QColor(theme.MUTED))
        font = QFont(text_item.font())
        font.setPointSizeF(theme.BASE_POINT_SIZE - 1)
        text_item.setFont(font)


def _add_instance_ports(ng_node: Any, node: Node) -> None:
    """Ports a node has beyond its type's: a block's inputs, one per network entering it."""
    for port in node.inputs:
        if port.name not in ng_node.inputs():
            view_port = ng_node.add_input(port.name, multi_input=False, color=port.type.color,
                                          painter_func=_paint_port)
            _decorate_port(ng_node, view_port.view, port, "input")


def _ports_changed(ng_node: Any, node: Node) -> bool:
    """True when a node's ports are no longer those drawn (a block edited inside)."""
    if isinstance(node, MissingNode):
        return False
    return list(ng_node.inputs()) != [p.name for p in node.inputs]


def node_class_for(node_type: type[Node]) -> type:
    """A NodeGraphQt node class whose type string is exactly ``node_type.type_id``."""
    identifier, _, class_name = node_type.type_id.rpartition(".")

    def __init__(self: Any) -> None:
        BaseNode.__init__(self, qgraphics_item=NeuroNodeItem)
        self.view.category = node_type.category
        _add_ports(self, node_type)

    return type(class_name, (BaseNode,), {"__identifier__": identifier, "NODE_NAME": node_type.name,
                                          "__init__": __init__})


class _MissingNodeView(BaseNode):
    """Stands in for a node type that is not installed; ports are added from its wiring."""

    __identifier__ = "neuroflow.missing"
    NODE_NAME = "Missing node"

    def __init__(self) -> None:
        super().__init__(qgraphics_item=NeuroNodeItem)
        self.view.missing = True
        self.view.category = "Missing"


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
        self.graph = NodeGraph(undo_stack=QUndoStack(self))
        self._views: dict[str, Any] = {}  # core id -> NodeGraphQt node
        self._core_ids: dict[str, str] = {}  # NodeGraphQt id -> core id
        self._training: dict[str, tuple[int, int]] = {}  # node id -> (epochs, batches)
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
        menu = viewer.context_menus()["graph"]
        menu.clear()  # drop NodeGraphQt's own undo/redo, which act on its (unused) stack
        # NeuroFlow labels need not be unique (ids are); NodeGraphQt's renaming compares each
        # new node's name with every other, which makes opening a large workflow quadratic.
        graph.get_unique_name = lambda name: name  # type: ignore[method-assign]
        # Pipes get their port type's colour before they enter the scene, not after.
        viewer.establish_connection = self._establish_connection  # type: ignore[method-assign]

    def _establish_connection(self, start_port: Any, end_port: Any) -> None:
        """NodeGraphQt's ``establish_connection`` (a pipe item between two port items), with the
        pipe styled before it is added to the scene, where each restyling costs an update."""
        pipe = PipeItem()
        out_port = end_port if start_port.port_type == PortTypeEnum.IN.value else start_port
        pipe.color = tuple(out_port.color[:3]) + (255,)
        pipe.reset()
        self.graph.scene().addItem(pipe)
        pipe.set_connections(start_port, end_port)
        pipe.draw_path(pipe.input_port, pipe.output_port)
        if start_port.node.selected or end_port.node.selected:
            pipe.highlight()
        if not start_port.node.visible or not end_port.node.visible:
            pipe.hide()

    def _register_types(self) -> None:
        for node_type in self.document.registry:
            try:
                self.graph.register_node(node_class_for(node_type))
            except Exception as exc:  # a plugin with an odd type id must not stop the editor
                log.warning("cannot show node type %s on the canvas: %s", node_type.type_id, exc)

    def _rewire_viewer(self) -> None:
        viewer, graph = self.graph.viewer(), self.graph
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
        viewer.search_triggered.connect(self._on_search_triggered)
        viewer.connection_sliced.connect(self._on_connection_sliced)
        viewer.connection_changed.connect(self._on_connection_changed)
        viewer.moved_nodes.connect(self._on_nodes_moved)
        viewer.node_name_changed.connect(self._on_node_renamed)
        viewer.data_dropped.connect(self._on_data_dropped)
        viewer.node_double_clicked.connect(self._on_double_clicked)
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
        menu: QMenu = self.graph.viewer().context_menus()["graph"]
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
            self._training.clear()
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
                if core_id in self._views and _ports_changed(self._views[core_id], item.node):
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
        if isinstance(item.node, MissingNode):
            ng_node = _MissingNodeView()
            self.graph.add_node(ng_node, pos=list(item.position), selected=False, push_undo=False)
        else:
            ng_node = self.graph.create_node(item.node.type_id, name=item.label, selected=False,
                                             pos=list(item.position), push_undo=False,
                                             text_color=theme.TEXT)
        _add_instance_ports(ng_node, item.node)
        ng_node.view.text_color = QColor(theme.TEXT).getRgb()
        ng_node.model.text_color = QColor(theme.TEXT).getRgb()
        self._views[item.id] = ng_node
        self._core_ids[ng_node.id] = item.id
        self._set_label(ng_node, item.label)
        self._show_facts(item)  # before the first layout: the footer decides the node's size
        ng_node.view.release_drawing()

    def _remove_view(self, core_id: str) -> None:
        ng_node = self._views.pop(core_id)
        self._core_ids.pop(ng_node.id, None)
        self.graph.remove_node(ng_node, push_undo=False)

    @staticmethod
    def _set_label(ng_node: Any, label: str) -> None:
        # Straight to model and view: NodeGraphQt's set_name would make names unique, but two
        # nodes may share a label in NeuroFlow (their ids differ).
        if ng_node.model.name != label or ng_node.view.name != label:
            ng_node.model.name = label
            ng_node.NODE_NAME = label
            ng_node.view.name = label
            ng_node.view.draw_node()

    def _sync_node(self, item: WorkflowNode) -> None:
        ng_node = self._views[item.id]
        self._set_label(ng_node, item.label)
        self._place(ng_node, item)
        self._show_facts(item)

    @staticmethod
    def _place(ng_node: Any, item: WorkflowNode) -> None:
        position = [float(item.position[0]), float(item.position[1])]
        if ng_node.view.xy_pos != position:
            ng_node.view.xy_pos = position
        ng_node.model.pos = position

    def _show_facts(self, item: WorkflowNode) -> None:
        """Status light, footer lines and tooltip of one node."""
        self._views[item.id].view.set_facts(item.state, footer_lines(item), lambda: tooltip_html(item))

    def _ensure_missing_ports(self, connections: Iterable[Connection]) -> None:
        """Missing nodes have no declared ports: give them the ones their wiring uses."""
        for c in connections:
            for core_id, port, direction in ((c.source, c.source_port, "out"), (c.target, c.target_port, "in")):
                ng_node = self._views.get(core_id)
                if not isinstance(ng_node, _MissingNodeView):
                    continue
                existing = ng_node.inputs() if direction == "in" else ng_node.outputs()
                if port not in existing:
                    if direction == "in":
                        ng_node.add_input(port, color=(148, 163, 184), painter_func=_paint_port)
                    else:
                        ng_node.add_output(port, color=(148, 163, 184), painter_func=_paint_port)

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

    def _model_pairs(self) -> set[Pair]:
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
        current = self._model_pairs()
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
        viewer = self.graph.viewer()
        for pair in wanted:
            ports = self._ports(pair)
            if not ports:
                continue
            out_view, in_view = ports[0].view, ports[1].view
            pipes = [p for p in in_view.connected_pipes if p.output_port is out_view]
            if not pipes:
                viewer.establish_connection(in_view, out_view)
        for core_id, ng_node in self._views.items():
            for name, in_port in ng_node.inputs().items():
                for pipe in list(in_port.view.connected_pipes):
                    out_view = pipe.output_port
                    source = self._core_ids.get(out_view.node.id) if out_view is not None else None
                    if source is None or (source, out_view.name, core_id, name) not in wanted:
                        pipe.delete()
                    else:
                        color = tuple(out_view.color[:3]) + (255,)
                        if pipe.color != color:
                            pipe.color = color
                            pipe.reset()
                in_port.view.update()
            for out_port in ng_node.outputs().values():
                out_port.view.update()

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
        out_view, in_view = out_port.view, in_port.view
        pipes = [p for p in in_view.connected_pipes if p.output_port is out_view]
        if not pipes:
            self.graph.viewer().establish_connection(in_view, out_view)
        for extra in pipes[1:]:
            extra.delete()
        color = tuple(out_view.color[:3]) + (255,)
        for pipe in pipes[:1]:
            if pipe.color != color:
                pipe.color = color
                pipe.reset()
        in_view.update()
        out_view.update()

    def _hide_connection(self, connection: Connection) -> None:
        """Remove one wire from NodeGraphQt's port model and its pipe items from the screen."""
        c = connection
        ports = self._ports((c.source, c.source_port, c.target, c.target_port))
        if ports is None:
            return
        out_port, in_port = ports
        if out_port in in_port.connected_ports():
            in_port.disconnect_from(out_port, push_undo=False, emit_signal=False)
        for pipe in list(in_port.view.connected_pipes):
            if pipe.output_port is out_port.view:
                pipe.delete()
        in_port.view.update()
        out_port.view.update()

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
                self._set_label(self._views[item.id], item.label)
                self._show_facts(item)  # the tooltip names it
        elif isinstance(event, NodeMoved):
            item = workflow.nodes.get(event.node_id)
            if item is not None and item.id in self._views:
                self._place(self._views[item.id], item)

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
        elif isinstance(event, TrainingStarted):
            self._training[event.node_id] = (max(event.epochs, 1), max(event.batches_per_epoch, 1))
        elif isinstance(event, BatchEnded):
            view = self._item(event.node_id)
            epochs, _ = self._training.get(event.node_id, (1, event.batches))
            if view is not None and event.batches:
                done = (event.epoch - 1) + event.batch / event.batches
                view.set_progress(done / epochs, f"epoch {event.epoch}/{epochs}")

    def _item(self, core_id: str) -> NeuroNodeItem | None:
        ng_node = self._views.get(core_id)
        return ng_node.view if ng_node is not None else None

    # -- view gestures -> document edits -----------------------------------------------------
    def _pair_of(self, port_a: Any, port_b: Any) -> Pair | None:
        ports = {port_a.port_type: port_a, port_b.port_type: port_b}
        out_view = ports.get(PortTypeEnum.OUT.value)
        in_view = ports.get(PortTypeEnum.IN.value)
        if out_view is None or in_view is None:
            return None
        source = self._core_ids.get(out_view.node.id)
        target = self._core_ids.get(in_view.node.id)
        if source is None or target is None:
            return None
        return (source, out_view.name, target, in_view.name)

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
            start = self.port_items(old.source, old.source_port, "out").sceneBoundingRect().center()
            end = self.port_items(old.target, old.target_port, "in").sceneBoundingRect().center()
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
            ng_node.view.setSelected(core_id in wanted)
            ng_node.model.selected = core_id in wanted
        if center and wanted:
            nodes = [self._views[i] for i in wanted if i in self._views]
            if nodes:
                self.graph.center_on(nodes)
        self._emit_selection()

    def select_all(self) -> None:
        self.select(self._views)

    def fit(self) -> None:
        """Zoom to show the whole workflow, never closer than 1:1."""
        viewer = self.graph.viewer()
        views = [n.view for n in self._views.values()]
        if not views:
            viewer.reset_zoom()
            return
        rect = QRectF()
        for view in views:
            rect = rect.united(view.sceneBoundingRect())
        rect.adjust(-60.0, -60.0, 60.0, 60.0)
        viewer._scene_range = rect
        viewer._update_scene()
        if viewer.get_zoom() > 0.0:
            viewer.reset_zoom(rect.center())

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

    def snapshot(self) -> dict[str, Any]:
        """What the canvas shows, in core terms (ids, types, labels, positions, wires, facts)."""
        nodes = {}
        for core_id, ng_node in self._views.items():
            view = ng_node.view
            type_id = ng_node.type_ if not isinstance(ng_node, _MissingNodeView) else "missing"
            nodes[core_id] = {
                "type": type_id,
                "label": view.name,
                "position": tuple(round(v, 1) for v in view.xy_pos),
                "state": view.state.value,
                "lines": view.lines,
            }
        pipes = set()
        for core_id, ng_node in self._views.items():
            for name, in_port in ng_node.inputs().items():
                for pipe in in_port.view.connected_pipes:
                    source = self._core_ids.get(pipe.output_port.node.id)
                    pipes.add((source, pipe.output_port.name, core_id, name))
        return {"nodes": nodes, "connections": pipes, "model_connections": self._model_pairs()}

    def native_undo_count(self) -> int:
        """Commands on NodeGraphQt's own undo stack: always 0 (all history is the document's)."""
        return int(self.graph.undo_stack().count())

    # -- test and tool helpers: perform a gesture as the viewer would report it ---------------
    def port_items(self, core_id: str, port: str, direction: str) -> Any:
        ng_node = self._views[core_id]
        return (ng_node.inputs() if direction == "in" else ng_node.outputs())[port].view

    def simulate_connect(self, source: str, source_port: str, target: str, target_port: str) -> None:
        """Emit the viewer's ``connection_changed`` exactly as a drag from output to input does."""
        out_view = self.port_items(source, source_port, "out")
        in_view = self.port_items(target, target_port, "in")
        disconnected = [(in_view, p) for p in in_view.connected_ports]
        for pipe in list(in_view.connected_pipes):  # the viewer removes the old pipe first
            pipe.delete()
        self.graph.viewer().connection_changed.emit(disconnected, [(out_view, in_view)])

