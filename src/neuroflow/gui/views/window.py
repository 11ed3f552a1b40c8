"""The frame every result view opens in: a non-modal top-level window with a title header."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .palette import CHART_BACKGROUND, MUTED_TEXT_COLOR, PANEL_BACKGROUND, PANEL_BORDER, TEXT_COLOR


class ResultWindow(QDialog):
    """A node's result view: stays open beside the editor (non-modal) and frees itself on close."""

    def __init__(self, title: str, subtitle: str, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.setWindowTitle(title)
        self.setWindowFlags(
            Qt.WindowType.Window | Qt.WindowType.WindowMinMaxButtonsHint | Qt.WindowType.WindowCloseButtonHint
        )
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setObjectName("resultWindow")
        self.setStyleSheet(f"#resultWindow {{ background: {PANEL_BACKGROUND}; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.setSpacing(10)
        heading = QVBoxLayout()
        heading.setSpacing(0)
        self.title_label = QLabel(title)
        self.title_label.setStyleSheet(f"color: {TEXT_COLOR}; font-size: 15pt; font-weight: 700;")
        self.subtitle_label = QLabel(subtitle)
        self.subtitle_label.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 10pt;")
        self.subtitle_label.setWordWrap(True)
        heading.addWidget(self.title_label)
        heading.addWidget(self.subtitle_label)
        layout.addLayout(heading)
        layout.addWidget(panel, 1)
        self.resize(panel.sizeHint().expandedTo(panel.minimumSizeHint()).grownBy(layout.contentsMargins()))


class StatCard(QFrame):
    """A caption over a large value, e.g. "Accuracy" / "97.31 %"."""

    def __init__(
        self, caption: str, value: str, color: str = TEXT_COLOR, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("resultStatCard")
        self.setStyleSheet(
            f"#resultStatCard {{ background: {CHART_BACKGROUND}; border: 1px solid {PANEL_BORDER};"
            " border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 8)
        layout.setSpacing(0)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.value = QLabel(value)
        self.value.setStyleSheet(f"color: {color}; font-size: 17pt; font-weight: 700;")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)


def card_row(cards: list[StatCard]) -> QHBoxLayout:
    """Cards side by side, equally wide."""
    row = QHBoxLayout()
    row.setSpacing(8)
    for card in cards:
        row.addWidget(card, 1)
    return row
