"""How a node looks on the canvas: its box, status light, footer, progress bar, badge and ports.

:class:`NeuroNodeItem` is the graphics item of every node; the canvas sets the facts it shows
(state, footer lines, progress) and it paints them. :func:`node_class_for` makes the NodeGraphQt
node class for a core node type, with that item and the type's ports in their colours. NodeGraphQt
itself is reached only through :mod:`neuroflow.gui.nodegraph`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from neuroflow.core.events import NodeState
from neuroflow.core.node import MissingNode, Node
from neuroflow.core.ports import Port

from . import theme
from .nodegraph import BaseNode, NodeItemBase

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
def paint_port(painter: QPainter, rect: QRectF, info: dict[str, Any]) -> None:
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


class NeuroNodeItem(NodeItemBase):
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
        self.icon_item.setVisible(False)
        font = QFont(self.text_item.font())
        font.setPointSizeF(theme.BASE_POINT_SIZE + 0.5)
        font.setBold(True)
        self.text_item.setFont(font)
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
        self.text_item.setPos(rect.left() + TITLE_INDENT + h_offset, rect.top() + 2 + v_offset)

    def align_icon(self, h_offset: float = 0.0, v_offset: float = 0.0) -> None:
        self.icon_item.setVisible(False)

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

    def keep_tooltip(self) -> None:
        # NodeGraphQt sets its own tooltip at each layout; keep ours (still to build, maybe).
        QGraphicsItem.setToolTip(self, self.tooltip_html or self.name)

    def _header_height(self) -> float:
        return self.text_item.boundingRect().height() + 6.0

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        self.auto_switch_mode()  # texts hidden when too small on screen (NodeGraphQt's proxy mode)
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

        painter.setPen(self._border_pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, radius, radius)

        if self.category == "Blocks":
            self._paint_block_marks(painter, rect, header, accent)
        if self.state is NodeState.FAILED:
            self._paint_badge(painter, QPointF(rect.right() - 2.0, rect.top() + 2.0))
        painter.restore()

    def _border_pen(self) -> QPen:
        """Selected, failed or plain; dashed for a node whose type is missing."""
        if self.selected:
            border = QPen(QColor(theme.ACCENT), 2.4)
        elif self.state is NodeState.FAILED:
            border = QPen(QColor(theme.ERROR), 1.8)
        else:
            border = QPen(QColor(theme.BORDER), 1.1)
        if self.missing:
            border.setStyle(Qt.PenStyle.DashLine)
        return border

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
        painter.setPen(self._border_pen())
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
        view_port = ng_node.add_input(port.name, multi_input=False, color=port.type.color, painter_func=paint_port)
        _decorate_port(ng_node, view_port.view, port, "input")
    for port in node_type.outputs:
        view_port = ng_node.add_output(port.name, multi_output=True, color=port.type.color, painter_func=paint_port)
        _decorate_port(ng_node, view_port.view, port, "output")


def _decorate_port(ng_node: Any, port_view: Any, port: Port, direction: str) -> None:
    port_view.setToolTip(_port_tooltip(port, direction))
    view = ng_node.view
    text_item = view.get_input_text_item(port_view) if direction == "input" else view.get_output_text_item(port_view)
    if text_item is not None:
        if port.title != port.name:
            text_item.setPlainText(port.title)
        text_item.setDefaultTextColor(QColor(theme.MUTED))
        font = QFont(text_item.font())
        font.setPointSizeF(theme.BASE_POINT_SIZE - 1)
        text_item.setFont(font)


def add_instance_ports(ng_node: Any, node: Node) -> None:
    """Ports a node has beyond its type's: a block's inputs, one per network entering it."""
    for port in node.inputs:
        if port.name not in ng_node.inputs():
            view_port = ng_node.add_input(port.name, multi_input=False, color=port.type.color,
                                          painter_func=paint_port)
            _decorate_port(ng_node, view_port.view, port, "input")


def ports_changed(ng_node: Any, node: Node) -> bool:
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


class MissingNodeView(BaseNode):
    """Stands in for a node type that is not installed; ports are added from its wiring."""

    __identifier__ = "neuroflow.missing"
    NODE_NAME = "Missing node"

    def __init__(self) -> None:
        super().__init__(qgraphics_item=NeuroNodeItem)
        self.view.missing = True
        self.view.category = "Missing"
