"""The editor's look: one light, high-contrast palette shared by every panel and the canvas.

Light backgrounds with dark slate text read best on a classroom projector, and they match the
training monitor's charts. Every colour the editor paints with is named here once, so the
canvas, the docks and the status lights stay consistent.
"""

from __future__ import annotations

import getpass
import tempfile
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QStyleFactory

from neuroflow.core.events import NodeState

# -- palette (Tailwind's slate scale plus a few accents) -----------------------------------------
TEXT = "#0f172a"
MUTED = "#64748b"
SUBTLE = "#94a3b8"
BORDER = "#cbd5e1"
BORDER_LIGHT = "#e2e8f0"
PANEL = "#f8fafc"
WINDOW = "#eef2f7"
WHITE = "#ffffff"
ACCENT = "#2563eb"
ACCENT_SOFT = "#dbeafe"
ERROR = "#dc2626"
ERROR_SOFT = "#fee2e2"
WARNING = "#d97706"
WARNING_SOFT = "#fef3c7"
SUCCESS = "#16a34a"

CANVAS_BACKGROUND = (226, 232, 240)
CANVAS_GRID = (190, 200, 214)

#: Header colour of a node, by category (the ports keep their own type colours).
CATEGORY_COLORS: dict[str, str] = {
    "Data": "#0284c7",
    "Layers": "#d97706",
    "Learning": "#7c3aed",
    "Blocks": "#b45309",
    "Missing": "#64748b",
}
DEFAULT_CATEGORY_COLOR = "#475569"

#: Status light colours, in the traffic-light convention of KNIME.
STATE_COLORS: dict[NodeState, str] = {
    NodeState.NOT_CONFIGURED: "#ef4444",
    NodeState.CONFIGURED: "#f59e0b",
    NodeState.EXECUTING: "#3b82f6",
    NodeState.EXECUTED: "#22c55e",
    NodeState.FAILED: "#dc2626",
}

STATE_TEXT: dict[NodeState, str] = {
    NodeState.NOT_CONFIGURED: "Not configured",
    NodeState.CONFIGURED: "Configured, ready to execute",
    NodeState.EXECUTING: "Executing",
    NodeState.EXECUTED: "Executed",
    NodeState.FAILED: "Failed",
}

BASE_POINT_SIZE = 10


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, DEFAULT_CATEGORY_COLOR))


def _palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: WHITE,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: "#1e293b",
        QPalette.ColorRole.ToolTipText: "#f8fafc",
        QPalette.ColorRole.PlaceholderText: SUBTLE,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: WHITE,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: WHITE,
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Light: WHITE,
        QPalette.ColorRole.Midlight: BORDER_LIGHT,
        QPalette.ColorRole.Mid: BORDER,
        QPalette.ColorRole.Dark: SUBTLE,
        QPalette.ColorRole.Shadow: MUTED,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(SUBTLE))
    return palette


