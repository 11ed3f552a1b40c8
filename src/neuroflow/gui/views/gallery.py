"""A lazily drawn image gallery with labels, predictions and filters.

Thumbnails are made only when a cell is painted and kept in a bounded cache, and the list view
uses uniform item sizes with batched layout, so a gallery of 10,000 (or 60,000) images opens
instantly and scrolls smoothly. With predictions, misclassified images come first (most
confident mistakes first) and are framed in red; without, it is a plain labelled sample grid.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from neuroflow.core.data import ImageData, ImageDataset, ImageFileDataset, Predictions

from ..monitor_charts import ElidedLabel
from .images import dataset_thumbnail, thumbnail_size, to_pixmap, to_uint8
from .palette import (
    CHART_BACKGROUND,
    CORRECT_COLOR,
    MUTED_TEXT_COLOR,
    PANEL_BORDER,
    SELECTION_COLOR,
    TEXT_COLOR,
    WRONG_BACKGROUND,
    WRONG_COLOR,
    muted_style,
)

PIXMAP_CACHE_SIZE = 4000
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
WRONG_ROLE = Qt.ItemDataRole.UserRole + 2
PADDING = 6
CARD_GAP = 3
MIN_CELL_WIDTH = 112
MAX_CAPTION_WIDTH = 176  # longer class names are elided rather than widening every cell

Index = QModelIndex | QPersistentModelIndex


def misclassified_first(predictions: Predictions, subset: np.ndarray | None = None) -> np.ndarray:
    """Dataset indices: wrong predictions by falling confidence, then right ones in dataset order."""
    indices = np.arange(len(predictions.predicted)) if subset is None else np.asarray(subset, int)
    wrong = predictions.predicted[indices] != predictions.labels[indices]
    wrong_indices = indices[wrong]
    confidence = predictions.confidence[wrong_indices]
    wrong_sorted = wrong_indices[np.argsort(-confidence, kind="stable")]
    return np.concatenate([wrong_sorted, indices[~wrong]])


class GalleryModel(QAbstractListModel):
    """Rows are dataset indices in display order; pixmaps are made on demand and cached."""

    def __init__(self, dataset: ImageData, predictions: Predictions | None = None) -> None:
        super().__init__()
        self.dataset = dataset
        self.predictions = predictions
        self.order = np.arange(0, dtype=int)
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._confidence = None if predictions is None else predictions.confidence
        #: Grad-CAM maps to lay over the thumbnails (see :mod:`.gallery_heat`), when shown.
        self.heat_maps: Any = None

    def show_heat_maps(self, heat_maps: Any) -> None:
        """Lay ``heat_maps`` (a :class:`~.gallery_heat.HeatMaps`, or ``None``) over the thumbnails."""
        self.heat_maps = heat_maps
        self._pixmaps.clear()
        if heat_maps is not None:
            heat_maps.ready.connect(self._heat_ready)
        self._repaint_all()

    def _heat_ready(self, indices: list[int]) -> None:
        for i in indices:
            self._pixmaps.pop(i, None)
        self._repaint_all()

    def _repaint_all(self) -> None:
        if self.order.size:
            self.dataChanged.emit(self.index(0), self.index(int(self.order.size) - 1))

    def set_order(self, order: np.ndarray) -> None:
        self.beginResetModel()
        self.order = np.asarray(order, dtype=int)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else int(self.order.size)

    def dataset_index(self, row: int) -> int:
        return int(self.order[row])

    def is_wrong(self, i: int) -> bool:
        p = self.predictions
        return p is not None and int(p.predicted[i]) != int(p.labels[i])

    def caption(self, i: int) -> tuple[str, str | None]:
        """Two caption lines for image ``i``: its label, and the prediction if there is one."""
        names = self.dataset.class_names
        true_name = names[int(self.dataset.labels[i])]
        if self.predictions is None or self._confidence is None:
            return true_name, None
        predicted = names[int(self.predictions.predicted[i])]
        return f"true: {true_name}", f"pred: {predicted} · {self._confidence[i] * 100:.0f}%"

    def pixmap(self, i: int) -> QPixmap:
        cached = self._pixmaps.get(i)
        if cached is not None:
            self._pixmaps.move_to_end(i)
            return cached
        heat = self.heat_maps.get(i) if self.heat_maps is not None else None
        if heat is not None and isinstance(self.dataset, ImageDataset):
            from .model_input import heat_overlay

            base = to_uint8(np.asarray(self.dataset.images[i]), self.dataset.value_range)
            pixmap = to_pixmap(heat_overlay(base, heat, 0.6))
        else:
            pixmap = dataset_thumbnail(self.dataset, i)
            if self.heat_maps is not None:
                return pixmap  # its map is on the way: keep the plain one out of the cache
        self._pixmaps[i] = pixmap
        if len(self._pixmaps) > PIXMAP_CACHE_SIZE:
            self._pixmaps.popitem(last=False)
        return pixmap

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        i = self.dataset_index(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            first, second = self.caption(i)
            return first if second is None else f"{first}\n{second}"
        if role == Qt.ItemDataRole.ToolTipRole:
            first, second = self.caption(i)
            where = f"\n{self.dataset.paths[i]}" if isinstance(self.dataset, ImageFileDataset) else ""
            return f"image #{i}\n{first}" + (f"\n{second}" if second else "") + where
        if role == INDEX_ROLE:
            return i
        if role == WRONG_ROLE:
            return self.is_wrong(i)
        return None


class GalleryDelegate(QStyledItemDelegate):
    """Paints a card: the thumbnail, then one or two caption lines; red frame for mistakes."""

    def __init__(self, model: GalleryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.font = QFont()
        self.font.setPointSize(9)
        metrics = QFontMetrics(self.font)
        shape = model.dataset.shape
        self.thumb = QSize(*thumbnail_size(int(shape[0]), int(shape[1])))
        lines = 1 if model.predictions is None else 2
        self.line_height = metrics.height()
        longest = max(model.dataset.class_names, key=metrics.horizontalAdvance, default="")
        caption = longest if model.predictions is None else f"pred: {longest} · 100%"
        text_width = min(MAX_CAPTION_WIDTH, metrics.horizontalAdvance(caption) + 16)
        width = max(MIN_CELL_WIDTH, self.thumb.width() + 2 * PADDING, text_width)
        height = self.thumb.height() + 3 * PADDING + lines * self.line_height
        self.cell = QSize(width, height)
        self.column_width = width

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self.cell

    def card_rect(self, item: QRect) -> QRect:
        """The card: the whole grid column (which the gallery widens to fill the view) less a gap."""
        width = max(self.cell.width(), self.column_width) - 2 * CARD_GAP
        left = item.center().x() - width // 2
        return QRect(left, item.top() + CARD_GAP, width, self.cell.height() - 2 * CARD_GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        i = index.data(INDEX_ROLE)
        wrong = bool(index.data(WRONG_ROLE))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = self.card_rect(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(WRONG_BACKGROUND if wrong else CHART_BACKGROUND))
        border = SELECTION_COLOR if selected else (WRONG_COLOR if wrong else PANEL_BORDER)
        painter.setPen(QPen(QColor(border), 2.0 if (wrong or selected) else 1.0))
        painter.drawRoundedRect(rect, 5, 5)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pixmap = self.model.pixmap(i)
        x = rect.x() + (rect.width() - pixmap.width()) // 2
        painter.drawPixmap(x, rect.y() + PADDING, pixmap)
        painter.setFont(self.font)
        metrics = QFontMetrics(self.font)
        first, second = self.model.caption(i)
        top = rect.y() + 2 * PADDING + self.thumb.height()
        text_rect = QRect(rect.x() + 4, top, rect.width() - 8, self.line_height)
        align = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
        painter.setPen(QColor(TEXT_COLOR if second is None else MUTED_TEXT_COLOR))
        painter.drawText(
            text_rect, align, metrics.elidedText(first, Qt.TextElideMode.ElideRight, text_rect.width())
        )
        if second is not None:
            painter.setPen(QColor(WRONG_COLOR if wrong else CORRECT_COLOR))
            text_rect.translate(0, self.line_height)
            elided = metrics.elidedText(second, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(text_rect, align, elided)
        painter.restore()


class ImageGallery(QWidget):
    """Filterable grid of a dataset's images, with predictions when given.

    ``subset`` restricts the gallery to fixed dataset indices (the Scorer's confusion-matrix
    cells use this); ``show_filters`` hides the filter bar for such fixed selections.
    """

    FILTERS = ("all", "misclassified", "correct")

    def __init__(
        self,
        dataset: ImageData,
        predictions: Predictions | None = None,
        *,
        subset: np.ndarray | None = None,
        show_filters: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self.predictions = predictions
        self.model = GalleryModel(dataset, predictions)
        self._base = self._base_order(subset)
        self._build(show_filters)
        self.apply_filter()

    def _base_order(self, subset: np.ndarray | None) -> np.ndarray:
        if self.predictions is not None:
            return misclassified_first(self.predictions, subset)
        return np.arange(len(self.dataset)) if subset is None else np.asarray(subset, dtype=int)

    def _build(self, show_filters: bool) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.kind_combo = QComboBox()
        if self.predictions is not None:
            wrong = int(np.count_nonzero(self.predictions.predicted != self.predictions.labels))
            total = len(self.predictions.predicted)
            self.kind_combo.addItem(f"All images ({total:,})", "all")
            self.kind_combo.addItem(f"Misclassified ({wrong:,})", "misclassified")
            self.kind_combo.addItem(f"Correctly classified ({total - wrong:,})", "correct")
            bar.addWidget(QLabel("Show"))
            bar.addWidget(self.kind_combo)
        self.class_combo = QComboBox()
        self.class_combo.addItem("Any class", None)
        for k, name in enumerate(self.dataset.class_names):
            self.class_combo.addItem(name, k)
        bar.addWidget(QLabel("True class"))
        bar.addWidget(self.class_combo)
        # The count shortens with "…" in a narrow dock rather than make the view scroll sideways.
        self.count_label = ElidedLabel(align=Qt.AlignmentFlag.AlignRight)
        self.count_label.setStyleSheet(muted_style(9))
        bar.addWidget(self.count_label, 1)
        self.filter_bar = QWidget()
        self.filter_bar.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.filter_bar.setVisible(show_filters)
        layout.addWidget(self.filter_bar)

        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setWrapping(True)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(512)
        self.view.setSpacing(2)
        self.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.view.verticalScrollBar().setSingleStep(24)
        self.view.setModel(self.model)
        self.delegate = GalleryDelegate(self.model, self.view)
        self.view.setItemDelegate(self.delegate)
        # At least one whole row of images: a short dock showed only their tops.
        self.view.setMinimumHeight(self.delegate.cell.height() + 4 * self.view.spacing() + 2 * self.view.frameWidth())
        self.view.viewport().installEventFilter(self)
        self.view.setStyleSheet(
            f"QListView {{ background: #f1f5f9; border: 1px solid {PANEL_BORDER}; border-radius: 6px; }}"
        )
        layout.addWidget(self.view, 1)
        self.kind_combo.currentIndexChanged.connect(self.apply_filter)
        self.class_combo.currentIndexChanged.connect(self.apply_filter)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._spread_columns()
        return False

    def _spread_columns(self) -> None:
        """Share the view's width evenly between whole columns, so no ragged gap stays on the right."""
        cell = self.delegate.cell
        width = self.view.viewport().width() - 2 * self.view.spacing()
        columns = max(1, width // cell.width())
        grid = QSize(max(cell.width(), width // columns), cell.height())
        self.delegate.column_width = grid.width()
        if self.view.gridSize() != grid:
            self.view.setGridSize(grid)

    # -- public API -----------------------------------------------------------------------------
    def set_subset(self, subset: np.ndarray | None) -> None:
        """Show only these dataset indices (``None``: all), keeping the current filters."""
        self._base = self._base_order(subset)
        self.apply_filter()

    def set_filter(self, kind: str = "all", class_index: int | None = None) -> None:
        """Select ``kind`` (all, misclassified, correct) and a true class (``None``: any)."""
        if kind not in self.FILTERS:
            raise ValueError(f"unknown gallery filter '{kind}'")
        position = self.kind_combo.findData(kind)
        if position >= 0:
            self.kind_combo.setCurrentIndex(position)
        self.class_combo.setCurrentIndex(0 if class_index is None else self.class_combo.findData(class_index))
        self.apply_filter()

    def visible_indices(self) -> np.ndarray:
        """Dataset indices shown, in display order."""
        return self.model.order.copy()

    def apply_filter(self) -> None:
        order = self._base
        kind = self.kind_combo.currentData() or "all"
        if self.predictions is not None and kind != "all":
            wrong = self.predictions.predicted[order] != self.predictions.labels[order]
            order = order[wrong if kind == "misclassified" else ~wrong]
        class_index = self.class_combo.currentData()
        if class_index is not None:
            order = order[self.dataset.labels[order] == class_index]
        self.model.set_order(order)
        total = self._base.size
        self.count_label.setText(f"Showing {order.size:,} of {total:,} images")
        self.view.scrollToTop()
