"""Scorer result: confusion matrix, headline scores, per-class table, ROC curves, cell images.

Rows of the matrix are the true classes and columns the predicted ones. Cell colours are
shares of the row (how the images of one true class were predicted): the diagonal shades
blue, mistakes red, so the matrix reads at a glance even on a projector. Clicking a cell lists
the images behind it, taken from the Predictions the Scorer scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
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
from .roc import RocPanel
from .window import CardGrid, StatCard

Index = QModelIndex | QPersistentModelIndex
MIN_CELL_HEIGHT = 18  # ten classes in a 250 px dock
MAX_CELL_HEIGHT = 40
MIN_CELL_WIDTH = 26
MAX_CELL_WIDTH = 120
MAX_CELL_WIDTH_PREFERRED = 56  # the cell width a window asks for
MAX_ASPECT = 1.3  # cells at most this much wider than tall: near-squares, and room for the tabs
PREFERRED_ASPECT = 1.2  # when the width sets the size (a narrow view), rows this much less tall
MIN_TABLE_SIZE = 120  # below this a huge matrix scrolls inside its table
MIN_MATRIX_SIZE = 360  # the view never asks for more than this (px) to stay usable
ROTATE_ABOVE = 72  # column titles wider than this (px) are drawn rotated
CELL_POINT_SIZES = (10, 9, 8)  # cell text shrinks with the cells, never below 8 pt
SIDE_MIN_WIDTH = 300  # the per-class table and cards beside the matrix need this much
SIDE_GAP = 10
DETAILS_MIN_HEIGHT = 220  # per-class table / cell images under the matrix in a narrow view
MAX_NARROW_MATRIX_HEIGHT = 620  # stacked layout: more classes than fit scroll inside the table
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum" for widget sizes


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
    amber frame around the selected cell; the text size follows the cell size."""

    point_size = CELL_POINT_SIZES[0]

    @staticmethod
    def text_width(text: str, point_size: int) -> int:
        """Width of ``text`` in the (bold) cell font of ``point_size``."""
        font = QFont()
        font.setPointSize(point_size)
        font.setBold(True)
        return QFontMetrics(font).horizontalAdvance(text)

    @staticmethod
    def point_size_for(width: int, height: int, model: ConfusionModel) -> int:
        """The largest cell font whose largest count fits a ``width`` x ``height`` cell."""
        largest = f"{int(model.counts.max(initial=0)):,}"
        for size in CELL_POINT_SIZES:
            font = QFont()
            font.setPointSize(size)
            font.setBold(True)
            metrics = QFontMetrics(font)
            if metrics.horizontalAdvance(largest) + 6 <= width and metrics.height() <= height:
                return size
        return CELL_POINT_SIZES[-1]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.fillRect(option.rect, index.data(Qt.ItemDataRole.BackgroundRole))
        painter.setPen(index.data(Qt.ItemDataRole.ForegroundRole))
        font = QFont(option.font)
        font.setPointSize(self.point_size)
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
    """The matrix table framed by axis titles: predicted classes across, true classes down.

    Cells take the size the view is given (between :data:`MIN_CELL_HEIGHT` and
    :data:`MAX_CELL_HEIGHT` rows, never narrower than the largest count), so ten classes fit a
    dock as well as a window; below the smallest cells the table scrolls.
    """

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConfusionModel(scores)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.delegate = ConfusionDelegate(self.table)
        self.table.setItemDelegate(self.delegate)
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
            f" border: none; padding: 0px 5px; font-weight: 600; }}"
        )
        header_metrics = QFontMetrics(self.table.horizontalHeader().font())
        widest = max((header_metrics.horizontalAdvance(n) for n in scores.class_names), default=0) + 12
        if widest > ROTATE_ABOVE:  # long names: write them upwards instead of widening every cell
            self.table.setHorizontalHeader(RotatedHeader(self.table))
            widest = 0
        largest = f"{int(self.model.counts.max(initial=0)):,}"
        #: Narrowest cell: the largest count in the smallest cell font, or the column title.
        self.min_cell_width = max(MIN_CELL_WIDTH, widest, ConfusionDelegate.text_width(largest, 8) + 6)
        horizontal, vertical = self.table.horizontalHeader(), self.table.verticalHeader()
        for header in (horizontal, vertical):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setHighlightSections(False)
            header.setMinimumSectionSize(1)
        vertical.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        self.predicted_label = QLabel("Predicted class →")
        self.predicted_label.setStyleSheet(heading_style(9))
        self.predicted_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.true_label = VerticalLabel("← True class")
        self.true_label.setStyleSheet(heading_style(9))
        grid.addWidget(self.predicted_label, 0, 1)
        grid.addWidget(self.true_label, 1, 0)
        grid.addWidget(self.table, 1, 1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(2, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.set_cell_size(MAX_CELL_WIDTH_PREFERRED, MAX_CELL_HEIGHT)

    # -- geometry ---------------------------------------------------------------------------------
    @property
    def classes(self) -> int:
        return max(1, self.model.rowCount())

    def _chrome(self) -> QSize:
        """Room around the cells: axis titles, headers, frame."""
        frame = 2 * self.table.frameWidth() + 2
        width = self.true_label.sizeHint().width() + 2 + self.table.verticalHeader().sizeHint().width() + frame
        height = (
            self.predicted_label.sizeHint().height() + 2 + self.table.horizontalHeader().sizeHint().height() + frame
        )
        return QSize(width, height)

    def cell_size(self) -> QSize:
        return QSize(
            self.table.horizontalHeader().defaultSectionSize(), self.table.verticalHeader().defaultSectionSize()
        )

    def cells_for(self, width: int, height: int) -> QSize:
        """Cell size for a ``width`` x ``height`` view: rows fill the height (within bounds),
        columns fill the width but stay at most :data:`MAX_ASPECT` times as wide as tall."""
        chrome, k = self._chrome(), self.classes
        cell_height = max(MIN_CELL_HEIGHT, min(MAX_CELL_HEIGHT, (height - chrome.height()) // k))
        widest = max(self.min_cell_width, min(MAX_CELL_WIDTH, int(cell_height * MAX_ASPECT)))
        cell_width = max(self.min_cell_width, min(widest, (width - chrome.width()) // k))
        return QSize(cell_width, cell_height)

    def size_for(self, cell: QSize) -> QSize:
        """The view's size with cells of ``cell``: every cell shown, nothing spare."""
        chrome, k = self._chrome(), self.classes
        return QSize(chrome.width() + k * cell.width(), chrome.height() + k * cell.height())

    def width_for_height(self, height: int) -> int:
        """How wide the matrix wants to be when it is ``height`` tall (cells at their widest)."""
        return self.size_for(self.cells_for(1 << 20, height)).width()

    def height_for_width(self, width: int) -> int:
        """How tall the matrix wants to be when it is ``width`` wide (rows as tall as allowed)."""
        cell = self.cells_for(width, 1 << 20)
        rows = max(MIN_CELL_HEIGHT, min(MAX_CELL_HEIGHT, int(cell.width() / PREFERRED_ASPECT)))
        return self.size_for(QSize(cell.width(), rows)).height()

    def set_cell_size(self, width: int, height: int) -> None:
        horizontal, vertical = self.table.horizontalHeader(), self.table.verticalHeader()
        if (horizontal.defaultSectionSize(), vertical.defaultSectionSize()) != (width, height):
            horizontal.setDefaultSectionSize(width)
            vertical.setDefaultSectionSize(height)
            self.delegate.point_size = ConfusionDelegate.point_size_for(width, height, self.model)
        self._fit_table()

    def _fit_table(self) -> None:
        """The table as large as its cells, within this view (scroll bars only beyond that)."""
        chrome, k, cell = self._chrome(), self.classes, self.cell_size()
        frame = 2 * self.table.frameWidth() + 2
        natural = QSize(
            self.table.verticalHeader().sizeHint().width() + k * cell.width() + frame,
            self.table.horizontalHeader().sizeHint().height() + k * cell.height() + frame,
        )
        room = QSize(
            max(MIN_TABLE_SIZE, self.width() - (chrome.width() - self.table.verticalHeader().sizeHint().width() - frame)),
            max(MIN_TABLE_SIZE, self.height() - (chrome.height() - self.table.horizontalHeader().sizeHint().height() - frame)),
        )
        self.table.setFixedSize(natural.boundedTo(room))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cell = self.cells_for(self.width(), self.height())
        self.set_cell_size(cell.width(), cell.height())

    def sizeHint(self) -> QSize:
        return self.size_for(QSize(MAX_CELL_WIDTH_PREFERRED, MAX_CELL_HEIGHT))

    def minimumSizeHint(self) -> QSize:
        smallest = self.size_for(QSize(self.min_cell_width, MIN_CELL_HEIGHT))
        return smallest.boundedTo(QSize(MIN_MATRIX_SIZE, MIN_MATRIX_SIZE)).expandedTo(self._chrome())


class PerClassTable(QTableWidget):
    """Precision, recall, F1 and support per class; columns share the width it is given."""

    COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")
    #: Shown after the others when the scores have ROC curves (made from class probabilities).
    AUC_COLUMN = "AUC"

    def __init__(self, scores: Scores, parent: QWidget | None = None) -> None:
        self.columns = self.COLUMNS + ((self.AUC_COLUMN,) if scores.has_roc else ())
        super().__init__(len(scores.class_names), len(self.columns), parent)
        self.setHorizontalHeaderLabels(list(self.columns))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setStyleSheet(
            f"QTableWidget {{ border: 1px solid {PANEL_BORDER}; background: {CHART_BACKGROUND};"
            f" alternate-background-color: #f8fafc; color: {TEXT_COLOR}; }}"
            f"QHeaderView::section {{ background: {CHART_BACKGROUND}; color: {MUTED_TEXT_COLOR};"
            f" border: none; border-bottom: 1px solid {PANEL_BORDER}; padding: 3px 4px; font-weight: 600; }}"
        )
        support = scores.support
        auc = scores.auc
        numbers = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, name in enumerate(scores.class_names):
            values = [
                name,
                f"{float(scores.precision[row]):.3f}",
                f"{float(scores.recall[row]):.3f}",
                f"{float(scores.f1[row]):.3f}",
                f"{int(support[row]):,}",
            ]
            if scores.has_roc:
                value = auc[row]
                values.append("—" if value is None else f"{value:.3f}")
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(
                    numbers if column else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                )
                if column == 0:
                    cell.setToolTip(name)
                elif self.columns[column] == self.AUC_COLUMN:
                    cell.setToolTip(scores.roc_note(row) or f"{name} against the other classes: AUC {auc[row]:.4f}")
                self.setItem(row, column, cell)
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        class_header = QTableWidgetItem(self.columns[0])
        class_header.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setHorizontalHeaderItem(0, class_header)
        self.resizeColumnsToContents()
        self.verticalHeader().setDefaultSectionSize(24)
        # Columns as wide as their content (long class names elided past 160 px); resizeEvent
        # shares any extra width between the number columns.
        self.setColumnWidth(0, min(self.columnWidth(0) + 4, 160))
        self._widths = [self.columnWidth(c) for c in range(self.columnCount())]
        self._min_width = sum(self._widths) + 2 * self.frameWidth()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._spread_columns()

    def _spread_columns(self) -> None:
        """Every column as wide as its content; extra width shared by the number columns."""
        extra = max(0, self.viewport().width() - sum(self._widths))
        share, rest = divmod(extra, len(self._widths) - 1)
        for column, width in enumerate(self._widths):
            bonus = 0 if column == 0 else share + (1 if column <= rest else 0)
            if self.columnWidth(column) != width + bonus:
                self.setColumnWidth(column, width + bonus)

    def natural_height(self) -> int:
        """Height showing every row without empty space below."""
        rows = self.verticalHeader().length()
        return self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth() + 2

    def minimumSizeHint(self) -> QSize:
        scroll = self.verticalScrollBar().sizeHint().width()
        return QSize(self._min_width + scroll, min(self.natural_height(), 120))

    def sizeHint(self) -> QSize:
        return QSize(self._min_width + self.verticalScrollBar().sizeHint().width(), self.natural_height())

    def row_values(self, row: int) -> list[str]:
        cells = (self.item(row, column) for column in range(self.columnCount()))
        return [cell.text() if cell is not None else "" for cell in cells]

    def fully_visible(self) -> bool:
        """True when every column is at least as wide as its content (nothing cut off)."""
        widths = [self.columnWidth(c) for c in range(self.columnCount())]
        fits = sum(widths) <= self.viewport().width()
        return fits and all(w >= need for w, need in zip(widths, self._widths, strict=True))


class ScoresPanel(QWidget):
    """Headline cards, the matrix, and per-class scores / the selected cell's images in tabs.

    Wide views (a dock under the canvas, a window) put the matrix on the left at the full
    height and the cards over the tabs on the right; narrow ones stack cards, matrix and tabs.
    The layout is chosen on every resize, so the matrix always fits and no column is cut off.
    """

    def __init__(
        self, scores: Scores, predictions: Predictions | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.scores = scores
        self.predictions = predictions
        self.cards = {
            "accuracy": StatCard("Accuracy", f"{scores.accuracy * 100:.2f} %", DIAGONAL_COLOR),
            "balanced_accuracy": StatCard(
                "Balanced accuracy", f"{scores.balanced_accuracy * 100:.2f} %", DIAGONAL_COLOR
            ),
        }
        if scores.top_k_accuracy is not None:
            self.cards["top_k_accuracy"] = StatCard(
                f"Top-{scores.top_k} accuracy", f"{scores.top_k_accuracy * 100:.2f} %", DIAGONAL_COLOR
            )
        if scores.has_roc:
            macro = scores.macro_auc
            self.cards["macro_auc"] = StatCard("Macro AUC", "—" if macro is None else f"{macro:.4f}", TEXT_COLOR)
            self.cards["macro_auc"].setToolTip(
                scores.macro_auc_note() or "Mean one-vs-rest ROC AUC over the classes (see ROC curves)"
            )
        self.cards["cohen_kappa"] = StatCard("Cohen's kappa", f"{scores.cohen_kappa:.4f}", TEXT_COLOR)
        self.cards["error_rate"] = StatCard("Error rate", f"{scores.error_rate * 100:.2f} %", WRONG_COLOR)
        # The image count is in the view's subtitle; six cards make two even rows of three.
        self.cards["balanced_accuracy"].setToolTip("Mean recall of the classes: rare classes count as much as frequent ones")
        self.card_grid = CardGrid(list(self.cards.values()))
        self.matrix = ConfusionMatrixView(scores)
        self.per_class = PerClassTable(scores)

        cells = QWidget()
        cell_layout = QVBoxLayout(cells)
        cell_layout.setContentsMargins(0, 6, 0, 0)
        cell_layout.setSpacing(6)
        self.cell_title = QLabel()
        self.cell_title.setStyleSheet(heading_style(10))
        self.cell_title.setWordWrap(True)
        cell_layout.addWidget(self.cell_title)
        self.cell_stack = QStackedWidget()
        self.cell_hint = QLabel()
        self.cell_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cell_hint.setWordWrap(True)
        self.cell_hint.setStyleSheet(
            muted_style(10) + f" border: 1px dashed {PANEL_BORDER}; border-radius: 6px; padding: 8px;"
        )
        self.cell_stack.addWidget(self.cell_hint)
        self.cell_gallery: ImageGallery | None = None
        if predictions is not None:
            self.cell_gallery = ImageGallery(
                predictions.dataset, predictions, subset=np.empty(0, dtype=int), show_filters=False
            )
            self.cell_stack.addWidget(self.cell_gallery)
        cell_layout.addWidget(self.cell_stack, 1)
        self.cell_title.setText("Images of a cell")
        if predictions is None:
            self.cell_hint.setText(
                "The predictions this Scorer scored were not given to this view, so the images "
                "behind each cell are not available."
            )
        else:
            self.cell_hint.setText("Click a cell of the confusion matrix to see its images here.")

        self.details = QTabWidget()
        self.details.setDocumentMode(True)
        self.details.addTab(self.per_class, "Per class")
        self.roc = RocPanel(scores)
        self.details.addTab(self.roc, "ROC curves")
        self.details.addTab(cells, "Cell images")
        self.cells_page = cells

        self.side = QWidget()
        side = self._side_layout = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(8)
        side.addWidget(self.details, 1)

        outer = self._outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        body = self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.setSpacing(SIDE_GAP)
        body.addWidget(self.matrix, 0)
        body.addWidget(self.side, 1)
        outer.addLayout(body, 1)
        self.wide: bool | None = None
        self._set_wide(True)
        self.matrix.table.clicked.connect(lambda index: self.show_cell(index.row(), index.column()))

    # -- responsive layout ------------------------------------------------------------------------
    def _side_min_width(self) -> int:
        return max(SIDE_MIN_WIDTH, self.per_class.minimumSizeHint().width())

    def _set_wide(self, wide: bool) -> None:
        """Cards over the tabs beside the matrix (wide), or cards, matrix, tabs stacked (narrow)."""
        if wide == self.wide:
            return
        self.wide = wide
        if wide:
            self._outer.removeWidget(self.card_grid)
            self._side_layout.insertWidget(0, self.card_grid)
            self._body.setDirection(QBoxLayout.Direction.LeftToRight)
            self.details.setMinimumHeight(0)
        else:
            self._side_layout.removeWidget(self.card_grid)
            self._outer.insertWidget(0, self.card_grid)
            self._body.setDirection(QBoxLayout.Direction.TopToBottom)
            self.details.setMinimumHeight(DETAILS_MIN_HEIGHT)

    def _relayout(self) -> None:
        width, height = self.width(), self.height()
        side = self._side_min_width()
        wanted = self.matrix.width_for_height(height)
        smallest = self.matrix.size_for(QSize(self.matrix.min_cell_width, MIN_CELL_HEIGHT)).width()
        wide = width - SIDE_GAP - side >= min(wanted, smallest)
        self._set_wide(wide)
        if wide:
            self.matrix.setFixedWidth(max(1, min(wanted, width - SIDE_GAP - side)))
            self.matrix.setMinimumHeight(0)
            self.matrix.setMaximumHeight(QWIDGETSIZE_MAX)
        else:
            self.matrix.setMinimumWidth(0)
            self.matrix.setMaximumWidth(QWIDGETSIZE_MAX)
            self.matrix.setFixedHeight(min(self.matrix.height_for_width(width), MAX_NARROW_MATRIX_HEIGHT))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def minimumSizeHint(self) -> QSize:
        # Narrow enough for the stacked layout; it needs the matrix at its smallest cells.
        matrix = self.matrix.minimumSizeHint()
        width = max(matrix.width(), self._side_min_width(), self.card_grid.minimumSizeHint().width())
        if self.wide:
            return QSize(width, max(matrix.height(), self.card_grid.minimumSizeHint().height() + 110))
        return QSize(width, super().minimumSizeHint().height())

    # -- cells ------------------------------------------------------------------------------------
    def show_cell(self, true_class: int, predicted_class: int) -> np.ndarray:
        """List the images of ``true_class`` predicted as ``predicted_class``; return their indices."""
        names = self.scores.class_names
        self.matrix.table.setCurrentIndex(self.matrix.model.index(true_class, predicted_class))
        self.details.setCurrentWidget(self.cells_page)
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
        return QSize(1040, 600)