STYLESHEET = f"""
QMainWindow {{ background: {WINDOW}; }}
QMainWindow::separator {{ background: {WINDOW}; width: 6px; height: 6px; }}
QMainWindow::separator:hover {{ background: {BORDER}; }}
QDockWidget {{ color: {TEXT}; font-weight: 600; }}
QDockWidget::title {{
    background: {PANEL}; padding: 6px 10px; border: 1px solid {BORDER_LIGHT};
    border-bottom: 1px solid {BORDER};
}}
QDockWidget > QWidget {{ background: {PANEL}; border: 1px solid {BORDER_LIGHT}; border-top: none; }}
QToolBar {{ background: {PANEL}; border: none; border-bottom: 1px solid {BORDER}; spacing: 2px; padding: 3px 6px; }}
QToolBar::separator {{ background: {BORDER}; width: 1px; margin: 6px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 6px; padding: 4px 6px; color: {TEXT}; }}
QToolButton:hover {{ background: {ACCENT_SOFT}; border-color: #bfdbfe; }}
QToolButton:pressed {{ background: #bfdbfe; }}
QToolButton:disabled {{ color: {SUBTLE}; }}
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER_LIGHT}; }}
QMenuBar::item {{ padding: 5px 10px; background: transparent; }}
QMenuBar::item:selected {{ background: {ACCENT_SOFT}; border-radius: 4px; }}
QMenu {{ background: {WHITE}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu::item {{ padding: 5px 28px 5px 24px; border-radius: 4px; }}
QMenu::item:selected {{ background: {ACCENT_SOFT}; color: {TEXT}; }}
QMenu::item:disabled {{ color: {SUBTLE}; }}
QMenu::separator {{ height: 1px; background: {BORDER_LIGHT}; margin: 4px 8px; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 6px; }}
QLineEdit, QAbstractSpinBox, QComboBox {{
    background: {WHITE}; border: 1px solid {BORDER}; border-radius: 5px; padding: 4px 6px;
    min-height: 20px; selection-background-color: {ACCENT};
}}
QLineEdit:focus, QAbstractSpinBox:focus, QComboBox:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit:disabled, QAbstractSpinBox:disabled, QComboBox:disabled {{ background: {PANEL}; color: {SUBTLE}; }}
QLineEdit[invalid="true"], QAbstractSpinBox[invalid="true"] {{ border: 1px solid {ERROR}; background: #fff5f5; }}
QComboBox::drop-down {{ border: none; width: 22px; subcontrol-origin: padding; subcontrol-position: center right; }}
QComboBox::down-arrow {{ image: url(@down@); width: 10px; height: 10px; margin-right: 6px; }}
QComboBox::down-arrow:disabled {{ image: url(@down_off@); }}
QAbstractSpinBox {{ padding-right: 22px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ subcontrol-origin: border; width: 20px;
    border-left: 1px solid {BORDER_LIGHT}; background: {PANEL}; }}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 5px; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 5px; }}
QAbstractSpinBox::up-button:hover, QAbstractSpinBox::down-button:hover {{ background: {ACCENT_SOFT}; }}
QAbstractSpinBox::up-arrow {{ image: url(@up@); width: 9px; height: 9px; }}
QAbstractSpinBox::down-arrow {{ image: url(@down@); width: 9px; height: 9px; }}
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off {{ image: url(@up_off@); }}
QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {{ image: url(@down_off@); }}
QComboBox QAbstractItemView {{ background: {WHITE}; border: 1px solid {BORDER}; selection-background-color: {ACCENT_SOFT}; selection-color: {TEXT}; }}
QPushButton {{
    background: {WHITE}; border: 1px solid {BORDER}; border-radius: 5px; padding: 5px 12px; color: {TEXT};
}}
QPushButton:hover {{ background: {ACCENT_SOFT}; border-color: #93c5fd; }}
QPushButton:disabled {{ color: {SUBTLE}; background: {PANEL}; }}
QCheckBox {{ spacing: 8px; }}
QTreeView, QTreeWidget, QListView, QListWidget, QTableView {{
    background: {WHITE}; border: 1px solid {BORDER_LIGHT}; border-radius: 6px; outline: none;
    alternate-background-color: {PANEL};
}}
QTreeView::item, QTreeWidget::item, QListWidget::item {{ padding: 4px 2px; }}
QTreeView::item:hover, QTreeWidget::item:hover, QListWidget::item:hover {{ background: #f1f5f9; }}
QTreeView::item:selected, QTreeWidget::item:selected, QListWidget::item:selected {{ background: {ACCENT_SOFT}; color: {TEXT}; }}
QHeaderView::section {{ background: {PANEL}; border: none; border-bottom: 1px solid {BORDER}; padding: 5px 6px; color: {MUTED}; font-weight: 600; }}
QScrollArea {{ border: none; background: {PANEL}; }}
QScrollArea > QWidget > QWidget {{ background: {PANEL}; }}
QTabWidget::pane {{ border: 1px solid {BORDER_LIGHT}; background: {WHITE}; border-radius: 4px; top: -1px; }}
QTabBar::tab {{ background: {PANEL}; border: 1px solid {BORDER_LIGHT}; padding: 6px 14px; margin-right: 2px;
    border-top-left-radius: 6px; border-top-right-radius: 6px; color: {MUTED}; }}
QTabBar::tab:selected {{ background: {WHITE}; color: {TEXT}; border-bottom-color: {WHITE}; font-weight: 600; }}
QToolTip {{ background: #1e293b; color: #f8fafc; border: none; padding: 6px 8px; }}
QLabel#heading {{ font-size: {BASE_POINT_SIZE + 3}pt; font-weight: 700; color: {TEXT}; }}
QLabel#subheading {{ color: {MUTED}; font-weight: 600; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#fieldError {{ color: {ERROR}; font-size: {BASE_POINT_SIZE - 1}pt; }}
QLabel#problem {{ color: #92400e; background: {WARNING_SOFT}; border: 1px solid #fcd34d; border-radius: 6px; padding: 6px 8px; }}
QLabel#failure {{ color: #991b1b; background: {ERROR_SOFT}; border: 1px solid #fca5a5; border-radius: 6px; padding: 6px 8px; }}
QLabel#placeholder {{ color: {SUBTLE}; font-size: {BASE_POINT_SIZE + 1}pt; }}
"""


def _chevron(path: Path, color: str, up: bool) -> None:
    """A small chevron PNG for the stylesheet (Qt style sheets draw arrows only from images)."""
    image = QImage(24, 24, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color), 3.2)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    y0, y1 = (15.0, 8.0) if up else (9.0, 16.0)
    painter.drawPolyline([QPointF(5, y0), QPointF(12, y1), QPointF(19, y0)])
    painter.end()
    image.save(str(path))


def _arrow_images() -> dict[str, str]:
    """Write the chevrons once per user into the temporary folder; their paths by name.

    Without a writable temporary folder the arrows are simply not drawn.
    """
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "user"
    folder = Path(tempfile.gettempdir()) / f"neuroflow-theme-{user}"
    images = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, color, up in (("up", MUTED, True), ("down", MUTED, False),
                                ("up_off", BORDER, True), ("down_off", BORDER, False)):
            path = folder / f"chevron-{name}-{color.lstrip('#')}.png"  # colour in the name: never stale
            if not path.exists():
                _chevron(path, color, up)
            images[name] = path.as_posix()
    except OSError:
        return {}
    return images


def stylesheet() -> str:
    """The application style sheet, with the chevron images filled in."""
    sheet = STYLESHEET
    images = _arrow_images()
    for name in ("up", "down", "up_off", "down_off"):
        sheet = sheet.replace(f"url(@{name}@)", f"url({images[name]})" if name in images else "none")
    return sheet


def apply(app: QApplication) -> None:
    """Give ``app`` the NeuroFlow look (Fusion style, light palette, stylesheet, larger font)."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(_palette())
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(stylesheet())
