"""Scorer result: confusion matrix, headline scores, per-class table, and the images per cell.

Rows of the matrix are the true classes and columns the predicted ones. Cell colours are
shares of the row (how the images of one true class were predicted): the diagonal shades
blue, mistakes red, so the matrix reads at a glance even on a projector. Clicking a cell lists
the images behind it, taken from the Predictions the Scorer scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.data import Predictions, Scores

from .gallery import ImageGallery
from .palette import (
    CHART_BACKGROUND,
    DIAGONAL_COLOR,
    MUTED_TEXT_COLOR,
    PANEL_BORDER,
    SELECTION_COLOR,
    TEXT_COLOR,
    WRONG_COLOR,
    blend,
    heading_style,
    muted_style,
)
from .window import StatCard, card_row

Index = QModelIndex | QPersistentModelIndex
CELL_HEIGHT = 40
MIN_CELL_WIDTH = 52
MAX_CELL_WIDTH = 120
ROTATE_ABOVE = 72  # column titles wider than this (px) are drawn rotated
MAX_MATRIX_SIZE = QSize(820, 560)


class ConfusionModel(QAbstractTableModel):
    """``confusion[i, j]``: images of true class i predicted as class j."""

    def __init__(self, scores: Scores) -> None:
        super().__init__()
        self.scores = scores
        self.counts = np.asarray(scores.confusion, dtype=np.int64)
        totals = self.counts.sum(axis=1, keepdims=True)
        self.shares = np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self.counts.shape[0]

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self.counts.shape[1]

    def cell_color(self, row: int, column: int) -> QColor:
        share = float(self.shares[row, column])
        if self.counts[row, column] == 0:
            return QColor(CHART_BACKGROUND)
        if row == column:
            return blend(DIAGONAL_COLOR, 0.08 + 0.92 * share)
        return blend(WRONG_COLOR, 0.12 + 0.88 * min(1.0, share * 2.5))  # small shares still show

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count = int(self.counts[row, column])
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{count:,}"
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.cell_color(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.cell_color(row, column)
            return QColor("white") if color.lightnessF() < 0.6 else QColor(TEXT_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            names = self.scores.class_names
            share = self.shares[row, column] * 100
            return (
                f"true {names[row]}, predicted {names[column]}: {count:,} images "
                f"({share:.1f}% of true {names[row]}); click to see them"
            )
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.scores.class_names[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            side = "predicted" if orientation == Qt.Orientation.Horizontal else "true"
            return f"{side} class {self.scores.class_names[section]}"
        return None


class RotatedHeader(QHeaderView):
    """Column titles written bottom-to-top, so long class names keep the matrix cells square."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        model = self.model()
        if model is None:
            return hint
        metrics = QFontMetrics(self._font())
        names = (str(model.headerData(i, Qt.Orientation.Horizontal)) for i in range(model.columnCount()))
        return QSize(hint.width(), max((metrics.horizontalAdvance(n) for n in names), default=0) + 14)

    def _font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def paintSection(self, painter: QPainter, rect: QRect, logical_index: int) -> None:
        model = self.model()
        if model is None or not rect.isValid():
            return
        painter.save()
        painter.fillRect(rect, QColor(CHART_BACKGROUND))
        painter.setFont(self._font())
        painter.setPen(QColor(TEXT_COLOR))
        painter.translate(rect.left(), rect.bottom())
        painter.rotate(-90)
        text = str(model.headerData(logical_index, Qt.Orientation.Horizontal))
        area = QRect(6, 0, rect.height() - 8, rect.width())
        painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
        painter.restore()


class ConfusionDelegate(QStyledItemDelegate):
    """Cells painted from the model's colours (style sheets would hide them), with a clear
    amber frame around the selected cell."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.fillRect(option.rect, index.data(Qt.ItemDataRole.BackgroundRole))
        painter.setPen(index.data(Qt.ItemDataRole.ForegroundRole))
        font = QFont(option.font)
        font.setPointSize(10)
        if index.row() == index.column():
            font.setBold(True)
        painter.setFont(font)
        painter.drawText(option.rect, Qt.AlignmentFlag.AlignCenter, index.data())
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(QColor(SELECTION_COLOR), 3))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
        painter.restore()


class VerticalLabel(QLabel):
    """A label drawn bottom-to-top, for the matrix's "True class" axis title."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        painter.translate(0, self.height())
        painter.rotate(-90)
        painter.drawText(QRect(0, 0, self.height(), self.width()), Qt.AlignmentFlag.AlignCenter, self.text())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.height(), hint.width())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.height(), hint.width())


