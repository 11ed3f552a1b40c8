"""The frame every result view opens in: a non-modal top-level window with a title header.

The same frame is embedded in the editor's Results dock (:meth:`ResultWindow.set_embedded`):
there the tab names the node, so the title goes, margins shrink, headline cards get smaller
and the view may shrink to the dock instead of keeping the window's size.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .palette import CHART_BACKGROUND, MUTED_TEXT_COLOR, PANEL_BACKGROUND, PANEL_BORDER, TEXT_COLOR

CARD_SPACING = 8


class _FrameLayout(QVBoxLayout):
    """The window's layout; embedded, it reports no height-for-width.

    A scroll area sizes a height-for-width widget by its children's *preferred* heights, so
    one word-wrapped label made a docked view as tall as a window and always scroll. Without
    it the dock's scroll area gives the view the dock's height and scrolls only below the
    view's minimum size.
    """

    embedded = False

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return False if self.embedded else super().hasHeightForWidth()


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
        layout = self._layout = _FrameLayout(self)
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

    def set_embedded(self, embedded: bool = True) -> None:
        """Fit a dock: no title (the tab names the node), tight margins, compact cards, and no
        minimum size left over from the window (the dock's scroll area decides when to scroll)."""
        self.title_label.setVisible(not embedded)
        self._layout.embedded = embedded
        if embedded:
            self._layout.setContentsMargins(8, 4, 8, 6)
            self._layout.setSpacing(6)
            self._layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
            self.setMinimumSize(0, 0)
        else:
            self._layout.setContentsMargins(16, 12, 16, 16)
            self._layout.setSpacing(10)
            self._layout.setSizeConstraint(QLayout.SizeConstraint.SetDefaultConstraint)
        for card in self.findChildren(StatCard):
            card.set_compact(embedded)


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
        layout = self._layout = QVBoxLayout(self)
        layout.setSpacing(0)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(f"color: {MUTED_TEXT_COLOR}; font-size: 9pt;")
        self.value = QLabel(value)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._color = color
        self.compact = False
        self.set_compact(False)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_compact(self, compact: bool) -> None:
        """A smaller value and tighter margins, for docks."""
        self.compact = compact
        size = 13 if compact else 17
        self.value.setStyleSheet(f"color: {self._color}; font-size: {size}pt; font-weight: 700;")
        if compact:
            self._layout.setContentsMargins(10, 3, 10, 4)
        else:
            self._layout.setContentsMargins(12, 6, 12, 8)


class CardGrid(QWidget):
    """Headline cards in equal columns: one row when there is room, else two or one per row.

    The column count follows the width (a 4-card row becomes 2 x 2, never 3 + 1), so a narrow
    dock never scrolls sideways to show a number.
    """

    def __init__(self, cards: list[StatCard], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = list(cards)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(CARD_SPACING)
        self.columns = 0
        self._arrange(len(self.cards))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _choices(self) -> list[int]:
        """Column counts that fill every row but the last evenly, widest first."""
        n = len(self.cards)
        return sorted({n, *(c for c in range(1, n) if (n % c == 0 or n % c == c - 1))}, reverse=True)

    def _column_width(self) -> int:
        return max((card.minimumSizeHint().width() for card in self.cards), default=0)

    def width_for(self, columns: int) -> int:
        """Width of the cards in ``columns`` columns: each column as wide as its widest card."""
        widths = [card.minimumSizeHint().width() for card in self.cards]
        needed = [max(widths[c::columns], default=0) for c in range(columns)]
        return sum(needed) + (columns - 1) * CARD_SPACING

    def columns_for(self, width: int) -> int:
        """How many columns fit ``width``: one row if every card's own minimum fits, else the
        most columns (each as wide as its widest card) that fill the rows evenly and fit."""
        n = len(self.cards)
        if self.width_for(n) <= width:
            return n
        for columns in self._choices():
            if self.width_for(columns) <= width:
                return columns
        return 1

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for card in self.cards:
            self._grid.removeWidget(card)
        for column in range(self._grid.columnCount()):
            self._grid.setColumnStretch(column, 0)
        for index, card in enumerate(self.cards):
            self._grid.addWidget(card, index // columns, index % columns)
        for column in range(columns):
            self._grid.setColumnStretch(column, 1)
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(self.columns_for(self.width()))

    def minimumSizeHint(self) -> QSize:
        # As narrow as one column: the cards rearrange rather than force a wider view.
        return QSize(self._column_width(), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        n = len(self.cards)
        return QSize(n * self._column_width() + (n - 1) * CARD_SPACING, super().sizeHint().height())