class ConfusionMatrixView(QWidget):
    """The matrix table framed by axis titles: predicted classes across, true classes down."""

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConfusionModel(scores)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(ConfusionDelegate(self.table))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setCornerButtonEnabled(False)
        self.table.setShowGrid(True)
        self.table.setCursor(Qt.CursorShape.PointingHandCursor)
        self.table.setStyleSheet(
            f"QTableView {{ gridline-color: {PANEL_BORDER}; border: 1px solid {PANEL_BORDER};"
            f" background: {CHART_BACKGROUND}; }}"
            f"QHeaderView::section {{ background: {CHART_BACKGROUND}; color: {TEXT_COLOR};"
            f" border: none; padding: 2px 6px; font-weight: 600; }}"
        )
        metrics = QFontMetrics(self.table.horizontalHeader().font())
        widest = max((metrics.horizontalAdvance(n) for n in scores.class_names), default=0) + 16
        if widest > ROTATE_ABOVE:  # long names: write them upwards instead of widening every cell
            self.table.setHorizontalHeader(RotatedHeader(self.table))
            widest = 0
        largest = metrics.horizontalAdvance(f"{int(self.model.counts.max(initial=0)):,}") + 20
        cell_width = max(MIN_CELL_WIDTH, min(MAX_CELL_WIDTH, max(widest, largest)))
        horizontal, vertical = self.table.horizontalHeader(), self.table.verticalHeader()
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        horizontal.setDefaultSectionSize(cell_width)
        horizontal.setHighlightSections(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(CELL_HEIGHT)
        vertical.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        vertical.setHighlightSections(False)
        k = self.model.rowCount()
        width = vertical.sizeHint().width() + cell_width * k + 2 * self.table.frameWidth() + 2
        height = horizontal.sizeHint().height() + CELL_HEIGHT * k + 2 * self.table.frameWidth() + 2
        self._natural = QSize(width, height)
        # The whole matrix when it fits a laptop screen; scroll bars beyond (e.g. 100 classes).
        self.table.setMaximumSize(self._natural)
        self.table.setMinimumSize(self._natural.boundedTo(MAX_MATRIX_SIZE))
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        predicted = QLabel("Predicted class →")
        predicted.setStyleSheet(heading_style(10))
        predicted.setAlignment(Qt.AlignmentFlag.AlignCenter)
        true = VerticalLabel("← True class")
        true.setStyleSheet(heading_style(10))
        grid.addWidget(predicted, 0, 1)
        grid.addWidget(true, 1, 0)
        grid.addWidget(self.table, 1, 1)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(2, 1)

    def sizeHint(self) -> QSize:
        return self._natural + QSize(40, 30)


class PerClassTable(QTableWidget):
    """Precision, recall, F1 and support per class."""

    COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        super().__init__(len(scores.class_names), len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setStyleSheet(
            f"QTableWidget {{ border: 1px solid {PANEL_BORDER}; background: {CHART_BACKGROUND};"
            f" alternate-background-color: #f8fafc; color: {TEXT_COLOR}; }}"
            f"QHeaderView::section {{ background: {CHART_BACKGROUND}; color: {MUTED_TEXT_COLOR};"
            f" border: none; border-bottom: 1px solid {PANEL_BORDER}; padding: 4px 8px; font-weight: 600; }}"
        )
        support = np.asarray(scores.confusion).sum(axis=1)
        numbers = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, name in enumerate(scores.class_names):
            values = (
                name,
                f"{float(scores.precision[row]):.3f}",
                f"{float(scores.recall[row]):.3f}",
                f"{float(scores.f1[row]):.3f}",
                f"{int(support[row]):,}",
            )
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(
                    numbers if column else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                )
                self.setItem(row, column, cell)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        class_header = QTableWidgetItem(self.COLUMNS[0])
        class_header.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setHorizontalHeaderItem(0, class_header)
        self.resizeColumnsToContents()
        for column in range(1, len(self.COLUMNS)):
            self.setColumnWidth(column, max(self.columnWidth(column) + 12, 84))
        self.setColumnWidth(0, min(max(self.columnWidth(0) + 16, 100), 220))
        self.verticalHeader().setDefaultSectionSize(28)
        width = sum(self.columnWidth(c) for c in range(self.columnCount())) + 2 * self.frameWidth()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._width = width

    def fit_height(self, available: int) -> None:
        """Take the rows' height, up to ``available``; beyond it scroll (and leave room for the bar)."""
        natural = self.natural_height()
        self.setFixedHeight(min(natural, available))
        scroll = self.verticalScrollBar().sizeHint().width() if natural > available else 0
        self.setFixedWidth(self._width + scroll)

    def natural_height(self) -> int:
        """Height showing every row without empty space below."""
        rows = self.verticalHeader().length()
        return self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth() + 2

    def row_values(self, row: int) -> list[str]:
        cells = (self.item(row, column) for column in range(self.columnCount()))
        return [cell.text() if cell is not None else "" for cell in cells]


class ScoresPanel(QWidget):
    """Headline cards, matrix beside the per-class table, and the selected cell's images."""

    def __init__(
        self, scores: Scores, predictions: Predictions | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.scores = scores
        self.predictions = predictions
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.cards = {
            "accuracy": StatCard("Accuracy", f"{scores.accuracy * 100:.2f} %", DIAGONAL_COLOR),
            "error_rate": StatCard("Error rate", f"{scores.error_rate * 100:.2f} %", WRONG_COLOR),
            "cohen_kappa": StatCard("Cohen's kappa", f"{scores.cohen_kappa:.4f}", TEXT_COLOR),
            "count": StatCard("Images scored", f"{scores.count:,}", TEXT_COLOR),
        }
        layout.addLayout(card_row(list(self.cards.values())))

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        self.matrix = ConfusionMatrixView(scores)
        self.per_class = PerClassTable(scores)
        row.addWidget(self.matrix, 0, Qt.AlignmentFlag.AlignTop)
        per_class_box = QVBoxLayout()
        per_class_box.setSpacing(4)
        per_class_title = QLabel("Per class")
        per_class_title.setStyleSheet(heading_style(10))
        per_class_box.addWidget(per_class_title)
        per_class_box.addWidget(self.per_class)
        per_class_box.addStretch(1)
        row.addLayout(per_class_box)
        row.addStretch(1)
        self.per_class.fit_height(self.matrix.table.minimumHeight())
        top.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        splitter.addWidget(top)

        bottom = QWidget()
        cell_layout = QVBoxLayout(bottom)
        cell_layout.setContentsMargins(0, 6, 0, 0)
        cell_layout.setSpacing(6)
        self.cell_title = QLabel()
        self.cell_title.setStyleSheet(heading_style(11))
        cell_layout.addWidget(self.cell_title)
        self.cell_stack = QStackedWidget()
        self.cell_hint = QLabel()
        self.cell_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cell_hint.setWordWrap(True)
        self.cell_hint.setStyleSheet(
            muted_style(10) + f" border: 1px dashed {PANEL_BORDER}; border-radius: 6px;"
        )
        self.cell_stack.addWidget(self.cell_hint)
        self.cell_gallery: ImageGallery | None = None
        if predictions is not None:
            self.cell_gallery = ImageGallery(
                predictions.dataset, predictions, subset=np.empty(0, dtype=int), show_filters=False
            )
            self.cell_stack.addWidget(self.cell_gallery)
        cell_layout.addWidget(self.cell_stack, 1)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)

        if predictions is None:
            self.cell_title.setText("Images per cell")
            self.cell_hint.setText(
                "The predictions this Scorer scored were not given to this view, so the images "
                "behind each cell are not available."
            )
        else:
            self.cell_title.setText("Images per cell")
            self.cell_hint.setText("Click a cell of the confusion matrix to see its images.")
        self.matrix.table.clicked.connect(lambda index: self.show_cell(index.row(), index.column()))

    def show_cell(self, true_class: int, predicted_class: int) -> np.ndarray:
        """List the images of ``true_class`` predicted as ``predicted_class``; return their indices."""
        names = self.scores.class_names
        self.matrix.table.setCurrentIndex(self.matrix.model.index(true_class, predicted_class))
        if self.predictions is None or self.cell_gallery is None:
            return np.empty(0, dtype=int)
        p = self.predictions
        indices = np.flatnonzero((p.labels == true_class) & (p.predicted == predicted_class))
        self.cell_gallery.set_subset(indices)
        verdict = "correctly classified" if true_class == predicted_class else "misclassified"
        self.cell_title.setText(
            f"True {names[true_class]}, predicted {names[predicted_class]}: "
            f"{indices.size:,} image{'s' if indices.size != 1 else ''} ({verdict})"
        )
        if indices.size:
            self.cell_stack.setCurrentWidget(self.cell_gallery)
        else:
            self.cell_hint.setText("No image of this cell.")
            self.cell_stack.setCurrentWidget(self.cell_hint)
        return indices

    def sizeHint(self) -> QSize:
        return QSize(1120, 860)
